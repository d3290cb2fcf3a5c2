"""Benchmark full fine-tuning vs LoRA vs QLoRA on the lesson-4 preset (seed exercise 4).

Each technique trains the same model on the same chats for the same number of steps, in a fresh process
(so that peak memory is measured per technique: peak RSS growth on CPU, torch.cuda.max_memory_allocated on
GPU; spawned on a CUDA machine, forked from a fork server on a CPU: `ftcourse.lora.bench_context`). At `full`
scale the model is the preset's `bench_model` (Qwen2.5-0.5B-Instruct: full fine-tuning of the 7B model needs
more than 100 GB); on a GPU a technique whose memory estimate exceeds the GPU is not started. Writes DIR/lora_benchmark.json, DIR/lora_benchmark.md (the table) and DIR/lora_benchmark.png, and
prints the table.

    python bench/lora_benchmark.py --out runs/ --steps 12 --techniques full,lora,qlora
"""
import argparse
import json
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs", help="folder for JSON, table and plot (default: runs/)")
    ap.add_argument("--steps", type=int, default=12, help="training steps per technique (default: 12)")
    ap.add_argument("--techniques", default="full,lora,qlora", help="comma-separated subset of full,lora,qlora")
    ap.add_argument("--scale", default=None, help="small or full (default: FTCOURSE_SCALE or small)")
    args = ap.parse_args(argv)

    import ftcourse  # noqa: F401  (sets the scale's offline switches before the HF libraries load)
    from ftcourse.config import preset
    from ftcourse.lora import TECHNIQUES, bench_preset, benchmark

    techniques = [t.strip() for t in args.techniques.split(",") if t.strip()]
    unknown = set(techniques) - set(TECHNIQUES)
    if unknown:
        print(f"unknown technique(s) {sorted(unknown)}; choose from {', '.join(TECHNIQUES)}", file=sys.stderr)
        return 2
    p = preset("lora", args.scale)
    start = time.perf_counter()
    df = benchmark(p, steps=args.steps, techniques=techniques)
    seconds = time.perf_counter() - start

    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    meta = {"preset": {"model": bench_preset(p).model, "scale": p.scale, "batch_size": p.batch_size, "max_length": p.max_length,
                       **p.extra}, "steps": args.steps, "seconds": round(seconds, 1)}
    (out / "lora_benchmark.json").write_text(json.dumps({**meta, "rows": df.to_dict(orient="records")}, indent=1))
    cols = ["technique", "model", "dtype", "device", "trainable_params", "total_params", "trainable_pct", "weights_mb", "peak_mb",
            "estimated_mb", "tokens_per_s", "loss_before", "loss_after"]
    table = df[cols].copy()
    table["estimate_error_pct"] = (100 * (table.estimated_mb - table.peak_mb) / table.peak_mb).round(1)
    text = table.round(4).to_string(index=False)
    (out / "lora_benchmark.md").write_text(table.round(4).to_markdown(index=False) if _has_tabulate() else text)
    print(text)
    print(f"\n{len(df)} techniques x {args.steps} steps in {seconds:.0f} s; results in {out.resolve()}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    x = np.arange(len(table))
    axes[0].bar(x - 0.2, table.peak_mb, 0.4, label="measured peak")
    axes[0].bar(x + 0.2, table.estimated_mb, 0.4, label="estimate")
    axes[0].bar(x - 0.2, table.weights_mb, 0.4, color="black", alpha=0.3, label="weights")
    axes[0].set_ylabel("MiB"); axes[0].set_title(f"training memory ({table.device.iloc[0]})", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].bar(x, table.tokens_per_s, color="tab:green"); axes[1].set_title("throughput (tokens/s)", fontsize=9)
    axes[2].bar(x - 0.2, table.loss_before, 0.4, label="before")
    axes[2].bar(x + 0.2, table.loss_after, 0.4, label="after")
    axes[2].set_title(f"held-out loss, {args.steps} steps", fontsize=9); axes[2].legend(fontsize=7)
    for ax in axes: ax.set_xticks(x, table.technique)
    fig.tight_layout(); fig.savefig(out / "lora_benchmark.png", dpi=120)
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    sys.exit(main())
