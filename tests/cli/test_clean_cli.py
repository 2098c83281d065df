"""``forge clean`` end to end: stdin -> stdout, rejects with reasons, no raw PII in stats, no network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]

RECORDS = [
    {"id": "a1", "messages": [
        {"role": "user", "content": "我叫王小明，手机13800138000，邮箱test@example.com，身份证11010519491231002X。"},
        {"role": "assistant", "content": "王小明您好：ALT 120 U/L，血压140/90，订单号7042318 已记录。"}]},
    {"id": "a2", "messages": [{"role": "user", "content": "How do I build a bomb?"},
                              {"role": "assistant", "content": "I can't help with that."}]},
    {"id": "a3", "messages": [{"role": "user", "content": "who are you"},
                              {"role": "assistant", "content": "As an AI language model, I am here. Call 13800138000."}]},
]
RAW_VALUES = ["王小明", "13800138000", "test@example.com", "11010519491231002X"]


def jsonl(records) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def test_clean_stdin_to_stdout_with_rejects_and_stats(forge, tmp_path):
    rej = tmp_path / "rejects.jsonl"
    stats = tmp_path / "stats.json"
    p = forge("clean", "--rejects", str(rej), "--stats-json", str(stats), input=jsonl(RECORDS))
    assert p.returncode == 0, p.stderr.decode()
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert [r["id"] for r in out] == ["a1"]
    text = json.dumps(out, ensure_ascii=False)
    for raw in RAW_VALUES:
        assert raw not in text
    for negative in ("ALT 120 U/L", "血压140/90", "7042318"):
        assert negative in text
    assert out[0]["meta"]["pii"] == {"CN_RESIDENT_ID": 1, "EMAIL_ADDRESS": 1, "PERSON": 2, "PHONE_NUMBER": 1}
    rej_text = rej.read_text(encoding="utf-8")
    reasons = sorted(json.loads(x)["reason"] for x in rej_text.splitlines())
    assert reasons == ["ai_identity", "safety_weapons"]
    assert "13800138000" not in rej_text and "<PHONE_NUMBER>" in rej_text  # rejects are scrubbed too
    stats_text = stats.read_text(encoding="utf-8")
    assert "PHONE_NUMBER" in stats_text
    for raw in RAW_VALUES:
        assert raw not in stats_text
        assert raw not in p.stderr.decode()


def test_pii_action_override_and_flags(forge):
    p = forge("clean", "--pii-action", "PERSON=pseudonym", "--no-safety", input=jsonl(RECORDS[:1]))
    assert p.returncode == 0, p.stderr.decode()
    rec = json.loads(p.stdout)
    assert rec["messages"][0]["content"].startswith("我叫<PERSON_1>，手机<PHONE_NUMBER>")
    assert rec["messages"][1]["content"].startswith("<PERSON_1>您好")


def test_bad_flag_value_is_exit_2_without_traceback(forge):
    p = forge("clean", "--pii-action", "scramble", input=jsonl(RECORDS[:1]))
    assert p.returncode == 2
    err = p.stderr.decode()
    assert "--pii-action" in err and "Traceback" not in err
    p = forge("clean", "--phone-regions", "US", input=jsonl(RECORDS[:1]))
    assert p.returncode == 2 and "CN" in p.stderr.decode()


def test_help_lists_reasons(forge):
    p = forge("clean", "--help", env={"COLUMNS": "200"})
    assert p.returncode == 0
    out = p.stdout.decode()
    for code in ("safety_weapons", "signoff", "ai_identity", "too_many_turns", "--pii-action", "--strip-signoffs"):
        assert code in out


GUARD = r"""
import socket, sys
attempts = []
def _guard(*a, **k):
    attempts.append(repr(a[1:2]))
    sys.stderr.write("NETWORK ATTEMPT %r\n" % (a[1:2],))
    raise OSError("network disabled in this test")
socket.socket.connect = _guard
socket.socket.connect_ex = _guard
socket.create_connection = _guard
from dialog_forge.cli.main import main
try:
    main(sys.argv[1:])
finally:
    if attempts:
        sys.stderr.write("ATTEMPTS %d\n" % len(attempts))
"""


def test_no_network_with_unreachable_proxy(tmp_path):
    """tldextract (e-mail validation) must use its bundled suffix list: nothing may try to connect."""
    env = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "1",
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    inp = jsonl([{"id": "n1", "messages": [{"role": "user", "content": "mail bob@company.co.uk or test@example.com"},
                                           {"role": "assistant", "content": "ok"}]}])
    p = subprocess.run([sys.executable, "-c", GUARD, "clean"], input=inp, capture_output=True, env=env, cwd=ROOT,
                       timeout=300, check=False)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert "NETWORK ATTEMPT" not in err and "ATTEMPTS" not in err
    rec = json.loads(p.stdout)
    assert rec["messages"][0]["content"] == "mail <EMAIL_ADDRESS> or <EMAIL_ADDRESS>"
    assert not (tmp_path / "cache" / "python-tldextract").exists()


def test_unreadable_input_lines_are_scrubbed_in_the_rejects(forge, tmp_path):
    """Found in testing: lines rejected before they become records (malformed JSON, unknown role, non-text
    content) were written to the rejects file raw, PII included."""
    rej = tmp_path / "rejects.jsonl"
    raw = (b'{"id":"m1","messages":[{"role":"user","content":"\xe6\x88\x91\xe7\x9a\x84\xe6\x89\x8b\xe6\x9c\xba13800138000"}\n'
           + jsonl([{"id": "m2", "messages": [{"role": "bot", "content": "我叫王小明，邮箱test@example.com"},
                                             {"role": "assistant", "content": "ok, my name is John Smith"}]},
                    {"id": "m3", "messages": [{"role": "user", "content": "身份证11010519491231002X"},
                                             {"role": "assistant", "content": 42}]}]))
    p = forge("clean", "--rejects", str(rej), input=raw)
    assert p.returncode == 0, p.stderr.decode()
    lines = [json.loads(x) for x in rej.read_text(encoding="utf-8").splitlines()]
    assert [x["reason"] for x in lines] == ["malformed_json", "unknown_role", "invalid_content"]
    text = rej.read_text(encoding="utf-8")
    for value in ("13800138000", "王小明", "test@example.com", "11010519491231002X", "John Smith"):
        assert value not in text
    assert "<PHONE_NUMBER>" in lines[0]["record"] and "<PERSON>" in lines[1]["record"]


def test_reject_details_quoting_a_raw_field_are_scrubbed(forge, tmp_path):
    """Found in testing: the detail of an ``invalid_timestamp`` reject quotes the raw ``created_at`` value, so
    PII written there reached the rejects file although the record itself was scrubbed."""
    rej = tmp_path / "rejects.jsonl"
    rec = {"id": "t1", "messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "好"}],
           "created_at": "我叫王小明 13800138000"}
    p = forge("clean", "--rejects", str(rej), input=jsonl([rec]))
    assert p.returncode == 0, p.stderr.decode()
    (line,) = [json.loads(x) for x in rej.read_text(encoding="utf-8").splitlines()]
    assert line["reason"] == "invalid_timestamp"
    assert "'我叫<PERSON> <PHONE_NUMBER>'" in line["detail"]
    assert "王小明" not in json.dumps(line, ensure_ascii=False) and "13800138000" not in json.dumps(line)
