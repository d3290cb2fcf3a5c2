"""`pip check` for the course's environment (`make install` runs it after installing the lock).

Every requirement of every installed package must be met, except the declared requirements of the course's
pretrained assets (`ftcourse.assets.ASSETS`): those packages only carry weight files, and are installed with
`--no-deps` on purpose. What they declare is not what the course runs them with (MobileNetV2's asks for torch==1.6.0
and numpy==1.19.2, SmolLM2's for llama-cpp-python and llm, MiniLM's for sentence-transformers); `ftcourse.assets`
checks their files byte for byte instead. Anything else `pip check` reports fails (exit 1).

    python tools/pip_check.py
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def _name(line: str) -> str:
    "The package a `pip check` line is about, normalised (PEP 503)."
    return re.sub(r"[-_.]+", "-", line.split(" ", 1)[0]).lower()


def unexpected(report: str, asset_packages) -> list:
    "The lines of a `pip check` report that are not about the --no-deps asset packages."
    assets = {re.sub(r"[-_.]+", "-", p).lower() for p in asset_packages}
    return [l for l in report.splitlines() if l.strip() and not l.startswith("No broken") and _name(l) not in assets]


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ftcourse.assets import ASSETS
    packages = sorted(a.package for a in ASSETS.values())
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    bad = unexpected(out.stdout + out.stderr, packages)
    expected = len([l for l in out.stdout.splitlines() if l.strip()]) - len(bad)
    if bad:
        print("pip check: requirements not met (fix requirements-lock.txt):\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    print(f"pip check: every requirement is met but the assets' own ({expected} lines about {', '.join(packages)}: "
          "installed --no-deps on purpose)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
