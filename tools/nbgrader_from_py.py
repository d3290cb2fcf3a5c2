"""Scaffold an nbgrader source notebook from a percent-format script (an authoring aid).

The notebook it writes is the source from then on; edit that notebook (in JupyterLab, with nbgrader's
"Create Assignment" toolbar) rather than regenerating it. Cell headers:

    # %% [markdown]                      prose (editable by students)
    # %% [markdown] locked id=NAME       prose students cannot edit
    # %%                                 ordinary code
    # %% locked id=NAME                  code students cannot edit (setup, imports)
    # %% solution id=NAME                code with ### BEGIN SOLUTION / ### END SOLUTION inside
    # %% tests id=NAME points=N          autograded tests (may hold ### BEGIN HIDDEN TESTS blocks)

Any header may end with `tags=a,b` (cell metadata tags), e.g. `tags=trains` on the cells that train a model
(tools/exercise_variants.py runs the variants that reach them only in the slow tests).

Usage: python tools/nbgrader_from_py.py SRC.py DEST.ipynb
       python tools/nbgrader_from_py.py --to-py NOTEBOOK.ipynb DEST.py     (the reverse, for editing as text)
"""
import json
import re
import sys
from pathlib import Path

HEADER = re.compile(r"^# %%(?: \[(?P<kind>markdown)\])?(?P<rest>.*)$")


def _nbgrader_meta(role: str, cell_id: str, points: float | None) -> dict:
    meta = {"grade": role == "tests", "grade_id": cell_id, "locked": role in ("locked", "tests"),
            "schema_version": 3, "solution": role == "solution", "task": False}
    if role == "tests": meta["points"] = points if points is not None else 1
    return meta


def convert(src: str) -> dict:
    cells, current = [], None
    for line in src.splitlines():
        m = HEADER.match(line)
        if m:
            if current: cells.append(current)
            words = m["rest"].split()
            role = next((w for w in words if w in ("solution", "tests", "locked")), None)
            opts = dict(w.split("=", 1) for w in words if "=" in w)
            current = {"cell_type": "markdown" if m["kind"] else "code", "lines": [], "role": role, **opts}
            continue
        if current is None: continue
        current["lines"].append(line)
    if current: cells.append(current)
    out = []
    for i, c in enumerate(cells):
        text = "\n".join(c["lines"]).strip("\n")
        if c["cell_type"] == "markdown":
            text = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in text.splitlines())
        cell = {"cell_type": c["cell_type"], "id": c.get("id", f"cell-{i:02d}"), "metadata": {}, "source": text}
        if c["cell_type"] == "code": cell.update(execution_count=None, outputs=[])
        if c["role"]:
            if "id" not in c: raise SystemExit(f"a {c['role']} cell needs id=NAME: {text[:60]!r}")
            points = float(c["points"]) if "points" in c else None
            cell["metadata"]["nbgrader"] = _nbgrader_meta(c["role"], c["id"], points)
        if c.get("tags"): cell["metadata"]["tags"] = c["tags"].split(",")
        out.append(cell)
    return {"cells": out, "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
            "language": "python", "name": "python3"}, "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def to_py(nb: dict) -> str:
    "The percent-format script of an nbgrader notebook (what `convert` turns back into the same notebook)."
    parts = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        g = meta.get("nbgrader", {})
        role = "tests" if g.get("grade") else "solution" if g.get("solution") else "locked" if g.get("locked") else None
        words = ["# %%"] + (["[markdown]"] if cell["cell_type"] == "markdown" else [])
        if role: words.append(role)
        if cell.get("id"): words.append(f"id={g.get('grade_id', cell['id'])}")
        if role == "tests": words.append(f"points={g.get('points', 1):g}")
        if meta.get("tags"): words.append("tags=" + ",".join(meta["tags"]))
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            text = "\n".join(f"# {l}" if l else "#" for l in text.splitlines())
        parts.append(" ".join(words) + "\n" + text + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    if sys.argv[1] == "--to-py":
        src, dest = sys.argv[2:4]
        Path(dest).write_text(to_py(json.loads(Path(src).read_text())))
        print(f"wrote {dest}")
        sys.exit(0)
    src, dest = sys.argv[1:3]
    nb = convert(Path(src).read_text())
    import nbformat  # validates and adds cell ids
    node = nbformat.from_dict(nb)
    nbformat.validate(node)
    nbformat.write(node, dest)
    print(f"wrote {dest}: {len(nb['cells'])} cells")
