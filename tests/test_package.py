"""The package as a library: every public function, class and method that a notebook exports says what it does."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ftcourse"


def undocumented(source: str, filename: str) -> list[str]:
    "Public module-level functions and classes, and public methods of public classes, without a docstring."
    missing = []

    def visit(body, prefix):
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name.startswith("_"):
                continue
            if not ast.get_docstring(node): missing.append(f"{filename}:{node.lineno} {prefix}{node.name}")
            if isinstance(node, ast.ClassDef): visit(node.body, f"{node.name}.")

    visit(ast.parse(source).body, "")
    return missing


def test_the_check_finds_a_missing_docstring():
    code = 'def shown():\n    "Says."\n\ndef silent(): pass\n\nclass C:\n    "A class."\n    def m(self): pass\n    def _p(self): pass\n'
    assert undocumented(code, "x.py") == ["x.py:4 silent", "x.py:8 C.m"]


def test_every_exported_public_name_has_a_docstring():
    missing = [m for f in sorted(PACKAGE.glob("*.py")) if f.name != "_modidx.py"
               for m in undocumented(f.read_text(), f.name)]
    assert not missing, "add a one-line docstring (in the notebook that exports it) to:\n" + "\n".join(missing)


# --- notebooks a reader can hold in mind: short export cells, each shown in use below it ---------------------------

NBS = PACKAGE.parent / "nbs"
MAX_EXPORT_LINES = 60
SPLIT_ELSEWHERE = ()   # notebooks being split by another change (none now)


def long_export_cells(notebook: Path, limit: int = MAX_EXPORT_LINES) -> list[str]:
    "The exported cells (`#| export`) of `notebook` longer than `limit` lines, as 'notebook, cell id: n lines'."
    import json
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [f"{notebook.name}, cell {c.get('id')}: {n} lines" for c in cells
            if c["cell_type"] == "code" and "".join(c["source"]).lstrip().startswith("#| export")
            and (n := len("".join(c["source"]).splitlines())) > limit]


def test_the_length_check_finds_a_long_export_cell(tmp_path):
    import json
    cell = lambda id, n, flag: {"cell_type": "code", "id": id, "metadata": {}, "outputs": [], "execution_count": None,
                                "source": [flag + "\n"] + ["x = 1\n"] * (n - 1)}
    nb = tmp_path / "tool_demo.ipynb"
    nb.write_text(json.dumps({"cells": [cell("ok", 60, "#| export"), cell("long", 61, "#| export"),
                                        cell("demo", 80, "# a demonstration")]}))
    assert long_export_cells(nb) == ["tool_demo.ipynb, cell long: 61 lines"]


def test_tool_notebooks_have_short_export_cells():
    notebooks = [p for p in sorted(NBS.glob("tool_*.ipynb")) if not p.stem.startswith(SPLIT_ELSEWHERE)]
    assert {"tool_server", "tool_server_service", "tool_chatdata", "tool_grading", "tool_grading_sandbox"} <= \
        {p.stem for p in notebooks}
    long = [c for nb in notebooks for c in long_export_cells(nb)]
    assert not long, f"export cells over {MAX_EXPORT_LINES} lines (split them, each followed by its demonstration):\n" + \
        "\n".join(long)
