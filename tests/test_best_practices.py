"""Lesson 7's tools: `clean` finds exactly the planted defects, resuming from a checkpoint reproduces the
uninterrupted run, evaluation counts every example once, TensorBoard holds what the Trainer logged."""
import numpy as np
import pandas as pd
import pytest
import torch

import ftcourse  # noqa: F401  (first: offline at small scale)
from ftcourse import best_practices as bp


@pytest.fixture(scope="module")
def messy():
    return bp.make_messy_dataset()


def test_messy_dataset_is_deterministic(messy):
    again = bp.make_messy_dataset()
    assert again["train"] == messy["train"] and again["test"] == messy["test"]
    assert again["planted"].equals(messy["planted"])


def test_clean_drops_exactly_the_planted_rows(messy):
    cleaned = bp.clean(messy["train"], messy["test"])
    found = cleaned.dropped["reason"].sort_index()
    assert found.to_dict() == messy["planted"]["reason"].sort_index().to_dict()
    assert cleaned.summary().to_dict() == {"missing_fields": 5, "too_short": 4, "too_long": 3, "test_leak": 10,
                                           "duplicate": 15, "near_duplicate": 120, "kept": 400}
    assert sorted(cleaned.kept_index + list(cleaned.dropped.index)) == list(range(len(messy["train"])))
    assert cleaned.report["conflicting_labels"] == 120
    # every kept row is one of the defect-free base rows, in their original order
    assert [messy["train"][i] for i in cleaned.kept_index] == cleaned.kept
    assert not set(cleaned.kept_index) & set(messy["planted"].index)


def test_clean_on_a_hand_made_example():
    rows = [{"input": "my flight was delayed three hours", "output": "negative"},
            {"input": "My flight  was DELAYED three hours", "output": "positive"},
            {"input": "ok", "output": "positive"},
            {"input": "the crew was lovely and kind", "output": ""},
            {"input": "RT my flight was delayed three hours", "output": "negative"},
            {"input": "loved the new lounge in Denver", "output": "positive"},
            {"input": "x" * 700, "output": "negative"},
            {"input": "the seats were clean and comfortable", "output": "positive"}]
    test = [{"input": "Loved the new lounge in Denver", "output": "positive"}]
    c = bp.clean(rows, test)
    assert c.kept_index == [0, 7]
    assert c.dropped["reason"].to_dict() == {1: "duplicate", 2: "too_short", 3: "missing_fields",
                                             4: "near_duplicate", 5: "test_leak", 6: "too_long"}
    assert "different label" in c.dropped.loc[1, "detail"]
    assert c.report["labels_after"] == {"negative": 1, "positive": 1}


def test_clean_reuses_the_chat_validator():
    sys_m = {"role": "system", "content": "You are a support assistant."}
    good = {"messages": [sys_m, {"role": "user", "content": "Do gift cards expire at all?"},
                         {"role": "assistant", "content": "No, never."}]}
    other = {"messages": [sys_m, {"role": "user", "content": "Can I pay with PayPal here?"},
                          {"role": "assistant", "content": "Yes."}]}
    rows = [good, {"messages": good["messages"][:2]}, dict(good), other,
            {"messages": [sys_m, {"role": "user", "content": "Where is my parcel now?"},
                          {"role": "assistant", "content": None}]}]
    c = bp.clean(rows, label_key=None)
    assert c.kept_index == [0, 3]
    assert c.dropped["reason"].to_dict() == {1: "missing_fields", 2: "duplicate", 4: "missing_fields"}
    assert c.dropped.loc[1, "detail"].startswith("example_missing_assistant_message")
    assert c.dropped.loc[4, "detail"].startswith("missing_content")


def test_near_duplicate_index_is_exact_above_threshold():
    idx = bp.NearDuplicateIndex(threshold=0.7)
    texts = ["@united this 2 hr delay is a vacation buzzkill", "the lounge in Denver was lovely today"]
    for i, t in enumerate(texts): idx.add(i, t)
    hits = idx.query("@united this 2 hr delay is a vacation")
    assert [k for k, _ in hits] == [0] and hits[0][1] == pytest.approx(0.7857, abs=1e-3)
    assert idx.query("completely unrelated words about trains") == []


