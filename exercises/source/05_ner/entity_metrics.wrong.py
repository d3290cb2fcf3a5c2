# Known wrong answers for entity_metrics.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/05_ner/entity_metrics.ipynb

# %% q1_solution: only B-X starts an entity (an I-X after O is dropped)
def bio_to_spans(tags):
    spans, kind, start = [], None, 0
    for i, tag in enumerate(list(tags) + ["O"]):
        if kind is not None and not (tag.startswith("I-") and tag[2:] == kind):
            spans.append((kind, start, i)); kind = None
        if tag.startswith("B-"):
            kind, start = tag[2:], i
    return spans

# %% q1_solution: end inclusive
def bio_to_spans(tags):
    spans, kind, start = [], None, 0
    for i, tag in enumerate(list(tags) + ["O"]):
        continues = tag.startswith("I-") and kind == tag[2:]
        if kind is not None and not continues:
            spans.append((kind, start, i - 1)); kind = None
        if tag != "O" and not continues:
            kind, start = tag[2:], i
    return spans

# %% q1_solution: forgets the entity that runs to the end of the sentence
def bio_to_spans(tags):
    spans, kind, start = [], None, 0
    for i, tag in enumerate(tags):
        continues = tag.startswith("I-") and kind == tag[2:]
        if kind is not None and not continues:
            spans.append((kind, start, i)); kind = None
        if tag != "O" and not continues:
            kind, start = tag[2:], i
    return spans

# %% q1_solution: an I-X of another type continues the current entity
def bio_to_spans(tags):
    spans, kind, start = [], None, 0
    for i, tag in enumerate(list(tags) + ["O"]):
        continues = tag.startswith("I-") and kind is not None
        if kind is not None and not continues:
            spans.append((kind, start, i)); kind = None
        if tag != "O" and not continues:
            kind, start = tag[2:], i
    return spans

# %% q2_solution: pools the spans of all sentences (a right entity in the wrong sentence counts)
def entity_scores(true_seqs, pred_seqs):
    ts = {s for t in true_seqs for s in bio_to_spans(t)}
    ps = {s for q in pred_seqs for s in bio_to_spans(q)}
    correct = len(ts & ps)
    precision = correct / len(ps) if ps else 0.0
    recall = correct / len(ts) if ts else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}

# %% q2_solution: averages per sentence instead of over all entities
def entity_scores(true_seqs, pred_seqs):
    ps_, rs_ = [], []
    for t, q in zip(true_seqs, pred_seqs):
        ts, qs = set(bio_to_spans(t)), set(bio_to_spans(q))
        ps_.append(len(ts & qs) / len(qs) if qs else 0.0)
        rs_.append(len(ts & qs) / len(ts) if ts else 0.0)
    precision, recall = float(np.mean(ps_)), float(np.mean(rs_))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}

# %% q2_solution: divides by zero when there are no entities
def entity_scores(true_seqs, pred_seqs):
    correct = n_true = n_pred = 0
    for t, q in zip(true_seqs, pred_seqs):
        ts, ps = set(bio_to_spans(t)), set(bio_to_spans(q))
        correct += len(ts & ps); n_true += len(ts); n_pred += len(ps)
    precision, recall = correct / n_pred, correct / n_true
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}

# %% q2_solution: an entity of the right type that overlaps counts as correct
def entity_scores(true_seqs, pred_seqs):
    correct = n_true = n_pred = 0
    for t, q in zip(true_seqs, pred_seqs):
        ts, ps = bio_to_spans(t), bio_to_spans(q)
        correct += sum(any(k == k2 and s < e2 and s2 < e for k2, s2, e2 in ts) for k, s, e in ps)
        n_true += len(ts); n_pred += len(ps)
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}

# %% q3_solution: takes each word's last piece
def word_tags(pred_ids, word_ids, label_names):
    tags = {}
    for pred, word in zip(pred_ids, word_ids):
        if word is not None: tags[word] = label_names[int(pred)]
    return [tags[w] for w in sorted(tags)]

# %% q3_solution: keeps the special tokens
def word_tags(pred_ids, word_ids, label_names):
    tags, previous = [], None
    for pred, word in zip(pred_ids, word_ids):
        if word is None or word != previous: tags.append(label_names[int(pred)])
        previous = word
    return tags

# %% q3_solution: one tag per token, later pieces included
def word_tags(pred_ids, word_ids, label_names):
    return [label_names[int(pred)] for pred, word in zip(pred_ids, word_ids) if word is not None]
