"""Is bfloat16 autocast worth it on this CPU? One training step of lesson 6's model (MiniLM with a QA head,
batch 8) timed in float32 and in bfloat16 autocast, at two input lengths, and what `cpu_bf16="auto"` picks.

CPUs with AVX-512 BF16 or AMX compute in bfloat16 natively and gain from it; others emulate it and lose.

    python bench/cpu_bf16.py [--steps 4] [--threads 2]
"""
import argparse
import statistics
import time


def step_seconds(model, optimizer, length: int, bf16: bool, steps: int) -> float:
    "Median seconds of a forward + backward + AdamW step on a batch of 8 random inputs of `length` tokens."
    import torch
    x = torch.randint(1000, 5000, (8, length))
    zeros = torch.zeros(8, dtype=torch.long)
    times = []
    for _ in range(steps + 1):   # the first step warms up, and is not counted
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=x, start_positions=zeros, end_positions=zeros).loss
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4, help="timed steps per setting (default: 4)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default: 2, as lesson 6)")
    args = ap.parse_args(argv)
    import ftcourse  # noqa: F401  (offline switches before transformers loads)
    import torch
    from transformers import AutoModelForQuestionAnswering
    from transformers.utils import logging
    from ftcourse.assets import model_source
    from ftcourse.train import cpu_bf16_native, trainer_precision_args
    logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_pretrained(model_source("asset:minilm"))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    print(f"CPU computes in bfloat16 natively: {cpu_bf16_native()}; "
          f"trainer_precision_args(cpu_bf16='auto') -> {trainer_precision_args(cpu_bf16='auto') or 'float32'}")
    print("| tokens | float32 s/step | bfloat16 s/step | bfloat16 / float32 |\n| --- | --- | --- | --- |")
    for length in (128, 256):
        fp32 = step_seconds(model, optimizer, length, False, args.steps)
        bf16 = step_seconds(model, optimizer, length, True, args.steps)
        print(f"| {length} | {fp32:.2f} | {bf16:.2f} | {bf16 / fp32:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
