"""Every lesson opens in Colab from a badge that states its estimated time and GPU memory at `full` scale on a
T4 (computed by ftcourse.sizing), and has an install cell that does nothing outside Colab, installs the course
at a pinned ref from the repository settings.ini names, and picks `full` only on a GPU that holds the estimate
(tools/colab_cells.py writes both cells; run it after adding a lesson or changing a preset)."""
import importlib.util
import json
import re
import sys
import types
from configparser import ConfigParser

import pytest

from ftcourse.assets import install_command
from ftcourse.config import LESSONS, lesson, preset
from ftcourse.sizing import T4, totals

BUDGET_MINUTES = 45   # a whole lesson at `full` on a T4, by its estimate


@pytest.fixture(scope="module")
def colab(root):
    spec = importlib.util.spec_from_file_location("colab_cells", root / "tools" / "colab_cells.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def ini(root):
    cfg = ConfigParser(delimiters=["="])
    cfg.read(root / "settings.ini")
    return cfg["DEFAULT"]


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _badge_and_install(colab, path):
    cells = _cells(path)
    ids = [c.get("id") for c in cells]
    i = ids.index(colab.BADGE_ID)
    return "".join(cells[i]["source"]), "".join(cells[i + 1]["source"])


def test_lessons_are_found(colab):
    "The tool works on every registered lesson (tests/test_registry.py checks the registry against the folders)."
    assert colab.lessons() and all(p.is_file() for p in colab.lessons())
    assert [p.stem for p in colab.lessons()] == [l.stem for l in LESSONS]


def test_every_lesson_has_badge_and_install_cell(colab, ini):
    problems = []
    for p in colab.lessons():
        try:
            if colab.process(p, check=True): problems.append(f"{p.name}: stale or missing Colab cells")
        except ValueError as e: problems.append(str(e))
    assert not problems, "run `python tools/colab_cells.py` (a lesson starts with a `# Title` cell):\n" + \
        "\n".join(problems)
    repo = ini["git_url"].removeprefix("https://github.com/")
    ref = ini.get("colab_ref", "").strip() or f"v{ini['version']}"
    for path in colab.lessons():
        cells = _cells(path)
        ids = [c.get("id") for c in cells]
        i = ids.index(colab.BADGE_ID)
        assert cells[i - 1]["cell_type"] == "markdown" and "".join(cells[i - 1]["source"]).startswith("# ")
        assert ids[i + 1] == colab.INSTALL_ID
        badge, install = _badge_and_install(colab, path)
        assert f"https://colab.research.google.com/github/{repo}/blob/{ref}/nbs/{path.name}" in badge
        assert f'"ftcourse @ git+{ini["git_url"]}@{ref}"' in install     # pinned, never a moving branch
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


# --- the estimates ------------------------------------------------------------------------------------------

def test_every_lesson_is_planned_or_needs_no_gpu(colab):
    for path in colab.lessons():
        assert (path.stem in colab.PLANS) != (path.stem in colab.NO_GPU), \
            f"{path.name}: give it a `colab_plan` in ftcourse.config.LESSONS (or say in `no_gpu` why it needs no GPU)"
    for stem, (key, plan) in colab.PLANS.items():
        if key: assert preset(key, "full").scale == "full"
    for path in colab.lessons():
        if path.stem in colab.NO_GPU:
            badge, install = _badge_and_install(colab, path)
            assert "no GPU is needed" in badge and "FULL_NEEDS_GIB = 0.0" in install, path.name


def test_a_badge_figure_recomputed_by_hand(colab, root):
    "Lesson 5's badge against arithmetic done here, from BERT-base's config.json and the `full` preset: training FLOPs = 3 x forward (2 per weight and token, plus attention's scores and sums, Kaplan et al. 2020), minutes = FLOPs / the T4's float32 throughput, the headline = the steps' sum."
    path = root / lesson("ner").notebook
    badge, install = _badge_and_install(colab, path)
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in badge.splitlines()
            if line.startswith("| ") and not line.startswith(("| step", "| ---"))]
    train = next(r for r in rows if r[0].startswith("train:"))
    config, p = json.loads((root / "ftcourse" / "resources" / "bert-base-cased-config.json").read_text()), preset("ner", "full")
    d, ff, layers, n = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"], p.max_length
    weights = layers * (4 * d * d + 4 * d + 2 * d * ff + ff + d + 4 * d)    # attention, feed-forward, 2 layer norms: 85.1M
    flops = 3 * (2 * weights + 4 * layers * n * d) * p.epochs * p.n_train * n
    assert abs(float(train[2].replace(",", "")) * 1e12 / flops - 1) < 0.02, (train, flops / 1e12)
    assert float(train[3]) == pytest.approx(flops / T4.flops["fp32"] / 60, rel=0.02), train
    assert f"about **{sum(float(r[3]) for r in rows):.0f} min**" in badge
    peak = max(float(r[4]) for r in rows)
    need = float(re.search(r"FULL_NEEDS_GIB = ([0-9.]+)", install).group(1))   # the install cell decides on the badge's figure
    assert f"**{need:.1f} GiB** of GPU memory" in badge and peak <= need <= peak + 0.15


def test_every_lesson_fits_the_time_budget(colab):
    over = {p.name: round(totals(colab.estimate(p.name))["minutes"], 1) for p in colab.lessons()
            if colab.estimate(p.name) is not None and totals(colab.estimate(p.name))["minutes"] > BUDGET_MINUTES}
    assert not over, f"lessons over {BUDGET_MINUTES} min on a T4 at `full`, by their estimate: {over}; shrink their presets"


