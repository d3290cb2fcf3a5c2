# Known wrong answers for finetune_sentiment.ipynb: each must lose points on its own question, and only there.
# A section replaces the solution cell it names with what a student might write (see exercises/README.md).
# Check them all: python tools/exercise_variants.py exercises/source/03_text_classification/finetune_sentiment.ipynb
# (question 3 trains: its wrong answers run in the slow test, or without --fast)

# %% q1_solution: pads every tweet to MAX_LENGTH
def tokenize(batch):
    return tokenizer(batch["text"], truncation=True, max_length=MAX_LENGTH, padding="max_length")

tokenized = ds.map(tokenize, batched=True, remove_columns=["text"])

# %% q1_solution: forgets truncation
def tokenize(batch):
    return tokenizer(batch["text"])

tokenized = ds.map(tokenize, batched=True, remove_columns=["text"])

# %% q1_solution: keeps the raw text column
def tokenize(batch):
    return tokenizer(batch["text"], truncation=True, max_length=MAX_LENGTH)

tokenized = ds.map(tokenize, batched=True)

# %% q2_solution: argmax over the wrong axis
def compute_metrics(eval_pred):
    from sklearn.metrics import accuracy_score, f1_score
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=0)
    preds = np.resize(preds, labels.shape)
    return {"accuracy": accuracy_score(labels, preds), "f1": f1_score(labels, preds, average="macro")}

# %% q2_solution: binary F1 instead of macro
def compute_metrics(eval_pred):
    from sklearn.metrics import accuracy_score, f1_score
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=-1)
    return {"accuracy": accuracy_score(labels, preds), "f1": f1_score(labels, preds)}

# %% q2_solution: the number of right answers instead of the share
def compute_metrics(eval_pred):
    from sklearn.metrics import f1_score
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=-1)
    return {"accuracy": float((preds == labels).sum()), "f1": f1_score(labels, preds, average="macro")}

# %% q3_solution: the seed's evaluation_strategy= (a TypeError in transformers 5)
seed_everything(p.seed)
id2label, label2id = label_maps(names)
model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=len(names), id2label=id2label, label2id=label2id)
training_args = TrainingArguments(output_dir=str(OUTPUT_DIR / "checkpoints"), num_train_epochs=p.epochs,
                                  per_device_train_batch_size=p.batch_size, learning_rate=p.lr, warmup_steps=0.1,
                                  weight_decay=0.01, evaluation_strategy="epoch", save_strategy="epoch",
                                  load_best_model_at_end=True, metric_for_best_model="accuracy", save_total_limit=1,
                                  seed=p.seed, report_to="none")
trainer = Trainer(model=model, args=training_args, train_dataset=data["train"], eval_dataset=data["validation"],
                  processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
                  compute_metrics=metrics)
trainer.train()
trainer.save_model(str(SAVE_DIR))

# %% q3_solution: forgets to save the model
seed_everything(p.seed)
id2label, label2id = label_maps(names)
model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=len(names), id2label=id2label, label2id=label2id)
training_args = TrainingArguments(output_dir=str(OUTPUT_DIR / "checkpoints"), num_train_epochs=p.epochs,
                                  per_device_train_batch_size=p.batch_size, learning_rate=p.lr, warmup_steps=0.1,
                                  weight_decay=0.01, eval_strategy="epoch", save_strategy="epoch",
                                  load_best_model_at_end=True, metric_for_best_model="accuracy", save_total_limit=1,
                                  seed=p.seed, report_to="none")
trainer = Trainer(model=model, args=training_args, train_dataset=data["train"], eval_dataset=data["validation"],
                  processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
                  compute_metrics=metrics)
trainer.train()

# %% q3_solution: no label names (a reloaded model answers LABEL_1) and every checkpoint kept
seed_everything(p.seed)
model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=len(names))
training_args = TrainingArguments(output_dir=str(OUTPUT_DIR / "checkpoints"), num_train_epochs=p.epochs,
                                  per_device_train_batch_size=p.batch_size, learning_rate=p.lr, warmup_steps=0.1,
                                  weight_decay=0.01, eval_strategy="epoch", save_strategy="epoch",
                                  load_best_model_at_end=True, metric_for_best_model="accuracy",
                                  seed=p.seed, report_to="none")
trainer = Trainer(model=model, args=training_args, train_dataset=data["train"], eval_dataset=data["validation"],
                  processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
                  compute_metrics=metrics)
trainer.train()
trainer.save_model(str(SAVE_DIR))
