"""Give every lesson notebook an *Open in Colab* badge (with its estimated time and GPU memory at `full` scale
on a free T4) and a Colab install cell.

    python tools/colab_cells.py            # update every lesson (ftcourse.config.LESSONS) in place (`make colab`)
    python tools/colab_cells.py --check    # exit 1 if any lesson lacks the cells or has stale ones
    python tools/colab_cells.py nbs/04_lora_qlora.ipynb   # only these notebooks
    python tools/colab_cells.py --estimates               # print each lesson's estimate, step by step

Both cells go right after the title cell (the first markdown cell that starts with `# `) and carry fixed
cell ids (`colab-badge`, `colab-install`), so running the tool again replaces them in place: it is
idempotent, and it writes notebooks exactly as `nbdev_clean` leaves them.

Where the course comes from is set in ONE place, settings.ini: `git_url` (the GitHub repository), and
`colab_ref`, the tag or commit that the badges open and the install cells install (empty: the version
tag `v{version}`). A fork changes `git_url` there and runs `make colab`.

The estimates come from `ftcourse.sizing` (parameters on the meta device, FLOPs, a T4's measured
throughput, memory as weights + gradients + optimizer states + activations), applied to what each lesson
runs at `full` scale: its `plan_<name>` below describes that, from its preset; the lesson's entry in
`ftcourse.config.LESSONS` names the plan (`colab_plan`) or says why it needs no GPU (`no_gpu`). When a
lesson changes what it runs, change its plan.

The install cell does nothing outside Colab. On Colab it installs the course at `colab_ref` and the offline
pretrained assets (the exact line `ftcourse.assets.install_command()` returns: they must come without their
dependencies), then sets `FTCOURSE_SCALE`: `full` only on a GPU whose memory
(`torch.cuda.get_device_properties`) holds the lesson's `full` estimate, else `small`, and prints why;
unless the learner chose one in `SCALE`.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from ftcourse.config import LESSONS, lesson  # noqa: E402  (the lesson registry: standard library only)

BADGE_ID, INSTALL_ID = "colab-badge", "colab-install"
COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"


def settings() -> dict:
    "The repository's `git_url`, `version` and `colab_ref` (default: the version tag `v{version}`): `ftcourse.config.course_source`, read from settings.ini."
    sys.path.insert(0, str(ROOT))
    from ftcourse.config import course_source
    src = course_source(ROOT / "settings.ini")
    return {"git_url": src["git_url"], "version": src["version"], "colab_ref": src["ref"]}


def course_requirement() -> str:
    "What the install cell asks pip for: the course from `git_url`, pinned to `colab_ref`."
    s = settings()
    return f"ftcourse @ git+{s['git_url']}@{s['colab_ref']}"


def colab_url(name: str, folder: str = "nbs") -> str:
    "The Colab address that opens notebook `folder/name` from the course's GitHub repository, at `colab_ref`."
    s = settings()
    repo = s["git_url"].removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{s['colab_ref']}/{folder}/{name}"


# --- what each lesson runs at `full` scale, estimated with ftcourse.sizing -------------------------------

# Lesson 1's input pipeline (its `image_transforms` at 224 px, one image, one core), measured on the course's
# 2-core test machine under load: an upper bound for a Colab core. The GPU waits when it is faster.
TRANSFORM_SECONDS = {"train": 5.5e-3, "test": 4.5e-3}
# The Hub data sets' archives, about (CIFAR-10's python tarball; IMDB's, CoNLL-2003's and SQuAD v1.1's files).
DATASET_BYTES = {"cifar10": 170e6, "imdb": 84e6, "conll2003": 3e6, "squad": 35e6}
GENERATED_TOKENS = 56   # lesson 4's replies: generate_replies(..., max_new_tokens=56), four chats in one batch


def _sizing():
    sys.path.insert(0, str(ROOT))
    from ftcourse import sizing
    return sizing


def _encoder(p, task: str, **changes) -> dict:
    "The preset's encoder for `task` (meta device): its counts in the shape `transformer_memory` wants, and its forward FLOPs per token."
    s = _sizing()
    c = s.count_params(s.empty_model(p.model, task, **changes))
    c = {**c, "quantised": c["linear"]}
    return {"counts": c, "forward": s.forward_flops_per_token(p.model, c, p.max_length)}


def _train(p, enc: dict, examples: int, epochs: float, precision: str, what: str):
    "A Trainer run of an encoder: `epochs` over `examples` texts of `max_length` tokens, in float32 or mixed float16 (`precision`)."
    s = _sizing()
    mem = s.transformer_memory(p.model, "full", enc["counts"], p.batch_size, p.max_length, weight_bytes=4,
                               act_bytes=4 if precision == "fp32" else 2, lm_head=False)
    return s.Work(f"{what}: {epochs:g} epochs x {examples:,} examples, {precision}",
                  s.training_flops(enc["forward"]) * epochs * examples * p.max_length, precision, memory=mem["total"],
                  keep=mem["weights"] + mem["optimizer"])   # the Trainer keeps its model and its optimizer


def _evaluate(p, enc: dict, examples: int, what: str, precision: str = "fp32", batch: int | None = None):
    "Forward passes of an encoder over `examples` texts of `max_length` tokens (the Trainer's evaluation batch: 4x the training one)."
    s = _sizing()
    mem = s.inference_memory(p.model, enc["counts"]["total"] * 4 / 2 ** 20, batch or 4 * p.batch_size, p.max_length,
                             4 if precision == "fp32" else 2, lm_head=False)
    return s.Work(what, enc["forward"] * examples * p.max_length, precision, memory=mem["total"])


def _download(p, weights: int, bytes_per_weight: int = 4):
    "Downloading the preset's model (`weights` parameters, a float32 checkpoint unless said) and its data set."
    return _sizing().Work(f"download {p.model} and {p.data}",
                          download=weights * bytes_per_weight + DATASET_BYTES.get(p.data, 0))


def plan_transfer_learning(p) -> list:
    "Lesson 1 at `full`: runs (a) head only, (b) gradual unfreezing, (c) random init, the gpu cell's mixed precision run, with an evaluation after every epoch."
    import torch
    s = _sizing()
    from ftcourse.transfer_learning import backbone_blocks, build_model, head_name
    with torch.device("meta"): model = build_model(p, pretrained=False)
    blocks = backbone_blocks(model) + [("head", getattr(model, head_name(model)))]
    prof = s.cnn_profile(model, p.extra["image_size"], blocks)
    fwd, names = 2 * float(prof.macs.sum()), list(prof.index)
    n_params = int(prof.params.sum())
    cores = s.COLAB_CPU_CORES

    def train(start: str, epochs: float, what: str, precision: str = "fp32", keep: bool = False):
        i = names.index(start)
        trains = float(prof.macs.iloc[i:].sum()) / prof.macs.sum()
        flows = float(prof.macs.iloc[i + 1:].sum()) / prof.macs.sum()   # gradients flow back to the first trainable block
        mem = s.cnn_memory(prof, p.batch_size, start, act_bytes=4 if precision == "fp32" else 2)
        return s.Work(what, s.training_flops(fwd, flows, trains) * p.n_train * epochs, precision, memory=mem["total"],
                      keep=mem["weights"] if keep else 0.0,
                      cpu_seconds=epochs * p.n_train * TRANSFORM_SECONDS["train"] / cores)

    def evaluate(times: int, what: str):
        mem = s.cnn_memory(prof, 2 * p.batch_size, None)   # the test loader's batches are twice as big
        return s.Work(what, fwd * p.n_test * times, "fp32", memory=mem["total"],
                      cpu_seconds=times * p.n_test * TRANSFORM_SECONDS["test"] / cores)

    stages = [round(p.extra["unfreeze_blocks"] * (i + 1) / p.extra["unfreeze_epochs"]) for i in range(p.extra["unfreeze_epochs"])]
    works = [_download(p, n_params),
             train("head", p.epochs, f"(a) head only: {p.epochs} epochs x {p.n_train:,} images"),
             evaluate(p.epochs + 1, f"(a) {p.epochs + 1} evaluations x {p.n_test:,} images")]
    for k, n in enumerate(stages):
        works.append(train(names[-1 - n], 1, f"(b) stage {k + 1}: last {n} blocks + head, 1 epoch", keep=k == len(stages) - 1))
    works += [evaluate(len(stages) + 1, f"(b) {len(stages) + 1} evaluations"),
              train("head", p.epochs, f"(c) random init, head only: {p.epochs} epochs", keep=True),
              evaluate(p.epochs, f"(c) {p.epochs} evaluations"),
              train("head", p.epochs, f"gpu cell: head only, mixed precision, {p.epochs} epochs", "fp16"),
              evaluate(p.epochs, f"gpu cell: {p.epochs} evaluations")]
    return works


def plan_text_classification(p) -> list:
    "Lesson 3 at `full`: the Trainer run in float32 with an evaluation per epoch, the test set and analyses, the gpu cell's half-precision run."
    n_val = round(0.2 * p.n_train); n_train = p.n_train - n_val
    enc = _encoder(p, "sequence-classification", num_labels=2)
    return [_download(p, enc["counts"]["total"]),
            _train(p, enc, n_train, p.epochs, "fp32", "train"),
            _evaluate(p, enc, p.epochs * n_val, f"validation after each epoch: {p.epochs} x {n_val:,}"),
            _evaluate(p, enc, 3 * p.n_test + n_val + 128, "test set, in-order predictions, pipeline, no-mask check"),
            _train(p, enc, n_train, p.epochs, "fp16", "gpu cell: train"),
            _evaluate(p, enc, p.epochs * n_val + p.n_test, "gpu cell: validation and test", "fp16")]


def plan_ner(p) -> list:
    "Lesson 5 at `full`: the Trainer run in float32 with an evaluation per epoch, then the test set three ways (Trainer, in order, pipeline)."
    n_val = max(100, p.n_train // 10)
    enc = _encoder(p, "token-classification", num_labels=9)
    return [_download(p, enc["counts"]["total"]),
            _train(p, enc, p.n_train, p.epochs, "fp32", "train"),
            _evaluate(p, enc, p.epochs * n_val, f"validation after each epoch: {p.epochs} x {n_val:,}"),
            _evaluate(p, enc, 3 * p.n_test, f"test set three ways: 3 x {p.n_test:,}")]


def plan_qa(p) -> list:
    "Lesson 6 at `full`: answers before training, the Trainer run in half precision, answers after (float32 forward passes)."
    enc = _encoder(p, "question-answering")
    return [_download(p, enc["counts"]["total"]),
            _evaluate(p, enc, p.n_test, f"answers before training: {p.n_test:,} questions"),
            _train(p, enc, p.n_train, p.epochs, "fp16", "train"),
            _evaluate(p, enc, p.n_test + 20, f"answers after training: {p.n_test:,} questions, and long contexts")]


def _llm(model: str, p) -> dict:
    "Counts of a causal LM for `transformer_memory`: lesson 4's `param_breakdown` (LoRA included) and the FLOP count."
    s = _sizing()
    from ftcourse.lora import param_breakdown
    config = s.model_config(model)
    c = s.count_params(s.empty_model(config))
    return {"config": config, "counts": param_breakdown(config, p.extra["r"], p.extra["target_modules"]),
            "flop_params": c, "forward": s.forward_flops_per_token(config, c, p.max_length)}


def _benchmark(p, model: str, steps: int, what: str) -> list:
    """Lesson 4's benchmark (`ftcourse.lora.benchmark`): each technique on `model`, in its own process, `steps` steps,
    held-out loss before and after; each loads its weights as `ftcourse.lora.weight_dtype` says for a T4 (float16:
    LoRA in float16, QLoRA in 4 bits computing in float16, full fine-tuning in float32, no float16 master copy)."""
    import torch
    s = _sizing()
    from ftcourse.lora import dtype_bytes, weight_dtype
    m = _llm(model, p)
    tokens = p.batch_size * p.max_length
    works = [s.Work(f"{what}: download {model}", download=m["counts"]["total"] * 2)] if model != p.model else []
    for t in ("full", "lora", "qlora"):
        dtype = weight_dtype(t, torch.float16) or torch.float16   # a T4 has no bfloat16
        mem = s.transformer_memory(m["config"], t, m["counts"], p.batch_size, p.max_length, weight_bytes=dtype_bytes(dtype),
                                   act_bytes=dtype_bytes(dtype), mixed_precision=False)
        grads = 1.0 if t == "full" else m["counts"]["lora"] / m["flop_params"]["linear"]
        flops = s.training_flops(m["forward"], 1.0, grads) * steps * tokens + 2 * m["forward"] * p.n_test * p.max_length
        works.append(s.Work(f"{what}: {t}, {steps} steps of {p.batch_size} x {p.max_length} tokens", flops,
                            "fp32" if dtype == torch.float32 else "fp16", memory=mem["total"]))
    return works


def plan_lora(p) -> list:
    """Lesson 4 at `full` on a T4: the technique `ftcourse.lora.choose_technique` picks for a T4 (QLoRA with gradient
    checkpointing for a 7B model): held-out loss and replies, training for `p.extra['steps']` steps, again; then the
    benchmark on `p.extra['bench_model']` (the preset's model if unset), `p.extra['bench_steps']` steps per technique,
    after the lesson has freed the GPU."""
    s = _sizing()
    from ftcourse.lora import NAMES, choose_technique
    m = _llm(p.model, p)
    choice = choose_technique(m["config"], s.T4.memory_gib, r=p.extra["r"], target_modules=p.extra["target_modules"],
                              batch_size=p.batch_size, seq_len=p.max_length, weight_bytes=2, counts=m["counts"])
    t, ckpt = choice["technique"], choice["gradient_checkpointing"]
    train = s.transformer_memory(m["config"], t, m["counts"], p.batch_size, p.max_length, weight_bytes=2, act_bytes=2,
                                 gradient_checkpointing=ckpt)
    look = s.inference_memory(m["config"], train["weights"], p.batch_size, p.max_length)
    qlora = s.transformer_memory(m["config"], "qlora", m["counts"], p.batch_size, p.max_length, weight_bytes=2, act_bytes=2,
                                 gradient_checkpointing=ckpt)
    weight_bytes = train["weights"] * 2 ** 20
    check = 2 * m["forward"] * p.n_test * p.max_length   # held-out loss (`mean_loss`), forward only
    adapters = m["counts"]["lora"] / m["flop_params"]["linear"]
    steps, chats = p.extra["steps"], p.extra["steps"] * p.batch_size
    how = f"{NAMES[t]}{', gradient checkpointing' if ckpt else ''}"
    weights = "in 4 bits" if t == "qlora" else "in 16 bits"
    return [s.Work(f"download {p.model} (16-bit checkpoint)", download=m["counts"]["total"] * 2),
            s.Work(f"base model {weights}: held-out loss on {p.n_test} chats, 4 replies", check / 2, "fp16",
                   memory=look["total"], decode_bytes=GENERATED_TOKENS * weight_bytes),
            s.Work(f"{how}: {steps} steps x {p.batch_size} chats ({chats / p.n_train:g} epochs)",
                   s.training_flops(m["forward"], 1.0, adapters, recompute=ckpt) * chats * p.max_length,
                   "fp16", memory=train["total"]),
            s.Work("after training: held-out loss, replies, adapter reloaded (the trained model freed first)", check,
                   "fp16", memory=look["total"], decode_bytes=2 * GENERATED_TOKENS * weight_bytes),
            s.Work(f"QLoRA section: 2 steps{', gradient checkpointing' if ckpt else ''}, loss on 2 chats",
                   s.training_flops(m["forward"], 1.0, adapters, recompute=ckpt) * 2 * p.batch_size * p.max_length
                   + 2 * check * 2 / p.n_test, "fp16", memory=qlora["total"]),
            *_benchmark(p, p.extra.get("bench_model", p.model), p.extra.get("bench_steps", steps), "benchmark")]


def plan_best_practices(p=None) -> list:
    "Lesson 7 at `full`: lesson 3's model for the LR range test and two short runs, lesson 1's CNN head-only on 500 images and its training memory, lesson 4's benchmark (2 steps)."
    from ftcourse.config import preset
    s = _sizing()
    p3, p1, p4 = (preset(k, "full") for k in ("text_classification", "transfer_learning", "lora"))
    enc = _encoder(p3, "sequence-classification", num_labels=2)
    c, fwd = enc["counts"], enc["forward"]
    run = s.transformer_memory(p3.model, "full", c, p3.batch_size, p3.max_length, weight_bytes=4, lm_head=False)
    cnn = plan_transfer_learning(p1.but(n_train=500, n_test=300, epochs=2))
    import torch
    from ftcourse.transfer_learning import backbone_blocks, build_model, head_name
    with torch.device("meta"): r50 = build_model(p1, pretrained=False)
    prof = s.cnn_profile(r50, p1.extra["image_size"], backbone_blocks(r50) + [("head", getattr(r50, head_name(r50)))])
    every_block = s.cnn_memory(prof, p1.batch_size, prof.index[0])   # section 5 measures one step with every weight trainable
    memory_steps = s.Work(f"training memory: one step of {p1.batch_size} images, all weights, then head only",
                          2 * s.training_flops(2 * float(prof.macs.sum())) * p1.batch_size, "fp32",
                          memory=every_block["total"])
    return [s.Work(f"download {p3.model}", download=c["total"] * 4),
            s.Work("LR range test: 24 steps of 8 tweets (48 tokens)", s.training_flops(fwd) * 24 * 8 * 48, "fp32",
                   memory=s.transformer_memory(p3.model, "full", c, 8, 48, weight_bytes=4, lm_head=False)["total"]),
            s.Work(f"two learning rates: 30 + 20 steps of {p3.batch_size}",
                   s.training_flops(fwd) * 50 * p3.batch_size * p3.max_length, "fp32", memory=run["total"]),
            _evaluate(p3, enc, 200, "evaluation on 200 test tweets"),
            *cnn[:3],
            memory_steps,
            *_benchmark(p4, p4.extra.get("bench_model", p4.model), 2, "lesson 4's benchmark (in the background)")]


# From the registry: lesson stem -> (preset key, plan), and -> why no GPU is needed. A lesson's `colab_plan` names
# its `plan_<name>` above (a KeyError here when there is none).
PLANS = {l.stem: (l.preset, globals()[f"plan_{l.colab_plan}"]) for l in LESSONS if l.colab_plan}
NO_GPU = {l.stem: l.no_gpu for l in LESSONS if l.no_gpu}


@functools.lru_cache(maxsize=None)
def estimate(name: str):
    "The `ftcourse.sizing.estimate` table of lesson `name` (e.g. `04_lora_qlora.ipynb`) at `full` scale, or None if it has no GPU work."
    stem = lesson(Path(name).name).stem
    if stem not in PLANS: return None
    from ftcourse.config import preset
    key, plan = PLANS[stem]
    return _sizing().estimate(plan(preset(key, "full")) if key else plan())


def needs_gib(name: str) -> float:
    "The GPU memory (GiB, rounded up to 0.1) lesson `name` needs at `full` scale by its estimate; 0 for no GPU work."
    table = estimate(name)
    return 0.0 if table is None else math.ceil(_sizing().totals(table)["peak_gib"] * 10) / 10


def _minutes(m: float) -> str:
    return f"{m:.0f} min" if m >= 1 else "under a minute"


def badge_source(name: str) -> str:
    "Markdown of the badge cell: the Colab badge, then the lesson's estimated T4 time and GPU memory at `full`, and how they were computed."
    badge = f"[![Open In Colab]({COLAB_BADGE_SVG})]({colab_url(name)})"
    if lesson(Path(name).name).stem in NO_GPU:
        return (f"{badge}\n\n**On Colab** no GPU is needed: {NO_GPU[lesson(Path(name).name).stem]}. "
                f"At `small` scale (the default outside Colab) everything runs on a CPU.")
    table = estimate(name)
    if table is None:
        return f"{badge}\n\n**On Colab:** this lesson has no size estimate yet (add its plan to `tools/colab_cells.py`)."
    s = _sizing()
    t = s.totals(table)
    fits = "fits" if needs_gib(name) <= s.T4.memory_gib else "does **not** fit"
    rows = "\n".join(f"| {work} | {r.precision} | {r.TFLOP:,.0f} | {r.minutes:.1f} | {r.GiB:.1f} | {r['bound by']} |"
                     for work, r in table.iterrows())
    return (f"{badge}\n\n"
            f"**At `full` scale on Colab's free T4** (estimated, not measured): about **{_minutes(t['minutes'])}** and "
            f"**{needs_gib(name):.1f} GiB** of GPU memory at the peak ({t['peak_at']}), which {fits} the "
            f"{s.T4.memory_gib} GiB PyTorch sees on a T4. At `small` scale (the default outside Colab) everything runs on a CPU.\n\n"
            f"<details><summary>How these figures are computed</summary>\n\n"
            f"`ftcourse.sizing` (nbs/core_sizing.ipynb), from the `full` preset: parameters counted on the meta device "
            f"from the model's `config.json` (no weights); tokens = examples x `max_length` (an upper bound) or images; "
            f"FLOPs = 2 per weight and token forwards (CNN: 2 x multiply-adds per image), 3x that to train; time = FLOPs / "
            f"the T4's throughput measured with PyTorch (NVIDIA's ResNet-50 figures: {s.T4.flops['fp32'] / 1e12:.1f} "
            f"TFLOP/s in float32, {s.T4.flops['fp16'] / 1e12:.1f} in float16), or the CPU or download time when longer "
            f"(downloads at {s.DOWNLOAD_BYTES_PER_S / 1e6:.0f} MB/s); memory = weights + gradients + AdamW states + "
            f"activations at the step's precision, plus what earlier steps left allocated and "
            f"{s.CUDA_CONTEXT_GIB} GiB of CUDA context. The setup cell below picks `full` only on a GPU that holds the "
            f"peak. Tokenising and other CPU work is not counted.\n\n"
            f"| step | precision | TFLOP | minutes | GiB | bound by |\n| --- | --- | --- | --- | --- | --- |\n{rows}\n\n"
            f"</details>")


def install_source(name: str = "") -> str:
    "Python of lesson `name`'s install cell: a no-op outside Colab; on Colab installs the course and assets, then picks the scale by the GPU's memory."
    sys.path.insert(0, str(ROOT))
    from ftcourse.assets import install_command
    need = needs_gib(name) if name else 0.0
    ref = settings()["colab_ref"]
    return "\n".join([
        f"# Colab setup: does nothing outside Colab. On Colab it installs the course ({ref}) and its",
        "# offline assets (--no-deps), then picks the scale: `full` only on a GPU whose memory holds",
        "# this lesson's `full` estimate (see above), else `small`. To choose yourself, set SCALE.",
        'SCALE = ""  # "small" or "full"',
        f"FULL_NEEDS_GIB = {need}  # estimated peak GPU memory at `full` (ftcourse.sizing; 0: no GPU work)",
        "import os, subprocess, sys",
        'IN_COLAB = "google.colab" in sys.modules',
        "",
        "def pick_scale(gpu_gib, need_gib=FULL_NEEDS_GIB):",
        '    "`full` if a GPU with `gpu_gib` GiB (None: no GPU) holds `need_gib`, else `small`; and why."',
        '    if gpu_gib is None: return "small", "no GPU in this runtime"',
        '    if gpu_gib >= need_gib: return "full", f"the GPU has {gpu_gib:.1f} GiB, the lesson needs about {need_gib} GiB at full"',
        '    return "small", f"the GPU has {gpu_gib:.1f} GiB, less than the {need_gib} GiB the lesson needs at full"',
        "",
        "if IN_COLAB:",
        f'    COURSE = "{course_requirement()}"',
        f'    ASSETS = "{install_command()}"',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", COURSE], check=True)',
        '    subprocess.run([sys.executable, "-m", *ASSETS.split(), "-q"], check=True)',
        "    import importlib, torch",
        "    importlib.invalidate_caches()  # import what was just installed",
        "    gpu_gib = torch.cuda.get_device_properties(0).total_memory / 2**30 if torch.cuda.is_available() else None",
        '    scale, why = (SCALE, "your choice") if SCALE else pick_scale(gpu_gib)',
        '    os.environ["FTCOURSE_SCALE"] = scale',
        '    print(f"ftcourse installed; scale: {scale} ({why})")'])


def _lines(text: str) -> list:
    return text.splitlines(keepends=True)


def _cells(name: str) -> list:
    return [{"cell_type": "markdown", "id": BADGE_ID, "metadata": {}, "source": _lines(badge_source(name))},
            {"cell_type": "code", "execution_count": None, "id": INSTALL_ID, "metadata": {}, "outputs": [],
             "source": _lines(install_source(name))}]


def updated(nb: dict, name: str) -> dict:
    "`nb` with the badge and install cells (re)placed right after its title cell."
    cells = [c for c in nb["cells"] if c.get("id") not in (BADGE_ID, INSTALL_ID)]
    title = next((i for i, c in enumerate(cells)
                  if c["cell_type"] == "markdown" and "".join(c["source"]).lstrip().startswith("# ")), None)
    if title is None: raise ValueError(f"{name}: no title cell (a markdown cell starting with '# ')")
    return {**nb, "cells": cells[:title + 1] + _cells(name) + cells[title + 1:]}


def _dumps(nb: dict) -> str:  # exactly as nbdev_clean / execnb write notebooks
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def process(path, check: bool = False) -> bool:
    "Add or refresh the Colab cells of notebook `path`; returns True if it changed (or, with `check`, would)."
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    new = _dumps(updated(json.loads(old), path.name))
    if new == old: return False
    if not check: path.write_text(new, encoding="utf-8")
    return True


def lessons() -> list:
    "Every lesson notebook, from the registry (`ftcourse.config.LESSONS`)."
    return [ROOT / l.notebook for l in LESSONS]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to update (default: every lesson in nbs/)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if any notebook would change")
    ap.add_argument("--estimates", action="store_true", help="print each lesson's estimate at `full`, step by step")
    args = ap.parse_args(argv)
    if args.estimates:
        import pandas as pd
        for p in (args.notebooks or lessons()):
            table = estimate(Path(p).name)
            if table is None: continue
            t = _sizing().totals(table)
            with pd.option_context("display.width", 200, "display.max_colwidth", 80):
                print(f"\n{Path(p).name}: {t['minutes']:.1f} min, peak {t['peak_gib']:.2f} GiB ({t['peak_at']})")
                print(table.round(2).to_string())
        return 0
    changed = [p for p in (args.notebooks or lessons()) if process(p, check=args.check)]
    for p in changed: print(("stale or missing Colab cells: " if args.check else "updated: ") + str(p))
    if not changed: print("Colab cells up to date.")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
