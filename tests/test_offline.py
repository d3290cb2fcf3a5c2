"""At `small` scale nothing touches the network: a child process records every socket call Python makes
(through audit hooks, which see every connect and DNS lookup) while it loads every asset and dataset
and runs each model once."""
import json
import os
import subprocess
import sys
import textwrap

# The recorder: an audit hook that notes every connection attempt and name lookup Python makes.
HOOK = textwrap.dedent('''
    import json, sys
    events = []
    def hook(event, args):
        if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
            events.append([event, repr(args)[:200]])
    sys.addaudithook(hook)
''')

PROBE = HOOK + textwrap.dedent('''
    import ftcourse, torch
    from ftcourse import assets, data
    from ftcourse.config import PRESETS
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    enc = assets.model_source("asset:minilm")
    tok = AutoTokenizer.from_pretrained(enc)
    clf = AutoModelForSequenceClassification.from_pretrained(enc, num_labels=2)
    clf(**tok(["offline is fine"], return_tensors="pt"))
    lm_dir = assets.model_source("asset:smollm2")
    lm_tok = AutoTokenizer.from_pretrained(lm_dir)
    lm = AutoModelForCausalLM.from_pretrained(lm_dir)
    lm.generate(**lm_tok("Hello", return_tensors="pt"), max_new_tokens=2, do_sample=False)
    assets.load_mobilenet_v2()(torch.zeros(1, 3, 64, 64))
    for name in sorted({p["small"].data for p in PRESETS.values()}):
        data.load(name, n_train=20, n_test=10)
    print("EVENTS=" + json.dumps(events))
''')


def test_small_scale_never_touches_the_network(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(FTCOURSE_SCALE="small", HOME=os.environ.get("HOME", str(tmp_path)))
    events = _events(PROBE, env)
    assert events == [], f"network calls at small scale: {events}"


def _events(code: str, env=None) -> list:
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("EVENTS=")).removeprefix("EVENTS="))


def test_the_recorder_records_a_real_connection():
    "Positive control: with the same hook, a child that looks up a name and connects to a socket on this machine is caught."
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0)); listener.listen(1)
        port = listener.getsockname()[1]
        code = HOOK + textwrap.dedent(f'''
            import socket
            socket.getaddrinfo("localhost", {port})
            socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
            print("EVENTS=" + json.dumps(events))
        ''')
        events = _events(code)
    kinds = [e[0] for e in events]
    assert kinds[0] == "socket.getaddrinfo" and kinds[-1] == "socket.connect" and str(port) in events[-1][1], events


def test_importing_ftcourse_sets_offline_variables():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["FTCOURSE_SCALE"] = "small"
    code = "import ftcourse, os; print(os.environ['HF_HUB_OFFLINE'], os.environ['HF_DATASETS_OFFLINE'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]
