"""The ``forge score | mix | split`` commands as a user runs them (subprocess)."""

from __future__ import annotations

import random

import orjson
import pyarrow.parquet as pq

from dialog_forge.io.records import load_records
from dialog_forge.io.writers import write_records
from dialog_forge.schema import Dialogue, Message

WORDS = ["refund", "order", "invoice", "delivery", "account", "password", "router", "battery", "screen", "warranty", "coupon", "address"]


def records(n: int = 60) -> list[Dialogue]:
    out = []
    for i in range(n):
        rr = random.Random(i)
        q = " ".join(f"{rr.choice(WORDS)}{rr.randrange(40)}" for _ in range(8)) + "?"
        out.append(Dialogue(id=f"c{i:03d}", messages=[Message("user", q), Message("assistant", f"Answer {i}.")],
                            domain="finance" if i % 3 == 0 else "support", task="qa" if i % 2 else "howto",
                            created_at=f"2024-01-{1 + i % 28:02d}T00:00:00Z"))
    return out


def test_split_out_dir_writes_partitions_and_manifest(tmp_path, forge):
    src = tmp_path / "in.jsonl"
    write_records(records(), src)
    out = tmp_path / "splits"
    r = forge("split", src, "--by", "stratified", "--stratify", "domain,task", "--val", "0.1", "--test", "0.1",
              "--seed", "3", "-o", out)
    assert r.returncode == 0, r.stderr.decode()
    n = {sp: sum(pq.read_table(p).num_rows for p in (out / sp).glob("*.parquet")) for sp in ("train", "val", "test")}
    assert n == {"train": 48, "val": 6, "test": 6}
    manifest = orjson.loads((out / "_manifest.json").read_bytes())
    step = manifest["steps"][0]
    splits = step["counters"]["splits"]
    assert splits["test"]["records"] == 6 and sum(splits["train"]["domain"].values()) == 48
    assert splits["val"]["created_at"] is not None and "chars" in splits["train"]
    assert {r.split for r in load_records([str(out / "test")])} == {"test"}


def test_split_leak_exits_1_and_lists_pairs(tmp_path, forge):
    recs = records(20)
    recs[1].messages = [Message(m.role, m.content) for m in recs[0].messages]
    src = tmp_path / "in.jsonl"
    write_records(recs, src)
    r = forge("split", src, "--no-group-near-duplicates", "--test", "0.5", "--val", "0", "--seed", "2",
              "-o", tmp_path / "out.jsonl")
    assert r.returncode == 1
    assert b"c000 (" in r.stderr and b"~ c001 (" in r.stderr and b"exact" in r.stderr
    # with grouping (the default) the duplicate stays with its twin and the split passes
    ok = forge("split", src, "--test", "0.5", "--val", "0", "--seed", "2", "-o", tmp_path / "ok.jsonl")
    assert ok.returncode == 0, ok.stderr.decode()
    split = {r.id: r.split for r in load_records([str(tmp_path / "ok.jsonl")])}
    assert split["c000"] == split["c001"]


def test_mix_prints_distribution(tmp_path, forge):
    src = tmp_path / "in.jsonl"
    write_records(records(), src)
    r = forge("mix", src, "--by", "domain", "--alpha", "0.5", "--total", "30", "-o", tmp_path / "mixed.jsonl")
    assert r.returncode == 0, r.stderr.decode()
    err = r.stderr.decode()
    assert "before" in err and "after" in err and "finance" in err
    assert len(load_records([str(tmp_path / "mixed.jsonl")])) == 30


def test_score_pipe_with_drop_and_review(tmp_path, forge):
    recs = [Dialogue(id="on", messages=[Message("user", "How do I reset my router password?"), Message(
                "assistant", "Press and hold the reset button on the back of the router for ten seconds, then log "
                             "in to the admin page with the default password on the label and set a new one.")]),
            Dialogue(id="off", messages=[Message("user", "How do I reset my router password?"), Message(
                "assistant", "The Eiffel Tower was completed in 1889 and is located in Paris.")])]
    stdin = b"".join(r.to_json() + b"\n" for r in recs)
    rej = tmp_path / "rej.jsonl"
    r = forge("score", "--drop", "--rejects", rej, "--review-out", tmp_path / "review.jsonl", input=stdin)
    assert r.returncode == 0, r.stderr.decode()
    out = [orjson.loads(x) for x in r.stdout.splitlines()]
    assert [x["id"] for x in out] == ["on"] and out[0]["quality"]["decision"] in ("keep", "review")
    rejected = [orjson.loads(x) for x in rej.read_bytes().splitlines()]
    assert [(x["id"], x["reason"]) for x in rejected] == [("off", "off_topic")]
    assert b"score: 2 in, 1 out, 1 rejected (off_topic 1)" in r.stderr
    bad = forge("score", "--weights", "relevance=lots", input=stdin)
    assert bad.returncode == 2 and b"--weights" in bad.stderr
