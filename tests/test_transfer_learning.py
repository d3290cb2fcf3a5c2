"""Lesson 1's whole-run recipes: both train, both are reproducible with a seed, and they run in background processes."""
import pytest

import ftcourse  # noqa: F401  (first: offline at small scale)
from ftcourse.config import preset
from ftcourse import transfer_learning as tl

TINY = preset("transfer_learning").but(n_train=64, n_test=40, epochs=1,
                                         extra={**preset("transfer_learning").extra, "image_size": 32, "unfreeze_epochs": 1})


def test_unfreeze_schedule():
    assert tl.unfreeze_schedule(3, 2) == [2, 3] and tl.unfreeze_schedule(2, 2) == [1, 2]
    assert tl.unfreeze_schedule(4, 1) == [4]


def test_run_recipe_both_recipes_and_reproducible():
    pre = tl.run_recipe(TINY, "pretrained", seed=0, device="cpu")
    assert pre["epochs"] == 2 and 0 <= pre["test acc"] <= 1 and pre["seconds per epoch"] > 0
    assert tl.run_recipe(TINY, "pretrained", seed=0, device="cpu")["test acc"] == pre["test acc"]
    assert tl.run_recipe(TINY, "scratch", seed=0, device="cpu")["recipe"] == "scratch"
    with pytest.raises(ValueError, match="recipe is"):
        tl.run_recipe(TINY, "frozen", seed=0)


def test_start_runs_in_background_processes():
    futures = tl.start_runs(TINY, [("pretrained", 0), ("scratch", 1)], workers=1)
    rows = [f.result(timeout=600) for f in futures]
    assert [(r["recipe"], r["seed"]) for r in rows] == [("pretrained", 0), ("scratch", 1)]
    assert rows[0]["test acc"] == tl.run_recipe(TINY, "pretrained", seed=0, device="cpu")["test acc"]
    assert tl.start_runs(TINY, []) == []
