"""Every lesson opens in Colab from a badge, states its GPU budget, and has an install cell that does
nothing outside Colab (tools/colab_cells.py puts both cells in; run it after adding a lesson)."""
import importlib.util
import json
import sys
import types

import pytest

from ftcourse.assets import install_command


@pytest.fixture(scope="module")
def colab(root):
    spec = importlib.util.spec_from_file_location("colab_cells", root / "tools" / "colab_cells.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_lessons_are_found(colab):
    names = [p.name for p in colab.lessons()]
    assert "00_environment.ipynb" in names and len(names) >= 4


def test_every_lesson_has_badge_and_install_cell(colab):
    problems = []
    for p in colab.lessons():
        try:
            if colab.process(p, check=True): problems.append(f"{p.name}: stale or missing Colab cells")
        except ValueError as e: problems.append(str(e))
    assert not problems, "run `python tools/colab_cells.py` (a lesson starts with a `# Title` cell):\n" + \
        "\n".join(problems)
    for path in colab.lessons():
        cells = _cells(path)
        ids = [c.get("id") for c in cells]
        i = ids.index(colab.BADGE_ID)
        assert cells[i - 1]["cell_type"] == "markdown" and "".join(cells[i - 1]["source"]).startswith("# ")
        assert ids[i + 1] == colab.INSTALL_ID
        badge = "".join(cells[i]["source"])
        assert f"https://colab.research.google.com/github/ftcourse/ftcourse/blob/main/nbs/{path.name}" in badge
        assert "GPU budget" in badge and "T4, 16 GB" in badge
        install = "".join(cells[i + 1]["source"])
        assert install_command() in install                      # the exact asset line, --no-deps included
        assert "#| eval: false" not in install                  # it runs everywhere, and does nothing outside Colab


def test_only_one_install_cell_per_lesson(colab):
    for path in colab.lessons():
        installs = [c for c in _cells(path) if c["cell_type"] == "code"
                    and '"google.colab" in sys.modules' in "".join(c["source"])]
        assert len(installs) == 1, f"{path.name}: {len(installs)} Colab install cells"


def test_tool_is_idempotent(colab, tmp_path):
    src = colab.lessons()[0]
    nb = tmp_path / src.name
    nb.write_text(src.read_text())
    colab.process(nb)
    once = nb.read_text()
    assert colab.process(nb) is False and nb.read_text() == once
    assert sum(c.get("id") == colab.INSTALL_ID for c in _cells(nb)) == 1


def _run_install_cell(colab, monkeypatch, in_colab: bool, scale: str = ""):
    calls = []
    monkeypatch.setattr("subprocess.run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.delenv("FTCOURSE_SCALE", raising=False)
    if in_colab: monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    source = colab.install_source().replace('SCALE = ""', f"SCALE = {scale!r}")
    namespace = {}
    exec(compile(source, "install-cell", "exec"), namespace)
    return calls, namespace


def test_install_cell_is_a_no_op_outside_colab(colab, monkeypatch):
    calls, ns = _run_install_cell(colab, monkeypatch, in_colab=False)
    assert calls == [] and ns["IN_COLAB"] is False
    import os
    assert "FTCOURSE_SCALE" not in os.environ


def test_install_cell_on_colab_installs_and_sets_scale(colab, monkeypatch):
    import os

    import torch
    calls, _ = _run_install_cell(colab, monkeypatch, in_colab=True)
    assert calls[0][-1] == "ftcourse @ git+https://github.com/ftcourse/ftcourse"
    assert " ".join(calls[1][2:-1]) == install_command()
    assert os.environ["FTCOURSE_SCALE"] == ("full" if torch.cuda.is_available() else "small")
    _run_install_cell(colab, monkeypatch, in_colab=True, scale="small")   # the learner's choice wins
    assert os.environ["FTCOURSE_SCALE"] == "small"
