# Known wrong answers for transfer_learning.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/01_transfer_learning/transfer_learning.ipynb
# (question 3 trains a model: its wrong answers run in the slow test, or without --fast)

# %% q1_solution: the last n children of the model, not its blocks
def unfreeze_last_blocks(model: nn.Module, n: int) -> list:
    model.requires_grad_(False)
    children = list(model.named_children())[-n:] if n > 0 else []
    for _, child in children: child.requires_grad_(True)
    return [name for name, _ in children]

# %% q1_solution: blocks[-n:] (n=0 unfreezes everything)
def unfreeze_last_blocks(model: nn.Module, n: int) -> list:
    if hasattr(model, "layer4"):
        blocks = [("stem", [model.conv1, model.bn1])] + [(f"layer{i}", [getattr(model, f"layer{i}")]) for i in range(1, 5)]
        head = model.fc
    else:
        blocks = [(f"features.{i}", [b]) for i, b in enumerate(model.features)]
        head = model.classifier
    model.requires_grad_(False)
    head.requires_grad_(True)
    chosen = blocks[-n:]
    for _, modules in chosen:
        for m in modules: m.requires_grad_(True)
    return [name for name, _ in chosen]

# %% q1_solution: unfreezes without freezing the rest first (a second call adds to the first)
def unfreeze_last_blocks(model: nn.Module, n: int) -> list:
    if hasattr(model, "layer4"):
        blocks = [("stem", [model.conv1, model.bn1])] + [(f"layer{i}", [getattr(model, f"layer{i}")]) for i in range(1, 5)]
        for m in (model.conv1, model.bn1, model.layer1, model.layer2, model.layer3): m.requires_grad_(False)
    else:
        blocks = [(f"features.{i}", [b]) for i, b in enumerate(model.features)]
        model.features[:-2].requires_grad_(False)
    chosen = blocks[max(len(blocks) - n, 0):] if n > 0 else []
    for _, modules in chosen:
        for m in modules: m.requires_grad_(True)
    return [name for name, _ in chosen]

# %% q1_solution: the stem is conv1 only (bn1 stays frozen)
def unfreeze_last_blocks(model: nn.Module, n: int) -> list:
    if hasattr(model, "layer4"):
        blocks = [("stem", [model.conv1])] + [(f"layer{i}", [getattr(model, f"layer{i}")]) for i in range(1, 5)]
        head = model.fc
    else:
        blocks = [(f"features.{i}", [b]) for i, b in enumerate(model.features)]
        head = model.classifier
    model.requires_grad_(False)
    head.requires_grad_(True)
    chosen = blocks[max(len(blocks) - n, 0):] if n > 0 else []
    for _, modules in chosen:
        for m in modules: m.requires_grad_(True)
    return [name for name, _ in chosen]

# %% q2_solution: the rate counts only the trainable blocks, not the position in blocks
def discriminative_groups(blocks: list, head: nn.Module, lr: float, decay: float = 0.5) -> list:
    live = [(name, [q for q in block.parameters() if q.requires_grad]) for name, block in blocks]
    live = [(name, params) for name, params in live if params]
    groups = [{"name": name, "params": params, "lr": lr * decay ** (len(live) - i)} for i, (name, params) in enumerate(live)]
    groups.append({"name": "head", "params": [q for q in head.parameters() if q.requires_grad], "lr": lr})
    return groups

# %% q2_solution: puts frozen parameters in the groups too
def discriminative_groups(blocks: list, head: nn.Module, lr: float, decay: float = 0.5) -> list:
    groups = []
    for i, (name, block) in enumerate(blocks):
        if any(q.requires_grad for q in block.parameters()):
            groups.append({"name": name, "params": list(block.parameters()), "lr": lr * decay ** (len(blocks) - i)})
    groups.append({"name": "head", "params": list(head.parameters()), "lr": lr})
    return groups

# %% q2_solution: the last block trains at the head's rate (exponent off by one)
def discriminative_groups(blocks: list, head: nn.Module, lr: float, decay: float = 0.5) -> list:
    groups = []
    for i, (name, block) in enumerate(blocks):
        params = [q for q in block.parameters() if q.requires_grad]
        if params: groups.append({"name": name, "params": params, "lr": lr * decay ** (len(blocks) - 1 - i)})
    groups.append({"name": "head", "params": [q for q in head.parameters() if q.requires_grad], "lr": lr})
    return groups

# %% q3_solution: model.train() for everything (the frozen BatchNorm statistics drift)
def train_head(model: nn.Module, loader, epochs: int = 4, lr: float = 3e-3) -> list:
    model.requires_grad_(False)
    model.classifier.requires_grad_(True)
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
            total += loss.item() * len(y); seen += len(y)
        losses.append(total / seen)
    return losses

# %% q3_solution: model.eval() for everything (the head's dropout is off)
def train_head(model: nn.Module, loader, epochs: int = 4, lr: float = 3e-3) -> list:
    model.requires_grad_(False)
    model.classifier.requires_grad_(True)
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=lr)
    losses = []
    model.eval()
    for _ in range(epochs):
        total, seen = 0.0, 0
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
            total += loss.item() * len(y); seen += len(y)
        losses.append(total / seen)
    return losses

# %% q3_solution: gives AdamW every parameter, frozen ones included
def train_head(model: nn.Module, loader, epochs: int = 4, lr: float = 3e-3) -> list:
    model.requires_grad_(False)
    model.classifier.requires_grad_(True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d): m.eval()
        total, seen = 0.0, 0
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
            total += loss.item() * len(y); seen += len(y)
        losses.append(total / seen)
    return losses

# %% q3_solution: forgets to freeze the backbone (BatchNorm kept in eval mode)
def train_head(model: nn.Module, loader, epochs: int = 4, lr: float = 3e-3) -> list:
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d): m.eval()
        total, seen = 0.0, 0
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
            total += loss.item() * len(y); seen += len(y)
        losses.append(total / seen)
    return losses
