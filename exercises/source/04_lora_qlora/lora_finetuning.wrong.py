# Known wrong answers for lora_finetuning.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/04_lora_qlora/lora_finetuning.ipynb
# (question 3 trains: its wrong answers run in the slow test, or without --fast)

# %% q1_solution: labels on every token (the prompt is trained on too)
def reply_only_labels(tokenizer, messages, max_length=256):
    ids = tokenizer(tokenizer.apply_chat_template(messages, tokenize=False), add_special_tokens=False)["input_ids"]
    return {"input_ids": ids[:max_length], "labels": list(ids[:max_length])}

# %% q1_solution: the prompt rendered without add_generation_prompt (the assistant header counts as reply)
def reply_only_labels(tokenizer, messages, max_length=256):
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    reply_ids = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
    return {"input_ids": (prompt_ids + reply_ids)[:max_length], "labels": ([-100] * len(prompt_ids) + reply_ids)[:max_length]}

# %% q1_solution: cuts the ids to max_length but not the labels
def reply_only_labels(tokenizer, messages, max_length=256):
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    reply_ids = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
    return {"input_ids": (prompt_ids + reply_ids)[:max_length], "labels": [-100] * len(prompt_ids) + reply_ids}

# %% q2_solution: lora_alpha = r
def add_adapters(model, r=8):
    from peft import LoraConfig, get_peft_model
    return get_peft_model(model, LoraConfig(r=r, lora_alpha=r, lora_dropout=0.05, target_modules=["q_proj", "v_proj"],
                                            task_type="CAUSAL_LM"))

# %% q2_solution: adapters on every linear layer
def add_adapters(model, r=8):
    from peft import LoraConfig, get_peft_model
    return get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.05, target_modules="all-linear",
                                            task_type="CAUSAL_LM"))

# %% q2_solution: peft's default dropout (none)
def add_adapters(model, r=8):
    from peft import LoraConfig, get_peft_model
    return get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))

# %% q2_solution: rank fixed at 8
def add_adapters(model, r=8):
    from peft import LoraConfig, get_peft_model
    return get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["q_proj", "v_proj"],
                                            task_type="CAUSAL_LM"))

# %% q3_solution: gives AdamW every parameter
def train_adapters(model, examples, pad_id, steps, batch_size=4, lr=3e-3, seed=0):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses, epoch, it = [], 0, iter(())
    model.train()
    while len(losses) < steps:
        batch = next(it, None)
        if batch is None:
            it = batches(examples, batch_size, pad_id, seed=seed + epoch); epoch += 1; continue
        loss = model(**batch).loss
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        losses.append(loss.item())
    return losses

# %% q3_solution: never clears the gradients
def train_adapters(model, examples, pad_id, steps, batch_size=4, lr=3e-3, seed=0):
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=lr, weight_decay=0.0)
    losses, epoch, it = [], 0, iter(())
    model.train()
    while len(losses) < steps:
        batch = next(it, None)
        if batch is None:
            it = batches(examples, batch_size, pad_id, seed=seed + epoch); epoch += 1; continue
        loss = model(**batch).loss
        loss.backward(); optimizer.step()
        losses.append(loss.item())
    return losses

# %% q3_solution: stops at the end of the first epoch
def train_adapters(model, examples, pad_id, steps, batch_size=4, lr=3e-3, seed=0):
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=lr, weight_decay=0.0)
    losses = []
    model.train()
    for batch in batches(examples, batch_size, pad_id, seed=seed):
        if len(losses) == steps: break
        loss = model(**batch).loss
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        losses.append(loss.item())
    return losses

# %% q3_solution: leaves the model in eval mode (no dropout) and returns tensors
def train_adapters(model, examples, pad_id, steps, batch_size=4, lr=3e-3, seed=0):
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=lr, weight_decay=0.0)
    losses, epoch, it = [], 0, iter(())
    while len(losses) < steps:
        batch = next(it, None)
        if batch is None:
            it = batches(examples, batch_size, pad_id, seed=seed + epoch); epoch += 1; continue
        loss = model(**batch).loss
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        losses.append(loss.detach())
    return losses
