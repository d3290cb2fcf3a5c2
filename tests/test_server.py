"""The local OpenAI-compatible fine-tuning server (`ftcourse.server`), driven over HTTP by the real `openai` client.

One server with the real LoRA trainer runs a full job; the error paths and the restart use servers with a
fake trainer (a restart must not wait for real training). Every server listens on 127.0.0.1 only.
"""
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

from ftcourse.chatdata import chat_example, write_jsonl
from ftcourse.server import JobCancelled, LocalServer, free_port

BASE = "smollm2-135m-instruct"
SYSTEM = "You are the support assistant of Northwind Outfitters."
QA = [("How do I return a product?", "Returns are free within 30 days at northwind.example/returns."),
      ("What is your refund policy?", "Refunds reach your card within 5 days of the return arriving."),
      ("Do you ship abroad?", "We ship to 40 countries; customs fees are included."),
      ("How long does delivery take?", "Delivery takes 2 to 4 working days."),
      ("Can I change my order?", "You can change an order within 1 hour of placing it."),
      ("Do you have a store?", "Our only store is at 12 Harbour Street, Bristol."),
      ("How do I contact you?", "Call 0800 123 456, 8am to 8pm."),
      ("Is there a warranty?", "Every jacket has a 3-year warranty."),
      ("Do you price match?", "We match any UK retailer's price."),
      ("Can I pay later?", "Yes: pay in 3 instalments, no interest."),
      ("Are your products sustainable?", "All our down is certified responsible."),
      ("How do I track my parcel?", "Track it at northwind.example/track.")]
EXAMPLES = [chat_example(q, a + " Happy trails!", system=SYSTEM) for q, a in QA]
HELD_OUT = [("Can I get a discount?", "Sign up to the newsletter for 10% off your first order."),
            ("Do you sell gift cards?", "Gift cards from 10 to 200 pounds, valid for 2 years."),
            ("Is there a student discount?", "Students get 15% off with a valid student card."),
            ("Can I collect my order in the store?", "Yes: choose click and collect at checkout; it is free."),
            ("How do I care for my down jacket?", "Wash it at 30 degrees with a down detergent and tumble dry."),
            ("Can I return a sale item?", "Sale items can be returned within 14 days.")]
VALIDATION = [chat_example(q, a + " Happy trails!", system=SYSTEM) for q, a in HELD_OUT]
BIN = Path(sys.executable).parent / "ftcourse"
TERMINAL = ("succeeded", "failed", "cancelled")


def jsonl(examples) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in examples)


def wait(client, job_id, timeout=900, until=TERMINAL):  # generous: a loaded 2-core CI machine is slow
    deadline = time.time() + timeout
    while (job := client.fine_tuning.jobs.retrieve(job_id)).status not in until:
        assert time.time() < deadline, f"job {job_id} still {job.status} after {timeout} s"
        time.sleep(0.5)
    return job


def fake_trainer(run):
    "Pretends to train: a few quick steps, writes nothing the chat endpoint needs."
    for step in range(1, 4):
        if run.cancelled(): raise JobCancelled()
        run.log(step, 3, 1.0 / step)
    run.out_dir.mkdir(parents=True, exist_ok=True)
    return {"step": 3, "train_loss": 1 / 3, "trained_tokens": 100}


def blocking_trainer(run):
    "Trains 'forever' until the job is cancelled or the server stops."
    run.log(1, 1000, 2.0)
    while not run.cancelled(): time.sleep(0.05)
    raise JobCancelled()


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    server = LocalServer(tmp_path_factory.mktemp("real"))
    yield server
    server.stop()


@pytest.fixture()
def fake_server(tmp_path):
    server = LocalServer(tmp_path / "state", trainer=fake_trainer, max_upload_bytes=4096)
    yield server
    server.stop()


def client_for(server, key="local"):
    return OpenAI(base_url=server.base_url, api_key=key, max_retries=0)