def test_evaluate_classifier_counts_every_example_once():
    import matplotlib
    matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=50)
    probs = rng.dirichlet(np.ones(3), size=50)
    ev = bp.evaluate_classifier(None, (list(range(50)), labels), ["a", "b", "c"], predict=lambda m, xs: probs, k=2)
    assert ev.confusion.sum() == 50 and np.trace(ev.confusion) == int((probs.argmax(1) == labels).sum())
    assert ev.report.loc["accuracy", "precision"] == pytest.approx(ev.accuracy)
    assert len(ev.errors) <= 6 and (ev.errors["true"] != ev.errors["predicted"]).all()
    # token classification: one label list per sentence, -100 ignored
    sents, tags = [["Ada", "lives", "here"], ["Bob", "too"]], [[1, 0, -100], [1, 0]]
    ev_tok = bp.evaluate_classifier(None, (sents, tags), ["O", "PER"], plot=False,
                                    predict=lambda m, xs: [np.array([1, 0, 0]), np.array([0, 0])])
    assert ev_tok.confusion.sum() == 4 and ev_tok.confusion.tolist() == [[2, 0], [1, 1]]
    assert ev_tok.errors["example"].tolist() == ["[Bob] too"]


def test_schedules_come_from_the_real_scheduler():
    lin = bp.schedule_lrs("linear", 100, 10, lr=1.0)
    cos = bp.schedule_lrs("cosine", 100, 10, lr=1.0)
    assert lin[0] == 0 and lin[10] == 1.0 and cos[10] == 1.0
    assert cos[55] == pytest.approx(0.5) and lin[55] == pytest.approx(0.5)
    assert lin[99] == pytest.approx(1 / 90)


@pytest.fixture(scope="module")
def tiny_data():
    from datasets import Dataset
    from transformers import AutoTokenizer, DataCollatorWithPadding
    from ftcourse.assets import model_source
    from ftcourse.data import load_tweet_sentiment
    tok = AutoTokenizer.from_pretrained(model_source("asset:minilm"))
    ds = load_tweet_sentiment(64, 16)["train"]
    enc = tok(list(ds["text"]), truncation=True, max_length=48)
    train = Dataset.from_dict(dict(enc)).add_column("label", list(ds["label"]))
    return tok, train, DataCollatorWithPadding(tok)


def test_gradient_accumulation_equals_the_big_batch(tiny_data):
    tok, train, collator = tiny_data
    batch = dict(collator([train[i] for i in range(16)]))
    batch["labels"] = batch.pop("labels")
    model = bp.tiny_bert_classifier(tok.vocab_size, dropout=0.0)
    full = bp.accumulated_gradients(model, batch, 1)
    acc = bp.accumulated_gradients(model, batch, 4)
    assert all(torch.allclose(full[k], acc[k], atol=1e-6, rtol=1e-4) for k in full)


def _args(path, **kw):
    from transformers import TrainingArguments
    d = dict(output_dir=str(path), max_steps=8, per_device_train_batch_size=8, learning_rate=1e-3, seed=0,
             save_strategy="steps", save_steps=4, logging_steps=2, report_to="none", disable_tqdm=True,
             dataloader_pin_memory=False)
    d.update(kw)
    return TrainingArguments(**d)


def test_resume_reaches_the_same_model(tiny_data, tmp_path):
    from transformers import Trainer
    tok, train, collator = tiny_data
    make = lambda path, seed: Trainer(model=bp.tiny_bert_classifier(tok.vocab_size, seed=seed), args=_args(path),
                                      train_dataset=train, eval_dataset=train, data_collator=collator)
    straight = make(tmp_path / "a", 0)
    straight.train()
    cut = make(tmp_path / "b", 0)
    cut.add_callback(bp.StopAtStep(4))
    cut.train()
    assert cut.state.global_step == 4 and (tmp_path / "b" / "checkpoint-4" / "optimizer.pt").is_file()
    resumed = make(tmp_path / "b", 7)  # different initial weights: everything must come from the checkpoint
    resumed.train(resume_from_checkpoint=True)
    assert resumed.state.global_step == 8
    assert bp.max_param_diff(straight.model, resumed.model) == 0.0
    assert straight.evaluate()["eval_loss"] == resumed.evaluate()["eval_loss"]


def test_tensorboard_event_files_hold_the_logged_scalars(tiny_data, tmp_path):
    from transformers import Trainer
    tok, train, collator = tiny_data
    with bp.tensorboard_logging_dir(tmp_path / "tb"):
        trainer = Trainer(model=bp.tiny_bert_classifier(tok.vocab_size), train_dataset=train, data_collator=collator,
                          args=_args(tmp_path / "out", report_to="tensorboard", save_strategy="no"))
    trainer.train()
    scalars = bp.tensorboard_scalars(tmp_path / "tb")
    logged = [(r["step"], r["loss"]) for r in trainer.state.log_history if "loss" in r]
    assert [s for s, _ in scalars["train/loss"]] == [s for s, _ in logged] == [2, 4, 6, 8]
    assert np.allclose([v for _, v in scalars["train/loss"]], [v for _, v in logged])
    assert len(scalars["train/learning_rate"]) == 4


