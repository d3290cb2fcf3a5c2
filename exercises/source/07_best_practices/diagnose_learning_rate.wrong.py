# Known wrong answers for diagnose_learning_rate.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/07_best_practices/diagnose_learning_rate.ipynb

# %% q1_solution: checks "too low" before "too high" (a curve drifting upwards is called too low)
def diagnose(losses):
    losses = [float(v) for v in losses]
    first, tail = losses[0], float(np.mean(losses[-5:]))
    if all(math.isfinite(v) for v in losses) and tail > 0.9 * first and max(losses) <= 2 * first: return "too_low"
    if not all(math.isfinite(v) for v in losses) or max(losses) > 2 * first or tail > 1.2 * first: return "too_high"
    return "good"

# %% q1_solution: compares the last loss instead of the mean of the last 5
def diagnose(losses):
    losses = [float(v) for v in losses]
    first, last = losses[0], losses[-1]
    if not all(math.isfinite(v) for v in losses) or max(losses) > 2 * first or last > 1.2 * first: return "too_high"
    if last > 0.9 * first: return "too_low"
    return "good"

# %% q1_solution: forgets that nan and inf mean "too high"
def diagnose(losses):
    losses = [float(v) for v in losses]
    first, tail = losses[0], float(np.mean(losses[-5:]))
    if max(losses) > 2 * first or tail > 1.2 * first: return "too_high"
    if tail > 0.9 * first: return "too_low"
    return "good"

# %% q2_solution: picks the rate of the lowest loss without dividing by 10
rt = lr_range_test(make_model(), batches, lr_min=1e-4, lr_max=100, steps=60,
                   loss_fn=lambda m, b: F.cross_entropy(m(b[0]), b[1]), optimizer_cls=torch.optim.SGD)

def pick_lr(rt):
    return float(rt.loc[rt["smoothed"].idxmin(), "lr"])

chosen = pick_lr(rt)
chosen_losses, chosen_model = train_curve(chosen)
print(f"chosen lr {chosen:.3g}; test accuracy {test_accuracy(chosen_model):.3f}")

# %% q2_solution: reads the raw loss instead of the smoothed one
rt = lr_range_test(make_model(), batches, lr_min=1e-4, lr_max=100, steps=60,
                   loss_fn=lambda m, b: F.cross_entropy(m(b[0]), b[1]), optimizer_cls=torch.optim.SGD)

def pick_lr(rt):
    return float(rt.loc[rt["loss"].idxmin(), "lr"] / 10)

chosen = pick_lr(rt)
chosen_losses, chosen_model = train_curve(chosen)
print(f"chosen lr {chosen:.3g}; test accuracy {test_accuracy(chosen_model):.3f}")

# %% q2_solution: a range test that stops at lr 1 (the default lr_max)
rt = lr_range_test(make_model(), batches, lr_min=1e-4, steps=60,
                   loss_fn=lambda m, b: F.cross_entropy(m(b[0]), b[1]), optimizer_cls=torch.optim.SGD)

def pick_lr(rt):
    return float(rt.loc[rt["smoothed"].idxmin(), "lr"] / 10)

chosen = pick_lr(rt)
chosen_losses, chosen_model = train_curve(chosen)
print(f"chosen lr {chosen:.3g}; test accuracy {test_accuracy(chosen_model):.3f}")
