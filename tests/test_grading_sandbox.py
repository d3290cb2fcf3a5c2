"""What a student gets back from `ftcourse grade` never shows a hidden test, and student code sees only the sandbox's
allow-list (tested with copies of source notebooks planted where a student would look), on a small assignment made
here; the command works however it is started and fails in one line; memory is measured fairly. (The course's own
assignments and the crafted bad submissions: tests/test_grading.py.)"""
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

from ftcourse.grading import _grade_id, generate_student_version, grade_assignment, grade_notebook

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "exercises"


def _read_csv(path):
    with open(path, newline="") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


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


def test_the_box_is_one_tmpfs_of_the_disk_quota(tmp_path):
    """In bwrap mode everything student code can write (its working folder, home, /tmp, /dev/shm) is one tmpfs of
    `disk_mb`: writing past it fails with ENOSPC, wherever it writes, and nothing of it reaches the host's disk."""
    from ftcourse.grading import Limits, boxed_command, bwrap_command, prepare_sandbox, sandbox_mode
    if sandbox_mode() != "bwrap": pytest.skip("the tmpfs is bwrap mode's (audit mode watches the box's size)")
    spec = prepare_sandbox(tmp_path / "job", Limits(disk_mb=20), "bwrap")
    code = ("import os\nfor i, where in enumerate(['/tmp', '/dev/shm', os.getcwd(), os.environ['HOME']]):\n"
            "    try:\n        with open(f'{where}/f{i}', 'wb') as f: f.write(b'x' * 8 * 2**20)\n        print('wrote')\n"
            "    except OSError as e: print('refused', e.errno)")
    res = subprocess.run(boxed_command(spec, bwrap_command(spec, [sys.executable, "-c", code])), env=spec.env,
                         capture_output=True, text=True, timeout=120)
    assert res.stdout.splitlines() == ["wrote", "wrote", "refused 28", "refused 28"], res.stdout + res.stderr[-2000:]
    assert not [p for p in Path(spec.box).rglob("*") if p.is_file()]   # the host's box folder stayed empty


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not os.path.exists("/usr/bin/python3"),
                    reason="needs root, to run the sandboxes as another user")
def test_the_process_count_is_per_user_namespace():
    """Why RLIMIT_NPROC set inside a kernel's sandbox is that submission's cap alone, with no uid of its own: Linux
    (>= 5.14) counts the processes of a user namespace apart. A sandbox capped at 12 still forks 9 children while
    another sandbox of the same user holds 20; without a namespace of its own the same user could fork none."""
    from ftcourse.grading import bwrap_path
    fork = ("import os, resource, sys, time\ncap, n = int(sys.argv[1]), int(sys.argv[2])\n"
            "if cap: resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))\nkids = 0\nfor _ in range(n):\n"
            "    try: pid = os.fork()\n    except OSError: break\n    if pid == 0: time.sleep(60); os._exit(0)\n"
            "    kids += 1\nprint(kids, flush=True)\nos.waitpid(-1, 0)")
    user = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    sandbox = [bwrap_path(), "--unshare-user", "--unshare-pid", "--uid", "1000", "--die-with-parent", "--ro-bind", "/", "/",
               "--proc", "/proc", "--dev", "/dev"]
    run = lambda cmd, **kw: subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True, **kw)
    started = [run([*user, *sandbox, "/usr/bin/python3", "-c", fork, "0", "20"])]
    try:
        assert started[0].stdout.readline().strip() == "20"   # the holder: 20 children sleeping
        started.append(run([*user, *sandbox, "/usr/bin/python3", "-c", fork, "12", "40"]))
        capped = started[-1].stdout.readline()
        started.append(run([*user, "/usr/bin/python3", "-c", fork, "12", "40"]))
        shared = started[-1].stdout.readline()
    finally:
        for p in started: os.killpg(p.pid, 9); p.wait()
    assert 9 <= int(capped) < 12, capped   # its own count: itself, bwrap's init, its children
    assert int(shared) == 0, shared   # one count per user: the holder's 21 processes fill it
