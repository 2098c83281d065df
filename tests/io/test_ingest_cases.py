"""User-reported ingest cases (../shared/cases U01, U03, U04, U06), inputs written inline."""

from __future__ import annotations

import json

import orjson

from dialog_forge.io.containers import RawRow
from dialog_forge.steps.ingest import IngestConfig, IngestStep


def _lines(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]


def _rejects(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


U01_TEXT = (
    '{"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "您好，我是客服助手。", "name": "bot"}]}\n'
    '{"messages": [{"role": "user", "content": "客服电话多少？"}, {"role": "assistant", "content": "请拨打13800138000。"}]}\n'
)


def test_u01_bom_is_stripped_and_records_identical(tmp_path, forge):
    with_bom = tmp_path / "with_bom.jsonl"
    without = tmp_path / "without.jsonl"
    with_bom.write_bytes(b"\xef\xbb\xbf" + U01_TEXT.encode())
    without.write_bytes(U01_TEXT.encode())
    a = forge("ingest", with_bom, "--verbose", "--rejects", tmp_path / "r.jsonl")
    b = forge("ingest", without, "--rejects", tmp_path / "r.jsonl")
    ra, rb = _lines(a), _lines(b)
    assert len(ra) == len(rb) == 2
    for x, y in zip(ra, rb):
        x.pop("source"), y.pop("source")
        assert x == y
    assert list(ra[0]) [0] == "id" and "\ufeffmessages" not in a.stdout.decode()
    assert ra[1]["messages"][1] == {"role": "assistant", "content": "请拨打13800138000。"}  # no name: null
    assert ra[0]["messages"][1]["name"] == "bot"
    assert "byte-order mark" in a.stderr.decode()


U03_RECORDS = [
    {"conversations": [{"from": "human", "value": "你好，我叫张三"}, {"from": "gpt", "value": "张三您好！"},
                       {"from": "user", "value": "我的邮箱是test@example.com"}, {"from": "assistant", "value": "已记录。"}]},
    {"messages": [{"role": "user", "content": "退货流程？"}, {"role": "assistant", "content": "请在订单页申请退货。"}]},
    {"conversations": [{"from": "bot", "value": "未知角色示例"}]},
]


def test_u03_mixed_formats_and_unknown_role(tmp_path, forge):
    src = tmp_path / "u03.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in U03_RECORDS) + "\n", encoding="utf-8")
    rej = tmp_path / "rejects.jsonl"
    out = _lines(forge("ingest", src, "--rejects", rej))
    assert [[m["role"] for m in r["messages"]] for r in out] == [
        ["user", "assistant", "user", "assistant"], ["user", "assistant"]]
    rejects = _rejects(rej)
    assert len(rejects) == 1
    assert rejects[0]["reason"] == "unknown_role"
    assert "'bot'" in rejects[0]["detail"] and rejects[0]["source"]["line"] == 3
    assert rejects[0]["record"] == U03_RECORDS[2]


def test_u03_role_map_maps_bot(tmp_path):
    step = IngestStep(IngestConfig(role_map={"bot": "assistant"}))
    rec = {"conversations": [{"from": "human", "value": "在吗"}, {"from": "bot", "value": "在的"}]}
    res = step.process([RawRow(rec, {"file": "x", "line": 1}, "jsonl")])
    assert [m.role for m in res.kept[0].messages] == ["user", "assistant"]


U04 = {"conversations": [{"from": "human", "value": "在吗？"}, {"from": "human", "value": "我想改一下收货地址"},
                         {"from": "gpt", "value": "在的，请提供新地址。"}, {"from": "human", "value": "北京市海淀区测试路1号"},
                         {"from": "human", "value": "收件人张三，电话13800138000"}, {"from": "gpt", "value": "好的，已为您修改。"}]}


def test_u04_same_role_runs_merge_by_default():
    step = IngestStep()
    res = step.process([RawRow(U04, {"file": "x", "line": 1}, "jsonl")])
    msgs = res.kept[0].messages
    assert [m.role for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert msgs[0].content == "在吗？\n我想改一下收货地址"
    assert msgs[2].content == "北京市海淀区测试路1号\n收件人张三，电话13800138000"
    assert msgs[1].content == "在的，请提供新地址。"  # a user line never moved onto the assistant role
    assert step.counters["merged_turns"] == 2


def test_u04_reject_policy_names_positions():
    step = IngestStep(IngestConfig(same_role="reject"))
    res = step.process([RawRow(U04, {"file": "x", "line": 1}, "jsonl")])
    assert not res.kept
    assert res.rejects[0].reason == "consecutive_same_role"
    assert res.rejects[0].detail == "consecutive user turns at positions 0-1"


U06 = [
    {"format": "alpaca", "instruction": "把这句话翻译成英文", "input": "你好", "output": ""},
    {"format": "sharegpt", "conversations": [{"from": "human", "value": "在吗"}, {"from": "gpt", "value": "   "}]},
    {"format": "sharegpt", "conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "您好！"}]},
]


def test_u06_empty_assistant_rejected_with_indices(tmp_path, forge):
    src = tmp_path / "u06.json"
    src.write_text(json.dumps(U06, ensure_ascii=False), encoding="utf-8")
    rej = tmp_path / "rejects.jsonl"
    stats = tmp_path / "stats.json"
    out = _lines(forge("ingest", src, "--rejects", rej, "--stats-json", stats))
    assert len(out) == 1 and out[0]["messages"][1]["content"] == "您好！"
    rejects = _rejects(rej)
    assert [(r["reason"], r["source"]["row"]) for r in rejects] == [("empty_assistant", 1), ("empty_assistant", 2)]
    s = orjson.loads(stats.read_bytes())
    assert (s["in"], s["out"], s["rejected"]) == (3, 1, 2)
    assert s["steps"][0]["rejected_by_reason"] == {"empty_assistant": 2}
