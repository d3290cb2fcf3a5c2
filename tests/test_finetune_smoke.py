"""A tiny fine-tune of each pretrained asset lowers its loss: the weights load into a model that can learn.

Each test takes a few optimiser steps on one small fixed batch, with a fixed seed, and checks the loss on
that batch fell clearly. Held-out learning is what the lessons assert; this is the asset-level smoke test.
Random weights would pass it too, so each test first checks what only the pretrained weights know: a paraphrase
closer than an unrelated sentence (MiniLM), the capital of France (SmolLM2), a cat and an espresso (MobileNetV2).
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


PARAPHRASES = [("A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."),
               ("How do I return a product?", "What is your returns policy?", "The weather is sunny today."),
               ("The cat sits on the mat.", "A kitten is resting on a rug.", "Stock markets fell sharply on Monday.")]


def _paraphrase_margins(tok, encoder) -> list:
    "For each (sentence, paraphrase, unrelated): cosine(sentence, paraphrase) - cosine(sentence, unrelated), mean-pooled."
    margins = []
    for texts in PARAPHRASES:
        enc = tok(list(texts), padding=True, return_tensors="pt")
        with torch.no_grad(): hidden = encoder.eval()(**enc).last_hidden_state
        mask = enc["attention_mask"][..., None].float()
        e = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        margins.append(float(e[0] @ e[1] - e[0] @ e[2]))
    return margins


def test_minilm_classifier_learns():
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
    seed_everything(0)
    src = assets.model_source("asset:minilm")
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=2)
    pretrained = _paraphrase_margins(tok, model.bert)          # 0.86, 0.45, 0.61 measured
    random_init = _paraphrase_margins(tok, AutoModel.from_config(model.config))   # about 0.01: no meaning
    assert min(pretrained) > 0.3 and max(random_init) < 0.3, (pretrained, random_init)
    seed_everything(0)
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
    with torch.no_grad():   # what the pretrained weights know: greedy next tokens (random weights: 1 in 49,152 each)
        nexts = [tok.decode(model.eval()(**tok(p, return_tensors="pt")).logits[0, -1].argmax())
                 for p in ("The capital of France is", "The capital of Germany is")]
    assert nexts == [" Paris", " Berlin"], nexts
    for p in model.parameters(): p.requires_grad = False
    for p in model.model.layers[-1].parameters(): p.requires_grad = True  # keep the smoke test cheap
    enc = tok(["Northwind returns are free within 30 days.", "Our sign-off is: Happy trails!"],
              return_tensors="pt", padding=True)
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    before, after = _steps(model, lambda: model(**enc, labels=labels).loss, steps=4, lr=1e-3)
    assert after < 0.8 * before, (before, after)


def _imagenet_top1(net, image) -> int:
    "ImageNet class index of an RGB uint8 image: resized to 224, normalised as torchvision's weights expect."
    x = torch.tensor(image).permute(2, 0, 1)[None].float() / 255
    x = torch.nn.functional.interpolate(x, size=224, mode="bilinear", antialias=True)
    x = (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    with torch.no_grad(): return int(net.eval()(x)[0].argmax())


def test_mobilenet_head_learns():
    import skimage.data
    seed_everything(0)
    net = assets.load_mobilenet_v2()
    assert _imagenet_top1(net, skimage.data.chelsea()) in {281, 282, 283, 284, 285}   # a cat: tabby ... Egyptian cat
    assert _imagenet_top1(net, skimage.data.coffee()) in {504, 967, 968}              # coffee mug, espresso, cup
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
