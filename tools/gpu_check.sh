#!/usr/bin/env bash
# GPU check: run every `#| gpu` cell of the course and the LoRA/QLoRA benchmark on this machine's CUDA GPU,
# offline (`small` scale: the pretrained assets come from pip), then print the measured figures.
# Fits in about 10 minutes on one GPU. Refuses when no CUDA device is visible.
#
#   bash tools/gpu_check.sh [OUT_DIR]        # default OUT_DIR: artifacts/gpu_check
#   BENCH_STEPS=30 bash tools/gpu_check.sh   # more benchmark steps (default 20)
#   NB_TIMEOUT=300                           # seconds allowed per notebook (default 300)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-artifacts/gpu_check}
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
BENCH_STEPS=${BENCH_STEPS:-20}
NB_TIMEOUT=${NB_TIMEOUT:-300}
export FTCOURSE_SCALE=small HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

if ! "$PY" - <<'PY'
import sys
try:
    import torch
except ImportError:
    print("gpu_check: torch is not installed in this Python (run `make install` first).", file=sys.stderr); sys.exit(1)
if not torch.cuda.is_available():
    print("gpu_check: REFUSED: no CUDA device is visible (torch.cuda.is_available() is False).\n"
          "Run this on a machine with an NVIDIA GPU and a CUDA build of torch; the CPU checks are `make test`.",
          file=sys.stderr)
    sys.exit(1)
p = torch.cuda.get_device_properties(0)
print(f"gpu_check: {p.name}, {p.total_memory / 2**30:.1f} GiB, compute capability {p.major}.{p.minor}, "
      f"torch {torch.__version__}, CUDA {torch.version.cuda}, bf16 {torch.cuda.is_bf16_supported()}")
PY
then exit 2; fi

mkdir -p "$OUT"
start=$(date +%s)
status=0

# The notebooks that have gpu cells: lessons, foundation notebooks and exercise solutions.
mapfile -t GPU_NBS < <("$PY" - <<'PY'
import glob, json, re
flag = re.compile(r"^#\|\s*gpu\b", re.M)
for path in sorted(glob.glob("nbs/*.ipynb")) + sorted(glob.glob("exercises/source/*/*.ipynb")):
    cells = json.load(open(path))["cells"]
    if any(c["cell_type"] == "code" and flag.search("".join(c["source"])) for c in cells): print(path)
PY
)
echo "gpu_check: ${#GPU_NBS[@]} notebooks have gpu cells: ${GPU_NBS[*]}"
if [ ${#GPU_NBS[@]} -gt 0 ]; then
  "$PY" -c "import sys; from ftcourse.cli import main; sys.exit(main(sys.argv[1:]))" \
    lessons --flags gpu --timeout "$NB_TIMEOUT" --out "$OUT/notebooks" "${GPU_NBS[@]}" | tee "$OUT/notebooks.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

echo
if [ -f bench/lora_benchmark.py ]; then
  echo "gpu_check: LoRA/QLoRA benchmark ($BENCH_STEPS steps per technique)"
  "$PY" bench/lora_benchmark.py --out "$OUT/bench" --steps "$BENCH_STEPS" | tee "$OUT/bench.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  # The benchmark's own table files (whatever it writes: markdown, csv or json), shown in full.
  for f in "$OUT"/bench/*.md "$OUT"/bench/*.csv; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
else
  echo "gpu_check: bench/lora_benchmark.py is missing: benchmark NOT run"; status=1
fi

echo
"$PY" - "$OUT" <<'PY'
import sys, torch
print(f"gpu_check: device {torch.cuda.get_device_name(0)}; outputs in {sys.argv[1]}")
PY
echo "gpu_check: finished in $(( $(date +%s) - start )) s, $( [ $status -eq 0 ] && echo 'all passed' || echo 'SOMETHING FAILED (see above)')"
exit $status