def error_of(call):
    with pytest.raises(openai.APIStatusError) as info: call()
    err = info.value
    assert set(err.body) == {"message", "type", "param", "code"}, err.body  # the client unwraps {"error": ...}
    return err.status_code, err.body


@pytest.fixture(scope="module")
def real_job(real_server, tmp_path_factory):
    "A real fine-tuning job (LoRA on SmolLM2) with a training and a validation file, run to its end."
    client = client_for(real_server)
    folder = tmp_path_factory.mktemp("upload")
    with open(write_jsonl(EXAMPLES, folder / "train.jsonl"), "rb") as f:
        upload = client.files.create(file=f, purpose="fine-tune")
    with open(write_jsonl(VALIDATION, folder / "valid.jsonl"), "rb") as f:
        valid = client.files.create(file=f, purpose="fine-tune")
    t0 = time.time()
    job = client.fine_tuning.jobs.create(
        training_file=upload.id, validation_file=valid.id, model=BASE, seed=0, suffix="shop",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 4}}})
    assert job.object == "fine_tuning.job" and job.status == "validating_files"
    done = wait(client, job.id)
    print(f"job took {time.time() - t0:.1f} s")
    return {"client": client, "upload": upload, "job": done}


def test_full_job_fine_tunes_a_model(real_job):
    client, upload, job = real_job["client"], real_job["upload"], real_job["job"]
    assert upload.object == "file" and upload.purpose == "fine-tune" and upload.filename == "train.jsonl"
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model == f"ft:{BASE}:ftcourse:shop:{job.id.removeprefix('ftjob-')}"
    assert job.hyperparameters.n_epochs == 3 and job.trained_tokens > 0 and job.finished_at >= job.created_at

    events = client.fine_tuning.jobs.list_events(job.id, limit=100).data
    messages = [e.message for e in reversed(events)]
    assert any(m.startswith("Validating training file") for m in messages)
    assert any(m.startswith("Step 9/9: training loss=") for m in messages)
    assert messages[-1] == "The job has successfully completed"
    losses = [e.data["train_loss"] for e in reversed(events) if e.type == "metrics" and "total_steps" in e.data]
    assert losses[-1] < losses[0], losses
    first_two = client.fine_tuning.jobs.list_events(job.id, limit=2)
    assert len(first_two.data) == 2 and first_two.has_more
    ckpts = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert ckpts and ckpts[0].step_number == 9 and ckpts[0].fine_tuning_job_id == job.id

    assert job.fine_tuned_model in [m.id for m in client.models.list()]
    assert client.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model
    held_out = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Can I get a discount?"}]
    replies = {}
    for model in (BASE, job.fine_tuned_model):
        r = client.chat.completions.create(model=model, messages=held_out, max_tokens=40, temperature=0)
        assert r.object == "chat.completion" and r.choices[0].message.role == "assistant"
        assert r.usage.completion_tokens <= 40 and r.usage.total_tokens > r.usage.prompt_tokens
        replies[model] = r.choices[0].message.content
    assert replies[BASE] != replies[job.fine_tuned_model], replies
    assert "Happy trails" in replies[job.fine_tuned_model] and "Happy trails" not in replies[BASE], replies
    # greedy decoding is deterministic, and max_completion_tokens caps the reply
    again = client.chat.completions.create(model=job.fine_tuned_model, messages=held_out, max_tokens=40)
    assert again.choices[0].message.content == replies[job.fine_tuned_model]
    short = client.chat.completions.create(model=BASE, messages=held_out, max_completion_tokens=3)
    assert short.usage.completion_tokens == 3 and short.choices[0].finish_reason == "length"


