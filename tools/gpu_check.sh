#!/usr/bin/env bash
# GPU check: on this machine's CUDA GPU, offline, run every `#| gpu` cell of the course, the `full` scale
# rehearsal of every lesson (FTCOURSE_SCALE=full FTCOURSE_REHEARSAL=1: stand-in models built from config.json,
# no weights, no download) and the LoRA/QLoRA benchmark, then print a table of what ran, what failed and what
# was skipped and why. About 10 minutes on one GPU. Refuses when no CUDA device is visible.
#
# It runs on a bare CUDA machine that has torch and transformers but cannot download anything: the rest comes
# as wheels prepared beforehand where a registry is reachable (`bash tools/gpu_wheels.sh`, into .gpu-wheels/,
# Python 3.12 manylinux by default), which this script installs with --no-index --no-deps into a folder of its
# own (nothing of the machine's Python is changed). The course itself runs from this checkout (PYTHONPATH).
# Notebooks whose pretrained pip assets are not installed (SmolLM2, MiniLM: real weights, too big to carry)
# are skipped with a line saying so; everything else still runs.
#
#   bash tools/gpu_check.sh [OUT_DIR]        # default OUT_DIR: artifacts/gpu_check
#   python tools/gpu_check.py plan           # what would run here, and what would be skipped (no GPU needed)
#   BENCH_STEPS=30 bash tools/gpu_check.sh   # more benchmark steps (default 20)
#   NB_TIMEOUT=300                           # seconds allowed per notebook (default 300)
#   GPU_WHEELS=DIR                           # where the prepared wheels are (default .gpu-wheels)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-artifacts/gpu_check}
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
WHEELS=${GPU_WHEELS:-.gpu-wheels}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1

if ! "$PY" - <<'PY'
import sys
try:
    import torch
except ImportError:
    print("gpu_check: torch is not installed in this Python (set PYTHON=... to one that has it).", file=sys.stderr); sys.exit(1)
if not torch.cuda.is_available():
    print("gpu_check: REFUSED: no CUDA device is visible (torch.cuda.is_available() is False).\n"
          "Run this on a machine with an NVIDIA GPU and a CUDA build of torch; the CPU checks are `make test`.",
          file=sys.stderr)
    sys.exit(1)
p = torch.cuda.get_device_properties(0)
print(f"gpu_check: {p.name}, {p.total_memory / 2**30:.1f} GiB, compute capability {p.major}.{p.minor}, "
      f"torch {torch.__version__}, CUDA {torch.version.cuda}, bf16 {torch.cuda.is_bf16_supported(including_emulation=False)}")
PY
then exit 2; fi

# The prepared wheels, if any: installed into a folder of their own, first on the path.
if compgen -G "$WHEELS/*.whl" > /dev/null; then
  SITE=$(mktemp -d "${TMPDIR:-/tmp}/ftcourse-gpu-site.XXXXXX")
  echo "gpu_check: installing $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS (--no-index --no-deps) into $SITE"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "$WHEELS"/*.whl || {
    echo "gpu_check: installing the wheels from $WHEELS failed (prepare them again with tools/gpu_wheels.sh)" >&2; exit 2; }
  export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "gpu_check: no wheels in $WHEELS (fine where the course's requirements are installed; else: bash tools/gpu_wheels.sh)"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi

"$PY" - <<'PY' || { echo "gpu_check: the course cannot be imported here (see above): install its requirements or prepare wheels" >&2; exit 2; }
import importlib, importlib.metadata as md
for name in ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "datasets", "execnb", "nbdev"):
    try: print(f"gpu_check: {name} {md.version(name)}")
    except md.PackageNotFoundError: print(f"gpu_check: {name} MISSING")
import ftcourse.runner, ftcourse.lora  # noqa: E401
PY

start=$(date +%s)
"$PY" tools/gpu_check.py run "$OUT"
status=$?
echo "gpu_check: finished in $(( $(date +%s) - start )) s, $( [ $status -eq 0 ] && echo 'nothing failed' || echo 'SOMETHING FAILED (see above)')"
exit $status
