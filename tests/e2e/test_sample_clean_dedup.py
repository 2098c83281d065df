"""clean + dedup of the bundled sample_data against its known answers (sample_data/expected.json).

The sample is ingested exactly as ``sample_data/recipe.yaml``'s ingest step does, then run through the
recipe's clean and dedup steps (same options) in one chain, as ``forge run`` would.

* every planted PII value is gone from every record that leaves clean (kept or rejected), and every
  planted negative (lab values, doses, blood pressure, ages, dates, order/tracking numbers, a 16-digit
  number that fails Luhn) survives verbatim in its record;
* every planted exact/near duplicate pair ends with at least one member removed, and both members in the
  same duplicate cluster of ``--clusters`` (the reason is not checked: a pair can be joined through a third
  record); no member of a planted distinct pair is removed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dialog_forge.pipeline.executor import run_chain
from dialog_forge.pipeline.recipe import build_steps, load_recipe

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))


class _ListSink:
    def __init__(self):
        self.records = []

    def write(self, items):
        self.records.extend(items)

    def close(self):
        pass


class _ListRejects:
    def __init__(self):
        self.items = []  # (step name, Reject)

    def write(self, rej, step):
        self.items.append((step, rej))

    def close(self):
        pass


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    recipe = load_recipe(SAMPLE / "recipe.yaml")
    names = [next(iter(s)) if isinstance(s, dict) else s for s in recipe["steps"]]
    assert names[:3] == ["ingest", "clean", "dedup"]
    spec = copy.deepcopy(recipe["steps"][:3])
    clusters = tmp_path_factory.mktemp("dedup") / "clusters.parquet"
    spec[2]["dedup"] = {**(spec[2]["dedup"] or {}), "clusters": str(clusters)}
    steps = build_steps(spec)
    rows, _files = steps[0].source([str(SAMPLE / "raw")])
    sink, rejects = _ListSink(), _ListRejects()
    result = run_chain(steps, rows, sink, rejects, progress=False)
    return {
        "result": result,
        "out": sink.records,
        "rejects": rejects.items,
        "clusters": pq.read_table(clusters).to_pylist(),
    }


def _text(rec) -> str:
    return "\n".join(m.content for m in rec.messages)


def _after_clean(chain) -> dict[str, str]:
    """id -> text of every record that left clean: kept downstream, or rejected by clean/dedup."""
    texts = {r.id: _text(r) for r in chain["out"]}
    for step, rej in chain["rejects"]:
        if step in ("clean", "dedup"):
            texts[rej.record.id] = _text(rej.record)
    return texts


def test_counts_add_up(chain):
    stats = {s.step: s for s in chain["result"].stats}
    assert stats["ingest"].n_in == EXPECTED["raw_total"]
    for s in chain["result"].stats:
        assert s.n_in + s.n_generated == s.n_out + s.n_rejected


def test_every_planted_pii_value_is_gone(chain):
    texts = _after_clean(chain)
    for p in EXPECTED["pii"]:
        assert p["id"] in texts, p["id"]
        for rid, t in texts.items():
            assert p["value"] not in t, (p["entity"], rid)
    # compact and spaced forms of the planted numbers are gone too
    everything = "\n".join(texts.values())
    for p in EXPECTED["pii"]:
        if p["entity"] in ("PHONE_NUMBER", "BANK_CARD", "CREDIT_CARD", "CN_RESIDENT_ID"):
            assert p["value"].replace(" ", "").replace("-", "") not in everything.replace(" ", "").replace("-", "")


def test_pii_counts_are_in_meta_and_stats_without_values(chain):
    texts = _after_clean(chain)
    by_id = {r.id: r for r in chain["out"]}
    for p in EXPECTED["pii"]:
        rec = by_id.get(p["id"])
        if rec is None:  # removed later by dedup or rejected by clean: its text was already checked
            continue
        assert rec.meta["pii"], p["id"]
    clean_stats = next(s for s in chain["result"].stats if s.step == "clean")
    dumped = json.dumps(clean_stats.to_dict(), ensure_ascii=False)
    for p in EXPECTED["pii"]:
        assert p["value"] not in dumped
    assert texts


def test_every_planted_negative_survives(chain):
    texts = _after_clean(chain)
    for n in EXPECTED["pii_negatives"]:
        assert n["id"] in texts, n["id"]
        assert n["value"] in texts[n["id"]], n


def test_every_planted_duplicate_pair_is_removed_in_one_cluster(chain):
    removed = {rej.record.id for step, rej in chain["rejects"] if step == "dedup"}
    cluster_of = {r["id"]: r["cluster"] for r in chain["clusters"]}
    kept_in_cluster = {r["cluster"] for r in chain["clusters"] if r["kept"]}
    for kind in ("exact_duplicate_pairs", "near_duplicate_pairs"):
        for a, b in EXPECTED[kind]:
            assert a in removed or b in removed, (kind, a, b)
            assert a in cluster_of and b in cluster_of, (kind, a, b)
            assert cluster_of[a] == cluster_of[b], (kind, a, b)
            assert cluster_of[a] in kept_in_cluster
    out_ids = {r.id for r in chain["out"]}
    for row in chain["clusters"]:
        assert (row["id"] in out_ids) == row["kept"], row


def test_no_distinct_pair_is_removed(chain):
    removed = {rej.record.id for step, rej in chain["rejects"] if step == "dedup"}
    for a, b in EXPECTED["distinct_pairs"]:
        assert a not in removed and b not in removed, (a, b)


def test_dedup_removes_only_planted_duplicates(chain):
    planted = {x for k in ("exact_duplicate_pairs", "near_duplicate_pairs") for p in EXPECTED[k] for x in p}
    removed = {rej.record.id for step, rej in chain["rejects"] if step == "dedup"}
    assert removed <= planted, removed - planted
