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
    config.addinivalue_line("markers", "notebook: executes a whole notebook (left out by `make unit`)")
    config.addinivalue_line("markers", "xdist_group(name): tests that pytest-xdist runs on one worker")


# `make test` runs two pytest-xdist workers (`-n 2 --dist loadgroup`). A module's tests share its module-scoped
# fixtures (a grading run, a released course, a trained model), so they stay together on one worker, which builds
# each fixture once; tests marked `notebook` are independent executions (a minute or two each) and spread over
# both workers, first, so that the quick module groups fill the gaps at the end. Without xdist this only reorders.
def _group_by_module(items):
    for item in items:
        if not item.get_closest_marker("notebook") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
    items.sort(key=lambda item: not item.get_closest_marker("notebook"))   # stable: notebooks first, in file order


def pytest_collection_modifyitems(config, items):
    _group_by_module(items)
    if config.getoption("--runslow") or os.environ.get("FTCOURSE_SLOW", "") not in ("", "0"):
        return
    skip = pytest.mark.skip(reason="slow test: run with --runslow or FTCOURSE_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
