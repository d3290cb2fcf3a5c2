"""tools/gpu_check.sh runs the gpu cells and the LoRA/QLoRA benchmark on a CUDA machine; without a CUDA
device it must refuse clearly, before doing anything."""
import subprocess
import sys

import pytest


def test_gpu_check_refuses_without_cuda(root, tmp_path):
    import torch
    if torch.cuda.is_available(): pytest.skip("a CUDA device is present: run `bash tools/gpu_check.sh` itself")
    proc = subprocess.run(["bash", str(root / "tools" / "gpu_check.sh"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin",
                                                                            "PYTHON": sys.executable})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "REFUSED: no CUDA device" in proc.stderr
    assert not (tmp_path / "out").exists()   # refused before running anything
