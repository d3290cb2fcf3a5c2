"""Unit tests of ftcourse.ner (lesson 5): label alignment, tokenising, entity metrics, baselines, rendering.

Fast: the only model work is one tokenizer load and, for `predict_tags`, a forward pass of MiniLM with an
untrained head on two sentences (order and shape only, not accuracy)."""
import numpy as np
import pytest

from ftcourse import ner
from ftcourse.datagen import NER_LABELS

NAMES = NER_LABELS  # O B-PER I-PER B-ORG I-ORG B-LOC I-LOC B-MISC I-MISC
ID = {n: i for i, n in enumerate(NAMES)}


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer
    from ftcourse.assets import model_source
    return AutoTokenizer.from_pretrained(model_source("asset:minilm"))


# --- align_labels -------------------------------------------------------------------------------------------

def test_special_tokens_get_minus_100():
    assert ner.align_labels([None, None], []) == [-100, -100]
    assert ner.align_labels([None, 0, None], [ID["B-LOC"]]) == [-100, ID["B-LOC"], -100]


def test_first_subword_only_by_default():
    # [CLS] Grace | El - Amin | visited [SEP]: word 1 is three tokens
    word_ids = [None, 0, 1, 1, 1, 2, None]
    tags = [ID["B-PER"], ID["I-PER"], ID["O"]]
    assert ner.align_labels(word_ids, tags) == [-100, ID["B-PER"], ID["I-PER"], -100, -100, ID["O"], -100]


def test_label_all_tokens_turns_b_into_i():
    word_ids = [None, 0, 0, 1, 1, 2, 2, None]
    tags = [ID["B-LOC"], ID["I-LOC"], ID["O"]]
    got = ner.align_labels(word_ids, tags, label_all_tokens=True, label_names=NAMES)
    assert got == [-100, ID["B-LOC"], ID["I-LOC"], ID["I-LOC"], ID["I-LOC"], ID["O"], ID["O"], -100]
    # a B-MISC word in three pieces: B-MISC, I-MISC, I-MISC
    got = ner.align_labels([None, 0, 0, 0, None], [ID["B-MISC"]], True, NAMES)
    assert got == [-100, ID["B-MISC"], ID["I-MISC"], ID["I-MISC"], -100]


def test_label_all_tokens_needs_names():
    with pytest.raises(ValueError, match="label_names"):
        ner.align_labels([None, 0, 0, None], [1], label_all_tokens=True)


def test_align_accepts_numpy_and_returns_ints():
    got = ner.align_labels([None, 0, 1, None], np.array([3, 4]))
    assert got == [-100, 3, 4, -100] and all(type(x) is int for x in got)


def test_b_to_i_ids():
    m = ner.b_to_i_ids(NAMES)
    assert m[ID["B-PER"]] == ID["I-PER"] and m[ID["B-ORG"]] == ID["I-ORG"]
    assert m[ID["O"]] == ID["O"] and m[ID["I-LOC"]] == ID["I-LOC"]
    assert ner.b_to_i_ids(["O", "B-X"]) == {0: 0, 1: 1}  # no I-X: unchanged


# --- tokenising -------------------------------------------------------------------------------------------

def _tiny_dataset():
    from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value
    features = Features({"id": Value("string"), "tokens": List(Value("string")),
                         "ner_tags": List(ClassLabel(names=NAMES))})
    rows = {"id": ["a", "b"], "tokens": [["Grace", "El-Amin", "visited", "Chișinău", "."], ["Nobody", "came", "."]],
            "ner_tags": [[ID["B-PER"], ID["I-PER"], 0, ID["B-LOC"], 0], [0, 0, 0]]}
    return DatasetDict(train=Dataset.from_dict(rows, features=features))


def test_tokenize_ner(tokenizer):
    ds = _tiny_dataset()
    out = ner.tokenize_ner(ds, tokenizer, max_length=64)["train"]
    assert set(out.column_names) == {"input_ids", "token_type_ids", "attention_mask", "labels"}
    for row, words in zip(out, ds["train"]["tokens"]):
        assert len(row["labels"]) == len(row["input_ids"])
        assert sum(l != -100 for l in row["labels"]) == len(words)
    first = out[0]["labels"]
    assert first[0] == -100 and first[-1] == -100
    assert [l for l in first if l != -100] == [ID["B-PER"], ID["I-PER"], 0, ID["B-LOC"], 0]
    every = ner.tokenize_ner(ds, tokenizer, label_all_tokens=True)["train"][0]["labels"]  # names read from ds
    assert ID["B-LOC"] in every and every.count(ID["I-LOC"]) >= 1   # "chi ##sin ##au": B-LOC I-LOC I-LOC


def test_tokenize_ner_truncates(tokenizer):
    out = ner.tokenize_ner(_tiny_dataset()["train"], tokenizer, max_length=4)
    assert max(len(r) for r in out["input_ids"]) == 4


