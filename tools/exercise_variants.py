"""Grade an exercise source notebook the way students submit it, once per *variant*, cheaply.

A variant replaces the source of one solution cell (named by its nbgrader `grade_id`):

- **unsolved**: the cell as the student receives it (nbgrader's `ClearSolutions`: each solution block
  becomes `raise NotImplementedError()`). It must lose the points of its own question and **only** those:
  a student who could not solve question 1 still earns question 2.
- **wrong**: a typical wrong answer, read from the file next to the notebook, `<notebook>.wrong.py`
  (format below). It must lose points on its own question, and only there, and the failure must say
  something (no bare `AssertionError`).

A test cell earns its points iff it runs without raising, as nbgrader grades; hidden tests run, as they do
when grading. The notebook's own solutions (the reference) must earn full marks with no cell failing.

How it stays cheap: the notebook is executed once, cell by cell, in one IPython shell (as the course's runner
does). Right before a solution cell runs, the process forks once per variant of that cell; each child runs
its variant and the cells after it and reports which graded cells passed, while the parent goes on with the
reference. A wrong answer's child stops after its question's last cell; an unsolved child runs to the end.
The parent runs single-threaded (OpenMP thread pools do not survive `fork`); children run in parallel, within
the CPU budget (`cpu_budget`: OMP_NUM_THREADS when the caller set it, else every core).

Cells tagged `trains` (cell metadata `tags`) train a model, or load one to train it. With `fast=True` (what
`make test` runs), variants whose own question has such a cell are skipped and unsolved children stop before the
first `trains` cell after their question (the cells they did not reach are reported as not checked);
`tests/test_exercise_variants.py` runs the rest in a `slow` test.

The wrong-answer file: sections headed `# %% <solution grade_id>: <what the mistake is>`; each section's
code is the whole cell a student might write. Lines before the first header are comments for the reader.

    # %% q1_solution: labels every subword with its word's label
    def align_first(word_ids, word_labels):
        return [-100 if w is None else int(word_labels[w]) for w in word_ids]

Usage:  python tools/exercise_variants.py NOTEBOOK.ipynb [--fast] [--only q1_solution] [--jobs 2] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

HEADER = re.compile(r"^# %% (?P<cell>[A-Za-z0-9_.-]+):\s*(?P<what>.+?)\s*$")
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"   # exercises/nbgrader_config.py's code stub


@dataclass
class Cell:
    index: int
    cell_type: str
    source: str
    grade_id: str | None = None
    role: str | None = None          # "solution", "tests", "locked" or None
    points: float = 0.0
    tags: tuple = ()

    @property
    def question(self) -> str | None:
        "`q2` for `q2_solution`, `q2_tests`, `q2_setup`...; None for cells outside the questions."
        m = re.match(r"(q\d+)_", self.grade_id or "")
        return m[1] if m else None


@dataclass
class Variant:
    cell: str            # grade_id of the solution cell it replaces
    kind: str            # "unsolved" or "wrong"
    what: str            # one line: the mistake
    source: str

    @property
    def name(self) -> str: return f"{self.cell} {self.kind}: {self.what}"


@dataclass
class Outcome:
    variant: str
    cell: str
    kind: str
    question: str | None
    graded: dict = field(default_factory=dict)     # grade_id -> {"passed", "points", "error"}
    not_checked: list = field(default_factory=list)
    skipped: str | None = None                      # why the variant did not run (fast mode)
    crashed: str | None = None
    seconds: float = 0.0

    def failed(self) -> list: return [g for g, r in self.graded.items() if not r["passed"]]


def read_cells(path) -> list[Cell]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for i, c in enumerate(nb["cells"]):
        meta = c.get("metadata", {})
        g = meta.get("nbgrader", {})
        role = "tests" if g.get("grade") else "solution" if g.get("solution") else "locked" if g.get("locked") else None
        src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        cells.append(Cell(i, c["cell_type"], src, g.get("grade_id"), role, float(g.get("points", 0) or 0),
                          tuple(meta.get("tags", ()))))
    return cells


def unsolved_source(source: str) -> str:
    "What the student receives in place of a solution cell: nbgrader's ClearSolutions, with the course's stub."
    import nbformat
    from nbgrader.preprocessors import ClearSolutions
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False, "grade_id": "x",
                                 "schema_version": 3}
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}})
    nb, _ = ClearSolutions(code_stub={"python": STUB}).preprocess(nb, {})
    return nb.cells[0].source


def wrong_answers_file(notebook) -> Path:
    notebook = Path(notebook)
    return notebook.with_name(notebook.stem + ".wrong.py")


def read_wrong_answers(path) -> list[Variant]:
    "The sections of a wrong-answer file, as variants."
    path = Path(path)
    if not path.exists(): return []
    out, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            m = HEADER.match(line)
            if not m: raise ValueError(f"{path}: bad header {line!r}; write '# %% q1_solution: what the mistake is'")
            current = Variant(m["cell"], "wrong", m["what"], "")
            out.append(current)
        elif current is not None:
            current.source += line + "\n"
    for v in out:
        v.source = v.source.strip("\n") + "\n"
        compile(v.source, f"{path}:{v.cell}", "exec")   # a syntax error is the file's bug, not a wrong answer
    return out


def variants_of(notebook, cells: list[Cell] | None = None) -> list[Variant]:
    "Every variant of `notebook`: each solution cell unsolved, then the known wrong answers."
    cells = cells or read_cells(notebook)
    ids = {c.grade_id for c in cells if c.role == "solution"}
    out = [Variant(c.grade_id, "unsolved", "raise NotImplementedError()", unsolved_source(c.source))
           for c in cells if c.role == "solution"]
    solved = {c.question for c in cells if c.role == "solution"}
    for c in cells:
        if c.role == "tests" and c.points > 0 and c.question not in solved:
            out.append(f"{c.grade_id} is worth {c.points:g} points but its question has no solution cell: nothing to do")
    wrong = read_wrong_answers(wrong_answers_file(notebook))
    unknown = sorted({v.cell for v in wrong} - ids)
    if unknown: raise ValueError(f"{wrong_answers_file(notebook)} names cells that are not solution cells: {unknown}")
    return out + wrong


def cpu_budget() -> int:
    """The cores this check may use: OMP_NUM_THREADS when the caller set it (the test suite's two workers set 1 each,
    so that neither starts threads that wait for a core the other is using), else every core."""
    omp = os.environ.get("OMP_NUM_THREADS", "")
    return int(omp) if omp.isdigit() and int(omp) > 0 else (os.cpu_count() or 1)


def _set_threads(n: int) -> None:
    if "torch" in sys.modules: sys.modules["torch"].set_num_threads(n)


def _error_text(exc) -> str:
    if exc is None: return ""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:600]


class _Run:
    "One notebook's cells executed in an IPython shell in this process."

    def __init__(self, path: Path, cells: list[Cell], cell_timeout: float):
        from execnb.shell import CaptureShell
        self.path, self.cells, self.cell_timeout = path, cells, cell_timeout
        self.shell = CaptureShell(path)
        self.outputs = {}   # cell index -> outputs (kept by the parent, for the executed copy)

    def run_range(self, start: int, stop: int, replace: dict, graded: dict, errors: dict, keep=False) -> None:
        for cell in self.cells[start:stop]:
            if cell.cell_type != "code": continue
            outputs = self.shell.run(replace.get(cell.index, cell.source), timeout=int(self.cell_timeout))
            exc = self.shell.exc
            if keep: self.outputs[cell.index] = outputs
            if cell.role == "tests":
                graded[cell.grade_id] = {"passed": exc is None, "points": cell.points if exc is None else 0.0,
                                         "error": _error_text(exc)}
            elif exc is not None:
                errors[cell.grade_id or f"cell {cell.index}"] = _error_text(exc)


def _plan(cells: list[Cell], variant: Variant, fast: bool) -> tuple[int, int, int, str | None, list]:
    """Where the variant's child starts (the question's first cell, so that the question's own setup runs afresh in
    every child), which cell it replaces, where it stops, why it is skipped (fast mode), the graded cells it leaves."""
    target = next(c.index for c in cells if c.grade_id == variant.cell)
    q = cells[target].question
    start = min((c.index for c in cells if q and c.question == q), default=target)
    own_end = max((c.index for c in cells if q and c.question == q), default=target) + 1
    stop = own_end if variant.kind == "wrong" else len(cells)
    if fast:
        if any("trains" in c.tags for c in cells[start:own_end]):
            return start, target, start, "its question trains a model (slow test)", []
        first_training = next((c.index for c in cells[own_end:stop] if "trains" in c.tags), None)
        if first_training is not None: stop = first_training
    left = [c.grade_id for c in cells[stop:] if c.role == "tests"] if variant.kind == "unsolved" else []
    return start, target, stop, None, left


def check_notebook(notebook, variants: list[Variant] | None = None, fast: bool = False, jobs: int | None = None,
                   cell_timeout: float = 1200, variant_timeout: float = 1800, executed_out=None,
                   log=print) -> dict:
    """Execute `notebook` with its solutions (the reference) and every variant; returns a report dict:
    `reference` (graded cells, errors, points, seconds) and `variants` (a list of `Outcome` dicts)."""
    path = Path(notebook).resolve()
    cells = read_cells(path)
    variants = variants_of(path, cells) if variants is None else variants
    cores = cpu_budget()
    jobs = jobs or int(os.environ.get("FTCOURSE_VARIANT_JOBS", min(2, cores)))
    by_cell: dict[int, list[Variant]] = {}
    outcomes = []
    for v in variants:
        start, target, stop, skipped, left = _plan(cells, v, fast)
        o = Outcome(v.name, v.cell, v.kind, cells[target].question, not_checked=left, skipped=skipped)
        outcomes.append(o)
        if not skipped: by_cell.setdefault(start, []).append((v, o, target, stop))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["IN_TEST"] = "1"
    omp = os.environ.get("OMP_NUM_THREADS")
    last_fork = max(by_cell, default=-1)
    if last_fork >= 0:   # one thread until the last fork (set before torch starts its pool)
        os.environ["OMP_NUM_THREADS"] = "1"
        _set_threads(1)
    cwd = os.getcwd()
    results_dir = Path(tempfile.mkdtemp(prefix="ftcourse-variants-"))
    run = _Run(path, cells, cell_timeout)
    graded, errors = {}, {}
    children_seconds = 0.0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("error", category=category, module=r"(ftcourse(\..*)?|__main__)$")
        try:
            os.chdir(path.parent)
            for cell in cells:
                if cell.index in by_cell:
                    t_children = time.perf_counter()
                    _run_children(run, cell.index, by_cell[cell.index], results_dir, jobs, cores,
                                  variant_timeout, log)
                    children_seconds += time.perf_counter() - t_children
                if cell.index == last_fork:   # no fork after this: the reference may use every core
                    if omp is None: os.environ.pop("OMP_NUM_THREADS", None)
                    else: os.environ["OMP_NUM_THREADS"] = omp
                    _set_threads(cores)
                run.run_range(cell.index, cell.index + 1, {}, graded, errors, keep=True)
        finally:
            os.chdir(cwd)
    seconds = time.perf_counter() - t0
    if executed_out is not None: _save_executed(path, run.outputs, executed_out)
    tests = [c for c in cells if c.role == "tests"]
    report = {"notebook": str(path), "seconds": round(seconds, 1), "variants_seconds": round(children_seconds, 1),
              "reference": {"graded": graded, "errors": errors,
                            "points": sum(r["points"] for r in graded.values()),
                            "max_points": sum(c.points for c in tests)},
              "questions": {c.grade_id: c.question for c in tests},
              "variants": [asdict(o) for o in outcomes]}
    return report


def _run_children(run: _Run, index: int, todo: list, results_dir: Path, jobs: int, cores: int,
                  variant_timeout: float, log) -> None:
    """Fork one child per variant forked at cell `index` and collect them: at most `jobs` at a time, and one at a time
    when a child will train (`trains` cells: heavy, and they write checkpoints and servers' state to shared paths)."""
    pending, running = list(todo), {}
    sys.stdout.flush(); sys.stderr.flush()
    n = 0
    while pending or running:
        while pending:
            variant, outcome, target, stop = pending[0]
            trains = any("trains" in c.tags for c in run.cells[index:stop])
            busy_training = any(r[-1] for r in running.values())
            if len(running) >= jobs or (running and (trains or busy_training)): break
            pending.pop(0)
            n += 1
            result_file = results_dir / f"{index}-{n}.json"
            threads = cores if trains else max(1, cores // max(1, min(jobs, len(pending) + len(running) + 1)))
            pid = os.fork()
            if pid == 0:   # the child: never returns
                _child(run, index, target, variant, stop, result_file, threads)
            running[pid] = (variant, outcome, result_file, time.perf_counter(), stop, trains)
        time.sleep(0.05)
        for pid, (variant, outcome, result_file, started, stop, _) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            over = time.perf_counter() - started > variant_timeout
            if not done and not over: continue
            if not done:
                try: os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError: pass
                os.waitpid(pid, 0)
            else:
                try: os.killpg(pid, signal.SIGKILL)   # whatever it started (servers, workers) goes with it
                except (ProcessLookupError, PermissionError): pass
            del running[pid]
            outcome.seconds = round(time.perf_counter() - started, 1)
            if result_file.exists():
                data = json.loads(result_file.read_text())
                outcome.graded, outcome.crashed = data["graded"], data.get("crashed")
            else:
                outcome.crashed = (f"timed out after {variant_timeout:.0f} s" if over else
                                   f"the process ended without a result (status {status})")
            if outcome.crashed:   # as nbgrader: what did not run earns nothing
                for c in run.cells[index:stop]:
                    if c.role == "tests" and c.grade_id not in outcome.graded:
                        outcome.graded[c.grade_id] = {"passed": False, "points": 0.0, "error": outcome.crashed}
            lost = outcome.failed()
            log(f"  {variant.name}: {outcome.seconds} s, failed {lost or 'nothing'}")


def _child(run: _Run, index: int, target: int, variant: Variant, stop: int, result_file: Path, threads: int) -> None:
    code = 1
    try:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1); os.dup2(devnull, 2)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        _set_threads(threads)
        graded, errors = {}, {}
        crashed = None
        try:
            run.run_range(index, stop, {target: variant.source}, graded, errors)
        except BaseException as e:   # the harness itself failed in this child
            crashed = "".join(traceback.format_exception(e))[-2000:]
        tmp = result_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"graded": graded, "errors": errors, "crashed": crashed}))
        tmp.rename(result_file)
        code = 0
    finally:
        os._exit(code)


