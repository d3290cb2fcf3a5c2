# Known wrong answers for unfreeze_budget.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/01_transfer_learning/unfreeze_budget.ipynb

# %% q1_solution: counts only the parameters that are trainable now
def block_sizes(model):
    def n(m): return sum(q.numel() for q in m.parameters() if q.requires_grad)
    return [(name, n(block)) for name, block in backbone_blocks(model)] + [("head", n(getattr(model, head_name(model))))]

# %% q1_solution: counts tensors, not values
def block_sizes(model):
    def n(m): return len(list(m.parameters()))
    return [(name, n(block)) for name, block in backbone_blocks(model)] + [("head", n(getattr(model, head_name(model))))]

# %% q1_solution: puts the head first
def block_sizes(model):
    def n(m): return sum(q.numel() for q in m.parameters())
    return [("head", n(getattr(model, head_name(model))))] + [(name, n(block)) for name, block in backbone_blocks(model)]

# %% q2_solution: stops one block too late (the first plan over the budget)
def plan_unfreezing(sizes, budget):
    *blocks, (_, head) = sizes
    if head > budget: raise ValueError("the head alone is over the budget")
    n, trainable = 0, head
    for _, size in reversed(blocks):
        n, trainable = n + 1, trainable + size
        if trainable > budget: break
    return n, trainable

# %% q2_solution: leaves the head out of the budget
def plan_unfreezing(sizes, budget):
    *blocks, (_, head) = sizes
    n, used = 0, 0
    for _, size in reversed(blocks):
        if used + size > budget: break
        n, used = n + 1, used + size
    return n, used + head

# %% q2_solution: unfreezes from the input side
def plan_unfreezing(sizes, budget):
    *blocks, (_, head) = sizes
    if head > budget: raise ValueError("the head alone is over the budget")
    n, trainable = 0, head
    for _, size in blocks:
        if trainable + size > budget: break
        n, trainable = n + 1, trainable + size
    return n, trainable

# %% q2_solution: returns (0, head) instead of raising when the head is over the budget
def plan_unfreezing(sizes, budget):
    *blocks, (_, head) = sizes
    n, trainable = 0, head
    for _, size in reversed(blocks):
        if trainable + size > budget: break
        n, trainable = n + 1, trainable + size
    return n, trainable

# %% q2_solution: skips a block that does not fit and goes on with the next one
def plan_unfreezing(sizes, budget):
    *blocks, (_, head) = sizes
    if head > budget: raise ValueError("the head alone is over the budget")
    n, trainable = 0, head
    for _, size in reversed(blocks):
        if trainable + size <= budget: n, trainable = n + 1, trainable + size
    return n, trainable

# %% q3_solution: optimizer state for every parameter, frozen ones included
def training_memory_gib(sizes, n_blocks, optimizer="adamw"):
    state = {"sgd": 0, "momentum": 1, "adamw": 2}[optimizer]
    *blocks, (_, head) = sizes
    trainable = head + sum(size for _, size in blocks[len(blocks) - n_blocks:]) if n_blocks > 0 else head
    total = sum(size for _, size in sizes)
    return (4 * total + 4 * trainable + 4 * state * total) / 2**30

# %% q3_solution: GB (10^9 bytes) instead of GiB
def training_memory_gib(sizes, n_blocks, optimizer="adamw"):
    state = {"sgd": 0, "momentum": 1, "adamw": 2}[optimizer]
    *blocks, (_, head) = sizes
    trainable = head + sum(size for _, size in blocks[len(blocks) - n_blocks:]) if n_blocks > 0 else head
    total = sum(size for _, size in sizes)
    return (4 * total + 4 * trainable * (1 + state)) / 1e9

# %% q3_solution: forgets the gradients
def training_memory_gib(sizes, n_blocks, optimizer="adamw"):
    state = {"sgd": 0, "momentum": 1, "adamw": 2}[optimizer]
    *blocks, (_, head) = sizes
    trainable = head + sum(size for _, size in blocks[len(blocks) - n_blocks:]) if n_blocks > 0 else head
    total = sum(size for _, size in sizes)
    return (4 * total + 4 * trainable * state) / 2**30

# %% q3_solution: blocks[-n_blocks:] (n_blocks=0 counts every block)
def training_memory_gib(sizes, n_blocks, optimizer="adamw"):
    state = {"sgd": 0, "momentum": 1, "adamw": 2}
    if optimizer not in state: raise ValueError(optimizer)
    *blocks, (_, head) = sizes
    trainable = head + sum(size for _, size in blocks[-n_blocks:])
    total = sum(size for _, size in sizes)
    return (4 * total + 4 * trainable * (1 + state[optimizer])) / 2**30
