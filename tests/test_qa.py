"""Unit tests for lesson 6 (ftcourse.qa): SQuAD v1.1 scores on hand-computed cases, and window labelling
of a long context (tokenizer only, no model)."""
import pytest

from ftcourse.qa import (answer_token_span, normalize_answer, postprocess_predictions, prepare_train_features,
                         prepare_validation_features, squad_scores)


# --- SQuAD v1.1 metric -------------------------------------------------------------------------------------

def test_normalize_answer():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("an apple a day") == "apple day"
    assert normalize_answer("theatre") == "theatre"           # articles only as whole words
    assert normalize_answer("U.S.A.") == "usa"                 # punctuation removed, not replaced by spaces
    assert normalize_answer("  New\tYork \n") == "new york"
    assert normalize_answer("") == ""


def test_exact_match_and_f1_hand_computed():
    assert squad_scores(["Ottawa"], [["Ottawa"]]) == {"exact_match": 100.0, "f1": 100.0}
    assert squad_scores(["the Ottawa."], [["ottawa"]]) == {"exact_match": 100.0, "f1": 100.0}
    # "canadian dollar" vs "dollar": precision 1/2, recall 1 -> F1 2/3
    s = squad_scores(["Canadian dollar"], [["dollar"]])
    assert s["exact_match"] == 0 and s["f1"] == pytest.approx(200 / 3)
    # "new york city" vs "york city hall": 2 shared; P = 2/3, R = 2/3 -> F1 2/3
    assert squad_scores(["New York City"], [["York City Hall"]])["f1"] == pytest.approx(200 / 3)
    # repeated words count as often as they occur in both; ("a b b" would lose its article "a")
    assert squad_scores(["x b b"], [["b b c"]])["f1"] == pytest.approx(100 * 2 / 3)
    assert squad_scores(["Paris"], [["Lyon"]]) == {"exact_match": 0.0, "f1": 0.0}


def test_articles_and_punctuation_do_not_count():
    assert squad_scores(["The Canadian dollar (CAD)"], [["Canadian dollar CAD"]])["exact_match"] == 100
    assert squad_scores(["an euro"], [["euro"]])["exact_match"] == 100
    assert squad_scores(["1,000"], [["1000"]])["exact_match"] == 100


def test_best_over_multiple_references_and_average():
    scores = squad_scores(["Denver Broncos", "Santa Clara"],
                          [["Broncos", "Denver Broncos", "The Denver Broncos"], ["Levi's Stadium", "Santa Clara, California"]])
    # first: EM 1, F1 1; second: EM 0, best F1 vs "santa clara california" = 2*(1*2/3)/(1+2/3) = 0.8
    assert scores["exact_match"] == pytest.approx(50)
    assert scores["f1"] == pytest.approx(100 * (1 + 0.8) / 2)


def test_empty_strings():
    # SQuAD v1.1: an empty prediction matches nothing non-empty; both empty is an exact match with F1 0
    assert squad_scores([""], [["Ottawa"]]) == {"exact_match": 0.0, "f1": 0.0}
    assert squad_scores(["Ottawa"], [[""]]) == {"exact_match": 0.0, "f1": 0.0}
    assert squad_scores([""], [[""]]) == {"exact_match": 100.0, "f1": 0.0}
    assert squad_scores(["the"], [["a"]])["exact_match"] == 100  # both normalise to ""
    assert squad_scores([], []) == {"exact_match": 0.0, "f1": 0.0}
    with pytest.raises(ValueError):
        squad_scores(["a"], [])


# --- windows and labels ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer
    from ftcourse.assets import model_source
    return AutoTokenizer.from_pretrained(model_source("asset:minilm"))


@pytest.fixture(scope="module")
def long_example():
    from ftcourse.datagen import long_context_example
    return long_context_example()


def test_answer_token_span_rules():
    offsets = [(0, 0), (0, 4), (0, 0), (0, 5), (6, 11), (12, 17), (0, 0)]  # [CLS] q [SEP] c c c [SEP]
    seq = [None, 0, None, 1, 1, 1, None]
    assert answer_token_span(offsets, seq, 6, 11) == (4, 4)
    assert answer_token_span(offsets, seq, 0, 11) == (3, 4)
    assert answer_token_span(offsets, seq, 8, 11) == (4, 4)    # answer starting inside a token
    assert answer_token_span(offsets, seq, 12, 20) == (0, 0)   # runs past the window: [CLS]
    assert answer_token_span(offsets, seq, 30, 35) == (0, 0)


