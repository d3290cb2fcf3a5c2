"""`ftcourse grade`: every kind of bad submission gets a clear status and reason, the others are graded
normally, re-running is safe, and for every assignment the solution scores full marks and the untouched
student version 0. The crafted submissions target the quick 00_warmup assignment and share one grading run.
What a student gets back never shows a hidden test; student code sees only the sandbox's allow-list (tested
with copies of source notebooks planted where a student would look); the command works however it is
started and fails in one line."""
import copy
import csv
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import nbformat
import pytest

from ftcourse.config import course_source

from ftcourse.grading import (SANDBOX_MODES, AssignmentInfo, Limits, _grade_id, collect_submissions,
                              generate_student_version, grade_assignment, grade_notebook, prepare_release,
                              sandbox_mode, student_and_notebook)

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "exercises"
ASSIGNMENTS = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
HIDDEN_LINE = "frozen = nn.Linear(3, 3).requires_grad_(False)"  # a hidden test of 00_warmup
TIMEOUT, CELL_TIMEOUT, MEMORY_MB = 120, 15, 2048  # per submission: room for two 15 s cell timeouts on a loaded machine


def _read_csv(path):
    with open(path, newline="") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def warmup(tmp_path_factory):
    "The student version and the solutions of 00_warmup."
    tmp = tmp_path_factory.mktemp("warmup_info")
    info = AssignmentInfo(COURSE, "00_warmup", tmp / "course")
    source = nbformat.read(COURSE / "source" / "00_warmup" / "warmup.ipynb", as_version=4)
    solutions = {_grade_id(c): c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    return info, solutions


def _student(warmup, **cells):
    "The student version with the solutions filled in, then `cells` (grade_id -> source, or None to delete)."
    info, solutions = warmup
    nb = copy.deepcopy(info.notebooks["warmup"])
    for c in nb.cells:
        if _grade_id(c) in solutions: c.source = solutions[_grade_id(c)]
    for gid, src in cells.items():
        if src is None: nb.cells = [c for c in nb.cells if _grade_id(c) != gid]
        else: next(c for c in nb.cells if _grade_id(c) == gid).source = src
    return nb


@pytest.fixture(scope="module")
def crafted(warmup, tmp_path_factory):
    "One grading run of a folder of crafted submissions (LMS-style names); returns (folder, out, gradebook rows)."
    info, solutions = warmup
    subs, out = tmp_path_factory.mktemp("subs"), tmp_path_factory.mktemp("grades")
    write = lambda nb, name: nbformat.write(nb, subs / name)
    write(_student(warmup), "good_1_warmup (1).ipynb")
    write(info.notebooks["warmup"], "untouched_2_warmup.ipynb")
    write(_student(warmup, q2_solution="def freeze_except(model, prefixes):\n    return [\n"), "syntax_3_warmup.ipynb")
    write(_student(warmup, q2_solution="raise RuntimeError('boom')"), "exception_4_warmup.ipynb")
    write(_student(warmup, q2_solution="while True:\n    pass"), "loop_5_warmup.ipynb")
    write(_student(warmup, q2_solution="import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                                       "    except BaseException:\n        pass"), "stubborn_6_warmup.ipynb")
    write(_student(warmup, q2_solution="import sys\nsys.exit(3)"), "sysexit_7_warmup.ipynb")
    write(_student(warmup, q2_solution="import os\nos._exit(1)"), "osexit_8_warmup.ipynb")
    write(_student(warmup, q2_solution="hog = bytearray(20 * 2**30)"), "membomb_9_warmup.ipynb")
    # q1 right, its test deleted; q2 wrong, its test replaced by `pass`: the original tests must run.
    write(_student(warmup, q1_tests=None, q2_solution="def freeze_except(model, prefixes):\n    return []",
                   q2_tests="pass"), "tamper_10_warmup.ipynb")
    (subs / "junk_11_warmup.ipynb").write_text('{"cells": [ not json')
    (subs / "empty_12_warmup.ipynb").write_text("")
    other = nbformat.read(COURSE / "source" / "01_transfer_learning" / "transfer_learning.ipynb", as_version=4)
    write(other, "wrong_13_transfer_learning.ipynb")
    snoop = (f"import glob, os\nfor p in [{str(COURSE / 'source' / '00_warmup' / 'warmup.ipynb')!r}, "
             f"{str(COURSE / 'nbgrader_config.py')!r}, *glob.glob('/tmp/ftcourse-grade-*/assignment/gradebook.db')]:\n"
             f"    try: print(open(p, errors='replace').read())\n"
             f"    except OSError as e: print('refused', type(e).__name__)\n"
             f"print(os.listdir({str(subs)!r}))\n")
    write(_student(warmup, q2_solution=solutions["q2_solution"] + "\n" + snoop), "snoop_14_warmup.ipynb")
    write(_student(warmup, q2_solution="import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=5)"),
          "network_15_warmup.ipynb")
    write(_student(warmup, q2_solution=solutions["q2_solution"] + "\nprint('x' * 50_000_000)\n"
                                        "for i in range(100_000): print(i)"), "huge_16_warmup.ipynb")
    rows = grade_assignment("00_warmup", subs, COURSE, jobs=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, out=out,
                            cell_timeout=CELL_TIMEOUT, progress=False)
    return subs, out, rows


def test_file_names_map_to_students():
    nbs = ["warmup"]
    assert student_and_notebook("alice_12345_warmup (1).ipynb", nbs) == ("alice_12345", "warmup")
    assert student_and_notebook("ALICE_12345_warmup.ipynb", nbs) == ("alice_12345", "warmup")
    assert student_and_notebook("Bob Smith - warmup.ipynb", nbs) == ("bob_smith", "warmup")
    assert student_and_notebook("carol.ipynb", nbs) == ("carol", None)
    two = ["finetune_sentiment", "lengths_and_padding"]
    assert student_and_notebook("d_lengths_and_padding copy.ipynb", two) == ("d", "lengths_and_padding")


def test_collect_groups_by_student_and_notebook(warmup, tmp_path):
    info, _ = warmup
    for name in ["alice_1_warmup.ipynb", "alice_1_warmup (1).ipynb", "bob.ipynb", "notes.txt",
                 "frank/warmup.ipynb", ".ipynb_checkpoints/x.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True); (tmp_path / name).write_text("{}")
    found = collect_submissions(tmp_path, info)
    assert sorted(found) == ["alice_1", "bob", "frank"]
    assert len(found["alice_1"]["warmup"]) == 2 and list(found["frank"]) == ["warmup"]


def test_sandbox_mode_is_known():
    assert sandbox_mode() in SANDBOX_MODES


def test_limits_are_one_frozen_object():
    limits = Limits.for_course(COURSE, timeout=120, jobs=2)
    assert (limits.timeout, limits.cell_timeout, limits.jobs) == (120, 120, 2)  # the course's 300 s per cell, capped
    with pytest.raises(AttributeError): limits.jobs = 3   # FrozenInstanceError is an AttributeError
    with pytest.raises(ValueError, match="jobs must be positive"): Limits(jobs=0)


def test_every_submission_gets_a_row(crafted):
    subs, out, rows = crafted
    book = _read_csv(out / "gradebook.csv")
    assert len(book) == 16 == len(rows)
    assert set(book["good_1"]) >= {"student", "q1_tests", "q2_tests", "total", "max_total", "status", "reason"}
    assert all(r["status"] != "grader_error" for r in book.values()), {s: r["reason"] for s, r in book.items()}


@pytest.mark.parametrize("student,total,status,words", [
    ("good_1", 3, "ok", ""),
    ("untouched_2", 0, "errors", "NotImplementedError"),
    ("syntax_3", 1, "errors", "SyntaxError"),
    ("exception_4", 1, "errors", "RuntimeError: boom"),
    ("loop_5", 1, "timeout", f"{CELL_TIMEOUT} s cell limit"),
    ("stubborn_6", 1, "timeout", f"{CELL_TIMEOUT} s cell limit"),  # swallows the interrupt; later cells time out too
    ("sysexit_7", 1, "errors", "SystemExit"),
    ("osexit_8", 0, "kernel_died", "kernel process ended"),
    ("membomb_9", 1, "memory_limit", "MemoryError"),
    ("tamper_10", 1, "tests_tampered", "q1_tests was deleted"),
    ("junk_11", 0, "invalid_notebook", "not a readable notebook"),
    ("empty_12", 0, "empty", "empty"),
    ("wrong_13_transfer_learning", 0, "wrong_assignment", "00_warmup"),  # no notebook name in it: the whole name
    ("network_15", 1, "errors", "Error"),
    ("huge_16", 3, "ok", ""),
])
def test_crafted_submission(crafted, student, total, status, words):
    _, out, _ = crafted
    row = _read_csv(out / "gradebook.csv")[student]
    assert (float(row["total"]), row["status"]) == (total, status), row["reason"]
    assert words in row["reason"]
    assert float(row["q1_tests"]) + float(row["q2_tests"]) == float(row["total"])


def test_submission_timeout_stops_everything(warmup, tmp_path):
    "A submission over its wall-clock limit is stopped (its whole process tree) and recorded; nothing else is lost."
    subs = tmp_path / "subs"; subs.mkdir()
    nbformat.write(_student(warmup, q1_solution="import time\nwhile True:\n    try: time.sleep(1)\n"
                                                 "    except BaseException: pass"), subs / "slow_1_warmup.ipynb")
    (subs / "empty_2_warmup.ipynb").write_text("")
    grade_assignment("00_warmup", subs, COURSE, jobs=2, timeout=25, memory_mb=MEMORY_MB, out=tmp_path / "out",
                     cell_timeout=300, progress=False)
    book = _read_csv(tmp_path / "out" / "gradebook.csv")
    assert book["slow_1"]["status"] == "timeout" and "longer than 25 s" in book["slow_1"]["reason"]
    assert float(book["slow_1"]["total"]) == 0 and book["empty_2"]["status"] == "empty"
    import psutil
    assert not [p for p in psutil.process_iter(["cmdline"]) if "ftcourse.grading" in " ".join(p.info["cmdline"] or [])
                and str(tmp_path) in " ".join(p.info["cmdline"] or [])]


def test_audit_mode_when_asked(warmup, tmp_path, monkeypatch):
    "FTCOURSE_SANDBOX=audit (a trusted class, or inside a container): limits and the audit hook still hold."
    import ftcourse.grading as grading
    monkeypatch.setenv("FTCOURSE_SANDBOX", "audit"); monkeypatch.setattr(grading, "_MODE", {})
    info, solutions = warmup
    subs = tmp_path / "subs"; subs.mkdir()
    nbformat.write(_student(warmup), subs / "good_1_warmup.ipynb")
    snoop = (f"import tempfile\nprint(open(tempfile.mktemp(), 'w').write('ok'))\n"
             f"print(open({str(COURSE / 'source' / '00_warmup' / 'warmup.ipynb')!r}).read())")
    nbformat.write(_student(warmup, q2_solution=solutions["q2_solution"] + "\n" + snoop), subs / "snoop_2_warmup.ipynb")
    nbformat.write(_student(warmup, q2_solution="import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=5)"),
                   subs / "net_3_warmup.ipynb")
    grade_assignment("00_warmup", subs, COURSE, jobs=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, out=tmp_path / "out",
                     cell_timeout=CELL_TIMEOUT, progress=False)
    assert sandbox_mode() == "audit"
    book = _read_csv(tmp_path / "out" / "gradebook.csv")
    assert (book["good_1"]["status"], float(book["good_1"]["total"])) == ("ok", 3)
    assert book["snoop_2"]["status"] == "errors" and "PermissionError" in book["snoop_2"]["reason"]
    assert HIDDEN_LINE not in (tmp_path / "out" / "feedback" / "snoop_2" / "warmup.html").read_text()
    assert "no network access" in book["net_3"]["reason"] and float(book["net_3"]["total"]) == 1


def test_tampered_tests_are_the_originals(crafted):
    row = _read_csv(crafted[1] / "gradebook.csv")["tamper_10"]
    assert float(row["q1_tests"]) == 1 and float(row["q2_tests"]) == 0  # the edited test did not pass a wrong answer
    assert "q2_tests was edited" in row["reason"]


def test_student_code_cannot_read_instructor_or_other_students_files(crafted):
    subs, out, _ = crafted
    row = _read_csv(out / "gradebook.csv")["snoop_14"]
    assert float(row["total"]) == 3 and row["status"] == "errors"  # q2's cell raised after defining its function
    html = (out / "feedback" / "snoop_14" / "warmup.html").read_text()
    assert HIDDEN_LINE not in html and "c.ClearSolutions" not in html
    assert "refused" in html and "good_1_warmup" not in html


def test_feedback_is_written_and_small(crafted):
    _, out, rows = crafted
    for r in rows:
        if r["status"] in ("ok", "errors", "timeout", "memory_limit", "tests_tampered") and r["student"] != "stubborn_6":
            assert (out / "feedback" / r["student"] / "warmup.html").exists(), r["student"]
    html = (out / "feedback" / "good_1" / "warmup.html").read_text()
    assert HIDDEN_LINE not in html  # feedback does not reveal the hidden tests
    assert (out / "feedback" / "huge_16" / "warmup.html").stat().st_size < 3_000_000


def test_rerun_is_safe_and_incremental(crafted, warmup, tmp_path):
    "Re-running grades nothing twice and loses nothing; a new or changed submission is (re)graded alone."
    subs, out, _ = crafted
    before = (out / "gradebook.csv").read_text()
    from ftcourse.cli import main
    argv = ["grade", "00_warmup", str(subs), "--course-dir", str(COURSE), "--jobs", "2",
            "--timeout", str(TIMEOUT), "--memory-mb", str(MEMORY_MB), "--out", str(out)]
    # the CLI uses the course's cell timeout; keep this test's by passing through grade_assignment instead
    rows = grade_assignment("00_warmup", subs, COURSE, jobs=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, out=out,
                            cell_timeout=CELL_TIMEOUT, progress=False)
    assert (out / "gradebook.csv").read_text() == before and len(rows) == 16
    # a corrected resubmission and a new student
    nbformat.write(_student(warmup), subs / "untouched_2_warmup.ipynb")
    nbformat.write(_student(warmup), subs / "late_17_warmup.ipynb")
    mid = tmp_path / "mid"
    shutil.copytree(subs, mid)
    for p in mid.iterdir():
        if not p.name.startswith(("untouched_2", "late_17")): p.unlink()
    assert main(argv[:2] + [str(mid)] + argv[3:]) == 0  # only the two changed students are graded
    book = _read_csv(out / "gradebook.csv")
    assert len(book) == 17 and float(book["untouched_2"]["total"]) == 3 and float(book["late_17"]["total"]) == 3
    old = _read_csv_text(before)
    for s in old:
        if s != "untouched_2": assert book[s] == old[s]


def _read_csv_text(text):
    return {r["student"]: r for r in csv.DictReader(text.splitlines())}


def test_release_gets_colab_cells(tmp_path):
    release = generate_student_version(COURSE, "00_warmup", tmp_path / "course")
    assert prepare_release(tmp_path / "course", ["00_warmup"]) == [release / "warmup.ipynb"]
    prepare_release(tmp_path / "course")  # twice: no second set of cells
    nb = nbformat.read(release / "warmup.ipynb", as_version=4)
    assert "colab.research.google.com/github/ftcourse/ftcourse/blob/main/exercises/release/00_warmup/warmup.ipynb" \
        in nb.cells[0].source
    assert 'if "google.colab" in sys.modules:' in nb.cells[1].source
    src = course_source()
    assert f"ftcourse @ git+{src['git_url']}@{src['ref']}" in nb.cells[1].source   # pinned, from settings.ini
    assert sum("google.colab" in c.source for c in nb.cells) == 1


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    return tmp_path_factory.mktemp("all_assignments")


@pytest.mark.notebook   # grades (executes) every assignment's notebooks: left out of `make unit`
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_marks_student_version_zero(graded_course, assignment):
    """One grading run per assignment: the source notebooks (solutions) score full marks, the untouched
    student versions (with their Colab cells) 0, and the grader does not crash. Training assignments take
    up to about a minute per solution."""
    tmp = graded_course / assignment
    release = generate_student_version(COURSE, assignment, tmp / "course")
    prepare_release(tmp / "course", [assignment])
    subs = tmp / "subs"; subs.mkdir()
    for src in sorted((COURSE / "source" / assignment).glob("*.ipynb")):
        shutil.copy(src, subs / f"solution_{src.name}")
        shutil.copy(release / src.name, subs / f"student_{src.name}")
    # Generous limits: this checks correctness, and a shared CPU can make a one-minute training take several.
    grade_assignment(assignment, subs, COURSE, jobs=2, timeout=1800, cell_timeout=1800, out=tmp / "out", progress=False)
    book = _read_csv(tmp / "out" / "gradebook.csv")
    assert set(book) == {"solution", "student"}
    sol, stu = book["solution"], book["student"]
    assert sol["status"] == "ok" and float(sol["total"]) == float(sol["max_total"]) > 0, sol["reason"]
    assert float(stu["total"]) == 0 and stu["status"] not in ("grader_error", "wrong_assignment"), stu["reason"]


# A small assignment made here (not one of the course's, which change), with a marker only its hidden tests hold.
TOKEN = f"ftcourse-secret-{uuid.uuid4().hex[:12]}"


def _cell(kind, source, grade_id, **nbgrader):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3,
                                 "solution": False, "task": False, **nbgrader}
    return cell


def _answer_cell(body):
    return "def answer(x):\n" + "".join(f"    {line}\n" for line in body.splitlines())


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    "A one-notebook nbgrader course `mini`: (course folder, source notebook, student version)."
    course = tmp_path_factory.mktemp("mini_course")
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    source = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}}, cells=[
        _cell("md", "# Doubling\nWrite `answer(x)`, twice `x`.", "intro"),
        _cell("code", _answer_cell("### BEGIN SOLUTION\nreturn 2 * x\n### END SOLUTION"), "answer",
              solution=True, locked=False),
        _cell("code", 'assert answer(1) == 2, "answer(1) should be 2"\n### BEGIN HIDDEN TESTS\n'
                      'assert answer(10) == 20, "answer(10) should be 20"\n### END HIDDEN TESTS', "q1_tests",
              grade=True, points=1.0),
        _cell("code", f"assert isinstance(answer(0), int)\n### BEGIN HIDDEN TESTS\nsecret_value = answer(7)  # {TOKEN}\n"
                      "assert secret_value == 14\n### END HIDDEN TESTS", "q2_tests", grade=True, points=1.0),
        _cell("code", "### BEGIN SOLUTION\nresult = answer(3)\n### END SOLUTION", "extra", solution=True, locked=False)])
    (course / "source" / "mini").mkdir(parents=True)
    nbformat.write(source, course / "source" / "mini" / "mini.ipynb")
    release = generate_student_version(course, "mini", tmp_path_factory.mktemp("mini_release"))
    return course, source, nbformat.read(release / "mini.ipynb", as_version=4)


