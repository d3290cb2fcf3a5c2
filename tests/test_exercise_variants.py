"""The exercises grade fairly (issue 18), checked the way students submit (tools/exercise_variants.py):

- every source notebook's solutions earn full marks, with no cell failing (this run is also the one that
  executes the exercise notebooks: its executed copy goes to artifacts/executed/exercises/);
- each question is graded on its own: with one solution cell left as students receive it
  (`raise NotImplementedError()`), the notebook loses that question's points and no other;
- every known wrong answer (`<notebook>.wrong.py`) loses points on its own question, only there, and with a
  message (no bare `AssertionError`);
- statically: no bare assert in the visible tests, no cell reading a name another question's cells define,
  at least two wrong answers per solution cell.

The variants of questions that train a model (cells tagged `trains`) run in the `slow` test
(`--runslow` or FTCOURSE_SLOW=1); `make test` runs the rest, forked from one execution per notebook.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import exercise_variants as ev  # noqa: E402

NOTEBOOKS = sorted((ROOT / "exercises" / "source").glob("*/*.ipynb"))
TRAINING = [nb for nb in NOTEBOOKS if any("trains" in c.tags for c in ev.read_cells(nb))]
OUT = ROOT / "artifacts" / "executed"


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT / "exercises" / "source")) if ROOT in path.parents else path.name


def _check(notebook: Path, tmp_path: Path, fast: bool) -> dict:
    report_file = tmp_path / "report.json"
    cmd = [sys.executable, str(ROOT / "tools" / "exercise_variants.py"), str(notebook), "--json", str(report_file)]
    if fast: cmd.append("--fast")
    if ROOT in notebook.parents: cmd += ["--executed", str(OUT / notebook.relative_to(ROOT))]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    assert report_file.exists(), f"{_id(notebook)}: the check did not finish:\n{proc.stderr[-4000:]}"
    report = json.loads(report_file.read_text())
    print(ev.format_report(report))
    return report


@pytest.mark.notebook   # executes every exercise notebook: left out of `make unit`
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_id)
def test_questions_alone_and_wrong_answers_fail(notebook, tmp_path):
    report = _check(notebook, tmp_path, fast=True)
    found = ev.problems(report)
    assert not found, f"{_id(notebook)}:\n" + "\n".join(found)
    ran = [v for v in report["variants"] if not v["skipped"]]
    assert ran or notebook in TRAINING, f"{_id(notebook)}: no variant ran"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", TRAINING, ids=_id)
def test_training_questions_alone_and_wrong_answers_fail(notebook, tmp_path):
    report = _check(notebook, tmp_path, fast=False)
    found = ev.problems(report)
    assert not found, f"{_id(notebook)}:\n" + "\n".join(found)
    assert all(not v["skipped"] and not v["not_checked"] for v in report["variants"])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_id)
def test_tests_teach_and_stay_apart(notebook):
    found = ev.lint(notebook)
    assert not found, f"{_id(notebook)}:\n" + "\n".join(found)


def test_harness_sees_a_question_that_falls_with_another(tmp_path):
    "The check itself: a test cell that uses question 1's function fails when question 1 is unsolved."
    import nbformat
    from nbgrader_from_py import convert
    src = '''# %% locked id=setup
base = 10
# %% solution id=q1_solution
def add(x):
    ### BEGIN SOLUTION
    return x + base
    ### END SOLUTION
# %% tests id=q1_tests points=1
assert add(1) == 11, f"expected 11, got {add(1)}"
# %% solution id=q2_solution
def twice(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
# %% tests id=q2_tests points=1
assert twice(add(1)) == 22, "twice"
'''
    nb = tmp_path / "toy.ipynb"
    nbformat.write(nbformat.from_dict(convert(src)), str(nb))
    (tmp_path / "toy.wrong.py").write_text("# %% q1_solution: off by one\ndef add(x):\n    return x + base + 1\n"
                                           "# %% q2_solution: passes anyway\ndef twice(x):\n    return x + x\n")
    report = _check(nb, tmp_path, fast=False)
    found = ev.problems(report)
    assert report["reference"]["points"] == 2, report["reference"]
    assert any("q1_solution unsolved" in f and "also loses q2_tests" in f for f in found), found
    assert any("q2_solution wrong: passes anyway" in f and "loses no points" in f for f in found), found
    assert not any("off by one" in f for f in found), found   # it loses q1 only, with a message
    assert any("q1_solution: 1 known wrong answer" in f for f in ev.lint(nb)), ev.lint(nb)
