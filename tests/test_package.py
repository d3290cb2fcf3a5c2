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