def test_alignment_table_and_style(tokenizer):
    words, tags = ["Grace", "El-Amin", "."], [ID["B-PER"], ID["I-PER"], 0]
    table = ner.alignment_table(tokenizer, words, tags, NAMES)
    assert table["token"].tolist() == ["[CLS]", "grace", "el", "-", "amin", ".", "[SEP]"]
    assert table["label (first subword)"].tolist() == ["-100", "B-PER", "I-PER", "-100", "-100", "O", "-100"]
    assert table["label (all subwords)"].tolist() == ["-100", "B-PER", "I-PER", "I-PER", "I-PER", "O", "-100"]
    html = ner.style_alignment(table, NAMES).to_html()
    assert ner.entity_colors(ner.entity_types(NAMES))["PER"] in html and "grace" in html


def test_entity_types_and_colors():
    assert ner.entity_types(NAMES) == ["PER", "ORG", "LOC", "MISC"]
    colors = ner.entity_colors(["A", "B"])
    assert set(colors) == {"A", "B"} and colors["A"] != colors["B"]
    assert len(ner.entity_colors([str(i) for i in range(20)])) == 20   # the palette repeats


# --- metrics ----------------------------------------------------------------------------------------------

def test_entity_metrics_are_entity_level():
    true = [["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG"]]
    half = [["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "O"]]
    m = ner.entity_metrics(true, half)
    assert m == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "f1_ORG": 0.0, "f1_PER": 1.0}
    assert ner.entity_metrics(true, [["O"] * 6])["f1"] == 0.0          # 4/6 tokens right, no entity
    assert ner.entity_metrics(true, true)["f1"] == 1.0


def test_entity_metrics_match_seqeval():
    from seqeval.metrics import f1_score, precision_score, recall_score
    rng = np.random.default_rng(0)
    true = [list(rng.choice(NAMES, 12, p=[0.6] + [0.05] * 8)) for _ in range(30)]
    pred = [[t if rng.random() < 0.8 else str(rng.choice(NAMES)) for t in row] for row in true]
    m = ner.entity_metrics(true, pred)
    assert np.isclose(m["f1"], f1_score(true, pred)) and np.isclose(m["precision"], precision_score(true, pred))
    assert np.isclose(m["recall"], recall_score(true, pred))


def test_entity_report():
    report = ner.entity_report([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "O"]])
    assert report.index.tolist() == ["LOC", "PER", "overall"]
    assert report.loc["PER", "f1"] == 1.0 and report.loc["LOC", "recall"] == 0.0
    assert report.loc["overall", "support"] == 2 and report["support"].dtype.kind == "i"


def test_predictions_to_tags_and_compute_metrics():
    logits = np.eye(len(NAMES))[[[0, 1, 2, 0], [0, 5, 0, 0]]] * 5.0
    labels = np.array([[-100, 1, 2, -100], [-100, 5, 6, -100]])
    true, pred = ner.predictions_to_tags(logits, labels, NAMES)
    assert true == [["B-PER", "I-PER"], ["B-LOC", "I-LOC"]] and pred == [["B-PER", "I-PER"], ["B-LOC", "O"]]
    assert ner.predictions_to_tags(logits.argmax(-1), labels, NAMES) == (true, pred)   # ids work too
    m = ner.make_compute_metrics(NAMES)(((logits,), labels))                          # tuple of outputs
    assert m["precision"] == 0.5 and m["f1_PER"] == 1.0 and m["f1_LOC"] == 0.0


# --- baselines --------------------------------------------------------------------------------------------

def test_most_frequent_tag_baseline():
    train = [["Rome", "is", "big"], ["Rome", "fell"], ["Rome", "Inc"]]
    tags = [["B-LOC", "O", "O"], ["B-LOC", "O"], ["B-ORG", "I-ORG"]]
    assert ner.most_frequent_tag_baseline(train, tags, [["Rome", "is", "Paris"]]) == [["B-LOC", "O", "O"]]
    assert ner.most_frequent_tag_baseline(train, tags, [["Paris"]], default="?") == [["?"]]


def test_window_features():
    f = ner.window_features(["In", "Lima", "."], 1)
    assert f == {"word=lima": 1, "suffix=ima": 1, "capitalised": 1, "first": 0, "prev=in": 1, "next=.": 1}
    assert ner.window_features(["Hi"], 0)["prev=<s>"] == 1 and ner.window_features(["Hi"], 0)["next=</s>"] == 1


def test_feature_baseline_learns_context():
    train = [["He", "lives", "in", city, "."] for city in ("Lima", "Oslo", "Rome", "Baku")] + \
            [["He", "lives", "in", "a", "house", "."]] * 2
    tags = [["O", "O", "O", "B-LOC", "O"]] * 4 + [["O"] * 6] * 2
    pred = ner.feature_baseline(train, tags, [["He", "lives", "in", "Accra", "."], ["Short"]])
    assert [len(r) for r in pred] == [5, 1] and all(isinstance(t, str) for r in pred for t in r)
    assert pred[0][3] == "B-LOC" and pred[0][0] == "O"


