"""The lesson registry (`ftcourse.config.LESSONS`) against the repository: every lesson notebook, preset, exercise
folder and Colab plan belongs to a registered lesson, and every part a registered lesson names exists. So adding a
lesson means adding its files and one entry; a part without an entry, or an entry without its part, fails here."""
import ast
import json
import re
from dataclasses import replace
from pathlib import Path

from ftcourse.config import LESSONS, PRESETS, Lesson

ROOT = Path(__file__).resolve().parent.parent


def _default_exp(notebook: Path):
    "The module a notebook exports (its `#| default_exp`), or None."
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if m := re.search(r"^#\|\s*default_exp\s+(\S+)", "".join(cell["source"]), re.M): return m.group(1)
    return None


def _plans(root: Path) -> set:
    "The plans tools/colab_cells.py defines (its `plan_<name>` functions), read without running it."
    tree = ast.parse((root / "tools" / "colab_cells.py").read_text(encoding="utf-8"))
    return {n.name.removeprefix("plan_") for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("plan_")}


def registry_problems(root: Path, lessons=LESSONS, presets=PRESETS) -> list:
    "What does not agree between the registry `lessons` (and `presets`) and the repository at `root`; empty when all does."
    notebooks = {p.stem for p in (root / "nbs").glob("*.ipynb") if re.match(r"\d+_", p.name)}   # a lesson starts with its number
    folders = {p.name for p in (root / "exercises" / "source").iterdir() if p.is_dir()}
    plans = _plans(root)
    problems = [f"nbs/{s}.ipynb is a lesson notebook that no entry of LESSONS names"
                for s in sorted(notebooks - {l.stem for l in lessons})]
    problems += [f"exercises/source/{f}/ belongs to no entry of LESSONS" for f in sorted(folders - {l.exercises for l in lessons})]
    problems += [f"PRESETS[{k!r}] belongs to no entry of LESSONS" for k in sorted(set(presets) - {l.preset for l in lessons})]
    problems += [f"tools/colab_cells.py's plan_{k} belongs to no entry of LESSONS"
                 for k in sorted(plans - {l.colab_plan for l in lessons})]
    if [l.number for l in lessons] != list(range(len(lessons))):
        problems.append(f"LESSONS are numbered {[l.number for l in lessons]}, not 0, 1, 2, ... in order")
    for l in lessons:
        entry = f"LESSONS entry {l.number} ({l.stem})"
        if not l.stem.startswith(f"{l.number:02d}_"): problems.append(f"{entry}: the stem does not start with {l.number:02d}_")
        if not (root / l.notebook).is_file(): problems.append(f"{entry}: {l.notebook} does not exist")
        elif (exported := _default_exp(root / l.notebook)) != l.module:
            problems.append(f"{entry}: {l.notebook} exports {exported!r}, not {l.module!r}")
        if not (root / "ftcourse" / f"{l.module}.py").is_file(): problems.append(f"{entry}: ftcourse/{l.module}.py does not exist")
        if l.preset is not None and l.preset not in presets: problems.append(f"{entry}: no preset {l.preset!r} in PRESETS")
        if l.exercises not in folders: problems.append(f"{entry}: exercises/source/{l.exercises}/ does not exist")
        if (l.colab_plan is None) != bool(l.no_gpu):
            problems.append(f"{entry}: needs either a colab_plan or, in no_gpu, why it needs no GPU (one of them)")
        if l.colab_plan is not None and l.colab_plan not in plans:
            problems.append(f"{entry}: tools/colab_cells.py has no plan_{l.colab_plan}")
        named_otherwise = l.module != l.stem[3:] or l.exercises != l.stem or l.preset != l.module
        if named_otherwise and not l.why: problems.append(f"{entry}: a name differs from the stem or module: say why (`why`)")
    return problems


def test_the_registry_matches_the_repository():
    problems = registry_problems(ROOT)
    assert not problems, "ftcourse.config.LESSONS and the repository disagree (DEVELOPING.md: Adding a lesson):\n" + \
        "\n".join(problems)


def _copy_of_the_tree(tmp_path: Path) -> Path:
    "The parts of the repository the registry check reads, linked into `tmp_path` (nothing is copied or changed)."
    for folder in ("nbs", "ftcourse", "exercises/source", "tools"):
        (tmp_path / folder).mkdir(parents=True)
        for p in (ROOT / folder).iterdir(): (tmp_path / folder / p.name).symlink_to(p)
    return tmp_path


def test_a_lesson_without_an_entry_fails_and_one_entry_registers_it(tmp_path):
    "Lesson 8's files without its entry fail; with one entry (and the preset and plan its files bring), nothing is missing."
    root = _copy_of_the_tree(tmp_path)
    nb = {"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": ["#| default_exp preference"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "nbs" / "08_preference_tuning.ipynb").write_text(json.dumps(nb))
    (root / "ftcourse" / "preference.py").write_text("")
    (root / "exercises" / "source" / "08_preference_tuning").mkdir()
    (root / "tools" / "colab_cells.py").unlink()
    (root / "tools" / "colab_cells.py").write_text((ROOT / "tools" / "colab_cells.py").read_text()
                                                   + "\n\ndef plan_preference(p):\n    return []\n")
    presets = {**PRESETS, "preference": PRESETS["lora"]}
    problems = registry_problems(root, presets=presets)
    assert problems == ["nbs/08_preference_tuning.ipynb is a lesson notebook that no entry of LESSONS names",
                        "exercises/source/08_preference_tuning/ belongs to no entry of LESSONS",
                        "PRESETS['preference'] belongs to no entry of LESSONS",
                        "tools/colab_cells.py's plan_preference belongs to no entry of LESSONS"], problems
    eight = Lesson(8, "08_preference_tuning", "preference", "preference", "08_preference_tuning", "preference",
                   why="module `preference`: short")
    assert registry_problems(root, LESSONS + (eight,), presets) == []


def test_a_missing_entry_or_a_wrong_one_fails():
    without_ner = tuple(l for l in LESSONS if l.stem != "05_ner")
    problems = registry_problems(ROOT, tuple(replace(l, number=i) for i, l in enumerate(without_ner)))
    for part in ("nbs/05_ner.ipynb", "exercises/source/05_ner/", "PRESETS['ner']", "plan_ner"):
        assert any(part in p for p in problems), (part, problems)
    wrong = tuple(replace(l, module="named_otherwise") if l.stem == "05_ner" else l for l in LESSONS)
    assert [p for p in registry_problems(ROOT, wrong) if "exports 'ner', not 'named_otherwise'" in p]
    unexplained = tuple(replace(l, why="") if l.stem == "04_lora_qlora" else l for l in LESSONS)
    assert registry_problems(ROOT, unexplained) == ["LESSONS entry 4 (04_lora_qlora): a name differs from the stem or "
                                                    "module: say why (`why`)"]
