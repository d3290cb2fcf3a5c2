# Known wrong answers for label_windows.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/06_question_answering/label_windows.ipynb

# %% q1_solution: the seed's rule: a window without the answer is labelled with the whole context
def label_window(offsets, sequence_ids, start_char, end_char, cls_index=0):
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    first, last = context[0], context[-1]
    if not (offsets[first][0] <= start_char and end_char <= offsets[last][1]):
        return first, last
    start = first
    while start <= last and offsets[start][0] <= start_char: start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char: end -= 1
    return start - 1, end + 1

# %% q1_solution: only checks that the answer starts in the window (an answer cut at the end is labelled)
def label_window(offsets, sequence_ids, start_char, end_char, cls_index=0):
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    first, last = context[0], context[-1]
    if not (offsets[first][0] <= start_char <= offsets[last][1]):
        return cls_index, cls_index
    start = next(i for i in context if offsets[i][0] <= start_char < offsets[i][1])
    end = next((i for i in context if offsets[i][0] < end_char <= offsets[i][1]), last)
    return start, end

# %% q1_solution: end token one too far (the first token after the answer)
def label_window(offsets, sequence_ids, start_char, end_char, cls_index=0):
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    first, last = context[0], context[-1]
    if not (offsets[first][0] <= start_char and end_char <= offsets[last][1]):
        return cls_index, cls_index
    start = next(i for i in context if offsets[i][0] <= start_char < offsets[i][1])
    end = next((i for i in context if offsets[i][0] >= end_char), last)
    return start, end

# %% q1_solution: searches every token, question tokens included
def label_window(offsets, sequence_ids, start_char, end_char, cls_index=0):
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not (offsets[context[0]][0] <= start_char and end_char <= offsets[context[-1]][1]):
        return cls_index, cls_index
    real = [i for i, s in enumerate(sequence_ids) if s is not None]
    start = next(i for i in real if offsets[i][0] <= start_char < offsets[i][1])
    end = next(i for i in real if offsets[i][0] < end_char <= offsets[i][1])
    return start, end

# %% q2_solution: takes the answer of example i for window i (no overflow_to_sample_mapping)
def prepare_features(examples, tokenizer, max_length=384, doc_stride=128):
    enc = tokenizer(list(examples["question"]), list(examples["context"]), truncation="only_second",
                    max_length=max_length, stride=doc_stride, return_overflowing_tokens=True,
                    return_offsets_mapping=True)
    enc.pop("overflow_to_sample_mapping")
    starts, ends = [], []
    for i, offsets in enumerate(enc.pop("offset_mapping")):
        answer = examples["answers"][i]
        start_char = answer["answer_start"][0]
        s, e = label_window(offsets, enc.sequence_ids(i), start_char, start_char + len(answer["text"][0]))
        starts.append(s); ends.append(e)
    enc["start_positions"], enc["end_positions"] = starts, ends
    return enc

# %% q2_solution: forgets the stride (windows do not overlap)
def prepare_features(examples, tokenizer, max_length=384, doc_stride=128):
    enc = tokenizer(list(examples["question"]), list(examples["context"]), truncation="only_second",
                    max_length=max_length, return_overflowing_tokens=True, return_offsets_mapping=True)
    sample_map = enc.pop("overflow_to_sample_mapping")
    starts, ends = [], []
    for i, offsets in enumerate(enc.pop("offset_mapping")):
        answer = examples["answers"][sample_map[i]]
        start_char = answer["answer_start"][0]
        cls_index = enc["input_ids"][i].index(tokenizer.cls_token_id)
        s, e = label_window(offsets, enc.sequence_ids(i), start_char, start_char + len(answer["text"][0]), cls_index)
        starts.append(s); ends.append(e)
    enc["start_positions"], enc["end_positions"] = starts, ends
    return enc

# %% q2_solution: leaves offset_mapping and the sample mapping in the output
def prepare_features(examples, tokenizer, max_length=384, doc_stride=128):
    enc = tokenizer(list(examples["question"]), list(examples["context"]), truncation="only_second",
                    max_length=max_length, stride=doc_stride, return_overflowing_tokens=True,
                    return_offsets_mapping=True)
    starts, ends = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        answer = examples["answers"][enc["overflow_to_sample_mapping"][i]]
        start_char = answer["answer_start"][0]
        cls_index = enc["input_ids"][i].index(tokenizer.cls_token_id)
        s, e = label_window(offsets, enc.sequence_ids(i), start_char, start_char + len(answer["text"][0]), cls_index)
        starts.append(s); ends.append(e)
    enc["start_positions"], enc["end_positions"] = starts, ends
    return enc
