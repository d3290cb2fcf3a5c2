"""How long `ftcourse grade` takes for a class: N submissions of one assignment, graded with --jobs J.

The submissions are made from the assignment itself: a third are the instructor's solution, a third the
untouched student version, a third the student version with the first solution cell raising an error.
The figure printed is the wall-clock time of the `ftcourse grade` command (target: 20 submissions of an
assignment in <= 300 s with --jobs 2 on 2 cores), and what the sandbox itself costs per kernel: making a
job's box and starting a program in bubblewrap, against starting it directly.

    python bench/grading_benchmark.py [--assignment 00_warmup] [-n 20] [--jobs 2]
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def make_submissions(assignment: str, n: int, folder: Path, course: Path) -> None:
    from ftcourse.grading import generate_student_version
    release = generate_student_version(course, assignment, folder / ".release")
    for k in range(n):
        for src in sorted((course / "source" / assignment).glob("*.ipynb")):
            dest = folder / f"student{k:03d}_{k + 1000}_{src.name}"
            if k % 3 == 0:
                shutil.copy(src, dest)
            else:
                nb = nbformat.read(release / src.name, as_version=4)
                if k % 3 == 2:
                    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
                    cell.source = "raise ValueError('not done yet')"
                nbformat.write(nb, dest)
    shutil.rmtree(folder / ".release")


def sandbox_cost(runs: int = 7) -> str:
    """Median cost of the sandbox per kernel: preparing a job's box, and starting /bin/true in bwrap (inside the worker's
    box: the tmpfs of the disk quota, as a job nests them) vs directly."""
    import statistics
    from ftcourse.grading import Limits, boxed_command, bwrap_command, prepare_sandbox, sandbox_mode
    if sandbox_mode() != "bwrap": return f"sandbox: {sandbox_mode()} (no bubblewrap cost to measure)"
    def timed(fn):
        start = time.perf_counter(); fn(); return time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="ftcourse-bench-box-") as tmp:
        prep = statistics.median(timed(lambda: prepare_sandbox(Path(tmp) / "job", Limits(), "bwrap")) for _ in range(runs))
        spec = prepare_sandbox(Path(tmp) / "job", Limits(), "bwrap")
        plain = statistics.median(timed(lambda: subprocess.run(["/bin/true"], check=True)) for _ in range(runs))
        cmd = boxed_command(spec, bwrap_command(spec, ["/bin/true"]))
        boxed = statistics.median(timed(lambda: subprocess.run(cmd, env=spec.env, check=True)) for _ in range(runs))
    return (f"sandbox cost per kernel: {1000 * (prep + boxed - plain):.0f} ms (making the box {1000 * prep:.0f} ms; "
            f"a program starts in {1000 * boxed:.0f} ms in bwrap, {1000 * plain:.0f} ms directly; medians of {runs})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", default="00_warmup")
    ap.add_argument("-n", type=int, default=20, help="number of submissions (default 20)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--course-dir", default=str(ROOT / "exercises"))
    args = ap.parse_args()
    course = Path(args.course_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="ftcourse-bench-") as tmp:
        subs, out = Path(tmp) / "subs", Path(tmp) / "out"
        subs.mkdir()
        make_submissions(args.assignment, args.n, subs, course)
        exe = shutil.which("ftcourse") or str(Path(sys.executable).parent / "ftcourse")
        cmd = [exe, "grade", args.assignment, str(subs), "--course-dir", str(course), "--jobs", str(args.jobs),
               "--out", str(out)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:]); return 1
        with open(out / "gradebook.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        statuses = {}
        for r in rows: statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        print(proc.stdout.strip().splitlines()[-3])
        print(f"\n{args.n} submissions of {args.assignment}, --jobs {args.jobs}, {os.cpu_count()} CPU cores: "
              f"{seconds:.0f} s wall clock ({seconds / args.n:.1f} s per submission); statuses {statuses}")
        print(f"target <= 300 s: {'met' if seconds <= 300 else 'NOT met'}")
        print(sandbox_cost())
    return 0


if __name__ == "__main__":
    sys.exit(main())
