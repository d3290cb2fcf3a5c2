"""A tiny fine-tune of each pretrained asset lowers its loss: the weights load into a model that can learn.

Each test takes a few optimiser steps on one small fixed batch, with a fixed seed, and checks the loss on
that batch fell clearly. Held-out learning is what the lessons assert; this is the asset-level smoke test.
"""
import torch

from ftcourse import assets, data
from ftcourse.train import seed_everything


def _steps(model, batch_loss, steps, lr):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    with torch.no_grad(): before = batch_loss().item()
    for _ in range(steps):
        opt.zero_grad(); loss = batch_loss(); loss.backward(); opt.step()
    with torch.no_grad(): after = batch_loss().item()
    return before, after


def test_minilm_classifier_learns():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    seed_everything(0)
    src = assets.model_source("asset:minilm")
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=2)
    ds = data.load_tweet_sentiment(16, 2)["train"]
    enc = tok(list(ds["text"]), padding=True, truncation=True, max_length=48, return_tensors="pt")
    labels = torch.tensor(list(ds["label"]))
    before, after = _steps(model, lambda: model(**enc, labels=labels).loss, steps=6, lr=1e-4)
    assert after < 0.7 * before, (before, after)


def test_smollm2_causal_lm_learns():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    seed_everything(0)
    src = assets.model_source("asset:smollm2")
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForCausalLM.from_pretrained(src)
    for p in model.parameters(): p.requires_grad = False
    for p in model.model.layers[-1].parameters(): p.requires_grad = True  # keep the smoke test cheap
    enc = tok(["Northwind returns are free within 30 days.", "Our sign-off is: Happy trails!"],
              return_tensors="pt", padding=True)
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    before, after = _steps(model, lambda: model(**enc, labels=labels).loss, steps=4, lr=1e-3)
    assert after < 0.8 * before, (before, after)


def test_mobilenet_head_learns():
    seed_everything(0)
    net = assets.load_mobilenet_v2()
    for p in net.parameters(): p.requires_grad = False
    net.classifier[1] = torch.nn.Linear(net.last_channel, 10)
    net.eval()  # frozen BatchNorm statistics; only the new head trains
    digits = data.load_mnist_subset(40, 10)
    x = torch.tensor(digits.x_train, dtype=torch.float32)[:, None].repeat(1, 3, 1, 1) / 255
    x = torch.nn.functional.interpolate(x, size=64)
    x = (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    y = torch.tensor(digits.y_train)
    opt = torch.optim.AdamW(net.classifier.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    with torch.no_grad(): before = loss_fn(net(x), y).item()
    for _ in range(15):
        opt.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); opt.step()
    with torch.no_grad(): after = loss_fn(net(x), y).item()
    assert after < 0.5 * before, (before, after)