def test_training_memory_and_technique_table():
    from torch import nn
    from torch.nn import functional as F
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 3))
    x, y = torch.randn(64, 256), torch.randint(0, 3, (64,))
    loss = lambda m, xy: F.cross_entropy(m(xy[0]), xy[1])
    full = bp.training_memory(net, (x, y), loss)
    net[0].requires_grad_(False); net[2].requires_grad_(False)
    frozen = bp.training_memory(net, (x, y), loss)
    assert full["weights"] == frozen["weights"] and frozen["gradients"] < full["gradients"]
    assert frozen["activations"] < full["activations"]
    rows = pd.DataFrame([{"technique": "full", "model": "m", "trainable_params": 100, "total_params": 100, "memory_mb": 10.0},
                         {"technique": "feature extraction", "model": "m", "trainable_params": 5, "total_params": 100,
                          "memory_mb": 4.0}])
    lora_like = pd.DataFrame([{"technique": "full", "trainable_params": 50, "total_params": 50, "peak_mb": 8.0,
                               "estimated_mb": 7.0},
                              {"technique": "lora", "trainable_params": 1, "total_params": 51, "peak_mb": 6.0,
                               "estimated_mb": 5.0}])
    t = bp.technique_table(rows, lora_like.assign(model="llm"))
    assert t.loc[("m", "feature extraction"), "memory vs full"] == 0.4
    assert t.loc[("llm", "lora"), "memory vs full"] == 0.75
    assert t.loc[("m", "feature extraction"), "trainable %"] == 5.0
    assert t.loc[("llm", "lora"), "use case"] == bp.USE_CASES["lora"]


def test_evaluate_classifier_with_a_token_classifier_like_lesson_5s():
    "The same evaluation on a Hugging Face token classifier (lesson 5's model type) on the NER data."
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from ftcourse.assets import model_source
    from ftcourse.data import load
    from ftcourse.datagen import ner_label_names
    ds = load("ner_generated", n_train=4, n_test=12)
    names = ner_label_names(ds)
    source = model_source("asset:minilm")
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(source, num_labels=len(names))
    tokenizer = AutoTokenizer.from_pretrained(source)
    sentences, tags = list(ds["test"]["tokens"]), list(ds["test"]["ner_tags"])
    ev = bp.evaluate_classifier(model, (sentences, tags), names, predict=bp.token_predictor(tokenizer), plot=False)
    n_words = sum(len(t) for t in tags)
    assert ev.confusion.shape == (len(names), len(names)) and ev.confusion.sum() == n_words
    assert len(ev.y_true) == len(ev.y_pred) == n_words


def test_technique_table_keeps_measured_speed_and_loss():
    rows = pd.DataFrame([{"technique": "full", "model": "m", "trainable_params": 100, "total_params": 100, "memory_mb": 10.0}])
    llm = pd.DataFrame([{"technique": "full", "trainable_params": 50, "total_params": 50, "peak_mb": 8.0,
                         "tokens_per_s": 100.0, "loss_before": 3.0, "loss_after": 2.0},
                        {"technique": "lora", "trainable_params": 1, "total_params": 51, "peak_mb": 6.0,
                         "tokens_per_s": 150.0, "loss_before": 3.0, "loss_after": 2.5}]).assign(model="llm")
    t = bp.technique_table(rows, llm)
    assert t.loc[("llm", "lora"), "tokens/s"] == 150.0 and t.loc[("llm", "full"), "loss after"] == 2.0
    assert np.isnan(t.loc[("m", "full"), "tokens/s"])              # not measured for that row: shown as missing
    assert list(t.columns)[-1] == "use case"


