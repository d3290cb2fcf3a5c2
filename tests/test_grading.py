"""`ftcourse grade`: every kind of bad submission gets a clear status and reason, the others are graded
normally, re-running is safe, every assignment's untouched student version scores 0, and in the sandbox the
solutions whose needs differ score full marks (SOLUTIONS_IN_THE_SANDBOX). The crafted submissions target the
quick 00_warmup assignment and share one grading run. (The sandbox, what students get back and the command
line: tests/test_grading_sandbox.py.)"""
import contextlib
import copy
import csv
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from ftcourse.config import course_source

from ftcourse.grading import (SANDBOX_MODES, AssignmentInfo, Limits, _grade_id, collect_submissions,
                              generate_student_version, grade_assignment, prepare_release,
                              sandbox_mode, student_and_notebook)

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "exercises"
ASSIGNMENTS = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
HIDDEN_LINE = "frozen = nn.Linear(3, 3).requires_grad_(False)"  # a hidden test of 00_warmup
TIMEOUT, CELL_TIMEOUT, MEMORY_MB = 120, 15, 2048  # per submission: room for two 15 s cell timeouts on a loaded machine
MAX_PROCESSES, DISK_MB = 64, 256   # 00_warmup's solution needs 16 processes and threads and 0.1 MB (measured)


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
    "One grading run of a folder of crafted submissions (LMS-style names); returns (folder, out, gradebook rows, what _watching saw)."
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
    # A fork bomb (every process forks again, and again when a fork fails) and a disk filler (80 files of 50 MB in its
    # working folder and /tmp: 4 GB without a quota).
    write(_student(warmup, q2_solution="import os\nwhile True:\n    try: os.fork()\n    except OSError: pass"),
          "forkbomb_17_warmup.ipynb")
    write(_student(warmup, q2_solution="for i in range(80):\n    with open(f'/tmp/f{i}' if i % 2 else f'f{i}', 'wb') as f:\n"
                                       "        f.write(b'x' * 50 * 2**20)"), "filler_18_warmup.ipynb")
    with _watching() as seen:
        rows = grade_assignment("00_warmup", subs, COURSE, jobs=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, out=out,
                                cell_timeout=CELL_TIMEOUT, progress=False, max_processes=MAX_PROCESSES, disk_mb=DISK_MB)
    return subs, out, rows, seen


@contextlib.contextmanager
def _watching():
    """While grading runs: how long starting a program takes (is the machine responsive?), how many processes this test
    has below it, and the scratch folders grading makes; after it, what is left of them (processes, folders, cgroups)."""
    import psutil
    seen = {"spawn_s": 0.0, "processes": 0, "scratch": []}
    real_mkdtemp, done = tempfile.mkdtemp, threading.Event()

    def mkdtemp(*args, **kwargs):
        path = real_mkdtemp(*args, **kwargs)
        if "ftcourse-grade-" in str(kwargs.get("prefix", "")): seen["scratch"].append(path)
        return path

    def sample():
        me = psutil.Process()
        while not done.wait(0.25):
            t = time.perf_counter(); subprocess.run(["true"])
            seen["spawn_s"] = max(seen["spawn_s"], time.perf_counter() - t)
            try: seen["processes"] = max(seen["processes"], len(me.children(recursive=True)))
            except psutil.Error: pass

    watcher = threading.Thread(target=sample, daemon=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "mkdtemp", mkdtemp)
        watcher.start()
        try: yield seen
        finally: done.set(); watcher.join()
    seen["left"] = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
                    if any(d in " ".join(p.info["cmdline"] or []) for d in seen["scratch"])]
    seen["left"] += [d for d in seen["scratch"] if Path(d).exists()]
    for pattern in (f"ftcourse-grading/{os.getpid()}-*", f"*/ftcourse-grading/{os.getpid()}-*"):   # v2, v1 (root only)
        seen["left"] += [str(p) for p in Path("/sys/fs/cgroup").glob(pattern)]


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
    assert (Limits.for_course(COURSE, max_processes=7, disk_mb=9).max_processes, limits.disk_mb) == (7, Limits().disk_mb)


