# Known wrong answers for align_labels.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/05_ner/align_labels.ipynb

# %% q1_solution: labels every subword with its word's label
def align_first(word_ids, word_labels):
    return [-100 if word is None else int(word_labels[word]) for word in word_ids]

# %% q1_solution: compares with the previous label instead of the previous word (two same-tag words in a row)
def align_first(word_ids, word_labels):
    labels, previous = [], None
    for word in word_ids:
        label = -100 if word is None else int(word_labels[word])
        labels.append(-100 if label == previous else label)
        previous = label
    return labels

# %% q1_solution: returns numpy integers (word_labels[word] without int())
def align_first(word_ids, word_labels):
    labels, previous = [], None
    for word in word_ids:
        labels.append(-100 if word is None or word == previous else word_labels[word])
        previous = word
    return labels

# %% q1_solution: labels the last subword of each word instead of the first
def align_first(word_ids, word_labels):
    labels = []
    for i, word in enumerate(word_ids):
        last = i + 1 == len(word_ids) or word_ids[i + 1] != word
        labels.append(int(word_labels[word]) if word is not None and last else -100)
    return labels

# %% q2_solution: repeats B-X on every piece of the word
def align_all(word_ids, word_labels, label_names):
    return [-100 if word is None else int(word_labels[word]) for word in word_ids]

# %% q2_solution: turns B-X into I-X whenever the token before had the same label (also across words)
def align_all(word_ids, word_labels, label_names):
    labels, previous = [], None
    for word in word_ids:
        if word is None:
            labels.append(-100); previous = None; continue
        label = int(word_labels[word])
        name = label_names[label]
        if previous == label and name.startswith("B-"):
            label = label_names.index("I-" + name[2:])
        labels.append(label)
        previous = int(word_labels[word])
    return labels

# %% q2_solution: assumes I-X is always the id after B-X
def align_all(word_ids, word_labels, label_names):
    labels, previous = [], None
    for word in word_ids:
        if word is None:
            labels.append(-100)
        else:
            label = int(word_labels[word])
            if word == previous and label_names[label].startswith("B-"): label += 1
            labels.append(label)
        previous = word
    return labels

# %% q3_solution: tokenises one sentence at a time
def tokenize_and_align(batch):
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for words, tags in zip(batch["tokens"], batch["ner_tags"]):
        enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=p.max_length)
        out["input_ids"].append(enc["input_ids"]); out["attention_mask"].append(enc["attention_mask"])
        out["labels"].append(align_first(enc.word_ids(), tags))
    return out

# %% q3_solution: uses the first sentence's word ids for every sentence
def tokenize_and_align(batch):
    enc = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True, max_length=p.max_length)
    enc["labels"] = [align_first(enc.word_ids(), tags) for tags in batch["ner_tags"]]
    return enc

# %% q3_solution: pads every sentence to max_length in map
def tokenize_and_align(batch):
    enc = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True, max_length=p.max_length,
                    padding="max_length")
    enc["labels"] = [align_first(enc.word_ids(i), tags) for i, tags in enumerate(batch["ner_tags"])]
    return enc

# %% q3_solution: forgets truncation
def tokenize_and_align(batch):
    enc = tokenizer(batch["tokens"], is_split_into_words=True)
    enc["labels"] = [align_first(enc.word_ids(i), tags) for i, tags in enumerate(batch["ner_tags"])]
    return enc
