# Known wrong answers for squad_metric.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/06_question_answering/squad_metric.ipynb

# %% q1_solution: removes the articles before lower-casing ("The" stays)
def normalize(text):
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(text.split())

# %% q1_solution: removes a, an, the inside words too (no \b)
def normalize(text):
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    for article in ("the", "an", "a"): text = text.replace(article, " ")
    return " ".join(text.split())

# %% q1_solution: strips the ends but leaves runs of spaces inside
def normalize(text):
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return re.sub(r"\b(a|an|the)\b", "", text).strip()

# %% q1_solution: turns punctuation into spaces ("U.S.A." becomes "u s a")
def normalize(text):
    text = "".join(" " if ch in string.punctuation else ch for ch in text.lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())

# %% q2_solution: F1 over characters instead of words
def squad(predictions, references):
    def f1(pred, ref):
        p, r = list(normalize(pred)), list(normalize(ref))
        shared = sum((collections.Counter(p) & collections.Counter(r)).values())
        if shared == 0: return 0.0
        return 2 * shared / (len(p) + len(r))
    em = [max(float(normalize(p) == normalize(r)) for r in refs) for p, refs in zip(predictions, references)]
    f = [max(f1(p, r) for r in refs) for p, refs in zip(predictions, references)]
    return {"exact_match": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f))}

# %% q2_solution: averages over the references instead of taking the best
def squad(predictions, references):
    def f1(pred, ref):
        p, r = normalize(pred).split(), normalize(ref).split()
        shared = sum((collections.Counter(p) & collections.Counter(r)).values())
        if shared == 0: return 0.0
        precision, recall = shared / len(p), shared / len(r)
        return 2 * precision * recall / (precision + recall)
    em = [np.mean([float(normalize(p) == normalize(r)) for r in refs]) for p, refs in zip(predictions, references)]
    f = [np.mean([f1(p, r) for r in refs]) for p, refs in zip(predictions, references)]
    return {"exact_match": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f))}

# %% q2_solution: shared words as a set (repeated words counted once)
def squad(predictions, references):
    def f1(pred, ref):
        p, r = normalize(pred).split(), normalize(ref).split()
        shared = len(set(p) & set(r))
        if shared == 0: return 0.0
        precision, recall = shared / len(p), shared / len(r)
        return 2 * precision * recall / (precision + recall)
    em = [max(float(normalize(p) == normalize(r)) for r in refs) for p, refs in zip(predictions, references)]
    f = [max(f1(p, r) for r in refs) for p, refs in zip(predictions, references)]
    return {"exact_match": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f))}

# %% q2_solution: returns fractions, not percentages
def squad(predictions, references):
    def f1(pred, ref):
        p, r = normalize(pred).split(), normalize(ref).split()
        shared = sum((collections.Counter(p) & collections.Counter(r)).values())
        if shared == 0: return 0.0
        precision, recall = shared / len(p), shared / len(r)
        return 2 * precision * recall / (precision + recall)
    em = [max(float(normalize(p) == normalize(r)) for r in refs) for p, refs in zip(predictions, references)]
    f = [max(f1(p, r) for r in refs) for p, refs in zip(predictions, references)]
    return {"exact_match": float(np.mean(em)), "f1": float(np.mean(f))}

# %% q3_solution: takes the best start and the best end separately (the pair may be invalid)
def best_answer(context, windows, n_best=20, max_answer_length=30):
    best, best_score = "", -np.inf
    for w in windows:
        offsets = w["offsets"]
        starts = np.asarray(w["start_logits"])[:len(offsets)]
        ends = np.asarray(w["end_logits"])[:len(offsets)]
        s, e = int(np.argmax(starts)), int(np.argmax(ends))
        if offsets[s] is None or offsets[e] is None or e < s: continue
        if starts[s] + ends[e] > best_score:
            best_score, best = starts[s] + ends[e], context[offsets[s][0]:offsets[e][1]]
    return best

# %% q3_solution: does not cut the logits to the offsets (padding positions considered)
def best_answer(context, windows, n_best=20, max_answer_length=30):
    best, best_score = "", -np.inf
    for w in windows:
        offsets, starts, ends = w["offsets"], np.asarray(w["start_logits"]), np.asarray(w["end_logits"])
        for s in np.argsort(starts)[::-1][:n_best]:
            for e in np.argsort(ends)[::-1][:n_best]:
                if offsets[s] is None or offsets[e] is None or e < s or e - s + 1 > max_answer_length: continue
                if starts[s] + ends[e] > best_score:
                    best_score, best = starts[s] + ends[e], context[offsets[s][0]:offsets[e][1]]
    return best

# %% q3_solution: returns the best span of the last window, not of all windows
def best_answer(context, windows, n_best=20, max_answer_length=30):
    best = ""
    for w in windows:
        offsets = w["offsets"]
        starts = np.asarray(w["start_logits"])[:len(offsets)]
        ends = np.asarray(w["end_logits"])[:len(offsets)]
        best_score = -np.inf
        for s in np.argsort(starts)[::-1][:n_best]:
            for e in np.argsort(ends)[::-1][:n_best]:
                if offsets[s] is None or offsets[e] is None or e < s or e - s + 1 > max_answer_length: continue
                if starts[s] + ends[e] > best_score:
                    best_score, best = starts[s] + ends[e], context[offsets[s][0]:offsets[e][1]]
    return best
