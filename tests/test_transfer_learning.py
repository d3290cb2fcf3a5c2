"""Lesson 1's whole-run recipes: both train, both are reproducible with a seed, and they run in background processes."""
import pytest
import torch

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


def test_build_model_at_full_scale_goes_through_torchvision_model(capsys):
    # under rehearsal `full` builds ResNet-50 through ftcourse.assets.torchvision_model: random weights, said out loud,
    # nothing downloaded; the new head has the CIFAR-10 classes
    from ftcourse.config import rehearsal_env
    with rehearsal_env():
        p = preset("transfer_learning")
        model = tl.build_model(p)
    assert p.model == "resnet50" and type(model).__name__ == "ResNet"
    assert "REHEARSAL: resnet50 with random weights" in capsys.readouterr().out
    assert model.fc[0].in_features == 2048 and model.fc[-1].out_features == 10
    assert tl.unfreeze_last_blocks(model, p.extra["unfreeze_blocks"]) == ["layer3", "layer4"]


def test_make_loaders_on_colour_images():
    # full scale's CIFAR-10 shape: colour uint8 (N, 32, 32, 3) pass through unchanged, flips allowed
    import numpy as np
    from ftcourse.data import ImageData
    rng = np.random.default_rng(0)
    data = ImageData(rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8), np.arange(8) % 10,
                     rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), np.arange(4), list("abcdefghij"), "test")
    train, test = tl.make_loaders(data, tl.WEIGHTS["resnet50"], 32, batch_size=4, hflip=True)
    xb, yb = next(iter(train))
    assert xb.shape == (4, 3, 32, 32) and xb.dtype.is_floating_point and yb.dtype == torch.int64 and len(yb) == 4
    assert not np.allclose(xb[:, 0].numpy(), xb[:, 1].numpy())   # colour: the channels differ
    assert next(iter(test))[0].shape == (4, 3, 32, 32)