# --- prediction and rendering -----------------------------------------------------------------------------

def test_predict_tags_keeps_order_and_length(tokenizer):
    import torch
    from transformers import AutoModelForTokenClassification
    from ftcourse.assets import model_source
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(model_source("asset:minilm"), num_labels=len(NAMES))
    sentences = [["Grace", "El-Amin", "visited", "Chișinău", "."], ["Hi"]]
    tags = ner.predict_tags(model, tokenizer, sentences, NAMES, batch_size=1)
    assert [len(t) for t in tags] == [5, 1] and all(t in NAMES for row in tags for t in row)
    assert ner.predict_tags(model, tokenizer, sentences, NAMES, batch_size=8) == tags   # batching changes nothing
    cut = ner.predict_tags(model, tokenizer, [sentences[0]], NAMES, max_length=4)[0]
    assert len(cut) == 5 and cut[2:] == ["O", "O", "O"]   # words lost to truncation are O
    probs = ner.word_probabilities(model, tokenizer, sentences + [[]], max_length=4)
    assert [p.shape for p in probs] == [(5, len(NAMES)), (1, len(NAMES)), (0, len(NAMES))]
    assert np.allclose(probs[0][:2].sum(-1), 1) and np.isnan(probs[0][2:]).all()   # lost words: NaN, not a guess
    assert [NAMES[i] for i in probs[1].argmax(-1)] == tags[1]


def test_lesson_7_reads_words_through_lesson_5(tokenizer):
    "best_practices.token_predictor is word_probabilities with a uniform row for lost words (one place for the batching)."
    import torch
    from transformers import AutoModelForTokenClassification
    from ftcourse.assets import model_source
    from ftcourse.best_practices import token_predictor
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(model_source("asset:minilm"), num_labels=len(NAMES))
    sentences = [["Grace", "El-Amin", "visited", "Chișinău", "."]]
    got = token_predictor(tokenizer, max_length=4)(model, sentences)[0]
    ref = ner.word_probabilities(model, tokenizer, sentences, max_length=4)[0]
    assert np.allclose(got[:2], ref[:2]) and np.allclose(got[2:], 1 / len(NAMES))


def test_render_entities():
    text = "Ada met Bo & co <today>"
    html = ner.render_entities(text, [{"start": 8, "end": 15, "entity_group": "ORG"},
                                      {"start": 0, "end": 3, "entity_group": "PER", "score": 0.912}])
    assert html.count("<mark") == 2 and html.index(">Ada") < html.index("Bo &amp; co")   # sorted, escaped
    assert "PER 0.91" in html and "&lt;today&gt;" in html
    # entities of aggregation_strategy="none" carry `entity` (B-/I- tags); overlaps keep the first
    html = ner.render_entities("Ada Lovelace", [{"start": 0, "end": 3, "entity": "B-PER", "score": 0.5},
                                                {"start": 2, "end": 5, "entity": "I-PER", "score": 0.5}])
    assert html.count("<mark") == 1 and ">PER<" in html
    assert ner.render_entities("plain", []).endswith("plain</div>")


def test_sentence_entity_counts_give_seqeval_micro_f1():
    "Per-sentence (correct, predicted, true) counts recompute seqeval's micro F1, also for malformed predictions."
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"], ["O", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["I-ORG", "O"], ["B-MISC", "O"]]   # an I- without B- still starts an entity
    counts = ner.sentence_entity_counts(true, pred)
    assert counts.tolist() == [[1, 1, 2], [1, 1, 1], [0, 1, 0]]
    assert abs(ner.micro_f1(counts) - ner.entity_metrics(true, pred)["f1"]) < 1e-12
    assert ner.micro_f1(np.zeros((0, 3))) == 0.0


# --- full scale: CoNLL-2003's sizes and tag order -------------------------------------------------------------

def test_full_preset_fits_conll_train_split():
    """Lesson 5 cuts its validation split (a tenth, at least 100) out of the training split: at `full` scale the
    preset's training sentences plus the validation ones must fit in CoNLL-2003's 14,041."""
    from ftcourse.config import preset
    from ftcourse.rehearsal import hub_dataset_spec
    p = preset("ner", "full")
    n_val = max(100, p.n_train // 10)
    assert p.n_train + n_val <= hub_dataset_spec("eriktks/conll2003")["splits"]["train"]


def test_conll_standin_tags_come_from_its_features():
    from ftcourse.config import preset, rehearsal_env
    from ftcourse.data import load
    from ftcourse.datagen import ner_label_names
    with rehearsal_env():
        ds = load(preset("ner"))
    names = ner_label_names(ds)
    assert names == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]  # CoNLL's order
    assert all(0 <= t < len(names) for row in ds["train"]["ner_tags"] for t in row)
