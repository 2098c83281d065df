"""``forge split``: U17 (stratified eval split), grouped variants, time splits, the leakage assertion."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from dialog_forge.errors import ForgeError, GateFailed
from dialog_forge.pipeline.lineage import derive
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.leakage import find_leaks, text_key
from dialog_forge.steps.split import SplitConfig, SplitStep, largest_remainder

WORDS = ["refund", "order", "invoice", "delivery", "account", "password", "router", "battery", "screen", "warranty", "coupon", "address", "payment", "shipping", "tracking", "upgrade", "plan", "contract", "modem", "signal"]


def question(i: int) -> str:
    rr = random.Random(i)
    return " ".join(f"{rr.choice(WORDS)}{rr.randrange(50)}" for _ in range(8)) + "?"


def run(cfg: SplitConfig, recs: list[Dialogue]):
    step = SplitStep(cfg)
    res = step.process(recs)
    fin = step.finish()
    return step, fin.kept, res.rejects


def u17_records() -> list[Dialogue]:
    # 200 conversations r000..r199; source alternates so that 150 are 'faq' and 50 'chat'
    return [Dialogue(id=f"r{i:03d}", messages=[Message("user", question(i)), Message("assistant", f"answer {i}.")],
                     source={"file": "chat.jsonl" if i % 4 == 3 else "faq.jsonl", "line": i + 1})
            for i in range(200)]


def test_u17_stratified_eval_split_is_disjoint_and_reproducible():
    cfg = {"by": "stratified", "stratify": ["source"], "val": 0.0, "test": 0.05, "seed": 42}
    step, out, _ = run(SplitConfig(**cfg), u17_records())
    ev = [r for r in out if r.split == "test"]
    train = [r for r in out if r.split == "train"]
    assert len(ev) == 10 and len(train) == 190
    assert Counter(r.source["file"] for r in ev) == {"faq.jsonl": 8, "chat.jsonl": 2}
    assert not {r.id for r in ev} & {r.id for r in train}
    assert not {text_key(r) for r in ev} & {text_key(r) for r in train}
    assert step.counters["leaks"] == 0
    _, again, _ = run(SplitConfig(**cfg), list(reversed(u17_records())))  # input order does not matter
    assert sorted(r.id for r in again if r.split == "test") == sorted(r.id for r in ev)
    _, other, _ = run(SplitConfig(**{**cfg, "seed": 7}), u17_records())
    assert sorted(r.id for r in other if r.split == "test") != sorted(r.id for r in ev)


def test_u17_post_split_assertion_fails_on_a_planted_leak():
    recs = u17_records()
    recs[0].split, recs[1].split = "train", "test"
    recs[1].messages[0] = Message("user", recs[0].messages[0].content.upper() + "!!")  # same normalised text
    leaks = find_leaks(recs)
    assert [(lk.a, lk.b, lk.kind) for lk in leaks] == [("r000", "r001", "exact")]
    # a split told not to group duplicates must fail with exit code 1 listing the pair
    recs = u17_records()
    recs[5].messages[0] = Message("user", recs[4].messages[0].content)
    cfg = SplitConfig(by="random", val=0.0, test=0.5, seed=1, group_near_duplicates=False)
    with pytest.raises(GateFailed, match=r"r004 \(\w+\) ~ r005 \(\w+\): exact") as e:
        run(cfg, recs)
    assert e.value.exit_code == 1


def test_augmented_variants_never_straddle_splits():
    recs = []
    for i in range(60):
        base = Dialogue(id=f"b{i:02d}", messages=[Message("user", question(1000 + i)), Message("assistant", "ok.")],
                        domain="support")
        recs.append(base)
        for k in range(3):  # paraphrases that share no shingle with the original: only lineage ties them
            recs.append(derive(base, [Message("user", f"variant {k} {question(5000 + 10 * i + k)}"),
                                      Message("assistant", "ok.")], "augment", {"k": k}))
    for seed in (1, 2, 3):
        _, out, _ = run(SplitConfig(by="random", val=0.1, test=0.1, seed=seed), recs)
        by_root: dict[str, set] = {}
        for r in out:
            by_root.setdefault(r.lineage.root_id, set()).add(r.split)
        assert all(len(s) == 1 for s in by_root.values())
        assert {r.split for r in out} == {"train", "val", "test"}


def test_near_duplicates_are_grouped_together():
    recs = u17_records()[:100]
    q = recs[10].messages[0].content
    recs[11].messages[0] = Message("user", q.replace("?", " please?"))  # near-duplicate of r010
    step, out, _ = run(SplitConfig(by="random", val=0.2, test=0.2, seed=5), recs)
    split = {r.id: r.split for r in out}
    assert split["r010"] == split["r011"] and step.counters["group_merges"] >= 1


def test_dedup_clusters_file_keeps_members_together(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = u17_records()[:40]
    # dedup's --clusters layout: cluster, kept_id, id, kept, reason, similarity (e.g. semantic duplicates)
    pq.write_table(pa.table({"cluster": [0, 0, 0], "kept_id": ["r001"] * 3, "id": ["r001", "r017", "r033"],
                             "kept": [True, False, False], "reason": ["kept", "semantic_duplicate", "semantic_duplicate"],
                             "similarity": [1.0, 0.93, 0.91]}), tmp_path / "clusters.parquet")
    for seed in range(4):
        _, out, _ = run(SplitConfig(val=0.3, test=0.3, seed=seed, clusters=str(tmp_path / "clusters.parquet")), recs)
        split = {r.id: r.split for r in out}
        assert split["r001"] == split["r017"] == split["r033"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "x"}\n')
    with pytest.raises(ForgeError, match="needs an id column"):
        SplitStep(SplitConfig(clusters=str(bad)))


def test_time_split_by_dates_and_ratios():
    recs = [Dialogue(id=f"t{i:02d}", messages=[Message("user", question(i)), Message("assistant", "ok.")],
                     created_at=f"2024-{1 + i // 10:02d}-{1 + i % 10:02d}T00:00:00Z") for i in range(40)]
    recs.append(Dialogue(id="nots", messages=[Message("user", "no time"), Message("assistant", "ok.")]))
    step, out, rejects = run(SplitConfig(by="time", val_after="2024-02-28", test_after="2024-03-31"), recs)
    split = {r.id: r.split for r in out}
    assert [r.reason for r in rejects] == ["no_timestamp"]
    assert {k for k, v in split.items() if v == "test"} == {f"t{i:02d}" for i in range(30, 40)}
    assert {k for k, v in split.items() if v == "val"} == {f"t{i:02d}" for i in range(20, 30)}
    assert step.summary()["splits"]["test"]["created_at"] == ["2024-04-01T00:00:00Z", "2024-04-10T00:00:00Z"]
    _, out, _ = run(SplitConfig(by="time", val=0.1, test=0.25), recs[:40])
    assert sorted(r.id for r in out if r.split == "test") == [f"t{i:02d}" for i in range(30, 40)]


def test_largest_remainder_and_bad_options():
    assert largest_remainder({"faq": 150, "chat": 50}, 0.05, 10) == {"faq": 8, "chat": 2}
    assert sum(largest_remainder({"a": 7, "b": 7, "c": 7}, 0.1, 2).values()) == 2
    with pytest.raises(ForgeError, match="--val"):
        SplitStep(SplitConfig(val=0.6, test=0.5))
    with pytest.raises(ForgeError, match="--test-after"):
        SplitStep(SplitConfig(by="time", test_after="next tuesday"))
    with pytest.raises(ForgeError, match="--clusters"):
        SplitStep(SplitConfig(clusters="/nonexistent/clusters.parquet"))


def test_stratify_by_a_field_no_record_has_is_an_error():
    """Found by testing: `--stratify colour` silently put every record into one stratum."""
    with pytest.raises(ForgeError, match="--stratify colour: no record has this field"):
        run(SplitConfig(by="stratified", stratify=["colour"], test=0.1, val=0.0), u17_records()[:20])
    recs = u17_records()[:20]
    for i, r in enumerate(recs):
        r.meta = {"channel": "app" if i % 2 else "web"}
    _, out, _ = run(SplitConfig(by="stratified", stratify=["meta.channel"], test=0.1, val=0.0, seed=1), recs)
    assert Counter(r.meta["channel"] for r in out if r.split == "test") == {"app": 1, "web": 1}


def test_context_chain_stays_with_the_record_it_contains():
    """An `augment --op context` variant holds its partner's turns verbatim: it must land in the
    partner's split, even though its lineage root is another record."""
    from dialog_forge.pipeline.lineage import derive
    from dialog_forge.schema import Dialogue, Message
    from dialog_forge.steps.split import SplitConfig, SplitStep

    import random

    rng = random.Random(3)

    def text(n: int) -> str:  # distinct texts: random CJK characters, no accidental near duplicates
        return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(n))

    recs = [Dialogue(id=f"q{i:02d}", messages=[Message("user", text(20)), Message("assistant", text(30))],
                     domain="cs") for i in range(40)]
    variants = []
    for i in range(0, 40, 2):  # q00 chained after q01, q02 after q03, ...
        partner = recs[i + 1]
        v = derive(recs[i], partner.messages + recs[i].messages, "augment.context",
                   {"mode": "rules", "partner_id": partner.id})
        variants.append(v)
    step = SplitStep(SplitConfig(test=0.25, val=0.25, seed=7, group_near_duplicates=False))
    step.process(recs + variants)
    out = {r.id: r.split for r in step.finish().kept}
    for v in variants:
        partner = next(o["params"]["partner_id"] for o in v.lineage.ops if o["op"] == "augment.context")
        assert out[v.id] == out[partner] == out[v.lineage.root_id]
    assert len(set(out.values())) == 3