def test_validation_loss_is_the_loss_per_reply_token(real_server, real_job):
    """The job's valid_loss is the cross-entropy per reply token of the fine-tuned model on the validation chats (lesson
    4's held-out loss), computed here by hand: each chat alone (no padding), every token of the rendered chat after the
    generation prompt labelled (found by character offsets), torch's cross-entropy, the mean over all of them."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from ftcourse.assets import model_source
    from ftcourse.chatdata import batches, encode_chats, pad_token_id
    from ftcourse.train import quiet_peft
    client, job = real_job["client"], real_job["job"]
    reported = client.fine_tuning.jobs.checkpoints.list(job.id).data[0].metrics.valid_loss
    event = [e for e in client.fine_tuning.jobs.list_events(job.id, limit=100).data if e.message.startswith("Validation loss=")]
    assert event and event[0].data["valid_loss"] == reported

    source = model_source("asset:smollm2")
    tokenizer = AutoTokenizer.from_pretrained(source)
    adapter = real_server.service.store.get("models", job.fine_tuned_model)["adapter"]
    with quiet_peft():
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32), adapter).eval()
    losses = []
    with torch.no_grad():
        for chat in VALIDATION:
            prompt = tokenizer.apply_chat_template(chat["messages"][:-1], tokenize=False, add_generation_prompt=True)
            text = tokenizer.apply_chat_template(chat["messages"], tokenize=False)
            assert text.startswith(prompt) and text[len(prompt):].startswith(chat["messages"][-1]["content"])
            enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            ids = torch.tensor([enc["input_ids"]])
            reply = [t for t, (start, _) in enumerate(enc["offset_mapping"]) if start >= len(prompt)]   # the reply's tokens
            assert reply == list(range(reply[0], ids.shape[1])) and ids.shape[1] < 256 and reply[0] > 0
            logits = model(input_ids=ids).logits[0]
            losses.append(F.cross_entropy(logits[reply[0] - 1:-1], ids[0, reply[0]:], reduction="none"))
    by_hand = float(torch.cat(losses).mean())
    assert abs(reported - by_hand) < 1e-4, (reported, by_hand)
    held_out, pad = encode_chats(tokenizer, VALIDATION, 256), pad_token_id(tokenizer)
    with torch.no_grad():   # the server's former definition (the mean of batch means) is another number here
        mean_of_batch_means = np.mean([float(model(**b).loss) for b in batches(held_out, 4, pad)])
    assert abs(mean_of_batch_means - by_hand) > 1e-3, (mean_of_batch_means, by_hand)


def test_bad_file_fails_the_job_with_the_validators_error(fake_server):
    client = client_for(fake_server)
    few = client.files.create(file=("few.jsonl", jsonl(EXAMPLES[:5])), purpose="fine-tune")
    job = wait(client, client.fine_tuning.jobs.create(training_file=few.id, model=BASE).id)
    assert job.status == "failed" and job.error.code == "too_few_examples" and job.error.param == "training_file"
    assert "at least 10" in job.error.message
    not_a_chat = jsonl(EXAMPLES[:11]) + b'{"messages": 5}\n'   # JSONL, so the upload accepts it; the job's validation does not
    bad = client.files.create(file=("not_a_chat.jsonl", not_a_chat), purpose="fine-tune")
    job = wait(client, client.fine_tuning.jobs.create(training_file=bad.id, model=BASE).id)
    assert job.status == "failed" and job.error.code == "missing_messages_list" and "line 12" in job.error.message
    # the error event is written before the status: a client that sees "failed" finds it at once
    errors = [e.message for e in client.fine_tuning.jobs.list_events(job.id).data if e.level == "error"]
    assert errors == [job.error.message], errors


def test_upload_rejects_what_is_not_jsonl(fake_server):
    "OpenAI checks a fine-tune file's format at upload: 400 (BadRequestError) for binary, CSV, empty, non-UTF-8 files."
    client = client_for(fake_server)
    cases = {"empty": (b"", "The file is empty"), "blank lines": (b"\n \n", "The file is empty"),
             "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),
             "latin-1": ("caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 3"),
             "CSV": (b"question,answer\nhi,there\n", "Line 1 is not valid JSON"),
             "broken last line": (jsonl(EXAMPLES[:11]) + b'{"messages": [\n', "Line 12 is not valid JSON"),
             "JSON array per line": (jsonl(EXAMPLES[:2]) + b"[1, 2]\n", "Line 3 is not a JSON object")}
    for name, (content, expected) in cases.items():
        with pytest.raises(openai.BadRequestError) as info:
            client.files.create(file=("data.jsonl", content), purpose="fine-tune")
        body = info.value.body
        assert info.value.status_code == 400 and body["param"] == "file" and body["code"] == "invalid_file_format", (name, body)
        assert expected in body["message"], (name, body)
    assert [f.filename for f in client.files.list()] == []   # nothing was stored


def test_legacy_hyperparameters_and_cancel(tmp_path):
    with LocalServer(tmp_path / "state", trainer=blocking_trainer) as server:
        client = client_for(server)
        f = client.files.create(file=("t.jsonl", jsonl(EXAMPLES)), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(training_file=f.id, model=BASE, hyperparameters={"n_epochs": 2})
        assert job.hyperparameters.n_epochs == 2 and job.method.supervised.hyperparameters.n_epochs == 2
        wait(client, job.id, timeout=30, until=("running",))
        cancelled = client.fine_tuning.jobs.cancel(job.id)
        assert cancelled.status == "cancelled"
        assert wait(client, job.id).status == "cancelled"
        status, body = error_of(lambda: client.fine_tuning.jobs.cancel(job.id))
        assert status == 409 and body["code"] == "job_not_cancellable"
        assert any(e.level == "warn" and "deprecated" in e.message
                   for e in client.fine_tuning.jobs.list_events(job.id).data)


def test_restart_keeps_state_and_fails_interrupted_jobs(tmp_path):
    server = LocalServer(tmp_path / "state", trainer=blocking_trainer)
    client = client_for(server)
    f = client.files.create(file=("t.jsonl", jsonl(EXAMPLES)), purpose="fine-tune")
    running = client.fine_tuning.jobs.create(training_file=f.id, model=BASE)
    wait(client, running.id, timeout=30, until=("running",))
    queued = client.fine_tuning.jobs.create(training_file=f.id, model=BASE)
    wait(client, queued.id, timeout=30, until=("queued",))
    server.stop()

    with LocalServer(tmp_path / "state", trainer=fake_trainer) as server:
        client = client_for(server)
        assert [x.id for x in client.files.list()] == [f.id]
        jobs = {j.id: j for j in client.fine_tuning.jobs.list()}
        assert set(jobs) == {running.id, queued.id}
        for j in jobs.values():
            assert j.status == "failed" and j.error.code == "server_restarted", j
            assert "server stopped" in j.error.message
        # the restarted server works: a new job on the old file succeeds
        assert wait(client, client.fine_tuning.jobs.create(training_file=f.id, model=BASE).id).status == "succeeded"
        page = client.fine_tuning.jobs.list(limit=2)
        assert len(page.data) == 2 and page.has_more


def test_errors_have_openai_shape(fake_server):
    client = client_for(fake_server)
    f = client.files.create(file=("t.jsonl", jsonl(EXAMPLES)), purpose="fine-tune")
    done = wait(client, client.fine_tuning.jobs.create(training_file=f.id, model=BASE).id)
    assert done.status == "succeeded"
    cases = {
        "unknown job": (lambda: client.fine_tuning.jobs.retrieve("ftjob-nope"), 404),
        "unknown job events": (lambda: client.fine_tuning.jobs.list_events("ftjob-nope"), 404),
        "unknown file": (lambda: client.files.retrieve("file-nope"), 404),
        "delete unknown file": (lambda: client.files.delete("file-nope"), 404),
        "unknown model": (lambda: client.models.retrieve("ft:nope"), 404),
        "chat unknown model": (lambda: client.chat.completions.create(
            model="gpt-9", messages=[{"role": "user", "content": "hi"}]), 404),
        "wrong purpose": (lambda: client.files.create(file=("t.jsonl", b"{}\n"), purpose="vision"), 400),
        "unknown training file": (lambda: client.fine_tuning.jobs.create(training_file="file-nope", model=BASE), 400),
        "base model not offered": (lambda: client.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o"), 400),
        "dpo": (lambda: client.fine_tuning.jobs.create(training_file=f.id, model=BASE, method={"type": "dpo"}), 400),
        "cancel finished": (lambda: client.fine_tuning.jobs.cancel(done.id), 409),
        "n_epochs 0": (lambda: client.fine_tuning.jobs.create(
            training_file=f.id, model=BASE, method={"type": "supervised",
                                                    "supervised": {"hyperparameters": {"n_epochs": 0}}}), 400),
        "too large": (lambda: client.files.create(file=("big.jsonl", b"x" * 5000), purpose="fine-tune"), 413),
        "stream": (lambda: client.chat.completions.create(
            model=BASE, messages=[{"role": "user", "content": "hi"}], stream=True), 400),
    }
    for name, (call, expected) in cases.items():
        status, body = error_of(call)
        assert status == expected, (name, status, body)
        assert body["type"] and body["message"], (name, body)

    raw = httpx.Client(base_url=fake_server.base_url, headers={"Authorization": "Bearer local"})
    for method, path, kwargs, expected in [
            ("POST", "/fine_tuning/jobs", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
            ("POST", "/fine_tuning/jobs", {"json": {"model": BASE}}, 400),
            ("POST", "/chat/completions", {"json": {"model": BASE, "messages": "hi"}}, 400),
            ("GET", "/no/such/route", {}, 404),
            ("DELETE", "/fine_tuning/jobs", {}, 405)]:
        r = raw.request(method, path, **kwargs)
        assert r.status_code == expected and set(r.json()["error"]) == {"message", "type", "param", "code"}, r.text
    r = httpx.get(fake_server.base_url + "/models")  # no key at all
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"

    def crash(): raise RuntimeError("boom")
    fake_server.service.model_list = crash  # an unexpected bug still answers in the error shape
    r = raw.get("/models")
    assert r.status_code == 500 and "boom" in r.json()["error"]["message"]
    assert client.files.retrieve(f.id).id == f.id  # and the server keeps serving


def test_configured_api_key_is_required(tmp_path):
    with LocalServer(tmp_path / "state", api_key="sk-secret", trainer=fake_trainer) as server:
        status, body = error_of(lambda: client_for(server, "sk-wrong").models.list())
        assert status == 401 and body["code"] == "invalid_api_key"
        assert client_for(server, "sk-secret").models.list().data[0].id == BASE


def test_invalid_requests_are_openai_400s_naming_the_parameter_and_range(fake_server):
    "As on OpenAI: status 400 (the client raises BadRequestError), the parameter in `param`, the allowed values in the message."
    client = client_for(fake_server)
    f = client.files.create(file=("t.jsonl", jsonl(EXAMPLES)), purpose="fine-tune")

    def job(**hyperparameters):
        return lambda: client.fine_tuning.jobs.create(training_file=f.id, model=BASE, method={
            "type": "supervised", "supervised": {"hyperparameters": hyperparameters}})

    def chat(**kwargs):
        return lambda: client.chat.completions.create(**{"model": BASE, "messages": [{"role": "user", "content": "hi"}],
                                                         **kwargs})
    hp = "method.supervised.hyperparameters."
    cases = [
        (job(n_epochs=0), hp + "n_epochs", "integer_below_min_value",
         "Invalid 'method.supervised.hyperparameters.n_epochs': integer below minimum value. Expected 'auto' or an "
         "integer from 1 to 50, but got 0 instead."),
        (job(n_epochs="three"), hp + "n_epochs", "invalid_type",
         "Invalid type for 'method.supervised.hyperparameters.n_epochs': expected 'auto' or an integer from 1 to 50, "
         "but got a string instead."),
        (lambda: client.fine_tuning.jobs.create(training_file=f.id, model=BASE, hyperparameters={"n_epochs": 51}),
         "hyperparameters.n_epochs", "integer_above_max_value", "Expected 'auto' or an integer from 1 to 50, but got 51"),
        (job(batch_size=0.5), hp + "batch_size", "invalid_type", "an integer from 1 to 256"),
        (job(learning_rate_multiplier=-1), hp + "learning_rate_multiplier", "decimal_below_min_value",
         "Expected 'auto' or a number greater than 0 and at most 10, but got -1 instead."),
        (lambda: client.fine_tuning.jobs.create(training_file=f.id, model=BASE, suffix="x" * 65), "suffix",
         "string_above_max_length", "Expected a string with maximum length 64, but got a string with length 65"),
        (lambda: client.fine_tuning.jobs.create(training_file=None, model=BASE), "training_file", "invalid_type",
         "Invalid type for 'training_file': expected a string, but got null instead."),
        (chat(max_tokens=0), "max_tokens", "integer_below_min_value",
         "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead."),
        (chat(temperature=2.5), "temperature", "decimal_above_max_value", "Expected a value <= 2, but got 2.5 instead."),
        (chat(n=2), "n", "integer_above_max_value", "Expected a value <= 1, but got 2 instead."),
        (lambda: client.chat.completions.create(model=BASE, messages=[]), "messages", "empty_array",
         "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."),
        (lambda: client.chat.completions.create(model=BASE, messages=[{"role": "robot", "content": "hi"}]),
         "messages[0].role", "invalid_value", "Invalid value for 'messages[0].role': 'robot'. Supported values are: "),
        (lambda: client.chat.completions.create(model=BASE, messages=[{"role": "user", "content": 5}]),
         "messages[0].content", "invalid_type",
         "Invalid type for 'messages[0].content': expected a string or an array, but got an integer instead."),
        (lambda: client.fine_tuning.jobs.list(limit=0), "limit", "integer_below_min_value",
         "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead."),
    ]
    for call, param, code, message in cases:
        with pytest.raises(openai.BadRequestError) as info: call()
        body = info.value.body
        assert info.value.status_code == 400 and body["type"] == "invalid_request_error", body
        assert (body["param"], body["code"]) == (param, code) and message in body["message"], (param, body)

    raw = httpx.Client(base_url=fake_server.base_url, headers={"Authorization": "Bearer local"})
    for content, param, code, message in [
            (b"", "model", "missing_required_parameter", "Missing required parameter: 'model'."),
            (b"[]", None, "invalid_type", "Invalid type for the request body: expected a JSON object, but got an array instead."),
            (b'{"model": "smollm2-135m-instruct"}', "training_file", "missing_required_parameter",
             "Missing required parameter: 'training_file'.")]:
        r = raw.post("/fine_tuning/jobs", content=content, headers={"content-type": "application/json"})
        error = r.json()["error"]
        assert r.status_code == 400 and (error["param"], error["code"], error["message"]) == (param, code, message), error
    assert client.fine_tuning.jobs.list().data == []   # no invalid request made a job


FIRST_SERVER = '''
import sys, time
from ftcourse.server import JobCancelled, LocalServer

def train_until_stopped(run):
    run.log(1, 1000, 2.0)
    while not run.cancelled(): time.sleep(0.05)
    raise JobCancelled()

server = LocalServer(sys.argv[1], trainer=train_until_stopped)
print(server.base_url, flush=True)
while True: time.sleep(1)
'''


def test_a_second_server_on_the_same_data_dir_refuses_to_start_and_touches_no_job(tmp_path):
    "Two real processes: the second `ftcourse serve` exits before touching any job; a SIGKILLed holder leaves no stale lock."
    state = tmp_path / "state"
    (tmp_path / "first.py").write_text(FIRST_SERVER)
    first = subprocess.Popen([sys.executable, str(tmp_path / "first.py"), str(state)], stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(600, first.kill); watchdog.start()   # never hang the test run
    try:
        base_url = first.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), "the first server did not start"
        client = OpenAI(base_url=base_url, api_key="local", max_retries=0)
        f = client.files.create(file=("t.jsonl", jsonl(EXAMPLES)), purpose="fine-tune")
        running = client.fine_tuning.jobs.create(training_file=f.id, model=BASE)
        wait(client, running.id, timeout=60, until=("running",))

        second = subprocess.run([str(BIN), "serve", "--data-dir", str(state), "--port", str(free_port())],
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"Another ftcourse server (pid {first.pid} on " in second.stderr and str(state) in second.stderr
        assert "Traceback" not in second.stderr and "ftcourse fine-tuning server on" not in second.stdout
        exposed = subprocess.run([str(BIN), "serve", "--host", "0.0.0.0", "--data-dir", str(state)],
                                 capture_output=True, text=True, timeout=300)
        assert exposed.returncode == 1 and "warning: listening on 0.0.0.0 without an API key" in exposed.stderr

        time.sleep(1)   # the first server's job is still running: nobody failed it
        job = client.fine_tuning.jobs.retrieve(running.id)
        assert job.status == "running" and job.error is None, job
        assert not [e for e in client.fine_tuning.jobs.list_events(running.id).data if e.level == "error"]
    finally:
        first.kill(); first.wait(); watchdog.cancel()

    # SIGKILL left the lock file behind, but the kernel released the lock: a new server starts at once
    with LocalServer(state, trainer=fake_trainer) as server:
        job = client_for(server).fine_tuning.jobs.retrieve(running.id)
        assert job.status == "failed" and job.error.code == "server_restarted", job


def test_chat_penalties_follow_openai_and_replies_end_with_the_turn(fake_server):
    """`frequency_penalty`/`presence_penalty` reach generation as OpenAI defines them (`OpenAIPenalties`), are
    range-checked like the other fields, and a reply ends at the chat template's end-of-turn token."""
    import torch
    from ftcourse.datagen import SUPPORT_SYSTEM_PROMPT
    from ftcourse.judge import repetition
    from ftcourse.server import OpenAIPenalties
    # the formula itself: only generated tokens count (here the last three of five)
    scores = OpenAIPenalties(2, frequency_penalty=1.0, presence_penalty=0.5)(torch.tensor([[3, 3, 0, 0, 1]]),
                                                                             torch.zeros(1, 4))
    assert scores.tolist() == [[-2.5, -1.5, 0.0, 0.0]]
    client = client_for(fake_server)
    # the base model loops on this held-out support question under plain greedy decoding
    loop = [{"role": "system", "content": SUPPORT_SYSTEM_PROMPT},
            {"role": "user", "content": "Hello, How do I buy a gift card? Thanks!"}]
    plain, penalised = (client.chat.completions.create(model=BASE, messages=loop, max_tokens=60, temperature=0,
                                                       frequency_penalty=f) for f in (0.0, 0.6))
    text = [r.choices[0].message.content for r in (plain, penalised)]
    assert repetition(text[0]) > 0.5 and plain.choices[0].finish_reason == "length", text[0]
    assert repetition(text[1]) < 0.1 and penalised.choices[0].finish_reason == "stop", text[1]
    assert penalised.usage.completion_tokens < 60 and "<|im_end|>" not in text[1] and "user" not in text[1].split()
    for bad in ({"frequency_penalty": 2.5}, {"presence_penalty": -3}):
        status, body = error_of(lambda bad=bad: client.chat.completions.create(model=BASE, messages=loop, max_tokens=5, **bad))
        assert status == 400 and body["param"] == next(iter(bad)), body