@pytest.mark.parametrize("name", [f"{l.stem}.ipynb" for l in LESSONS if l.colab_plan])
def test_every_lesson_fits_a_t4(colab, name):
    assert colab.needs_gib(name) <= T4.memory_gib, colab.estimate(name).round(2).to_string()


def test_estimates_follow_the_preset(colab):
    "A bigger preset costs proportionally more: the estimate is computed from it, not written down."
    base = colab.plan_qa(preset("qa", "full"))
    double = colab.plan_qa(preset("qa", "full").but(n_train=2 * preset("qa", "full").n_train))
    train = [w for w in base if w.what.startswith("train")][0]
    train2 = [w for w in double if w.what.startswith("train")][0]
    assert train2.flops == pytest.approx(2 * train.flops) and train2.memory == train.memory
    longer = colab.plan_qa(preset("qa", "full").but(batch_size=32))
    assert [w for w in longer if w.what.startswith("train")][0].memory > train.memory


# --- the install cell ---------------------------------------------------------------------------------------

def _run_install_cell(colab, monkeypatch, in_colab: bool, scale: str = "", name: str = "01_transfer_learning.ipynb",
                      gpu_gib=None):
    import torch
    calls = []
    monkeypatch.setattr("subprocess.run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.delenv("FTCOURSE_SCALE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu_gib is not None)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda i=0: types.SimpleNamespace(total_memory=int(gpu_gib * 2 ** 30), name="simulated GPU"))
    if in_colab: monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    source = colab.install_source(name).replace('SCALE = ""', f"SCALE = {scale!r}")
    namespace = {}
    exec(compile(source, "install-cell", "exec"), namespace)
    return calls, namespace


def test_install_cell_is_a_no_op_outside_colab(colab, monkeypatch, capsys):
    import os
    calls, ns = _run_install_cell(colab, monkeypatch, in_colab=False, gpu_gib=80)
    assert calls == [] and ns["IN_COLAB"] is False
    assert "FTCOURSE_SCALE" not in os.environ and capsys.readouterr().out == ""


def test_install_cell_on_colab_installs_the_pinned_course(colab, monkeypatch, ini):
    calls, _ = _run_install_cell(colab, monkeypatch, in_colab=True)
    ref = ini.get("colab_ref", "").strip() or f"v{ini['version']}"
    assert calls[0][-1] == f"ftcourse @ git+{ini['git_url']}@{ref}" == colab.course_requirement()
    assert " ".join(calls[1][2:-1]) == install_command()


@pytest.mark.parametrize("name", ["01_transfer_learning.ipynb", "06_question_answering.ipynb"])
def test_install_cell_picks_small_when_the_estimate_exceeds_the_gpu(colab, monkeypatch, capsys, name):
    import os
    need = colab.needs_gib(name)
    _run_install_cell(colab, monkeypatch, in_colab=True, name=name, gpu_gib=need * 0.9)   # a GPU too small
    out = capsys.readouterr().out
    assert os.environ["FTCOURSE_SCALE"] == "small"
    assert f"less than the {need} GiB the lesson needs at full" in out, out
    _run_install_cell(colab, monkeypatch, in_colab=True, name=name, gpu_gib=T4.memory_gib)   # a T4 holds it
    assert os.environ["FTCOURSE_SCALE"] == "full" and "the lesson needs about" in capsys.readouterr().out
    _run_install_cell(colab, monkeypatch, in_colab=True, name=name, gpu_gib=None)            # no GPU at all
    assert os.environ["FTCOURSE_SCALE"] == "small" and "no GPU" in capsys.readouterr().out
    _run_install_cell(colab, monkeypatch, in_colab=True, name=name, gpu_gib=need * 0.9, scale="full")
    assert os.environ["FTCOURSE_SCALE"] == "full" and "your choice" in capsys.readouterr().out  # the learner's choice wins


def test_pick_scale_logic(colab):
    ns = {}
    exec(compile(colab.install_source("05_ner.ipynb"), "install-cell", "exec"), ns)
    assert ns["pick_scale"](None)[0] == "small"
    assert ns["pick_scale"](16.0, 20.0) == ("small", "the GPU has 16.0 GiB, less than the 20.0 GiB the lesson needs at full")
    assert ns["pick_scale"](20.0, 20.0)[0] == "full" and ns["pick_scale"](80.0)[0] == "full"


# --- one place for the repository ---------------------------------------------------------------------------

def test_a_fork_changes_one_setting(colab, monkeypatch, tmp_path, root):
    "The badge and the install cell follow settings.ini's git_url and colab_ref (a fork edits them, then `make colab`)."
    text = (root / "settings.ini").read_text()
    text = re.sub(r"^git_url = .*$", "git_url = https://github.com/someone/fork", text, flags=re.M)
    text = re.sub(r"^colab_ref =.*$", "colab_ref = 3f2a9c1", text, flags=re.M)
    (tmp_path / "settings.ini").write_text(text)
    monkeypatch.setattr(colab, "ROOT", tmp_path)
    assert colab.colab_url("05_ner.ipynb") == \
        "https://colab.research.google.com/github/someone/fork/blob/3f2a9c1/nbs/05_ner.ipynb"
    assert colab.course_requirement() == "ftcourse @ git+https://github.com/someone/fork@3f2a9c1"
    (tmp_path / "settings.ini").write_text(re.sub(r"^colab_ref =.*$", "colab_ref =", text, flags=re.M))
    version = re.search(r"^version = (.*)$", text, flags=re.M).group(1)
    assert colab.course_requirement().endswith(f"@v{version}")   # by default the version's tag


def test_no_hard_coded_repository_in_the_tools(root, ini):
    "The Colab tool takes the repository from settings.ini only."
    assert ini["git_url"] not in (root / "tools" / "colab_cells.py").read_text()
