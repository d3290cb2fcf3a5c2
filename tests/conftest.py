"""Shared test setup: the course runs at `small` scale, offline, with runs written to a temporary folder."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ["FTCOURSE_SCALE"] = "small"
import ftcourse  # noqa: E402,F401  (sets the Hugging Face offline variables before anything imports them)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    return Path(sys.executable).parent


# Tests marked `slow` (the website build, the browser test) run only when asked for.
def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (same as FTCOURSE_SLOW=1)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests; run with --runslow or FTCOURSE_SLOW=1")
    config.addinivalue_line("markers", "notebook: executes whole notebooks: lessons, exercise solutions, or submissions through the grader (left out by `make unit`)")


# `make test` runs two pytest-xdist workers (`-n 2`). A module's tests share its module-scoped fixtures (a grading
# run, a released course, a trained model), so a module goes to one worker as one unit, which builds each fixture
# once; the tests in SPREAD execute whole notebooks, need no shared fixture, and go one by one, first, so that the
# quick modules fill the gaps at the end. (xdist's own `--dist loadgroup` reads groups from rewritten node ids,
# which pytest 9.2 no longer allows: pytest-dev/pytest-xdist#1386; this scheduler needs only the node ids.)
SPREAD = {"test_notebook_runs", "test_lesson_rehearses_full_scale", "test_questions_alone_and_wrong_answers_fail",
          "test_solution_full_marks_student_version_zero"}


def _spread(nodeid: str) -> bool:
    return nodeid.partition("::")[2].split("[")[0] in SPREAD


@pytest.hookimpl(optionalhook=True)   # a hook of pytest-xdist: without it, unused
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        "One work unit per test module, except the notebook executions (SPREAD): one unit each."
        def _split_scope(self, nodeid):
            return nodeid if _spread(nodeid) else nodeid.partition("::")[0]

    config.option.loadscopereorder = False   # keep the order of collection (below): notebooks first
    return ModuleScheduling(config, log)


# Two workers on two cores: one thread per process, since two processes that each start two OpenMP threads make
# every thread wait for a busy core (lesson 3 took 2.7x as long). Subprocesses (notebooks, the grader, the exercise
# check, whose `cpu_budget` reads it) inherit it; the tokenizers' thread pool is switched off for the same reason.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    for _var, _value in (("OMP_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(_var, _value)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not _spread(item.nodeid))   # stable: notebook executions first, in file order
    if config.getoption("--runslow") or os.environ.get("FTCOURSE_SLOW", "") not in ("", "0"):
        return
    skip = pytest.mark.skip(reason="slow test: run with --runslow or FTCOURSE_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
