#!/usr/bin/env bash
# Prepare, where a package registry is reachable, the wheels that tools/gpu_check.sh needs on a bare CUDA machine
# that has torch and transformers but cannot download anything: bitsandbytes, datasets, peft, nbdev/execnb (to
# run notebooks), seqeval, fastapi, openai, ... and whatever they need that such a machine lacks. Versions: the
# lock's (requirements-lock.txt); target: Python 3.12, manylinux x86-64 (packages with no wheel are built here).
# The machine's own packages are taken from the device image's list in tools/gpu_check.py; for another machine
# pass its `pip list --format=freeze` output. Stale wheels in the folder are removed.
#
#   bash tools/gpu_wheels.sh                        # into .gpu-wheels/ (git-ignored), about 50 MiB
#   bash tools/gpu_wheels.sh DIR --present FILE     # another folder, another machine's package list
#
# Then copy the checkout with that folder to the GPU machine and run `bash tools/gpu_check.sh` there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
OUT=${1:-.gpu-wheels}
shift || true
exec "$PY" tools/gpu_check.py wheels "$OUT" "$@"
