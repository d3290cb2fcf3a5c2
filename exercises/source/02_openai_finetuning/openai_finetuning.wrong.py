# Known wrong answers for openai_finetuning.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/02_openai_finetuning/openai_finetuning.ipynb
# (question 4 fine-tunes a model: its wrong answers run in the slow test, or without --fast)

# %% q1_solution: removes duplicates before stripping (" Hello. " survives)
def clean_pairs(pairs, system: str) -> list:
    out, seen = [], set()
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2: continue
        q, a = pair
        if not (isinstance(q, str) and isinstance(a, str) and q.strip() and a.strip()): continue
        if (q, a) in seen: continue
        seen.add((q, a))
        out.append(chat_example(q.strip(), a.strip(), system=system))
    return out

# %% q1_solution: a set of pairs loses the order
def clean_pairs(pairs, system: str) -> list:
    good = {(p[0].strip(), p[1].strip()) for p in pairs if isinstance(p, (tuple, list)) and len(p) == 2
            and all(isinstance(x, str) and x.strip() for x in p)}
    return [chat_example(q, a, system=system) for q, a in sorted(good)]

# %% q1_solution: checks for None but not for other types
def clean_pairs(pairs, system: str) -> list:
    out, seen = [], set()
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2: continue
        q, a = pair
        if q is None or a is None: continue
        q, a = str(q).strip(), str(a).strip()
        if not q or not a or (q, a) in seen: continue
        seen.add((q, a))
        out.append(chat_example(q, a, system=system))
    return out

# %% q2_solution: warnings block too
def blocking_problems(examples) -> list:
    report = validate_examples(examples)
    return sorted({p.code for p in report.errors + report.warnings})

# %% q2_solution: one code per problem found, repeats included
def blocking_problems(examples) -> list:
    return sorted(p.code for p in validate_examples(examples).errors)

# %% q2_solution: distinct codes in the order found, not sorted
def blocking_problems(examples) -> list:
    return list(dict.fromkeys(p.code for p in validate_examples(examples).errors))

# %% q3_solution: only 10 pairs
SIGNATURE = "Keep reading!"

def domain_pairs() -> list:
    return [(f"What is rule {i} of the library?", f"Rule {i}: be kind to the books. {SIGNATURE}") for i in range(10)]

# %% q3_solution: the signature at the start of each answer
SIGNATURE = "Keep reading!"

def domain_pairs() -> list:
    return [(f"What is rule {i} of the library?", f"{SIGNATURE} Rule {i}: be kind to the books.") for i in range(12)]

# %% q3_solution: the same question asked twice (two answers for it)
SIGNATURE = "Keep reading!"

def domain_pairs() -> list:
    pairs = [(f"What is rule {i} of the library?", f"Rule {i}: be kind to the books. {SIGNATURE}") for i in range(12)]
    return pairs + [("What is rule 0 of the library?", f"Rule 0: no food near the books. {SIGNATURE}")]

# %% q4_solution: the deprecated hyperparameters= field
def fine_tune(client, path, base_model: str):
    with open(path, "rb") as f:
        uploaded = client.files.create(file=f, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=uploaded.id, model=base_model, seed=0,
                                         hyperparameters={"n_epochs": 3, "batch_size": 4})
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(1)
        job = client.fine_tuning.jobs.retrieve(job.id)
    return job

# %% q4_solution: returns the job without waiting for it
def fine_tune(client, path, base_model: str):
    with open(path, "rb") as f:
        uploaded = client.files.create(file=f, purpose="fine-tune")
    return client.fine_tuning.jobs.create(
        training_file=uploaded.id, model=base_model, seed=0,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 4}}})

# %% q4_solution: no seed (the run cannot be repeated)
def fine_tune(client, path, base_model: str):
    with open(path, "rb") as f:
        uploaded = client.files.create(file=f, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        training_file=uploaded.id, model=base_model,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 4}}})
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(1)
        job = client.fine_tuning.jobs.retrieve(job.id)
    return job

# %% q4_solution: two epochs and batch size 8
def fine_tune(client, path, base_model: str):
    with open(path, "rb") as f:
        uploaded = client.files.create(file=f, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        training_file=uploaded.id, model=base_model, seed=0,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": 8}}})
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(1)
        job = client.fine_tuning.jobs.retrieve(job.id)
    return job
