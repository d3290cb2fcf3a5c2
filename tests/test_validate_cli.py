"""`ftcourse validate` from the shell: exit codes, JSON shape, and no traceback on any bad input."""
import json
import subprocess
import sys
from pathlib import Path

from ftcourse.chatdata import chat_example, write_jsonl

BIN = Path(sys.executable).parent / "ftcourse"


def validate(*args):
    return subprocess.run([str(BIN), "validate", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_clean_file_exits_0(tmp_path):
    good = [chat_example(f"q{i}?", f"a{i}.", system="s") for i in range(10)]
    proc = validate(write_jsonl(good, tmp_path / "t.jsonl"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "10 examples, 0 error(s)" in proc.stdout


def test_errors_exit_1_with_json_lines(tmp_path):
    good = [chat_example(f"q{i}?", f"a{i}.", system="s") for i in range(10)]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(g) for g in good) + '\n{"messages": 5}\nnot json\n')
    proc = validate(path, "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["n_examples"] == 12
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(11, "missing_messages_list"), (12, "invalid_json")]
    assert set(report) >= {"n_examples", "errors", "warnings", "stats", "billing"}
    assert "Traceback" not in proc.stderr


def test_validation_overlap(tmp_path):
    good = [chat_example(f"q{i}?", f"a{i}.", system="s") for i in range(10)]
    proc = validate(write_jsonl(good, tmp_path / "t.jsonl"), "--validation",
                    write_jsonl(good[:1], tmp_path / "v.jsonl"), "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["validation"]["errors"][0]["code"] == "train_validation_overlap"


def test_unreadable_files_exit_2(tmp_path):
    for path in (tmp_path / "missing.jsonl", tmp_path):
        proc = validate(path)
        assert proc.returncode == 2 and proc.stdout.startswith("error:") and "Traceback" not in proc.stderr
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert validate(binary).returncode == 2


def test_empty_or_null_content_is_missing_content_as_in_the_cookbook(tmp_path):
    "OpenAI's cookbook reports empty and missing content with one code, `missing_content`; the message says which."
    good = [chat_example(f"q{i}?", f"a{i}.", system="s") for i in range(10)]
    empty = {"messages": [{"role": "user", "content": "q?"}, {"role": "assistant", "content": "  "}]}
    null = {"messages": [{"role": "user", "content": None}, {"role": "assistant", "content": "a."}]}
    proc = validate(write_jsonl(good + [empty, null], tmp_path / "t.jsonl"), "--json")
    assert proc.returncode == 1
    errors = [(e["line"], e["code"], e["message"]) for e in json.loads(proc.stdout)["errors"]]
    assert errors == [(11, "missing_content", "message 2 (assistant) content is empty or only whitespace"),
                      (12, "missing_content", "message 1 (user) has null content")], errors
