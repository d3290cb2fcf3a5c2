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


# --- full scale: the loaders' own post-processing, run on the offline stand-ins (rehearsal) ---------------------

def _rehearsing():
    from ftcourse.config import rehearsal_env
    return rehearsal_env()


def test_full_presets_load_under_rehearsal():
    from ftcourse.config import preset
    with _rehearsing():
        for lesson, by_scale in PRESETS.items():
            p = preset(lesson)
            ds = data.load(p)
            if isinstance(ds, data.ImageData):
                assert len(ds.x_train) == p.n_train and len(ds.x_test) == p.n_test
            else:
                assert ds["train"].num_rows == p.n_train and ds["test"].num_rows == p.n_test, lesson


def test_load_imdb_maps_labels_by_name_and_deduplicates_before_splitting():
    with _rehearsing():
        raw = data.hub_dataset("stanfordnlp/imdb")
        ds = data.load_imdb(n_train=400, n_test=200, seed=3)
    assert ds["train"].features["label"].names == ["negative", "positive"] and list(ds) == ["train", "test"]
    train, test = list(ds["train"]["text"]), list(ds["test"]["text"])
    assert len(set(train)) == len(train) and not set(train) & set(test)
    assert np.bincount(ds["train"]["label"]).tolist() == [200, 200]
    hub_label = dict(zip(raw["train"]["text"], raw["train"]["label"]))
    pos = raw["train"].features["label"].str2int("pos")
    for text, label in zip(train, ds["train"]["label"]):   # every review keeps its meaning
        assert (hub_label[text] == pos) == (label == 1)
    # a validation split carved from this train split can no longer share a review with it
    parts = ds["train"].train_test_split(test_size=0.2, seed=0)
    assert not set(parts["train"]["text"]) & set(parts["test"]["text"])


def test_load_imdb_refuses_unknown_label_names(monkeypatch):
    from datasets import ClassLabel
    real = data.hub_dataset
    def renamed(repo, **kw):
        ds = real(repo, **kw)
        return ds.cast_column("label", ClassLabel(names=["bad", "good"]))
    monkeypatch.setattr(data, "hub_dataset", renamed)
    import pytest
    with _rehearsing(), pytest.raises(ValueError, match="load_imdb knows"):
        data.load_imdb(10, 10)


def test_load_conll2003_reads_the_parquet_revision_and_checks_the_tags(monkeypatch):
    import pytest
    from datasets import ClassLabel, List
    asked = []
    real = data.hub_dataset
    monkeypatch.setattr(data, "hub_dataset", lambda repo, **kw: asked.append((repo, kw)) or real(repo, **kw))
    with _rehearsing():
        ds = data.load_conll2003(30, 10)
    assert asked == [("eriktks/conll2003", {"revision": "refs/convert/parquet"})]
    assert ds["train"].features["ner_tags"].feature.names == data.NER_LABELS and ds["test"].num_rows == 10
    reordered = data.NER_LABELS[::-1]
    monkeypatch.setattr(data, "hub_dataset", lambda repo, **kw: real(repo, **kw).cast_column(
        "ner_tags", List(ClassLabel(names=reordered))))
    with _rehearsing(), pytest.raises(ValueError, match="Map them by name"):
        data.load_conll2003(30, 10)


def test_load_squad_and_cifar10_under_rehearsal():
    with _rehearsing():
        squad, cifar = data.load_squad(30, 12), data.load_cifar10(30, 12)
    assert squad["train"].num_rows == 30 and len(squad["test"][0]["answers"]["text"]) == 3
    assert cifar.x_train.shape == (30, 32, 32, 3) and cifar.x_train.dtype == np.uint8 and "stand-in" in cifar.source
    assert cifar.classes == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
