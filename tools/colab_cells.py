"""Give every lesson notebook an *Open in Colab* badge (with its free-tier GPU budget) and a Colab install cell.

    python tools/colab_cells.py            # update nbs/[0-9][0-9]_*.ipynb in place
    python tools/colab_cells.py --check    # exit 1 if any lesson lacks the cells or has stale ones
    python tools/colab_cells.py nbs/04_lora_qlora.ipynb   # only these notebooks

Both cells go right after the title cell (the first markdown cell that starts with `# `) and carry fixed
cell ids (`colab-badge`, `colab-install`), so running the tool again replaces them in place: it is
idempotent, and it writes notebooks exactly as `nbdev_clean` leaves them.

The install cell does nothing outside Colab. On Colab it installs the course from GitHub and the offline
pretrained assets (the exact line `ftcourse.assets.install_command()` returns: they must come without
their dependencies), then sets `FTCOURSE_SCALE`: `full` on a GPU runtime, `small` otherwise, unless the
learner chose one in `SCALE`.
"""
from __future__ import annotations

import argparse
import json
import sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BADGE_ID, INSTALL_ID = "colab-badge", "colab-install"
COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
FREE_TIER = "Colab free tier: T4, 16 GB"

# The GPU memory a lesson needs at `full` scale, in words, by lesson number (the LoRA lesson's estimator
# can refine these). At `small` scale no lesson needs a GPU.
BUDGETS = {
    "00": "no GPU needed: this lesson only checks your environment (on a GPU runtime it shows the GPU).",
    "01": "ResNet-50 on CIFAR-10 at batch 64 needs about 3–4 GB: fits a T4 easily.",
    "02": "no GPU needed: the fine-tuning runs on the OpenAI-compatible server, not in this notebook.",
    "03": "DistilBERT on IMDB (512 tokens, batch 16) needs about 6–8 GB in float32, less in mixed "
          "precision: fits a T4.",
    "04": "the lesson's memory estimator, for a 7B model at r=16 with 512-token batches of 1 and gradient "
          "checkpointing: full fine-tuning about 101 GiB (no), LoRA on 16-bit weights about 13.5 GiB (just "
          "under a T4's 15 GiB usable), QLoRA about 5 GiB (fits comfortably). At small scale nothing needs a GPU.",
    "05": "BERT-base on CoNLL-2003 needs about 4 GB: fits a T4.",
    "06": "BERT-base on SQuAD (384-token windows, batch 16) needs about 8–10 GB: fits a T4; lower the "
          "batch size if you raise the window.",
    "07": "the experiments reuse lesson 3's DistilBERT runs, about 6–8 GB each, one at a time: fits a T4.",
}
DEFAULT_BUDGET = "not stated yet for this lesson; keep to one 16 GB T4."


def settings() -> dict:
    "The repository's `git_url` and `branch` from settings.ini."
    cfg = ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini")
    d = cfg["DEFAULT"]
    return {"git_url": d.get("git_url", "https://github.com/ftcourse/ftcourse"), "branch": d.get("branch", "main")}


def colab_url(name: str, folder: str = "nbs") -> str:
    "The Colab address that opens notebook `folder/name` from the course's GitHub repository."
    s = settings()
    repo = s["git_url"].removeprefix("https://github.com/").removesuffix(".git")
    return f"https://colab.research.google.com/github/{repo}/blob/{s['branch']}/{folder}/{name}"


def badge_source(name: str) -> str:
    "Markdown of the badge cell: the Colab badge, then the lesson's free-tier GPU budget in words."
    budget = BUDGETS.get(name[:2], DEFAULT_BUDGET)
    return (f"[![Open In Colab]({COLAB_BADGE_SVG})]({colab_url(name)})\n\n"
            f"**GPU budget** ({FREE_TIER}) at `full` scale: {budget} "
            f"At `small` scale (the default outside Colab) everything runs on a CPU.")


def install_source() -> str:
    "Python of the install cell: a no-op outside Colab; on Colab installs the course and assets, sets the scale."
    sys.path.insert(0, str(ROOT))
    from ftcourse.assets import install_command
    course = f"ftcourse @ git+{settings()['git_url']}"
    return "\n".join([
        "# Colab setup: does nothing outside Colab. On Colab it installs the course and",
        "# its offline assets (--no-deps), then picks the scale: `full` on a GPU runtime,",
        '# else `small`. To choose yourself, set SCALE = "small" or "full".',
        'SCALE = ""',
        "import os, subprocess, sys",
        'IN_COLAB = "google.colab" in sys.modules',
        "if IN_COLAB:",
        f'    COURSE = "{course}"',
        f'    ASSETS = "{install_command()}"',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", COURSE], check=True)',
        '    subprocess.run([sys.executable, "-m", *ASSETS.split(), "-q"], check=True)',
        "    import importlib, torch",
        "    importlib.invalidate_caches()  # import what was just installed",
        '    os.environ["FTCOURSE_SCALE"] = SCALE or ("full" if torch.cuda.is_available() else "small")',
        '    print("ftcourse installed; scale:", os.environ["FTCOURSE_SCALE"])'])


def _lines(text: str) -> list:
    return text.splitlines(keepends=True)


def _cells(name: str) -> list:
    return [{"cell_type": "markdown", "id": BADGE_ID, "metadata": {}, "source": _lines(badge_source(name))},
            {"cell_type": "code", "execution_count": None, "id": INSTALL_ID, "metadata": {}, "outputs": [],
             "source": _lines(install_source())}]


def updated(nb: dict, name: str) -> dict:
    "`nb` with the badge and install cells (re)placed right after its title cell."
    cells = [c for c in nb["cells"] if c.get("id") not in (BADGE_ID, INSTALL_ID)]
    title = next((i for i, c in enumerate(cells)
                  if c["cell_type"] == "markdown" and "".join(c["source"]).lstrip().startswith("# ")), None)
    if title is None: raise ValueError(f"{name}: no title cell (a markdown cell starting with '# ')")
    return {**nb, "cells": cells[:title + 1] + _cells(name) + cells[title + 1:]}


def _dumps(nb: dict) -> str:  # exactly as nbdev_clean / execnb write notebooks
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def process(path, check: bool = False) -> bool:
    "Add or refresh the Colab cells of notebook `path`; returns True if it changed (or, with `check`, would)."
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    new = _dumps(updated(json.loads(old), path.name))
    if new == old: return False
    if not check: path.write_text(new, encoding="utf-8")
    return True


def lessons() -> list:
    "Every lesson notebook: nbs/[0-9][0-9]_*.ipynb."
    return sorted((ROOT / "nbs").glob("[0-9][0-9]_*.ipynb"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to update (default: every lesson in nbs/)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if any notebook would change")
    args = ap.parse_args(argv)
    changed = [p for p in (args.notebooks or lessons()) if process(p, check=args.check)]
    for p in changed: print(("stale or missing Colab cells: " if args.check else "updated: ") + str(p))
    if not changed: print("Colab cells up to date.")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
