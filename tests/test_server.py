"""The local OpenAI-compatible fine-tuning server (`ftcourse.server`), driven over HTTP by the real `openai` client.

One server with the real LoRA trainer runs a full job; the error paths and the restart use servers with a
fake trainer (a restart must not wait for real training). Every server listens on 127.0.0.1 only.
"""
import json
import threading
import time

import httpx
import openai
import pytest
from openai import OpenAI

from ftcourse.chatdata import chat_example, write_jsonl
from ftcourse.server import JobCancelled, LocalServer

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


def test_full_job_fine_tunes_a_model(real_server, tmp_path):
    client = client_for(real_server)
    with open(write_jsonl(EXAMPLES, tmp_path / "train.jsonl"), "rb") as f:
        upload = client.files.create(file=f, purpose="fine-tune")
    assert upload.object == "file" and upload.purpose == "fine-tune" and upload.filename == "train.jsonl"
    t0 = time.time()
    job = client.fine_tuning.jobs.create(
        training_file=upload.id, model=BASE, seed=0, suffix="shop",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 4}}})
    assert job.object == "fine_tuning.job" and job.status == "validating_files"
    job = wait(client, job.id)
    print(f"job took {time.time() - t0:.1f} s")
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model == f"ft:{BASE}:ftcourse:shop:{job.id.removeprefix('ftjob-')}"
    assert job.hyperparameters.n_epochs == 3 and job.trained_tokens > 0 and job.finished_at >= job.created_at

    events = client.fine_tuning.jobs.list_events(job.id, limit=100).data
    messages = [e.message for e in reversed(events)]
    assert any(m.startswith("Validating training file") for m in messages)
    assert any(m.startswith("Step 9/9: training loss=") for m in messages)
    assert messages[-1] == "The job has successfully completed"
    losses = [e.data["train_loss"] for e in reversed(events) if e.type == "metrics"]
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


def test_bad_file_fails_the_job_with_the_validators_error(fake_server):
    client = client_for(fake_server)
    few = client.files.create(file=("few.jsonl", jsonl(EXAMPLES[:5])), purpose="fine-tune")
    job = wait(client, client.fine_tuning.jobs.create(training_file=few.id, model=BASE).id)
    assert job.status == "failed" and job.error.code == "too_few_examples" and job.error.param == "training_file"
    assert "at least 10" in job.error.message
    broken = jsonl(EXAMPLES[:11]) + b'{"messages": [\n'
    bad = client.files.create(file=("broken.jsonl", broken), purpose="fine-tune")
    job = wait(client, client.fine_tuning.jobs.create(training_file=bad.id, model=BASE).id)
    assert job.status == "failed" and job.error.code == "invalid_json" and "line 12" in job.error.message
    assert any(e.level == "error" for e in client.fine_tuning.jobs.list_events(job.id).data)
    latin1 = client.files.create(file=("latin1.jsonl", "caf\xe9\n".encode("latin-1")), purpose="fine-tune")
    job = wait(client, client.fine_tuning.jobs.create(training_file=latin1.id, model=BASE).id)
    assert job.status == "failed" and job.error.code == "invalid_file_format"


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
        "wrong purpose": (lambda: client.files.create(file=("t.jsonl", b"{}\n"), purpose="batch"), 400),
        "unknown training file": (lambda: client.fine_tuning.jobs.create(training_file="file-nope", model=BASE), 400),
        "base model not offered": (lambda: client.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o"), 400),
        "dpo": (lambda: client.fine_tuning.jobs.create(training_file=f.id, model=BASE, method={"type": "dpo"}), 400),
        "cancel finished": (lambda: client.fine_tuning.jobs.cancel(done.id), 409),
        "n_epochs 0": (lambda: client.fine_tuning.jobs.create(
            training_file=f.id, model=BASE, method={"type": "supervised",
                                                    "supervised": {"hyperparameters": {"n_epochs": 0}}}), 422),
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
            ("POST", "/fine_tuning/jobs", {"json": {"model": BASE}}, 422),
            ("POST", "/chat/completions", {"json": {"model": BASE, "messages": "hi"}}, 422),
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
        status, body = error_of(lambda: client.chat.completions.create(model=BASE, messages=loop, max_tokens=5, **bad))
        assert status == 422 and body["param"].endswith(next(iter(bad))), body
