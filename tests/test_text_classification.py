"""Unit tests of ftcourse.text_classification (lesson 3) for what the lesson's `full` path needs: the model's input
limit when the tokenizer sets none (distilbert-base-uncased), and `predict` truncating to it by default."""
import numpy as np

from ftcourse.config import rehearsal_env
from ftcourse.text_classification import max_input_length, predict


def _standin(name):
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
    from ftcourse.assets import model_source
    with rehearsal_env():
        src = model_source(name)
        return (AutoTokenizer.from_pretrained(src), AutoConfig.from_pretrained(src),
                AutoModelForSequenceClassification.from_pretrained(src, num_labels=2))


def test_max_input_length_when_the_tokenizer_sets_no_limit():
    tok, config, _ = _standin("distilbert-base-uncased")
    assert tok.model_max_length > 1e20                       # its tokenizer_config.json sets no model_max_length
    assert max_input_length(tok, config) == config.max_position_embeddings == 512
    assert len(tok("word " * 600, truncation=True)["input_ids"]) > 512   # truncation=True alone cuts nothing


def test_max_input_length_takes_the_smaller_limit():
    from types import SimpleNamespace
    assert max_input_length(SimpleNamespace(model_max_length=256), SimpleNamespace(max_position_embeddings=512)) == 256
    assert max_input_length(SimpleNamespace(model_max_length=int(1e30)), SimpleNamespace()) == int(1e30)


def test_predict_truncates_to_the_model_limit_by_default():
    tok, _, model = _standin("distilbert-base-uncased")
    probs = predict(model, tok, ["word " * 600, "short"])     # would fail: tensor a (602) vs b (512)
    assert probs.shape == (2, 2) and np.allclose(probs.sum(-1), 1, atol=1e-5)
