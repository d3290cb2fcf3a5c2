"""Execute every notebook of the course in nbs/: the foundation and lesson notebooks. (The exercise source
notebooks, which hold the solutions and all tests, are executed by tests/test_exercise_variants.py, which also
grades each question on its own and the known wrong answers, from that one execution.)

Each runs in its own process (ftcourse.runner); `gpu` and `slow` cells are skipped unless named in the
environment variable FTCOURSE_FLAGS (space- or comma-separated), e.g. on a CUDA machine:

    FTCOURSE_FLAGS=gpu TEST_JOBS=0 make test

Executed copies are kept under artifacts/executed/ for inspection when something fails.
"""
import os
from pathlib import Path

import pytest

from ftcourse.runner import run_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "nbs").glob("*.ipynb"))
OUT = ROOT / "artifacts" / "executed"


def flags_from_env(value=None) -> list:
    "The cell flags to run as well (e.g. `gpu`), from FTCOURSE_FLAGS: space- or comma-separated."
    value = os.environ.get("FTCOURSE_FLAGS", "") if value is None else value
    return [f for f in value.replace(",", " ").split() if f]


FLAGS = flags_from_env()


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_id)
def test_notebook_runs(notebook):
    out = OUT / notebook.relative_to(ROOT)
    result = run_notebook(notebook, out=out, flags=FLAGS, timeout=900)
    shown = f", flags {' '.join(FLAGS)}" if FLAGS else ""
    print(f"{_id(notebook)}: {result['seconds']} s, peak RSS {result['peak_rss_mb']} MiB{shown}")
    assert result["ok"], f"{_id(notebook)} failed (executed copy: {result['executed']}):\n{result['error']}"


def test_every_lesson_is_collected():
    "Every lesson of the registry is executed here, with the foundation and tool notebooks (a deleted lesson fails)."
    from ftcourse.config import LESSONS
    collected = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    missing = [l.notebook for l in LESSONS if l.notebook not in collected]
    assert not missing, f"registered lessons that are not executed: {missing}"
    assert {"nbs/core_config.ipynb", "nbs/core_train.ipynb", "nbs/tool_chatdata.ipynb"} <= collected


def test_flags_from_env():
    assert flags_from_env("") == []
    assert flags_from_env("gpu") == ["gpu"]
    assert flags_from_env("gpu, slow") == ["gpu", "slow"]
