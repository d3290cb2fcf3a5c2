# Known wrong answers for warmup.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/00_warmup/warmup.ipynb

# %% q1_solution: counts every parameter, trainable or not
def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

# %% q1_solution: counts tensors, not values
def count_trainable(model: nn.Module) -> int:
    return sum(1 for p in model.parameters() if p.requires_grad)

# %% q1_solution: counts the weight matrices only
def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad and p.dim() > 1)

# %% q2_solution: unfreezes the named parts but leaves the others as they were
def freeze_except(model: nn.Module, prefixes) -> list:
    keep = []
    for name, p in model.named_parameters():
        if any(name.startswith(pre) for pre in prefixes):
            p.requires_grad = True; keep.append(name)
    return keep

# %% q2_solution: matches the prefix anywhere in the name
def freeze_except(model: nn.Module, prefixes) -> list:
    keep = []
    for name, p in model.named_parameters():
        p.requires_grad = any(pre in name for pre in prefixes)
        if p.requires_grad: keep.append(name)
    return keep

# %% q2_solution: passes the list to str.startswith (it takes a tuple)
def freeze_except(model: nn.Module, prefixes) -> list:
    keep = []
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(prefixes)
        if p.requires_grad: keep.append(name)
    return keep
