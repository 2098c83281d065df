"""Acceptance on the real public files in ../shared/datasets (skipped when the folder is absent)."""

from __future__ import annotations

import json
from collections import Counter

import orjson
import pytest


def _run(forge, tmp_path, *args):
    stats = tmp_path / "stats.json"
    rej = tmp_path / "rejects.jsonl"
    proc = forge("ingest", *args, "--rejects", rej, "--stats-json", stats)
    assert proc.returncode == 0, proc.stderr.decode()
    recs = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    s = orjson.loads(stats.read_bytes())
    n_rej = len(rej.read_text(encoding="utf-8").splitlines()) if rej.exists() else 0
    assert s["out"] == len(recs) and s["rejected"] == n_rej
    return proc, recs, s


def test_toyhom_gbk_csv_without_encoding_flag(forge, datasets_dir, tmp_path):
    proc, recs, s = _run(forge, tmp_path, datasets_dir / "toyhom_internal_medicine_gbk.csv",
                         "--map", "user=ask,assistant=answer,domain=department,title=title")
    assert s["in"] == 7644 and s["out"] + s["rejected"] == 7644
    text = proc.stdout.decode("utf-8")
    assert "\ufffd" not in text
    assert "高血压" in text and "党参" in text  # Chinese intact, not mojibake
    domains = Counter(r["domain"] for r in recs)
    assert domains.most_common(1)[0][0] == "肝病科" and "消化科" in domains
    assert all(r["meta"].get("title") is not None for r in recs[:50])


@pytest.mark.parametrize("name,n", [
    ("medicalgpt_medical_sft_1k.jsonl", 1000),
    ("fastchat_dummy_conversation.json", None),
    ("fastchat_alpaca_cleaned_1000.json", 1000),
])
def test_public_json_files_count_roles_and_stable_ids(forge, datasets_dir, tmp_path, name, n):
    path = datasets_dir / name
    raw_count = n if n is not None else len(json.loads(path.read_text(encoding="utf-8")))
    proc, recs, s = _run(forge, tmp_path, path)
    assert s["in"] == raw_count and s["out"] + s["rejected"] == raw_count
    assert {m["role"] for r in recs for m in r["messages"]} <= {"system", "user", "assistant", "tool"}
    for r in recs:
        assert r["messages"][-1]["role"] == "assistant"
    again = forge("ingest", path, "--rejects", tmp_path / "r2.jsonl")
    assert [json.loads(x)["id"] for x in again.stdout.decode().splitlines()] == [r["id"] for r in recs]
    assert len({r["id"] for r in recs}) == len(recs)
