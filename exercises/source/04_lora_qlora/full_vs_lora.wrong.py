# Known wrong answers for full_vs_lora.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/04_lora_qlora/full_vs_lora.ipynb
# (question 3 trains: its wrong answers run in the slow test, or without --fast)

# %% q1_solution: ignores the key-value heads (k_proj and v_proj as h -> h)
def lora_count(config, r, targets):
    h, i = config["hidden_size"], config["intermediate_size"]
    shapes = {"q_proj": (h, h), "k_proj": (h, h), "v_proj": (h, h), "o_proj": (h, h),
              "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return config["num_hidden_layers"] * sum(r * sum(shapes[t]) for t in targets)

# %% q1_solution: r x d_in x d_out (a product, not a sum)
def lora_count(config, r, targets):
    h, i = config["hidden_size"], config["intermediate_size"]
    kv = h * config.get("num_key_value_heads", config["num_attention_heads"]) // config["num_attention_heads"]
    shapes = {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h),
              "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return config["num_hidden_layers"] * sum(r * shapes[t][0] * shapes[t][1] for t in targets)

# %% q1_solution: one layer only (forgets num_hidden_layers)
def lora_count(config, r, targets):
    h, i = config["hidden_size"], config["intermediate_size"]
    kv = h * config.get("num_key_value_heads", config["num_attention_heads"]) // config["num_attention_heads"]
    shapes = {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h),
              "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return sum(r * sum(shapes[t]) for t in targets)

# %% q2_solution: GB (10^9 bytes) instead of GiB
def training_state_gib(n_trainable, grad_bytes=2, optimizer_bytes=12):
    return n_trainable * (grad_bytes + optimizer_bytes) / 1e9

state = {"full": training_state_gib(6_738_415_616), "lora": training_state_gib(8_388_608)}

# %% q2_solution: forgets the gradients
def training_state_gib(n_trainable, grad_bytes=2, optimizer_bytes=12):
    return n_trainable * optimizer_bytes / 2 ** 30

state = {"full": training_state_gib(6_738_415_616), "lora": training_state_gib(8_388_608)}

# %% q2_solution: LoRA at r=8 instead of r=16
def training_state_gib(n_trainable, grad_bytes=2, optimizer_bytes=12):
    return n_trainable * (grad_bytes + optimizer_bytes) / 2 ** 30

state = {"full": training_state_gib(6_738_415_616), "lora": training_state_gib(4_194_304)}

# %% q3_solution: loss_drop as after minus before
runs = benchmark(p, steps=2, techniques=("full", "lora"), progress=False).set_index("technique")
comparison = pd.DataFrame({"trainable_pct": 100 * runs.trainable_params / runs.total_params,
                           "loss_drop": runs.loss_after - runs.loss_before,
                           "tokens_per_s": runs.tokens_per_s, "peak_mb": runs.peak_mb})
memory_saving = float(comparison.loc["full", "peak_mb"] / comparison.loc["lora", "peak_mb"])

# %% q3_solution: trainable share as a fraction, not a percentage
runs = benchmark(p, steps=2, techniques=("full", "lora"), progress=False).set_index("technique")
comparison = pd.DataFrame({"trainable_pct": runs.trainable_params / runs.total_params,
                           "loss_drop": runs.loss_before - runs.loss_after,
                           "tokens_per_s": runs.tokens_per_s, "peak_mb": runs.peak_mb})
memory_saving = float(comparison.loc["full", "peak_mb"] / comparison.loc["lora", "peak_mb"])

# %% q3_solution: memory_saving upside down (LoRA's peak over full's)
runs = benchmark(p, steps=2, techniques=("full", "lora"), progress=False).set_index("technique")
comparison = pd.DataFrame({"trainable_pct": 100 * runs.trainable_params / runs.total_params,
                           "loss_drop": runs.loss_before - runs.loss_after,
                           "tokens_per_s": runs.tokens_per_s, "peak_mb": runs.peak_mb})
memory_saving = float(comparison.loc["lora", "peak_mb"] / comparison.loc["full", "peak_mb"])