def test_caps_on_the_command_line(tmp_path, capsys):
    "`ftcourse grade --max-processes N --disk-mb N` reach the limits; their help states the defaults; a bad one is one line."
    from ftcourse.cli import build_parser, main
    from ftcourse.grading import grade_cli
    args = build_parser().parse_args(["grade", "00_warmup", "subs", "--max-processes", "7", "--disk-mb", "9"])
    assert (args.max_processes, args.disk_mb) == (7, 9)
    with pytest.raises(SystemExit): main(["grade", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 256, or 4 per kernel thread where more)" in text and Limits(jobs=10**6).max_processes == 256, text
    assert f"(default: {Limits().disk_mb})" in text, text
    assert grade_cli("00_warmup", tmp_path, COURSE, disk_mb=0) == 2
    assert capsys.readouterr().err == "ftcourse grade: disk_mb must be positive (got 0)\n"


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
def test_every_submission_gets_a_row(crafted):
    subs, out, rows, _ = crafted
    book = _read_csv(out / "gradebook.csv")
    assert len(book) == 18 == len(rows)
    assert set(book["good_1"]) >= {"student", "q1_tests", "q2_tests", "total", "max_total", "status", "reason"}
    assert all(r["status"] != "grader_error" for r in book.values()), {s: r["reason"] for s, r in book.items()}


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
@pytest.mark.parametrize("student,total,status,words", [
    ("good_1", 3, "ok", ""),
    ("untouched_2", 0, "errors", "NotImplementedError"),
    ("syntax_3", 1, "errors", "SyntaxError"),
    ("exception_4", 1, "errors", "RuntimeError: boom"),
    ("loop_5", 1, "timeout", f"{CELL_TIMEOUT} s cell limit"),
    ("stubborn_6", 1, "timeout", f"{CELL_TIMEOUT} s cell limit"),  # swallows the interrupt: later cells are not sent
    ("sysexit_7", 1, "errors", "SystemExit"),
    ("osexit_8", 0, "kernel_died", "kernel process ended"),
    ("membomb_9", 1, "memory_limit", "MemoryError"),
    ("tamper_10", 1, "tests_tampered", "q1_tests was deleted"),
    ("junk_11", 0, "invalid_notebook", "not a readable notebook"),
    ("empty_12", 0, "empty", "empty"),
    ("wrong_13_transfer_learning", 0, "wrong_assignment", "00_warmup"),  # no notebook name in it: the whole name
    ("network_15", 1, "errors", "Error"),
    ("huge_16", 3, "ok", ""),
    ("forkbomb_17", 0, "process_limit", f"too many processes: limit {MAX_PROCESSES}"),   # stopped: no points
    ("filler_18", 0, "disk_limit", f"wrote more than {DISK_MB} MB"),
])
def test_crafted_submission(crafted, student, total, status, words):
    _, out, _, _ = crafted
    row = _read_csv(out / "gradebook.csv")[student]
    assert (float(row["total"]), row["status"]) == (total, status), row["reason"]
    assert words in row["reason"]
    assert float(row["q1_tests"]) + float(row["q2_tests"]) == float(row["total"])
    if student == "stubborn_6":   # q1's point is kept; q2's tests waited for no time limit behind the stuck cell
        assert "warmup: not run: the kernel ignored the interrupt after q2_solution timed out" in row["reason"], row["reason"]


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
def test_fork_bomb_and_disk_filler_are_capped(crafted):
    """The caps hold (at most MAX_PROCESSES processes and threads, at most DISK_MB written), the machine stays
    responsive, the other students of the same run are graded as usual (test_crafted_submission), and nothing is
    left behind: no process, no scratch folder, no cgroup."""
    _, out, _, seen = crafted
    usage = {s: json.loads((out / "results" / f"{s}.json").read_text())["usage"] for s in ("forkbomb_17", "filler_18")}
    assert usage["forkbomb_17"]["tasks"] <= MAX_PROCESSES + 1, usage   # + bwrap's init, which RLIMIT_NPROC counts
    assert DISK_MB - 2 <= usage["filler_18"]["disk_mb"] <= DISK_MB, usage   # it filled the quota, and no more
    assert seen["processes"] <= 2 * MAX_PROCESSES + 40, seen   # two jobs, each capped, and the grader's own
    assert seen["spawn_s"] < 5, seen   # starting a program never waited long (a fork bomb left unchecked: minutes)
    assert seen["scratch"] and not seen["left"], seen["left"]


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
def test_submission_timeout_stops_everything(warmup, tmp_path):
    "A submission over its wall-clock limit is stopped (its whole process tree) and recorded; nothing else is lost."
    subs = tmp_path / "subs"; subs.mkdir()
    nbformat.write(_student(warmup, q1_solution="import time\nwhile True:\n    try: time.sleep(1)\n"
                                                 "    except BaseException: pass"), subs / "slow_1_warmup.ipynb")
    (subs / "empty_2_warmup.ipynb").write_text("")
    grade_assignment("00_warmup", subs, COURSE, jobs=2, timeout=15, memory_mb=MEMORY_MB, out=tmp_path / "out",
                     cell_timeout=300, progress=False)
    book = _read_csv(tmp_path / "out" / "gradebook.csv")
    assert book["slow_1"]["status"] == "timeout" and "longer than 15 s" in book["slow_1"]["reason"]
    assert float(book["slow_1"]["total"]) == 0 and book["empty_2"]["status"] == "empty"
    import psutil
    assert not [p for p in psutil.process_iter(["cmdline"]) if "ftcourse.grading" in " ".join(p.info["cmdline"] or [])
                and str(tmp_path) in " ".join(p.info["cmdline"] or [])]


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
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


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
def test_tampered_tests_are_the_originals(crafted):
    row = _read_csv(crafted[1] / "gradebook.csv")["tamper_10"]
    assert float(row["q1_tests"]) == 1 and float(row["q2_tests"]) == 0  # the edited test did not pass a wrong answer
    assert "q2_tests was edited" in row["reason"]


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
def test_student_code_cannot_read_instructor_or_other_students_files(crafted):
    subs, out, _, _ = crafted
    row = _read_csv(out / "gradebook.csv")["snoop_14"]
    assert float(row["total"]) == 3 and row["status"] == "errors"  # q2's cell raised after defining its function
    html = (out / "feedback" / "snoop_14" / "warmup.html").read_text()
    assert HIDDEN_LINE not in html and "c.ClearSolutions" not in html
    assert "refused" in html and "good_1_warmup" not in html


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
def test_feedback_is_written_and_small(crafted):
    _, out, rows, _ = crafted
    for r in rows:
        if r["status"] in ("ok", "errors", "timeout", "memory_limit", "tests_tampered"):
            assert (out / "feedback" / r["student"] / "warmup.html").exists(), r["student"]
    html = (out / "feedback" / "good_1" / "warmup.html").read_text()
    assert HIDDEN_LINE not in html  # feedback does not reveal the hidden tests
    assert (out / "feedback" / "huge_16" / "warmup.html").stat().st_size < 3_000_000


@pytest.mark.notebook   # grades crafted submissions (executes them): left out of `make unit`
def test_rerun_is_safe_and_incremental(crafted, warmup, tmp_path):
    "Re-running grades nothing twice and loses nothing; a new or changed submission is (re)graded alone."
    subs, out, _, _ = crafted
    before = (out / "gradebook.csv").read_text()
    from ftcourse.cli import main
    argv = ["grade", "00_warmup", str(subs), "--course-dir", str(COURSE), "--jobs", "2",
            "--timeout", str(TIMEOUT), "--memory-mb", str(MEMORY_MB), "--max-processes", str(MAX_PROCESSES),
            "--disk-mb", str(DISK_MB), "--out", str(out)]
    # the CLI uses the course's cell timeout; keep this test's by passing through grade_assignment instead
    rows = grade_assignment("00_warmup", subs, COURSE, jobs=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, out=out,
                            cell_timeout=CELL_TIMEOUT, progress=False, max_processes=MAX_PROCESSES, disk_mb=DISK_MB)
    assert (out / "gradebook.csv").read_text() == before and len(rows) == 18
    # a corrected resubmission and a new student
    nbformat.write(_student(warmup), subs / "untouched_2_warmup.ipynb")
    nbformat.write(_student(warmup), subs / "late_19_warmup.ipynb")
    mid = tmp_path / "mid"
    shutil.copytree(subs, mid)
    for p in mid.iterdir():
        if not p.name.startswith(("untouched_2", "late_19")): p.unlink()
    assert main(argv[:2] + [str(mid)] + argv[3:]) == 0  # only the two changed students are graded
    book = _read_csv(out / "gradebook.csv")
    assert len(book) == 19 and float(book["untouched_2"]["total"]) == 3 and float(book["late_19"]["total"]) == 3
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


# Every assignment's solutions run, and must earn full marks, in tests/test_exercise_variants.py (the execution the
# variants fork from). Run again here, through the grader and its sandbox, is one solution notebook per need: what the
# sandbox must let a real solution reach. (00_warmup's solution: `good_1` above. The other notebooks need nothing
# these do not.) The solution's submission holds only that notebook (the others are graded as "missing": their
# student versions are graded once, in the "student" submission). Every assignment's untouched student version is graded.
SOLUTIONS_IN_THE_SANDBOX = {
    "01_transfer_learning": ("transfer_learning", "MobileNet's weights file (an installed package)"),
    "02_openai_finetuning": ("openai_finetuning", "SmolLM2 converted in the cache, and a fine-tuning server on localhost"),
    "04_lora_qlora": ("full_vs_lora", "bitsandbytes, and benchmark workers forked from a fork server (memory counted by PSS)"),
    "05_ner": ("entity_metrics", "MiniLM and generated data"),
}


def test_solutions_in_the_sandbox_are_real_assignments():
    assert set(SOLUTIONS_IN_THE_SANDBOX) <= set(ASSIGNMENTS), sorted(set(SOLUTIONS_IN_THE_SANDBOX) - set(ASSIGNMENTS))
    for assignment, (notebook, _) in SOLUTIONS_IN_THE_SANDBOX.items():
        assert (COURSE / "source" / assignment / f"{notebook}.ipynb").exists(), (assignment, notebook)


@pytest.mark.notebook   # grades (executes) assignment notebooks: left out of `make unit`
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_marks_student_version_zero(graded_course, assignment):
    """One grading run per assignment: the untouched student versions (with their Colab cells) score 0 and the
    grader does not crash; for the assignments in SOLUTIONS_IN_THE_SANDBOX the chosen notebook's solution, submitted
    alone, earns every point of its questions (the notebooks not submitted earn none)."""
    tmp = graded_course / assignment
    release = generate_student_version(COURSE, assignment, tmp / "course")
    prepare_release(tmp / "course", [assignment])
    subs = tmp / "subs"; subs.mkdir()
    with_solution = assignment in SOLUTIONS_IN_THE_SANDBOX
    chosen = SOLUTIONS_IN_THE_SANDBOX[assignment][0] if with_solution else None
    for src in sorted((COURSE / "source" / assignment).glob("*.ipynb")):
        if src.stem == chosen: shutil.copy(src, subs / f"solution_{src.name}")
        shutil.copy(release / src.name, subs / f"student_{src.name}")
    # Generous limits: this checks correctness, and a shared CPU can make a one-minute training take several.
    grade_assignment(assignment, subs, COURSE, jobs=2, timeout=1800, cell_timeout=1800, out=tmp / "out", progress=False)
    book = _read_csv(tmp / "out" / "gradebook.csv")
    assert set(book) == ({"solution", "student"} if with_solution else {"student"}), sorted(book)
    stu = book["student"]
    assert float(stu["total"]) == 0 and stu["status"] not in ("grader_error", "wrong_assignment"), stu["reason"]
    if with_solution:
        sol, info = book["solution"], AssignmentInfo(COURSE, assignment, tmp / "info")
        got = {info.column(n, g): (float(sol[info.column(n, g)]), pts) for n, g, pts in info.questions if n == chosen}
        assert got and all(score == pts for score, pts in got.values()), (got, sol["reason"])
        assert float(sol["total"]) == sum(pts for _, pts in got.values()) > 0, sol["reason"]
        assert f"{chosen}/" not in sol["reason"], sol["reason"]   # no cell of the solution raised
        assert sol["files"] == f"solution_{chosen}.ipynb", sol["files"]