def test_answer_in_later_window_and_cls_elsewhere(tokenizer, long_example):
    text = long_example["answers"]["text"][0]
    batch = {k: [v] for k, v in long_example.items()}
    feats = prepare_train_features(batch, tokenizer, max_length=384, doc_stride=128)
    n = len(feats["input_ids"])
    assert n >= 2 and all(len(ids) <= 384 for ids in feats["input_ids"])
    labels = list(zip(feats["start_positions"], feats["end_positions"]))
    with_answer = [i for i, (s, e) in enumerate(labels) if (s, e) != (0, 0)]
    assert with_answer and with_answer[0] > 0                  # only a later window holds the answer
    assert labels[0] == (0, 0)                                 # the first window is labelled [CLS]
    for i in range(n):
        s, e = labels[i]
        if i in with_answer:
            assert 0 < s <= e and tokenizer.decode(feats["input_ids"][i][s:e + 1]) == text.lower()
        else:
            assert (s, e) == (0, 0) and feats["input_ids"][i][0] == tokenizer.cls_token_id


def test_seed_truncation_loses_the_answer(tokenizer, long_example):
    enc = tokenizer(long_example["question"], long_example["context"], truncation="only_second",
                    max_length=384, return_offsets_mapping=True)
    last = max(o[1] for o, s in zip(enc["offset_mapping"], enc.sequence_ids()) if s == 1)
    assert last < long_example["answers"]["answer_start"][0]  # why windows are needed


def test_validation_features_and_postprocessing(tokenizer, long_example):
    import numpy as np
    from datasets import Dataset
    ds = Dataset.from_list([long_example])
    feats = ds.map(prepare_validation_features, batched=True, remove_columns=ds.column_names,
                   fn_kwargs=dict(tokenizer=tokenizer))
    assert set(feats["example_id"]) == {long_example["id"]} and len(feats) >= 2
    for f in feats:
        assert f["offset_mapping"][0] is None and f["offset_mapping"][-1] is None
        assert len(f["offset_mapping"]) == len(f["input_ids"])
    train = prepare_train_features({k: [v] for k, v in long_example.items()}, tokenizer)
    w = next(i for i, s in enumerate(train["start_positions"]) if s)
    starts = [np.full(len(ids) + 3, -1.0) for ids in feats["input_ids"]]  # + padding positions, ignored
    ends = [np.full(len(ids) + 3, -1.0) for ids in feats["input_ids"]]
    for x in starts + ends: x[0] = 9.0; x[-1] = 20.0                    # [CLS] and padding never win
    starts[w][train["start_positions"][w]] = 3.0
    ends[w][train["end_positions"][w]] = 3.0
    out = postprocess_predictions(ds, feats, starts, ends)
    assert out == {long_example["id"]: long_example["answers"]["text"][0]}


# --- the share of long inputs is a fact of each scale's data -------------------------------------------------

@pytest.mark.parametrize("rehearse", [False, True], ids=["small", "full-rehearsed"])
def test_share_of_long_inputs_matches_the_preset(rehearse):
    """Lesson 6 asserts the share of question + context pairs longer than one window from `p.expect`: about one in
    ten in the generated data (on purpose), 1-2 % on SQuAD and its stand-in."""
    import numpy as np
    from transformers import AutoTokenizer
    from ftcourse.assets import model_source
    from ftcourse.config import preset, rehearsal_env
    from ftcourse.data import load
    with rehearsal_env(rehearse):
        p = preset("qa")
        tok = AutoTokenizer.from_pretrained(model_source(p.model))
        train = load(p)["train"]
    lengths = np.array([len(ids) for ids in tok(list(train["question"]), list(train["context"]), verbose=False)["input_ids"]])
    low, high = p.expect["long_inputs"]
    assert low < (lengths > p.max_length).mean() < high
