"""`forge augment` as a user runs it: JSONL in, variants with lineage out, rejects and stats on disk."""

from __future__ import annotations

import json

import orjson

U15_JSONL = "\n".join(json.dumps(r, ensure_ascii=False) for r in [
    {"id": "a1", "messages": [{"role": "user", "content": "请帮我重置密码"}, {"role": "assistant", "content": "好的。"}],
     "domain": "account", "meta": {"src": "faq"}},
    {"id": "a2", "messages": [{"role": "user", "content": "我忘记密码了，怎么重置？"},
                              {"role": "assistant", "content": "点击忘记密码。"}], "domain": "account",
     "meta": {"src": "chat"}},
    {"id": "a3", "messages": [{"role": "user", "content": ["第一段", "第二段"]}], "meta": {"src": "web"}},
]) + "\n"


def test_u15_through_the_command(forge, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(U15_JSONL, encoding="utf-8")
    out, rej, stats = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "stats.json"
    p = forge("augment", src, "--op", "noise", "--op", "context", "--n", "2", "--seed", "3", "--report",
              "-o", out, "--rejects", rej, "--stats-json", stats)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    recs = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    originals = [r["id"] for r in recs if r["lineage"]["parent_id"] is None]
    assert originals == ["a1", "a2"]
    for r in recs:
        if r["lineage"]["parent_id"]:
            parent = r["lineage"]["parent_id"]
            assert r["id"].startswith(parent + "~") and r["lineage"]["root_id"] == parent
            assert r["meta"] == {"src": "faq" if parent == "a1" else "chat"}
            assert r["lineage"]["ops"][-1]["op"] in ("noise", "context")
    # context chained a2 before a1 (same domain, close topic)
    ctx = [r for r in recs if r["lineage"]["ops"] and r["lineage"]["ops"][-1]["op"] == "context"]
    assert {r["lineage"]["parent_id"] for r in ctx} == {"a1", "a2"} and all(len(r["messages"]) == 4 for r in ctx)
    bad = [orjson.loads(line) for line in rej.read_bytes().splitlines()]
    assert [(b["reason"], b["source"]["line"]) for b in bad if b["reason"] == "invalid_content"] == [("invalid_content", 3)]
    s = json.loads(stats.read_text())
    st = s["steps"][0] if "steps" in s else s
    assert "records" in err and "distinct-2" in err  # the before/after table
    assert len(recs) == 2 + st["generated"] - (st["rejected"] - 1)


def test_bad_flag_is_exit_2_with_a_message(forge, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(U15_JSONL, encoding="utf-8")
    p = forge("augment", src, "--op", "backtranslate")
    assert p.returncode == 2 and b"translation backend" in p.stderr and b"Traceback" not in p.stderr
