"""``forge mix`` against the temperature-sampling formula on known counts."""

from __future__ import annotations

from collections import Counter

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.io.writers import write_records
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.mix import MixConfig, MixStep, quotas, temperature_probs


def make(counts: dict[str, int], prefix: str = "", by: str = "task") -> list[Dialogue]:
    out = []
    for task, n in counts.items():
        for i in range(n):
            msgs = [Message("user", f"{task} question {i}" + " more" * (i % 4)), Message("assistant", f"answer {i}")]
            out.append(Dialogue(id=f"{prefix}{task}-{i:04d}", messages=msgs, **{by: task}))
    return out


def run(cfg: MixConfig, recs: list[Dialogue]):
    step = MixStep(cfg)
    assert step.process(recs).kept == []
    res = step.finish()
    assert len(recs) + res.generated == len(res.kept) + len(res.rejects)  # the counting invariant
    return step, res


def test_probabilities_match_formula():
    p = temperature_probs({"a": 900, "b": 90, "c": 10}, 0.6)
    z = 900 ** 0.6 + 90 ** 0.6 + 10 ** 0.6
    assert p == pytest.approx({"a": 900 ** 0.6 / z, "b": 90 ** 0.6 / z, "c": 10 ** 0.6 / z})
    assert temperature_probs({"a": 900, "b": 100}, 1.0) == pytest.approx({"a": 0.9, "b": 0.1})
    assert temperature_probs({"a": 900, "b": 100}, 0.0) == pytest.approx({"a": 0.5, "b": 0.5})


def test_mix_with_replacement_hits_formula_quotas():
    counts = {"qa": 800, "summarise": 150, "translate": 50}
    recs = make(counts)
    step, res = run(MixConfig(alpha=0.6, total=600, replacement=True, seed=1), recs)
    after = Counter(r.task for r in res.kept)
    p = temperature_probs(counts, 0.6)
    for k in counts:
        assert abs(after[k] - 600 * p[k]) <= 1  # largest-remainder rounding of T * P(i)
    assert sum(after.values()) == 600
    # translate (50 records) gets ~80: every record once, some repeated as derived copies
    assert after["translate"] > 50 and res.generated == after["translate"] - 50
    rep = next(r for r in res.kept if r.lineage.parent_id)
    assert rep.lineage.ops[-2]["op"] == "mix_repeat" and rep.id != rep.lineage.parent_id
    assert step.report["before"] == counts and step.report["after"] == dict(after)


def test_without_replacement_caps_and_redistributes():
    counts = {"a": 1000, "b": 10}
    q = quotas(counts, temperature_probs(counts, 0.5), 500, replacement=False)
    assert q["b"] == 10 and q["a"] == 490
    _, res = run(MixConfig(total=500, seed=3), make(counts))
    assert Counter(r.task for r in res.kept) == {"a": 490, "b": 10}
    assert len(res.rejects) == 510 and {r.reason for r in res.rejects} == {"not_sampled"}
    assert res.generated == 0


def test_general_ratio_seed_and_curriculum(tmp_path):
    general = tmp_path / "general.jsonl"
    write_records(make({"chitchat": 100}, prefix="g-"), general)
    recs = make({"qa": 300, "code": 100}, by="domain")
    cfg = MixConfig(by="domain", total=200, general=str(general), general_ratio=0.15, seed=7, curriculum=True)
    step, res = run(cfg, recs)
    gen = [r for r in res.kept if r.meta.get("mix_group") == "(general)"]
    assert len(gen) == 30 and len(res.kept) == 200
    assert step.report["after"]["(general)"] == 30
    # curriculum: non-decreasing difficulty, stages 1..3
    keys = [(len(r.messages), sum(len(m.content) for m in r.messages)) for r in res.kept]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    assert {r.meta["curriculum_stage"] for r in res.kept} == {1, 2, 3}
    # same seed, same mix; another seed, another one
    _, again = run(MixConfig(by="domain", total=200, general=str(general), seed=7, curriculum=True), make({"qa": 300, "code": 100}, by="domain"))
    assert [r.id for r in again.kept] == [r.id for r in res.kept]
    _, other = run(MixConfig(by="domain", total=200, seed=8), make({"qa": 300, "code": 100}, by="domain"))
    _, other2 = run(MixConfig(by="domain", total=200, seed=9), make({"qa": 300, "code": 100}, by="domain"))
    assert [r.id for r in other.kept] != [r.id for r in other2.kept]


def test_bad_options():
    with pytest.raises(ForgeError, match="--alpha"):
        MixStep(MixConfig(alpha=-1))
    with pytest.raises(ForgeError, match="--general-ratio"):
        MixStep(MixConfig(general_ratio=1.5))


def test_small_general_set_is_not_repeated_without_replacement(tmp_path):
    """Found by testing: --general-ratio 0.5 of --total 100 with a 20-record general set repeated every
    general record 2-3 times although sampling is without replacement (the default)."""
    general = tmp_path / "general.jsonl"
    write_records(make({"chitchat": 20}, prefix="g-"), general)
    step, res = run(MixConfig(total=100, general=str(general), general_ratio=0.5, seed=1),
                    make({"qa": 300, "code": 100}))
    gen = [r for r in res.kept if r.meta.get("mix_group") == "(general)"]
    assert len(gen) == 20 and len({r.id for r in gen}) == 20 and all(r.lineage.parent_id is None for r in gen)
    assert len(res.kept) == 100 and step.report["general_short_by"] == 30
    # the 80 task records follow the formula: P(qa) = 300^.6 / (300^.6 + 100^.6) = 0.6598 -> 53, code 27
    assert step.report["after"] == {"code": 27, "qa": 53, "(general)": 20}
    # with replacement the general share is met by repeats (derived records)
    step, res = run(MixConfig(total=100, general=str(general), general_ratio=0.5, seed=1, replacement=True),
                    make({"qa": 300, "code": 100}))
    gen = [r for r in res.kept if r.meta.get("mix_group") == "(general)"]
    assert len(gen) == 50 and sum(r.lineage.parent_id is not None for r in gen) == 30
    assert "general_short_by" not in step.report