def _mini_student(mini, answer=None, extra=None):
    "The student version of `mini` with the solutions in, `answer`'s body and `extra`'s source replaced if given."
    _, source, student = mini
    nb = copy.deepcopy(student)
    solutions = {_grade_id(c): c.source for c in source.cells}
    for c in nb.cells:
        if _grade_id(c) in ("answer", "extra"): c.source = solutions[_grade_id(c)]
        if _grade_id(c) == "answer" and answer: c.source = _answer_cell(answer)
        if _grade_id(c) == "extra" and extra: c.source = extra
    return nb


def _hidden_lines(mini):
    return [l.strip() for c in mini[1].cells
            for block in re.findall(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", c.source, re.S)
            for l in block.splitlines() if l.strip()]


def _received(out, student):
    "Everything a student gets back: the feedback as text (tags removed, entities decoded), and the gradebook row."
    texts = [html.unescape(re.sub(r"<[^>]+>", "", p.read_text())) for p in sorted((out / "feedback" / student).glob("*.html"))]
    row = _read_csv(out / "gradebook.csv")[student]
    return "\n".join(texts), row


SEEKER = '''import os
token = "ftcourse-secret-" + {rest!r}  # joined here, so that this file itself does not hold the marker
planted = {planted!r}
found = [p for p in planted if os.path.exists(p)]
files, leaks, sources = 0, [], []
for folder, dirs, names in os.walk("/"):
    if folder in ("/proc", "/sys", "/dev"): dirs[:] = []; continue
    files += len(names)
    for name in names:
        if name.endswith(".ipynb"):
            try:
                if token in open(os.path.join(folder, name), errors="replace").read(): leaks.append(os.path.join(folder, name))
            except OSError: pass
print(f"FOUND={{len(found)}} LEAKS={{len(leaks)}} FILES={{files}}")
print(found, leaks)
'''


@pytest.fixture(scope="module")
def sandboxed(mini, tmp_path_factory):
    """One grading run of `mini`: the solution, a wrong answer (hidden tests fail), student code that prints the
    hidden tests it can observe, and one that searches the file system for copies of the source notebooks planted
    where a student would look: next to the checkout, in the home folder, in /tmp."""
    course, source, _ = mini
    tag = uuid.uuid4().hex[:8]
    places = [ROOT.parent / f"ftcourse-copy-{tag}" / "exercises", Path.home() / f".ftcourse-copy-{tag}",
              Path(tempfile.gettempdir()) / f"ftcourse-copy-{tag}"]
    planted = []
    for place in places:
        try:
            (place / "source" / "mini").mkdir(parents=True)
            nbformat.write(source, place / "source" / "mini" / "mini.ipynb")
            shutil.copytree(COURSE / "source" / "00_warmup", place / "source" / "00_warmup")
            planted += [str(place / "source" / "mini" / "mini.ipynb"), str(place / "source" / "00_warmup" / "warmup.ipynb")]
        except OSError: pass  # a folder we may not write (a checkout at the root of a read-only disk)
    subs, out = tmp_path_factory.mktemp("mini_subs"), tmp_path_factory.mktemp("mini_out")
    good = _mini_student(mini)
    good.metadata["kernelspec"] = {"name": "conda-env-course-py", "display_name": "course", "language": "python"}
    nbformat.write(good, subs / "good_mini.ipynb")
    nbformat.write(_mini_student(mini, answer="return x + 1 if x < 5 else 3 * x"), subs / "wrong_mini.ipynb")
    nbformat.write(_mini_student(mini, answer="import inspect, sys\ntry: print('CALLER', inspect.getsource(sys._getframe(1)))\n"
                                              "except Exception as e: print('no source', e)\nreturn 2 * x",
                                 extra="print(In)\nprint(repr(_ih[-2]))\nraise RuntimeError(In[-2])"), subs / "history_mini.ipynb")
    seeker = SEEKER.format(rest=TOKEN.removeprefix("ftcourse-secret-"), planted=planted)
    nbformat.write(_mini_student(mini, extra=seeker), subs / "seeker_mini.ipynb")
    try:
        rows = grade_assignment("mini", subs, course, jobs=2, timeout=400, cell_timeout=300, out=out, progress=False)
    finally:
        for place in places: shutil.rmtree(place.parent if place.name == "exercises" else place, ignore_errors=True)
    return out, rows, planted


def test_feedback_shows_failures_not_hidden_tests(sandboxed, mini):
    "nbgrader #917: the traceback of a failing hidden assert quotes the hidden tests; the student gets the failure and message only."
    out, rows, _ = sandboxed
    text, row = _received(out, "wrong")
    assert (float(row["q1_tests"]), float(row["q2_tests"]), row["status"]) == (0, 0, "errors"), row["reason"]
    assert "AssertionError" in text and "answer(10) should be 20" in text  # the failure and the instructor's message
    assert "mini/q1_tests: AssertionError: answer(10) should be 20" in row["reason"]
    assert "[hidden test]" in text
    for line in _hidden_lines(mini):
        assert line not in text and line not in row["reason"], line
    assert TOKEN not in text and "secret_value" not in text


def test_student_code_cannot_print_the_hidden_tests(sandboxed, mini):
    "Code run by a hidden test (or after it) sees the tests; what it prints of them is scrubbed from what the student gets."
    out, rows, _ = sandboxed
    text, row = _received(out, "history")
    assert (float(row["total"]), row["status"]) == (2, "errors") and "RuntimeError" in row["reason"], row["reason"]
    assert "CALLER" in text and "[hidden test]" in text  # it did print them, and they were replaced
    for line in _hidden_lines(mini):
        assert line not in text and line not in row["reason"], line
    assert TOKEN not in text and TOKEN not in row["reason"]
    assert TOKEN not in (out / "results" / "history.json").read_text()


def test_sandbox_shows_nothing_outside_the_allow_list(sandboxed):
    "Copies of the source notebooks next to the checkout, in the home folder and in /tmp: a search of / finds none."
    out, rows, planted = sandboxed
    assert len(planted) >= 4  # at least the home folder and /tmp were planted
    text, row = _received(out, "seeker")
    found = re.search(r"FOUND=(\d+) LEAKS=(\d+) FILES=(\d+)", text)
    assert found, text[-2000:]
    assert found.group(1) == "0" and found.group(2) == "0", text[-2000:]
    assert int(found.group(3)) > 1000  # it did walk the file system it sees (Python, system libraries)
    assert (float(row["total"]), row["status"]) == (2, "ok"), row["reason"]


def test_solution_full_marks_in_the_sandbox(sandboxed):
    "The legitimate solution, even with another environment's kernel name in its metadata, gets full marks."
    out, rows, _ = sandboxed
    row = _read_csv(out / "gradebook.csv")["good"]
    assert (float(row["total"]), row["status"]) == (2, "ok"), row["reason"]
    assert len(rows) == 4


def test_grade_notebook_grades_one_variant(mini):
    "grade_notebook: one notebook (object or file) in, the student's result and feedback out."
    row = grade_notebook(_mini_student(mini, answer="return x + 1 if x < 5 else 2 * x"), "mini", mini[0],
                         timeout=120, cell_timeout=60)
    assert (row["total"], row["status"]) == (2, "ok"), row["reason"]
    assert list(row["feedback_html"]) == ["mini.html"] and TOKEN not in row["feedback_html"]["mini.html"]


def _cli_env(**extra):
    "A cron-like environment: no virtual environment on PATH, little else; the test's own grading settings kept."
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LOGNAME": "cron", "SHELL": "/bin/sh"}
    env.update({k: v for k, v in os.environ.items()
                if k in ("PYTHONPATH", "FTCOURSE_BWRAP", "FTCOURSE_SANDBOX", "FTCOURSE_CACHE", "FTCOURSE_SCALE")})
    return {**env, **extra}


def test_cli_by_path_in_a_minimal_environment(mini, tmp_path, venv_bin):
    "`.venv/bin/ftcourse grade` without the environment on PATH (cron, CI step): nbgrader's `alembic` is found, exit 0."
    subs = tmp_path / "subs"; subs.mkdir()
    nbformat.write(_mini_student(mini), subs / "alice_mini.ipynb")
    res = subprocess.run([str(venv_bin / "ftcourse"), "grade", "mini", str(subs), "--course-dir", str(mini[0]),
                          "--out", str(tmp_path / "out"), "--timeout", "120"],
                         env=_cli_env(), capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert re.search(r"^alice\s+2\s+ok", res.stdout, re.M), res.stdout


def test_cli_from_a_notebook_shell(mini, tmp_path, venv_bin):
    "`!ftcourse grade ...` in a notebook (Jupyter's environment for shell commands, not a terminal): exit 0."
    from nbclient import NotebookClient
    subs = tmp_path / "subs"; subs.mkdir()
    nbformat.write(_mini_student(mini), subs / "bob_mini.ipynb")
    cmd = f"{venv_bin / 'ftcourse'} grade mini {subs} --course-dir {mini[0]} --out {tmp_path / 'out'} --timeout 120"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"!{cmd}\nprint('exit', _exit_code)")])
    NotebookClient(nb, kernel_name="python3", timeout=600).execute(cwd=str(tmp_path))
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "exit 0" in text and "Traceback" not in text, text[-3000:]
    assert re.search(r"^bob\s+2\s+ok", text, re.M), text


