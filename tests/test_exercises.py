"""The exercises are a working nbgrader course: every assignment's student version is generated with the
solutions and hidden tests stripped, visible tests kept, and grading metadata intact."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = sorted(p.name for p in (ROOT / "exercises" / "source").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    env = {"PATH": f"{nbgrader.parent}:/usr/bin:/bin"}
    for assignment in ASSIGNMENTS:
        proc = subprocess.run([str(nbgrader), "generate_assignment", assignment, "--force"], cwd=course,
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
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
