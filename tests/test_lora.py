"""Lesson 4 (`ftcourse.lora`): LoRA parameter counts, the memory estimator, LoRA/QLoRA training, adapters,
the benchmark script and training under `accelerate launch`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftcourse.cli import main as cli
from ftcourse.config import preset

ROOT = Path(__file__).resolve().parent.parent
LLAMA2 = ROOT / "ftcourse" / "resources" / "llama-2-7b-config.json"


# --- parameter counting from a config (no weights) -------------------------------------------------------

def test_lora_params_llama2_r8_matches_peft_exactly(capsys):
    assert cli(["lora-params", "--config", str(LLAMA2), "--r", "8", "--target", "q_proj,v_proj"]) == 0
    out = capsys.readouterr().out
    assert "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622" in out


def test_lora_params_r16_doubles_the_adapters(capsys):
    assert cli(["lora-params", "--config", str(LLAMA2), "--r", "16", "--target", "q_proj,v_proj"]) == 0
    assert "trainable params: 8,388,608 || all params: 6,746,804,224 || trainable%: 0.1243" in capsys.readouterr().out


def test_lora_params_defaults_are_r8_q_v(capsys):
    assert cli(["lora-params", "--config", str(LLAMA2)]) == 0
    assert "trainable params: 4,194,304 ||" in capsys.readouterr().out


@pytest.mark.parametrize("content", [None, "{not json", '{"hidden_size": 8}', '{"model_type": "no-such-arch"}'])
def test_lora_params_bad_config_is_a_clear_error(tmp_path, capsys, content):
    path = tmp_path / "config.json"
    if content is not None: path.write_text(content)
    assert cli(["lora-params", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert "error:" in captured.err and "trainable params" not in captured.out


def test_lora_params_unknown_module_is_an_error(capsys):
    assert cli(["lora-params", "--config", str(LLAMA2), "--target", "c_attn"]) == 2
    assert "c_attn" in capsys.readouterr().err


# --- the memory estimator ---------------------------------------------------------------------------------

def test_estimator_orders_the_techniques_for_a_7b_model():
    from ftcourse.lora import TECHNIQUES, estimate_memory, param_breakdown
    counts = param_breakdown(LLAMA2, r=16)
    assert counts["lora"] == 8_388_608 and counts["total"] == 6_738_415_616
    est = {t: estimate_memory(LLAMA2, t, r=16, batch_size=1, seq_len=512, gradient_checkpointing=True,
                              counts=counts) for t in TECHNIQUES}
    gib = {t: e["total"] / 1024 for t, e in est.items()}
    assert gib["full"] > 90 and gib["qlora"] < gib["lora"] < 16 < gib["full"]
    # mixed-precision full fine-tuning: 2 + 2 + 12 bytes per parameter before activations
    fixed = est["full"]["weights"] + est["full"]["gradients"] + est["full"]["optimizer"]
    assert abs(fixed * 2 ** 20 / counts["total"] - 16) < 1e-6
    assert est["qlora"]["weights"] < est["lora"]["weights"] / 3
    assert est["lora"]["activations"] == est["qlora"]["activations"]


def test_estimator_rejects_an_unknown_technique():
    from ftcourse.lora import estimate_memory
    with pytest.raises(ValueError): estimate_memory(LLAMA2, "prefix-tuning")


# --- what runs on the GPU found: dtypes and the technique, chosen by the estimate ---------------------------

QWEN7B = ROOT / "ftcourse" / "resources" / "qwen2.5-7b-instruct-config.json"


@pytest.fixture(scope="module")
def qwen_counts():
    from ftcourse.lora import param_breakdown
    full = preset("lora", "full")
    return {"r": full.extra["r"], "target_modules": full.extra["target_modules"], "batch_size": full.batch_size,
            "seq_len": full.max_length, "counts": param_breakdown(QWEN7B, full.extra["r"], full.extra["target_modules"])}


def test_full_preset_is_an_ungated_chat_model_with_a_benchmark_model_that_fits():
    full = preset("lora", "full")
    assert full.model == "Qwen/Qwen2.5-7B-Instruct" and full.extra["bench_model"] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert full.extra["steps"] == full.epochs * full.n_train // full.batch_size
    assert not (ROOT / "ftcourse" / "resources" / "mistral-7b-v0.1-config.json").exists()


@pytest.mark.parametrize("gpu_gib,expected", [(14.56, ("qlora", True)), (16.0, ("qlora", True)),
                                              (20.0, ("lora", True)), (40.0, ("lora", False)),
                                              (80.0, ("lora", False)), (None, ("lora", False))])
def test_choose_technique_by_the_gpus_memory(qwen_counts, gpu_gib, expected):
    "A T4 (14.56 GiB usable) trains the 7B model as QLoRA; an 80 GB GPU as 16-bit LoRA; a CPU is not gated."
    from ftcourse.lora import choose_technique
    got = choose_technique(QWEN7B, gpu_gib, **qwen_counts)
    assert (got["technique"], got["gradient_checkpointing"]) == expected, got["table"]
    if gpu_gib is not None:
        assert got["need_gib"] <= gpu_gib and f"the GPU has {gpu_gib:.1f} GiB" in got["why"]
        assert list(got["table"].fits) == list(got["table"].GiB <= gpu_gib)
    else:
        assert "no GPU" in got["why"]


def test_choose_technique_starts_nothing_that_does_not_fit(qwen_counts):
    from ftcourse.lora import choose_technique
    for gib in (6.0, 10.0):   # 4-bit weights alone are about 7.9 GiB; batch 4 x 256 needs about 10.5 in all
        with pytest.raises(MemoryError, match=f"nothing fits a GPU of {gib} GiB"):
            choose_technique(QWEN7B, gib, **qwen_counts)
    small = choose_technique(QWEN7B, 10.0, **{**qwen_counts, "batch_size": 1, "seq_len": 64})   # a smaller batch fits
    assert small["technique"] == "qlora"


def test_weight_dtypes_follow_the_gpus_16_bit_type():
    import torch
    from ftcourse.lora import dtype_bytes, weight_dtype
    assert [weight_dtype(t, None) for t in ("full", "lora", "qlora")] == [torch.float32, torch.float32, None]   # CPU
    assert [weight_dtype(t, torch.float16) for t in ("full", "lora", "qlora")] == [torch.float32, torch.float16, None]  # T4
    assert [weight_dtype(t, torch.bfloat16) for t in ("full", "lora", "qlora")] == [torch.bfloat16] * 2 + [None]
    assert weight_dtype("lora") == torch.float32                     # here: no CUDA, train.mixed_precision_dtype() is None
    assert (dtype_bytes(torch.float16), dtype_bytes(torch.bfloat16), dtype_bytes(torch.float32)) == (2, 2, 4)
    with pytest.raises(ValueError): weight_dtype("prefix-tuning")


def test_quantization_config_computes_in_the_gpus_type(monkeypatch):
    import torch
    import ftcourse.train
    from ftcourse.lora import quantization_config
    assert quantization_config().bnb_4bit_compute_dtype == torch.float32            # a CPU
    monkeypatch.setattr(ftcourse.train, "mixed_precision_dtype", lambda: torch.float16)  # a T4
    assert quantization_config().bnb_4bit_compute_dtype == torch.float16


# --- benchmark processes: spawn on CUDA (bitsandbytes initialises CUDA), a fork server on a CPU ---------------

def test_bench_context_spawns_on_cuda_and_forks_from_a_server_on_cpu():
    import multiprocessing
    from ftcourse.lora import BENCH_PRELOAD, bench_context
    assert bench_context(cuda=True).get_start_method() == "spawn"
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert bench_context(cuda=False).get_start_method() == "forkserver"
    assert "bitsandbytes" in BENCH_PRELOAD           # why a fork server must never be used with CUDA


def test_bench_context_follows_cuda_when_not_told(monkeypatch):
    import multiprocessing
    import torch
    from ftcourse.lora import bench_context
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert bench_context().get_start_method() == "spawn"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if "forkserver" in multiprocessing.get_all_start_methods():   # Linux, macOS
        assert bench_context().get_start_method() == "forkserver"


def test_benchmark_runs_in_spawned_processes(monkeypatch):
    "What a CUDA machine does (`bench_context` spawns there), done here on the CPU: the child imports everything itself."
    import ftcourse.lora as lora
    monkeypatch.setattr(lora, "bench_context", lambda cuda=None: __import__("multiprocessing").get_context("spawn"))
    df = lora.benchmark(preset("lora", "small").but(n_test=1), steps=1, techniques=("lora",), progress=False)
    assert list(df.technique) == ["lora"] and df.model[0] == "asset:smollm2" and df.dtype[0] == "float32"
    assert df.loss_before[0] > 0 and df.peak_mb[0] > 0


def test_a_technique_whose_estimate_exceeds_the_gpu_is_not_started(monkeypatch):
    "On a GPU `run_technique` checks its estimate before loading anything (a simulated 0.2 GiB GPU here)."
    import torch
    import ftcourse.lora as lora
    import ftcourse.train
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(ftcourse.train, "mixed_precision_dtype", lambda: torch.float16)
    monkeypatch.setattr(lora, "gpu_memory_gib", lambda device=0: 0.2)
    loaded = []
    monkeypatch.setattr(lora, "load_for_training", lambda *a, **kw: loaded.append(a))
    with pytest.raises(MemoryError, match=r"full on asset:smollm2 is not started: it needs about [\d.]+ GiB .* the GPU has 0.2 GiB"):
        lora.run_technique("full", preset("lora", "small"), steps=1)
    assert loaded == []


def test_benchmark_runs_on_the_bench_model():
    from ftcourse.lora import bench_preset
    full, small = preset("lora", "full"), preset("lora", "small")
    assert bench_preset(full).model == full.extra["bench_model"] and bench_preset(full).n_train == full.n_train
    assert bench_preset(small) == small


# --- picking a model: gated repositories, chat templates, pad tokens ----------------------------------------

def test_a_gated_model_without_a_token_says_what_to_do(monkeypatch):
    import transformers
    from huggingface_hub.errors import GatedRepoError
    from ftcourse.lora import load_model_config, load_tokenizer

    def gated(source, *a, **kw):
        hub_error = GatedRepoError.__new__(GatedRepoError)   # its constructor's HTTP response type differs by version
        Exception.__init__(hub_error, "401 Client Error: access to model is restricted")
        try: raise hub_error
        except GatedRepoError as e:   # what transformers raises on top of huggingface_hub's error
            raise OSError(f"You are trying to access a gated repo.\nMake sure to have access to it at "
                          f"https://huggingface.co/{source}.") from e
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", gated)
    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", gated)
    for load in (load_tokenizer, load_model_config):
        with pytest.raises(PermissionError, match="mistralai/Mistral-7B-v0.1 is a gated model") as e:
            load("mistralai/Mistral-7B-v0.1")
        assert "HF_TOKEN" in str(e.value) and "hf auth login" in str(e.value)


def test_other_loading_errors_pass_through(monkeypatch):
    import transformers
    from ftcourse.lora import load_tokenizer
    def missing(*a, **kw): raise OSError("no-such/model is not a local folder and is not a valid model identifier")
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", missing)
    with pytest.raises(OSError, match="not a valid model identifier"):
        load_tokenizer("no-such/model")


def test_load_tokenizer_wants_a_chat_template_and_pads_with_eos(tmp_path, capsys):
    from transformers import AutoTokenizer
    from ftcourse.assets import model_source
    from ftcourse.lora import load_tokenizer
    tok = AutoTokenizer.from_pretrained(model_source(preset("lora", "small").model))
    tok.chat_template = None
    tok.save_pretrained(tmp_path / "base")
    with pytest.raises(ValueError, match="no chat template"):
        load_tokenizer(tmp_path / "base")
    tok = AutoTokenizer.from_pretrained(model_source(preset("lora", "small").model))
    tok.pad_token = None
    tok.save_pretrained(tmp_path / "nopad")
    loaded = load_tokenizer(tmp_path / "nopad")
    assert loaded.pad_token == loaded.eos_token and "no pad token" in capsys.readouterr().out


# --- training on the real small model ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    import torch
    from transformers import AutoTokenizer
    from ftcourse.assets import model_source
    from ftcourse.data import load
    from ftcourse.chatdata import encode_chats, pad_token_id
    torch.set_num_threads(1)
    p = preset("lora", "small")
    source = model_source(p.model)
    tok = AutoTokenizer.from_pretrained(source)
    ds = load(p)
    return {"p": p, "source": source, "tok": tok, "pad": pad_token_id(tok),
            "train": encode_chats(tok, ds["train"], p.max_length), "test": encode_chats(tok, ds["test"], p.max_length)}


@pytest.fixture(scope="module")
def trained_lora(small):
    from ftcourse.chatdata import mean_loss
    from ftcourse.lora import LEARNING_RATES, load_for_training, train_steps
    from ftcourse.train import seed_everything
    seed_everything(0)
    p = small["p"]
    model = load_for_training(small["source"], "lora", r=p.extra["r"], alpha=p.extra["alpha"],
                              target_modules=p.extra["target_modules"])
    before = mean_loss(model, small["test"][:4], small["pad"])
    losses = train_steps(model, small["train"], small["pad"], 5, p.batch_size, LEARNING_RATES["lora"], progress=False)
    after = mean_loss(model, small["test"][:4], small["pad"])
    return {"model": model, "before": before, "after": after, "losses": losses}


def test_label_mask_covers_only_the_reply(small):
    row = small["train"][0]
    labels = row["labels"]
    first = next(i for i, l in enumerate(labels) if l != -100)
    assert all(l == -100 for l in labels[:first]) and labels[first:] == row["input_ids"][first:]
    assert small["tok"].decode(row["input_ids"][first:]).startswith("Hi there, trailblazer!")


def test_lora_trains_under_2_percent_and_held_out_loss_falls(trained_lora):
    from ftcourse.train import count_parameters
    n = count_parameters(trained_lora["model"])
    assert 0 < n["trainable_pct"] < 2
    assert trained_lora["after"] < trained_lora["before"] - 0.3, trained_lora


def test_adapter_round_trips(small, trained_lora, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    from ftcourse.chatdata import pad_batch
    from ftcourse.lora import quiet_peft
    model = trained_lora["model"].eval()
    model.save_pretrained(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_model.safetensors").stat().st_size < 5e6
    fresh = AutoModelForCausalLM.from_pretrained(small["source"], dtype=torch.float32)
    with quiet_peft(): reloaded = PeftModel.from_pretrained(fresh, tmp_path / "adapter").eval()
    batch = pad_batch(small["test"][:2], small["pad"])
    with torch.no_grad():
        a, b = model(**batch).logits, reloaded(**batch).logits
        merged = reloaded.merge_and_unload()
        c = merged(**batch).logits
    assert torch.equal(a, b)
    assert torch.allclose(a, c, atol=1e-4)
    assert not any("lora" in n for n, _ in merged.named_parameters())


def test_qlora_weights_are_smaller_and_train_after_an_eval(small, trained_lora):
    "QLoRA runs on CPU with bitsandbytes 0.50; evaluating first must not stop the gradients (see the lesson)."
    from ftcourse.chatdata import mean_loss
    from ftcourse.lora import LEARNING_RATES, load_for_training, train_steps
    p = small["p"]
    q = load_for_training(small["source"], "qlora", r=p.extra["r"], alpha=p.extra["alpha"],
                          target_modules=p.extra["target_modules"])
    assert q.get_memory_footprint() < trained_lora["model"].get_memory_footprint() / 2.5
    before = mean_loss(q, small["test"][:2], small["pad"])          # an eval-mode pass first
    train_steps(q, small["train"], small["pad"], 2, p.batch_size, LEARNING_RATES["qlora"], progress=False)
    assert sum(float(w.detach().abs().sum()) for n, w in q.named_parameters() if "lora_B" in n) > 0
    assert mean_loss(q, small["test"][:2], small["pad"]) < before


def test_replies_end_at_the_end_of_the_turn(small):
    "`generate_replies` stops at the chat template's end-of-turn token, read from the template, not hard-coded."
    import copy
    from ftcourse.chatdata import end_of_turn_ids
    tok = small["tok"]
    assert tok.convert_ids_to_tokens(end_of_turn_ids(tok)) == ["<|im_end|>"]
    no_template = copy.deepcopy(tok)
    no_template.chat_template = None                 # a base model's tokenizer: only its eos ends a reply
    assert end_of_turn_ids(no_template) == [tok.eos_token_id]


def test_bitsandbytes_kernel_notice_is_filtered():
    "`import ftcourse` drops bitsandbytes' 'Failed to load CPU gemm_4bit_forward' line, and only that line."
    import logging
    import ftcourse  # noqa: F401  (installs the filter)
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger = logging.getLogger("bitsandbytes.backends.cpu.ops")
    logger.addHandler(handler)
    try:
        logger.warning("Failed to load CPU gemm_4bit_forward from kernels-community: %s. Please make sure ...",
                       "No module named 'kernels'")
        logger.warning("another bitsandbytes warning")
    finally: logger.removeHandler(handler)
    assert seen == ["another bitsandbytes warning"]


# --- the benchmark script and distributed training ---------------------------------------------------------

def _env():
    return {**os.environ, "FTCOURSE_SCALE": "small", "TQDM_DISABLE": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_benchmark_script_writes_json_table_and_plot(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "lora_benchmark.py"), "--out", str(tmp_path),
                           "--steps", "1", "--techniques", "lora"], capture_output=True, text=True, env=_env(),
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "lora_benchmark.json").read_text())
    row = data["rows"][0]
    for col in ("technique", "trainable_params", "total_params", "peak_mb", "estimated_mb", "tokens_per_s",
                "loss_before", "loss_after"):
        assert col in row
    assert row["technique"] == "lora" and row["trainable_params"] < 0.02 * row["total_params"]
    assert row["peak_mb"] > 0 and row["estimated_mb"] > 0
    assert (tmp_path / "lora_benchmark.png").stat().st_size > 1000
    assert "lora" in proc.stdout


def test_accelerate_launch_two_cpu_processes(tmp_path):
    """The training entry point runs unchanged under `accelerate launch` (DDP over gloo, 2 CPU processes).

    `--cpu` would start a single process in accelerate 1.15; `--multi_gpu` picks the torchrun launcher, and the
    script's `Accelerator(cpu=True)` (no CUDA here) makes the ranks use gloo."""
    cmd = [str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "ftcourse.lora", "train", "--out", str(tmp_path), "--steps", "2", "--batch-size", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world_size"] == 2 for r in ranks)
    assert all(len(r["losses"]) == 2 for r in ranks)
    assert ranks[0]["losses"] != ranks[1]["losses"]                          # different shards of the data
    assert abs(ranks[0]["lora_checksum"] - ranks[1]["lora_checksum"]) < 1e-6  # gradients were averaged
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()


def test_chat_helpers_are_chatdatas_and_keep_their_lora_names():
    "Lesson 4 trains with `ftcourse.chatdata`'s helpers; code that imported them from `ftcourse.lora` keeps working."
    import ftcourse.chatdata as chatdata
    import ftcourse.lora as lora
    import ftcourse.server as server
    for name in ("encode_chats", "pad_batch", "batches", "mean_loss", "tokenize_chat"):
        assert getattr(lora, name) is getattr(chatdata, name), name
    assert server.tokenize_chat is chatdata.tokenize_chat
    for name in ("generate_batch", "generate_reply", "end_of_turn_ids", "OpenAIPenalties"):   # generation moved to chatdata
        assert getattr(server, name) is getattr(chatdata, name), name
