"""The exercises are a working nbgrader course: every assignment's student version is generated with the
solutions and hidden tests stripped, visible tests kept, and grading metadata intact."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ftcourse.config import LESSONS as REGISTRY
from ftcourse.config import lesson as registered

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = sorted(p.name for p in (ROOT / "exercises" / "source").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    env = {"PATH": f"{nbgrader.parent}:/usr/bin:/bin"}
    # what `make assignments` runs: one nbgrader process for every assignment (nbgrader globs the id; 9 s, where one
    # process per assignment took 26 s)
    proc = subprocess.run([str(nbgrader), "generate_assignment", "*", "--force"], cwd=course,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in (course / "release").iterdir()) == ASSIGNMENTS
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_has_no_solutions(released, assignment):
    sources = sorted((ROOT / "exercises" / "source" / assignment).glob("*.ipynb"))
    assert sources, f"assignment {assignment} has no notebooks"
    for src in sources:
        student = released / "release" / assignment / src.name
        text = student.read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "BEGIN HIDDEN TESTS" not in text
        assert "raise NotImplementedError()" in text
        nb = json.loads(text)
        graded = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        assert graded, f"{src.name} has no graded test cells"
        assert sum(c["metadata"]["nbgrader"]["points"] for c in graded) > 0
        src_nb = json.loads(src.read_text())
        assert any("BEGIN HIDDEN TESTS" in "".join(c["source"]) for c in src_nb["cells"]), \
            f"{src.name} has no hidden tests"
    handed_out = sorted(p.name for p in (released / "release" / assignment).iterdir())
    assert not [n for n in handed_out if n.endswith(".wrong.py")], f"wrong-answer files were released: {handed_out}"


# Every registered lesson but lesson 0 (the environment check, whose one warm-up exercise it does not link).
LESSONS = [ROOT / l.notebook for l in REGISTRY if l.number >= 1]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_ends_with_its_exercises(lesson):
    "Every lesson has two graded notebooks, and its last cell, 'Exercises', links each of them."
    graded = sorted((ROOT / "exercises" / "source" / registered(lesson.name).exercises).glob("*.ipynb"))
    assert len(graded) >= 2, f"lesson {lesson.stem} has {len(graded)} graded notebook(s); every lesson has two"
    last = json.loads(lesson.read_text())["cells"][-1]
    text = "".join(last["source"])
    assert last["cell_type"] == "markdown" and text.startswith("## Exercises"), \
        f"{lesson.name} should end with a markdown cell '## Exercises'; it ends with {text[:60]!r}"
    for nb in graded:
        assert f"/exercises/{lesson.stem}/{nb.stem}/" in text, f"{lesson.name}'s Exercises cell does not link {nb.name}"


@pytest.mark.parametrize("notebook", sorted((ROOT / "exercises" / "source").glob("*/*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_exercise_links_back_to_its_lesson(notebook):
    "The first cell of every graded notebook links its lesson: relative (in the repository) and on the website."
    lesson = ROOT / next(l for l in REGISTRY if l.exercises == notebook.parent.name).notebook   # its registry entry
    intro = "".join(json.loads(notebook.read_text())["cells"][0]["source"])
    assert f"](../../../nbs/{lesson.name})" in intro, f"{notebook.name}: no relative link to ../../../nbs/{lesson.name}"
    assert f"https://ftcourse.github.io/ftcourse/lessons/{lesson.stem}/" in intro, f"{notebook.name}: no link to the lesson's page"
