"""Build the course website into `_site/` with MkDocs (Material theme) and mkdocs-jupyter.

    python tools/build_site.py                 # what `make site` runs
    python tools/build_site.py --out DIR --no-run

Pages:
- Home: the README; Developing: DEVELOPING.md.
- Lessons: every lesson of `ftcourse.config.LESSONS` *executed*, with its outputs and plots (nbdev's `#|` lines and
  `#| hide` cells left out). The newest executed copy whose code is the lesson's current code is used:
  artifacts/lessons/ (`make lessons`) or artifacts/executed/nbs/ (`make test`). Lessons without one are executed first (into artifacts/lessons/, as `make lessons` does),
  unless `--no-run`, which puts the unexecuted source on the site instead.
- Exercises: the student version of every exercise notebook (nbgrader's ClearSolutions and
  ClearHiddenTests applied to exercises/source/: no solutions, no hidden tests, no outputs).
- Math (`$...$`, `$$...$$`, `\\(...\\)` in notebooks' Markdown cells; in Markdown pages through
  pymdownx.arithmatex) is typeset in the browser by MathJax 2, served from the site itself: its files are
  copied at build time from the `jupyter-server-mathjax` package (the Jupyter project's offline MathJax,
  a dev requirement), so pages render their math with no network.

The MkDocs project is written to artifacts/site_src/ (mkdocs.yml and docs/); nothing is fetched from the
network at build time, and the site loads nothing from elsewhere. nbdev_docs is not used (it needs Quarto, which cannot be installed offline, and an
index.ipynb the course does not have); this builder replaces it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "artifacts" / "site_src"
EXECUTED = [ROOT / "artifacts" / "lessons", ROOT / "artifacts" / "executed" / "nbs"]
SITE_URL = "https://ftcourse.github.io/ftcourse/"
sys.path.insert(0, str(ROOT))
from ftcourse.config import LESSONS, course_source  # noqa: E402  (the lesson registry; the repository address, from settings.ini)

REPO_URL = course_source()["git_url"]


def lessons(only=None) -> list:
    "The lesson notebooks, or those whose stem starts with one of `only` (e.g. ['04'] or ['04_lora_qlora'])."
    found = [ROOT / l.notebook for l in LESSONS]
    return [p for p in found if not only or any(p.stem.startswith(o) for o in only)]


# MathJax 2 (the version mkdocs-jupyter's notebook template configures), set up before MathJax.js loads:
# TeX delimiters as in Jupyter, web fonts from the site (STIX-Web, the fonts the package ships), no menu.
MATHJAX_CONFIG = """window.MathJax = {
  config: ["TeX-AMS-MML_HTMLorMML-full.js", "Safe.js"],
  tex2jax: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
               linebreaks: {automatic: true}},
  messageStyle: "none", showMathMenu: false, "fast-preview": {disabled: true}
};
"""


def vendor_mathjax(docs: Path) -> list:
    "Copy MathJax into the site's assets (from the jupyter-server-mathjax package); returns the scripts to load."
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SystemExit("build_site: the site's math needs the jupyter-server-mathjax package (a dev requirement): "
                         f"{sys.executable} -m pip install --no-deps jupyter-server-mathjax==0.2.6") from None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(static, docs / "assets" / "mathjax", ignore=shutil.ignore_patterns("SVG", "*.py*"))
    (docs / "assets" / "mathjax-config.js").write_text(MATHJAX_CONFIG)
    return ["assets/mathjax-config.js", "assets/mathjax/MathJax.js"]


def _code(nb_path: Path) -> list:
    "The code of a notebook, cell by cell, without nbdev's `#|` lines (the runner drops them from its copies)."
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    return ["".join(l for l in "".join(c["source"]).splitlines(keepends=True) if not l.startswith("#|")).strip()
            for c in cells if c["cell_type"] == "code"]


def executed_copy(src: Path):
    "The newest executed copy of lesson `src` whose code is the lesson's current code, or None."
    copies = [d / src.name for d in EXECUTED if (d / src.name).exists()]
    code = _code(src)
    copies = [c for c in copies if _code(c) == code]
    return max(copies, key=lambda c: c.stat().st_mtime, default=None)


def run_missing(missing: list, timeout: float) -> None:
    "Execute the lessons in `missing` into artifacts/lessons/ (same as `make lessons` for those lessons)."
    from ftcourse.cli import format_lessons_table
    from ftcourse.runner import run_course
    print(f"build_site: executing {len(missing)} lesson(s) without a fresh executed copy: "
          + ", ".join(p.name for p in missing), flush=True)
    table = run_course(missing, EXECUTED[0], timeout=timeout)
    print(format_lessons_table(table), flush=True)


def title_of(nb_path: Path) -> str:
    "The notebook's title: the text of its first `# ` heading."
    for cell in json.loads(nb_path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "): return line[2:].strip()
    return nb_path.stem.replace("_", " ")


def for_readers(src: Path, dest: Path) -> None:
    "Copy notebook `src` to `dest` as readers see it: nbdev's `#|` directive lines removed, `#| hide` cells dropped."
    nb = json.loads(src.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines(keepends=True)
            if any(re.match(r"#\|\s*hide\b", line) for line in lines): continue
            kept = [line for line in lines if not line.startswith("#|")]
            if not "".join(kept).strip() and not cell.get("outputs"): continue
            cell = {**cell, "source": kept}
        cells.append(cell)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps({**nb, "cells": cells}, indent=1, ensure_ascii=False), encoding="utf-8")


def student_version(src: Path, dest: Path) -> None:
    "Write the student version of exercise notebook `src`: solutions cleared, hidden tests and outputs removed."
    import nbformat
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions
    nb = nbformat.read(src, as_version=4)
    for pre in (ClearSolutions(), ClearHiddenTests(), ClearOutput()):
        nb, _ = pre.preprocess(nb, {})
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def _markdown_page(src: Path, dest: Path, links: dict) -> None:
    text = src.read_text(encoding="utf-8")
    for old, new in links.items(): text = text.replace(f"]({old})", f"]({new})")
    # Paths in the repository that are not pages of the site link to GitHub.
    text = re.sub(r"\]\((?!https?://|#|[\w./-]+\.md\))([\w./-]+)\)", rf"]({REPO_URL}/tree/main/\1)", text)
    dest.write_text(text, encoding="utf-8")


def stage(run: bool = True, timeout: float = 900, only=None) -> Path:
    "Write the MkDocs project (docs/ and mkdocs.yml) to artifacts/site_src/ (lessons: all, or `only`); returns the mkdocs.yml path."
    missing = [p for p in lessons(only) if executed_copy(p) is None]
    if missing and run: run_missing(missing, timeout)
    if SRC.exists(): shutil.rmtree(SRC)
    docs = SRC / "docs"
    (docs / "lessons").mkdir(parents=True)
    nav_lessons, nav_exercises = [], []
    for src in lessons(only):
        copy = executed_copy(src)
        if copy is None: print(f"build_site: WARNING: {src.name} is not executed: its outputs are missing")
        for_readers(copy or src, docs / "lessons" / src.name)
        nav_lessons.append({title_of(src): f"lessons/{src.name}"})
    for src in sorted((ROOT / "exercises" / "source").glob("*/*.ipynb")):
        rel = Path("exercises") / src.parent.name / src.name
        student_version(src, docs / rel)
        nav_exercises.append({f"{src.parent.name}: {title_of(src)}": str(rel)})
    (docs / "extra.css").write_text(".md-grid { max-width: 1440px; }\n")   # room for notebook code
    scripts = vendor_mathjax(docs)
    _markdown_page(ROOT / "README.md", docs / "index.md", {"DEVELOPING.md": "developing.md"})
    _markdown_page(ROOT / "DEVELOPING.md", docs / "developing.md", {"README.md": "index.md"})
    config = {
        "site_name": "ftcourse: fine-tuning",
        "site_description": "A Jupyter-first course on fine-tuning: every lesson runs, trains for real, and is tested.",
        "site_url": SITE_URL, "repo_url": REPO_URL, "edit_uri": "",
        "docs_dir": "docs",
        "theme": {"name": "material", "font": False,   # no web fonts: the site renders offline
                  "features": ["navigation.sections", "navigation.top", "content.code.copy"],
                  "palette": {"primary": "indigo"}},
        "extra_css": ["extra.css"],
        "extra_javascript": scripts,   # MathJax, from the site: math renders offline
        # custom_mathjax_url "": mkdocs-jupyter adds no MathJax of its own (it would come from a CDN).
        "plugins": ["search", {"mkdocs-jupyter": {"execute": False, "include_source": True,
                                                  "ignore_h1_titles": False, "custom_mathjax_url": ""}}],
        "markdown_extensions": ["tables", "admonition", {"toc": {"permalink": True}},
                                "pymdownx.highlight", "pymdownx.superfences", {"pymdownx.arithmatex": {"generic": True}}],
        "nav": [{"Home": "index.md"}, {"Lessons": nav_lessons}, {"Exercises": nav_exercises},
                {"Developing": "developing.md"}],
    }
    path = SRC / "mkdocs.yml"
    path.write_text(json.dumps(config, indent=1, ensure_ascii=False))  # JSON is valid YAML
    return path


def build(out: Path, run: bool = True, timeout: float = 900, only=None) -> Path:
    "Stage the site sources and build the site into `out` (lessons: all, or those `only` names); returns `out`."
    config = stage(run, timeout, only)
    out = Path(out).resolve()
    cmd = [sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(config), "-d", str(out)]
    print("build_site:", " ".join(cmd), flush=True)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(cmd, check=True, cwd=SRC, env=env)
    print(f"build_site: site in {out} (open {out / 'index.html'})")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Build the course website with MkDocs.")
    ap.add_argument("--out", default=str(ROOT / "_site"), help="output folder (default: _site)")
    ap.add_argument("--no-run", action="store_true", help="do not execute lessons that lack an executed copy")
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed per lesson when executing")
    ap.add_argument("--only", nargs="+", metavar="LESSON", help="only these lessons (stems or their starts, e.g. 04)")
    args = ap.parse_args(argv)
    build(Path(args.out), run=not args.no_run, timeout=args.timeout, only=args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