def _one_line_failure(res):
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-3000:]
    return lines[0]


def test_cli_missing_extra_is_one_install_line(mini, tmp_path):
    "Without the grading extra (here: jupyter_client cannot be imported), one line: what is missing and how to install it."
    probe = ("import sys; sys.modules['jupyter_client'] = None\nfrom ftcourse.cli import main\n"
             f"sys.exit(main(['grade', 'mini', {str(tmp_path)!r}, '--course-dir', {str(mini[0])!r}]))")
    line = _one_line_failure(subprocess.run([sys.executable, "-c", probe], env=_cli_env(), capture_output=True,
                                            text=True, timeout=300))
    assert "missing here: jupyter_client" in line and 'pip install "ftcourse[grading] @ git+' in line, line


@pytest.mark.parametrize("case", ["no_sandbox", "bad_config", "bad_jobs"])
def test_cli_failures_are_one_line_exit_2(mini, tmp_path, venv_bin, case):
    "No usable sandbox, an unreadable nbgrader_config.py, a bad limit: one line on stderr, exit 2, never a traceback."
    course, env, args = mini[0], _cli_env(), []
    if case == "no_sandbox": env["FTCOURSE_BWRAP"] = "/bin/false"; env.pop("FTCOURSE_SANDBOX", None)
    if case == "bad_config":
        course = tmp_path / "course"; shutil.copytree(mini[0], course)
        (course / "nbgrader_config.py").write_text("c = get_config(\n")
    if case == "bad_jobs": args = ["--jobs", "0"]
    (tmp_path / "subs").mkdir()
    res = subprocess.run([str(venv_bin / "ftcourse"), "grade", "mini", str(tmp_path / "subs"), "--course-dir", str(course),
                          "--out", str(tmp_path / "out"), *args], env=env, capture_output=True, text=True, timeout=300)
    line = _one_line_failure(res)
    assert line.startswith("ftcourse grade: ")
    assert {"no_sandbox": "no sandbox", "bad_config": "nbgrader_config.py cannot be read",
            "bad_jobs": "jobs must be positive"}[case] in line, line


def test_memory_of_forked_processes_counts_shared_pages_once():
    "A submission whose code forks workers (lesson 4's benchmark) is measured by PSS: summing RSS would count the pages the workers share with their parent once per process, and stop a submission that is within its limit."
    import time
    import psutil
    from ftcourse.grading import _tree_rss_mb
    code = ("import os, time\nb = bytearray(300 * 2**20)\n"
            "for _ in range(3):\n    if os.fork() == 0: time.sleep(4); os._exit(0)\ntime.sleep(4)")
    p = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(2)
        proc = psutil.Process(p.pid)
        rss = sum(q.memory_info().rss for q in [proc] + proc.children(recursive=True)) / 2**20
        measured = _tree_rss_mb(proc)
        assert len(proc.children()) == 3 and rss > 1100, rss
        assert 300 <= measured < 500, f"300 MB shared by 4 processes measured as {measured:.0f} MiB (sum of RSS {rss:.0f})"
    finally:
        p.wait()