def _save_executed(path: Path, outputs: dict, out) -> None:
    "Write the reference run as an executed notebook (outputs and execution counts) to `out`."
    import nbformat
    nb = nbformat.read(path, as_version=4)
    count = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or i not in outputs: continue
        count += 1
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(o) for o in outputs[i]]
        for o in cell.outputs:
            if o.get("output_type") == "execute_result": o["execution_count"] = count
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out))


def visible_source(source: str) -> str:
    "A test cell as students see it: the hidden tests removed (nbgrader's ClearHiddenTests)."
    out, hidden = [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line: hidden = True
        elif "### END HIDDEN TESTS" in line: hidden = False
        elif not hidden: out.append(line)
    return "\n".join(out)


def _guarded(source: str) -> set:
    "Names read inside `try:` blocks that catch `Exception`: a cell may use another question's work with a fallback."
    import ast
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Try) and any(h.type is None or (isinstance(h.type, ast.Name) and h.type.id in
                                                                ("Exception", "BaseException")) for h in node.handlers):
            out |= {n.id for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return out


def _names(source: str) -> tuple[set, set]:
    "(names a cell binds at the top level, global names it reads anywhere but under a fallback), by symtable."
    import symtable
    top = symtable.symtable(source, "<cell>", "exec")
    bound = {x.get_name() for x in top.get_symbols() if x.is_assigned() or x.is_imported()}
    read = set()

    def walk(table):
        for x in table.get_symbols():
            if x.is_referenced() and (table.get_type() == "module" or x.is_global()): read.add(x.get_name())
        for child in table.get_children(): walk(child)
    walk(top)
    return bound, read - _guarded(source)


def lint(notebook) -> list[str]:
    """Static checks of a source notebook: no bare assert in the visible tests; no cell of a question reads a name
    that another question's cells define (or redefine), except a solution using an earlier solution; every question
    worth points has something to write; at least two known wrong answers per solution cell."""
    cells = read_cells(notebook)
    out = []
    import ast
    for c in cells:
        if c.role != "tests": continue
        try: tree = ast.parse(visible_source(c.source))
        except SyntaxError: continue   # reported below
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and node.msg is None:
                out.append(f"{c.grade_id}: bare visible assert (say what was expected and what came): "
                           f"assert {ast.unparse(node.test)[:80]}")
    names = {}
    for c in cells:
        if c.cell_type != "code": continue
        try: names[c.index] = _names(c.source)
        except SyntaxError as e:
            out.append(f"{c.grade_id or f'cell {c.index}'}: syntax error: {e}")
            names[c.index] = (set(), set())
    for c in cells:
        if c.cell_type != "code" or not c.question: continue
        bound_here, read = names[c.index]
        for other in cells:
            if other.cell_type != "code" or not other.question or other.question == c.question: continue
            # a solution may build on an earlier solution by design: its tests swap in the course's version
            # (ftcourse.exercises.graded_alone), which the unsolved variants check when they run
            if c.role == "solution" and other.role == "solution": continue
            shared = sorted((read - bound_here) & names[other.index][0])
            if shared:
                out.append(f"{c.grade_id} reads {shared}, which {other.grade_id} (another question) defines")
    solved = {c.question for c in cells if c.role == "solution"}
    for c in cells:
        if c.role == "tests" and c.points > 0 and c.question not in solved:
            out.append(f"{c.grade_id} is worth {c.points:g} points but its question has no solution cell: nothing to do")
    wrong = read_wrong_answers(wrong_answers_file(notebook))
    for c in cells:
        if c.role == "solution":
            n = sum(v.cell == c.grade_id for v in wrong)
            if n < 2: out.append(f"{c.grade_id}: {n} known wrong answer(s) in {wrong_answers_file(notebook).name}; write at least 2")
    return out


def problems(report: dict) -> list[str]:
    "What is wrong with a report: reference short of full marks, unsolved variants that cost other questions, ..."
    out = []
    ref = report["reference"]
    for g, r in ref["graded"].items():
        if not r["passed"]: out.append(f"reference: {g} fails: {r['error']}")
    for cell, err in ref["errors"].items(): out.append(f"reference: {cell} raises: {err}")
    if ref["points"] != ref["max_points"]: out.append(f"reference: {ref['points']} of {ref['max_points']} points")
    questions = report["questions"]
    for o in report["variants"]:
        if o["skipped"]: continue
        failed = [g for g, r in o["graded"].items() if not r["passed"]]
        own = [g for g in failed if questions.get(g) == o["question"]]
        others = [g for g in failed if questions.get(g) != o["question"]]
        if not own: out.append(f"{o['variant']}: loses no points on {o['question']} (passes every test)")
        for g in others:
            out.append(f"{o['variant']}: also loses {g}: {o['graded'][g]['error']}")
        if o["kind"] == "wrong":
            for g in own:
                err = o["graded"][g]["error"]
                if err in ("AssertionError:", "AssertionError"):
                    out.append(f"{o['variant']}: {g} fails with a bare AssertionError (say what was expected and what came)")
    return out


def format_report(report: dict) -> str:
    ref = report["reference"]
    lines = [f"{report['notebook']}: reference {ref['points']:g}/{ref['max_points']:g} points; {report['seconds']} s in all, "
             f"of which {report.get('variants_seconds', 0)} s waiting for the variants"]
    for o in report["variants"]:
        if o["skipped"]:
            lines.append(f"  - {o['variant']}: not run ({o['skipped']})"); continue
        failed = [g for g, r in o["graded"].items() if not r["passed"]]
        first = o["graded"][failed[0]]["error"].splitlines()[0][:150] if failed else ""
        extra = f"; not checked {o['not_checked']}" if o["not_checked"] else ""
        lines.append(f"  - {o['variant']}: loses {failed or 'nothing'} ({o['seconds']} s){extra}" +
                     (f"\n      {first}" if first else ""))
    found = problems(report) + lint(report["notebook"])
    lines += [f"PROBLEM: {p}" for p in found] or ["no problems"]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook")
    ap.add_argument("--fast", action="store_true", help="skip variants of questions that train (as make test)")
    ap.add_argument("--only", nargs="*", help="only the variants of these solution cells (grade ids)")
    ap.add_argument("--jobs", type=int, default=None, help="children at a time (default 2)")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--executed", help="write the reference run, with its outputs, to this notebook")
    args = ap.parse_args(argv)
    variants = variants_of(args.notebook)
    if args.only: variants = [v for v in variants if v.cell in args.only]
    report = check_notebook(args.notebook, variants, fast=args.fast, jobs=args.jobs, executed_out=args.executed,
                            log=lambda s: print(s, file=sys.stderr, flush=True))
    if args.json: Path(args.json).write_text(json.dumps(report, indent=1))
    print(format_report(report))
    return 1 if problems(report) or lint(args.notebook) else 0


if __name__ == "__main__":
    sys.exit(main())
