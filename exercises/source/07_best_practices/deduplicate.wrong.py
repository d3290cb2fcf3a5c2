# Known wrong answers for deduplicate.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/07_best_practices/deduplicate.ipynb

# %% q1_solution: lower() instead of casefold() ("Straße" stays)
def normalize(text):
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())

# %% q1_solution: no NFKC (full-width letters stay)
def normalize(text):
    return " ".join(text.casefold().split())

# %% q1_solution: strips the ends but keeps tabs and runs of spaces inside
def normalize(text):
    return unicodedata.normalize("NFKC", text).casefold().strip()

# %% q2_solution: shingles of the raw text, not the normalised one
def shingles(text, k=5):
    return {text[i:i + k] for i in range(max(len(text) - k + 1, 1))}

def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0

# %% q2_solution: misses the last shingle (off by one)
def shingles(text, k=5):
    t = normalize(text)
    return {t[i:i + k] for i in range(max(len(t) - k, 1))}

def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0

# %% q2_solution: jaccard divides by the size of the first set
def shingles(text, k=5):
    t = normalize(text)
    return {t[i:i + k] for i in range(max(len(t) - k + 1, 1))}

def jaccard(a, b):
    return len(a & b) / len(a) if a else 1.0

# %% q2_solution: jaccard of two empty sets divides by zero
def shingles(text, k=5):
    t = normalize(text)
    return {t[i:i + k] for i in range(max(len(t) - k + 1, 1))}

def jaccard(a, b):
    return len(a & b) / len(a | b)

# %% q3_solution: compares with all earlier texts, not only the kept ones
def deduplicate(texts, threshold=0.7, k=5):
    kept, dropped, norms, sets = [], {}, [], []
    for i, text in enumerate(texts):
        norm, sh = normalize(text), shingles(text, k)
        if norm in norms:
            dropped[i] = ("duplicate", norms.index(norm))
        else:
            sims = [(jaccard(sh, s), j) for j, s in enumerate(sets)]
            best = max((x for x in sims if x[0] >= threshold), key=lambda x: (x[0], -x[1]), default=None)
            if best: dropped[i] = ("near_duplicate", best[1])
            else: kept.append(i)
        norms.append(norm); sets.append(sh)
    return kept, dropped

# %% q3_solution: takes the first kept text over the threshold, not the most similar
def deduplicate(texts, threshold=0.7, k=5):
    kept, dropped, seen, sets = [], {}, {}, {}
    for i, text in enumerate(texts):
        norm = normalize(text)
        if norm in seen:
            dropped[i] = ("duplicate", seen[norm]); continue
        sh = shingles(text, k)
        match = next((j for j in kept if jaccard(sh, sets[j]) >= threshold), None)
        if match is not None:
            dropped[i] = ("near_duplicate", match); continue
        kept.append(i); seen[norm] = i; sets[i] = sh
    return kept, dropped

# %% q3_solution: a similarity equal to the threshold does not count (> instead of >=)
def deduplicate(texts, threshold=0.7, k=5):
    kept, dropped, seen, sets = [], {}, {}, {}
    for i, text in enumerate(texts):
        norm = normalize(text)
        if norm in seen:
            dropped[i] = ("duplicate", seen[norm]); continue
        sh = shingles(text, k)
        best = None
        for j in kept:
            sim = jaccard(sh, sets[j])
            if sim > threshold and (best is None or sim > best[1]): best = (j, sim)
        if best is not None:
            dropped[i] = ("near_duplicate", best[0]); continue
        kept.append(i); seen[norm] = i; sets[i] = sh
    return kept, dropped

# %% q3_solution: no separate exact-duplicate check (copies come out as near duplicates)
def deduplicate(texts, threshold=0.7, k=5):
    kept, dropped, sets = [], {}, {}
    for i, text in enumerate(texts):
        sh = shingles(text, k)
        best = None
        for j in kept:
            sim = jaccard(sh, sets[j])
            if sim >= threshold and (best is None or sim > best[1]): best = (j, sim)
        if best is not None:
            dropped[i] = ("near_duplicate", best[0]); continue
        kept.append(i); sets[i] = sh
    return kept, dropped
