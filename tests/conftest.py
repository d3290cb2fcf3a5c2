"""Shared test setup: the course runs at `small` scale, offline, with runs written to a temporary folder."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("FTCOURSE_SCALE", "small")
os.environ["FTCOURSE_SCALE"] = "small"
import ftcourse  # noqa: E402,F401  (sets the Hugging Face offline variables before anything imports them)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    return Path(sys.executable).parent