def test_seed_comparison_tells_signal_from_noise():
    rng = np.random.default_rng(0)
    base = rng.normal(0.8, 0.02, 8)
    real = bp.compare_over_seeds(base + 0.03, base)                  # the same seeds, consistently 0.03 better
    assert real["real"] and real["a_higher"] == 8 and abs(real["diff"] - 0.03) < 1e-9
    noise = bp.compare_over_seeds(base, rng.permutation(base))       # the same numbers, shuffled: no difference
    assert not noise["real"] and noise["low"] < 0 < noise["high"]
    with pytest.raises(ValueError, match="at least two seeds"):
        bp.compare_over_seeds([0.8], [0.7])
    table = bp.seed_spread({"a": [0.8, 0.9], "b": [0.5]})
    assert table.loc["a", "seeds"] == 2 and abs(table.loc["a", "std"] - np.std([0.8, 0.9], ddof=1)) < 1e-12
    assert np.isnan(table.loc["b", "std"])


def test_train_head_learns_and_is_reproducible():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 16)), rng.integers(0, 3, 300)
    x[np.arange(300), y] += 3                                       # the label is readable from the features
    args = (x[:200], y[:200], x[200:], y[200:])
    assert bp.train_head(*args, seed=0) > 0.8
    assert bp.over_seeds(bp.train_head, [0, 1], x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:]).tolist() \
        == [bp.train_head(*args, seed=0), bp.train_head(*args, seed=1)]


def test_train_head_runs_on_one_thread_and_restores_the_setting():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 8)), rng.integers(0, 2, 64)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        bp.train_head(x[:48], y[:48], x[48:], y[48:], seed=0, epochs=1)
        assert torch.get_num_threads() == 2
        with pytest.raises((IndexError, ValueError, RuntimeError)):   # restored on failure too (x and y disagree in length)
            bp.train_head(x[:48], y[:40], x[48:], y[48:], seed=0, epochs=1)
        assert torch.get_num_threads() == 2
    finally: torch.set_num_threads(before)


def test_sentence_features_keep_order_and_ignore_padding():
    from transformers import AutoModel, AutoTokenizer
    from ftcourse.assets import model_source
    tok = AutoTokenizer.from_pretrained(model_source("asset:minilm"))
    model = AutoModel.from_pretrained(model_source("asset:minilm"))
    texts = ["a much longer sentence about a delayed flight and a lost bag", "hi", "thanks for the upgrade"]
    together = bp.sentence_features(model, tok, texts, batch_size=3)
    alone = np.concatenate([bp.sentence_features(model, tok, [t]) for t in texts])
    assert together.shape == (3, model.config.hidden_size)
    assert np.allclose(together, alone, atol=1e-5)                  # padding in a batch changes nothing; order kept


def _range_model():
    torch.manual_seed(0)
    return torch.nn.Linear(4, 2)


def _xy(n=16):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    return x, (x[:, 0] > 0).long()


def test_lr_range_test_restores_weights_and_takes_tuples_or_dicts():
    model = _range_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = _xy()
    ce = torch.nn.functional.cross_entropy
    rt = bp.lr_range_test(model, [(x, y)], lr_min=1e-4, lr_max=10.0, steps=30, loss_fn=lambda m, b: ce(m(b[0]), b[1]))
    assert list(rt.columns) == ["lr", "loss", "smoothed"] and 1 < len(rt) <= 30
    assert rt.lr.is_monotonic_increasing and rt.lr.iloc[0] == 1e-4
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())        # weights restored
    rt2 = bp.lr_range_test(model, [{"x": x, "y": y}], lr_min=1e-4, lr_max=10.0, steps=30,
                           loss_fn=lambda m, b: ce(m(b["x"]), b["y"]))
    assert np.allclose(rt2.loss, rt.loss)                                                  # the same run either way
    assert 1e-5 <= bp.suggest_lr(rt) <= 1.0


def test_lr_range_test_moves_batches_to_the_models_device():
    class Recorder:   # a batch value that says where it was moved to
        def __init__(self, t): self.t, self.moved_to = t, []
        def to(self, device): self.moved_to.append(torch.device(device)); return self.t
    model = _range_model()
    x, y = _xy()
    batch = {"x": Recorder(x), "y": Recorder(y)}
    ce = torch.nn.functional.cross_entropy
    bp.lr_range_test(model, [batch], steps=3, loss_fn=lambda m, b: ce(m(b["x"]), b["y"]))
    assert batch["x"].moved_to == batch["y"].moved_to == [torch.device("cpu")] * 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_lr_range_test_on_cuda_with_batches_on_the_cpu():
    model = _range_model().cuda()
    x, y = _xy()
    ce = torch.nn.functional.cross_entropy
    rt = bp.lr_range_test(model, [(x, y)], steps=5, loss_fn=lambda m, b: ce(m(b[0]), b[1]))
    assert len(rt) == 5 and next(model.parameters()).is_cuda