def test_batch_api_with_the_openai_client(fake_server):
    """The Batch API as OpenAI's client drives it: a `batch` file, `batches.create`, polling, an output file whose
    lines match the requests by `custom_id` and hold what the chat endpoint answers; a bad file fails the batch
    with one error per line; OpenAI's 400/404/409s."""
    client = client_for(fake_server)
    questions = [q for q, _ in QA[:3]]
    body = lambda q, **kw: {"model": BASE, "messages": [{"role": "system", "content": SYSTEM},
                                                        {"role": "user", "content": q}], "max_tokens": 8, **kw}
    lines = [{"custom_id": f"q{i}", "method": "POST", "url": "/v1/chat/completions", "body": body(q, temperature=0)}
             for i, q in enumerate(questions)]
    f = client.files.create(file=("batch.jsonl", jsonl(lines)), purpose="batch")
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                                  metadata={"eval": "smoke"})
    assert batch.status == "validating" and batch.metadata == {"eval": "smoke"} and batch.id.startswith("batch_")
    deadline = time.time() + 120
    while (batch := client.batches.retrieve(batch.id)).status not in ("completed", "failed", "cancelled", "expired"):
        assert time.time() < deadline, f"batch still {batch.status}"
        time.sleep(0.2)
    assert batch.status == "completed", batch.errors
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (3, 3, 0)
    assert batch.error_file_id is None and batch.model == BASE and batch.completed_at >= batch.in_progress_at
    out = {r["custom_id"]: r for r in map(json.loads, client.files.content(batch.output_file_id).text.splitlines())}
    assert sorted(out) == ["q0", "q1", "q2"] and all(r["response"]["status_code"] == 200 for r in out.values())
    longest = max(range(3), key=lambda i: len(questions[i]))   # the row the batch does not pad
    alone = client.chat.completions.create(**body(questions[longest], temperature=0)).choices[0].message.content
    assert out[f"q{longest}"]["response"]["body"]["choices"][0]["message"]["content"] == alone
    assert [b.id for b in client.batches.list().data] == [batch.id]
    # a bad file: the batch fails with an error per bad line, and nothing runs
    bad = lines[:1] + [lines[0], {**lines[1], "body": body("x", model="gpt-4o")}, {**lines[2], "url": "/v1/embeddings"}]
    f_bad = client.files.create(file=("bad.jsonl", jsonl(bad)), purpose="batch")
    failed = client.batches.create(input_file_id=f_bad.id, endpoint="/v1/chat/completions", completion_window="24h")
    deadline = time.time() + 60
    while (failed := client.batches.retrieve(failed.id)).status not in ("completed", "failed"):
        assert time.time() < deadline; time.sleep(0.2)
    assert failed.status == "failed" and failed.output_file_id is None
    assert [(e.code, e.line) for e in failed.errors.data] == [("duplicate_custom_id", 2), ("mismatched_model", 3),
                                                              ("invalid_url", 4)], failed.errors
    # errors in OpenAI's shape
    fine_tune_file = client.files.create(file=("t.jsonl", jsonl(EXAMPLES[:2])), purpose="fine-tune")
    for call, status, param in [
            (lambda: client.batches.create(input_file_id=fine_tune_file.id, endpoint="/v1/chat/completions",
                                           completion_window="24h"), 400, "input_file_id"),
            (lambda: client.batches.create(input_file_id=f.id, endpoint="/v1/embeddings", completion_window="24h"),
             400, "endpoint"),
            (lambda: client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions",
                                           completion_window="1h"), 400, "completion_window"),
            (lambda: client.batches.retrieve("batch_nope"), 404, "batch_id"),
            (lambda: client.batches.cancel(batch.id), 409, "batch_id")]:
        got, err = error_of(call)
        assert (got, err["param"]) == (status, param), err
