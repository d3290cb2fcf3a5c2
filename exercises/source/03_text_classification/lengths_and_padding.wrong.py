# Known wrong answers for lengths_and_padding.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/03_text_classification/lengths_and_padding.ipynb

# %% q1_solution: rounds to the nearest multiple instead of up
def choose_max_length(lengths, percentile=99, multiple_of=8, limit=512):
    value = np.percentile(np.asarray(lengths), percentile)
    return int(min(round(value / multiple_of) * multiple_of, limit))

# %% q1_solution: uses the longest text, not the percentile
def choose_max_length(lengths, percentile=99, multiple_of=8, limit=512):
    value = max(lengths)
    return int(min(np.ceil(value / multiple_of) * multiple_of, limit))

# %% q1_solution: returns a NumPy float
def choose_max_length(lengths, percentile=99, multiple_of=8, limit=512):
    value = np.percentile(np.asarray(lengths), percentile)
    return min(np.ceil(value / multiple_of) * multiple_of, limit)

# %% q1_solution: forgets the model's limit
def choose_max_length(lengths, percentile=99, multiple_of=8, limit=512):
    value = np.percentile(np.asarray(lengths), percentile)
    return int(np.ceil(value / multiple_of) * multiple_of)

# %% q2_solution: does not truncate to max_length first
def padded_fraction(lengths, batch_size, max_length, strategy):
    lengths = np.asarray(lengths)
    if strategy == "max_length": computed = len(lengths) * max_length
    elif strategy == "dynamic":
        computed = sum(len(b) * b.max() for b in (lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)))
    else: raise ValueError(strategy)
    return float(1 - lengths.sum() / computed)

# %% q2_solution: counts the last batch as a full batch
def padded_fraction(lengths, batch_size, max_length, strategy):
    lengths = np.minimum(np.asarray(lengths), max_length)
    if strategy == "max_length": computed = len(lengths) * max_length
    elif strategy == "dynamic":
        computed = sum(batch_size * b.max() for b in (lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)))
    else: raise ValueError(strategy)
    return float(1 - lengths.sum() / computed)

# %% q2_solution: padding per real token instead of per computed token
def padded_fraction(lengths, batch_size, max_length, strategy):
    lengths = np.minimum(np.asarray(lengths), max_length)
    if strategy == "max_length": computed = len(lengths) * max_length
    elif strategy == "dynamic":
        computed = sum(len(b) * b.max() for b in (lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)))
    else: raise ValueError(strategy)
    return float((computed - lengths.sum()) / lengths.sum())

# %% q2_solution: an unknown strategy falls back to dynamic padding
def padded_fraction(lengths, batch_size, max_length, strategy):
    lengths = np.minimum(np.asarray(lengths), max_length)
    if strategy == "max_length": computed = len(lengths) * max_length
    else:
        computed = sum(len(b) * b.max() for b in (lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)))
    return float(1 - lengths.sum() / computed)

# %% q3_solution: pads on the left
def collate(features, pad_id):
    longest = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), longest), dtype=torch.long)
    for row, f in enumerate(features):
        n = len(f["input_ids"])
        ids[row, longest - n:] = torch.tensor(f["input_ids"]); mask[row, longest - n:] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([f["label"] for f in features])}

# %% q3_solution: the key "label" instead of "labels"
def collate(features, pad_id):
    longest = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), longest), dtype=torch.long)
    for row, f in enumerate(features):
        n = len(f["input_ids"])
        ids[row, :n] = torch.tensor(f["input_ids"]); mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "label": torch.tensor([f["label"] for f in features])}

# %% q3_solution: an attention mask of ones everywhere
def collate(features, pad_id):
    longest = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), longest), pad_id, dtype=torch.long)
    for row, f in enumerate(features):
        ids[row, :len(f["input_ids"])] = torch.tensor(f["input_ids"])
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids),
            "labels": torch.tensor([f["label"] for f in features])}

# %% q3_solution: int32 tensors
def collate(features, pad_id):
    longest = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), longest), pad_id, dtype=torch.int32)
    mask = torch.zeros((len(features), longest), dtype=torch.int32)
    for row, f in enumerate(features):
        n = len(f["input_ids"])
        ids[row, :n] = torch.tensor(f["input_ids"]); mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([f["label"] for f in features], dtype=torch.int32)}
