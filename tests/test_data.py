"""The small datasets load with the expected shapes, labels and splits."""
import numpy as np

from ftcourse import data
from ftcourse.config import PRESETS


def test_mnist_subset_shapes_and_balance():
    d = data.load_mnist_subset(200, 100, seed=1)
    assert d.x_train.shape == (200, 28, 28) and d.x_test.shape == (100, 28, 28)
    assert d.x_train.dtype == np.uint8 and d.x_train.max() > 200
    assert np.bincount(d.y_train, minlength=10).tolist() == [20] * 10
    assert np.bincount(d.y_test, minlength=10).tolist() == [10] * 10
    assert d.classes == [str(i) for i in range(10)]


def test_mnist_subset_is_deterministic_and_disjoint():
    a, b = data.load_mnist_subset(100, 50, seed=3), data.load_mnist_subset(100, 50, seed=3)
    assert np.array_equal(a.x_train, b.x_train)
    train = {x.tobytes() for x in a.x_train}
    assert not any(x.tobytes() in train for x in a.x_test)


def test_tweet_sentiment():
    ds = data.load_tweet_sentiment(300, 100)
    assert ds["train"].num_rows == 300 and ds["test"].num_rows == 100
    assert ds["train"].features["label"].names == ["negative", "positive"]
    assert sum(ds["test"]["label"]) == 50
    assert all(isinstance(t, str) and t for t in ds["train"]["text"])
    assert not set(ds["train"]["text"]) & set(ds["test"]["text"])


def test_small_presets_name_loadable_datasets():
    for lesson, by_scale in PRESETS.items():
        assert by_scale["small"].data in data.LOADERS, (lesson, by_scale["small"].data)


def test_balanced_split_refuses_too_much():
    import pytest
    with pytest.raises(ValueError, match="Ask for fewer"):
        data.balanced_split([0, 0, 1, 1], n_train=4, n_test=2)
