# Known wrong answers for chat_data_checks.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/02_openai_finetuning/chat_data_checks.ipynb

# %% q1_solution: flags a system message first too (off by one)
def turn_problems(messages) -> list:
    roles = [m["role"] for m in messages]
    found = set()
    if "system" in roles: found.add("system_not_first")
    if any(a == b for a, b in zip(roles, roles[1:])): found.add("same_role_twice")
    if not roles or roles[-1] != "assistant": found.add("ends_without_reply")
    return sorted(found)

# %% q1_solution: only compares the first two roles
def turn_problems(messages) -> list:
    roles = [m["role"] for m in messages]
    found = set()
    if "system" in roles[1:]: found.add("system_not_first")
    if len(roles) > 1 and roles[0] == roles[1]: found.add("same_role_twice")
    if not roles or roles[-1] != "assistant": found.add("ends_without_reply")
    return sorted(found)

# %% q1_solution: checks that an assistant message exists, not that it comes last
def turn_problems(messages) -> list:
    roles = [m["role"] for m in messages]
    found = set()
    if "system" in roles[1:]: found.add("system_not_first")
    if any(a == b for a, b in zip(roles, roles[1:])): found.add("same_role_twice")
    if "assistant" not in roles: found.add("ends_without_reply")
    return sorted(found)

# %% q1_solution: one entry per problem found, not distinct
def turn_problems(messages) -> list:
    roles = [m["role"] for m in messages]
    found = ["system_not_first" for r in roles[1:] if r == "system"]
    found += ["same_role_twice" for a, b in zip(roles, roles[1:]) if a == b]
    if not roles or roles[-1] != "assistant": found.append("ends_without_reply")
    return sorted(found)

# %% q2_solution: groups by the raw question (case and spaces differ)
def conflicting_answers(examples) -> dict:
    answers = {}
    for ex in examples:
        question = [m["content"] for m in ex["messages"] if m["role"] == "user"][-1]
        answers.setdefault(question, set()).add(answer_of(ex))
    return {q: sorted(a) for q, a in answers.items() if len(a) > 1}

# %% q2_solution: a question asked twice is a conflict, whatever the answers
def conflicting_answers(examples) -> dict:
    answers = {}
    for ex in examples:
        answers.setdefault(question_of(ex), []).append(answer_of(ex))
    return {q: sorted(set(a)) for q, a in answers.items() if len(a) > 1}

# %% q2_solution: lists every answer, repeats included
def conflicting_answers(examples) -> dict:
    answers = {}
    for ex in examples:
        answers.setdefault(question_of(ex), []).append(answer_of(ex))
    return {q: sorted(a) for q, a in answers.items() if len(set(a)) > 1}

# %% q2_solution: takes the first user message as the question
def conflicting_answers(examples) -> dict:
    answers = {}
    for ex in examples:
        first = next(m["content"] for m in ex["messages"] if m["role"] == "user")
        answers.setdefault(" ".join(first.casefold().split()), set()).add(answer_of(ex))
    return {q: sorted(a) for q, a in answers.items() if len(a) > 1}

# %% q3_solution: compares whole conversations (catches exact copies only)
def leaked(train, validation) -> list:
    seen = {str(ex) for ex in train}
    return [i for i, ex in enumerate(validation) if str(ex) in seen]

# %% q3_solution: compares the raw questions (case differs)
def leaked(train, validation) -> list:
    def raw(ex): return [m["content"] for m in ex["messages"] if m["role"] == "user"][-1]
    seen = {raw(ex) for ex in train}
    return [i for i, ex in enumerate(validation) if raw(ex) in seen]

# %% q3_solution: returns the indices in train
def leaked(train, validation) -> list:
    asked = {question_of(ex) for ex in validation}
    return [i for i, ex in enumerate(train) if question_of(ex) in asked]
