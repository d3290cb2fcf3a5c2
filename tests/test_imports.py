"""The package's modules import one way. Read from the source with `ast` (every import, function-level ones too):
no cycle, and no upward import. The layers: the foundation (nbs/core_*.ipynb, and chat data, nbs/tool_chatdata.ipynb)
imports only the foundation; lesson N (ftcourse.config.LESSONS) the foundation and earlier lessons; the tools
(nbs/tool_*.ipynb: the server, the grader) the foundation and each other, never a lesson; the command line (cli) and
the package's `__init__` may import anything, and nothing imports them. A lesson imports no tool, except where
LESSON_USES_TOOL says why."""
import ast
import json
import re
from pathlib import Path

from ftcourse.config import LESSONS

ROOT = Path(__file__).resolve().parent.parent

# (lesson module, tool module) pairs that are allowed, and why
LESSON_USES_TOOL = {
    ("openai_finetuning", "server"): "lesson 2 teaches OpenAI's fine-tuning API by running the course's local server "
                                     "(`start_local_server`): the server is what the lesson is about",
}
# Imports of the whole package (`import ftcourse`) kept for now, each with why: to be replaced by
# `ftcourse.config.resources_dir()` (the package's folder, found without importing it)
PACKAGE_IMPORTS = {}
TOP = {"cli": "the `ftcourse` command: one sub-command per tool and lesson", "__init__": "the package"}
CHAT_FOUNDATION = {"chatdata"}   # a tool notebook, but a foundation: lessons build on chat data


def sources(root: Path = ROOT) -> dict:
    "Every module of the package: name -> source."
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((root / "ftcourse").glob("*.py")) if p.stem != "_modidx"}


def imports_of(module: str, source: str, modules: set) -> set:
    "The package's modules that `source` imports anywhere in it (`__init__` for the package itself)."
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(a.name.split(".") + ["__init__"])[1] for a in node.names if a.name.split(".")[0] == "ftcourse"}
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") if node.module else []
            if node.level == 0 and parts[:1] == ["ftcourse"]: parts = parts[1:]
            elif node.level != 1: continue
            if parts: found.add(parts[0])
            else: found |= {a.name if a.name in modules else "__init__" for a in node.names}   # from ftcourse import x
    return found - {module}


def import_graph(srcs: dict) -> dict:
    return {m: imports_of(m, s, set(srcs)) for m, s in srcs.items()}


def cycles(graph: dict) -> list:
    "The import cycles: each a sorted list of the modules that import each other, in a circle (Tarjan's algorithm)."
    index, low, stack, on, out = {}, {}, [], set(), []
    def visit(v):
        index[v] = low[v] = len(index); stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in graph: continue
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop(); on.discard(w); group.append(w)
                if w == v: break
            if len(group) > 1: out.append(sorted(group))
    for v in sorted(graph):
        if v not in index: visit(v)
    return sorted(out)


def layers(root: Path = ROOT) -> dict:
    "module -> (layer, lesson number): 'foundation', 'lesson', 'tool' or 'top'."
    layer = {m: ("top", 0) for m in TOP}
    for nb in sorted((root / "nbs").glob("*.ipynb")):
        exported = re.search(r"^#\|\s*default_exp\s+(\S+)", "\n".join(
            "".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]), re.M)
        if not exported or exported.group(1) in layer: continue
        name = exported.group(1)
        if name in CHAT_FOUNDATION or nb.stem.startswith("core_"): layer[name] = ("foundation", 0)
        elif nb.stem.startswith("tool_"): layer[name] = ("tool", 0)
    layer.update({l.module: ("lesson", l.number) for l in LESSONS})
    return layer


def upward_imports(graph: dict, layer: dict) -> list:
    "Each import that breaks the layering, as 'a -> b: why'."
    bad = []
    for a, targets in sorted(graph.items()):
        (la, na) = layer.get(a, ("unknown", 0))
        for b in sorted(targets):
            (lb, nb) = layer.get(b, ("unknown", 0))
            if "unknown" in (la, lb): bad.append(f"{a} -> {b}: a module no notebook exports (add its notebook)")
            elif la == "top": continue
            elif (a, b) in PACKAGE_IMPORTS: continue
            elif lb == "top": bad.append(f"{a} -> {b}: nothing imports the command line or the package's __init__")
            elif la == "foundation" and lb != "foundation": bad.append(f"{a} -> {b}: a foundation module imports a {lb}")
            elif la == "lesson" and lb == "lesson" and nb >= na: bad.append(f"{a} -> {b}: lesson {na} imports lesson {nb}")
            elif la == "lesson" and lb == "tool" and (a, b) not in LESSON_USES_TOOL:
                bad.append(f"{a} -> {b}: a lesson imports a tool (the server, the grader)")
            elif la == "tool" and lb == "lesson": bad.append(f"{a} -> {b}: a tool imports a lesson")
    return bad


def test_the_package_imports_one_way():
    graph = import_graph(sources())
    assert {"chatdata", "config", "train"} <= graph["lora"] and "datagen" in graph["rehearsal"]   # function-level ones too
    assert not cycles(graph), f"import cycles in ftcourse/: {cycles(graph)}"
    bad = upward_imports(graph, layers())
    assert not bad, "imports against the layering (tests/test_imports.py's docstring):\n" + "\n".join(bad)
    edges = {(a, b) for a, bs in graph.items() for b in bs}
    assert set(LESSON_USES_TOOL) | set(PACKAGE_IMPORTS) <= edges, "an allowance that is no longer needed: remove it"


def test_a_planted_cycle_is_caught():
    "The cycle this test was written against (assets <-> rehearsal), and one through a function-level import."
    srcs = sources()
    assert not cycles(import_graph(srcs))
    planted = {**srcs, "rehearsal": srcs["rehearsal"] + "\n\ndef _vocab():\n    from ftcourse.assets import asset_path\n"}
    assert ["assets", "rehearsal"] in cycles(import_graph(planted))
    planted = {**srcs, "datagen": srcs["datagen"] + "\n\ndef _planted():\n    from .judge import repetition\n"}
    assert cycles(import_graph(planted)) == [["datagen", "judge"]]


def test_planted_upward_imports_are_caught():
    srcs, layer = sources(), layers()
    plants = {"config": "from .lora import generate_replies",            # foundation -> lesson
              "ner": "def f():\n    import ftcourse.qa",                  # lesson 5 -> lesson 6
              "lora": "def f():\n    from ftcourse.server import create_app",   # lesson -> the server
              "text_classification": "from ftcourse import grading",    # lesson -> the grader
              "grading": "from .transfer_learning import new_head",     # tool -> lesson
              "train": "from ftcourse.cli import main"}                  # -> the command line
    planted = {m: s + ("\n\n" + plants[m] + "\n" if m in plants else "") for m, s in srcs.items()}
    bad = upward_imports(import_graph(planted), layer)
    assert [b.split(":")[0] for b in bad] == ["config -> lora", "grading -> transfer_learning", "lora -> server",
                                              "ner -> qa", "text_classification -> grading", "train -> cli"], bad
