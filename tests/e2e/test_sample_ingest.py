"""Ingest of the bundled sample_data against its known answers (sample_data/expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialog_forge.pipeline.recipe import build_steps, load_recipe
from dialog_forge.steps.ingest import IngestStep

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ingested():
    recipe = load_recipe(SAMPLE / "recipe.yaml")
    step = build_steps(recipe["steps"][:1])[0]
    assert isinstance(step, IngestStep)
    rows, files = step.source([str(SAMPLE / "raw")])
    rows = list(rows)
    res = step.process(rows)
    return step, rows, res


def test_counts_add_up_to_raw_total(ingested):
    step, rows, res = ingested
    assert len(rows) == EXPECTED["raw_total"] == 301
    assert len(res.kept) + len(res.rejects) == 301


def test_every_planted_ingest_problem_is_rejected_with_its_reason(ingested):
    _, _, res = ingested
    got = sorted((Path(r.source["file"]).name, r.source.get("line") or r.source.get("row"), r.reason) for r in res.rejects)
    want = sorted((Path(e["file"]).name, e["line_or_row"], e["reason"]) for e in EXPECTED["ingest_rejects"])
    assert got == want


def test_same_role_merges_and_trailing_user(ingested):
    step, _, res = ingested
    by_id = {r.id: r for r in res.kept}
    for rid in EXPECTED["ingest_merges"]:
        msgs = by_id[rid].messages
        assert [m.role for m in msgs if m.role != "system"] == ["user", "assistant"] * (len([m for m in msgs if m.role != "system"]) // 2)
    assert step.counters["merged_turns"] >= sum(EXPECTED["ingest_merges"].values())
    for rid in EXPECTED["trailing_user_turn"]:
        assert by_id[rid].messages[-1].role == "assistant"


def test_gbk_csv_fields_and_no_mojibake(ingested):
    _, _, res = ingested
    med = [r for r in res.kept if r.id.startswith("med-")]
    assert len(med) == EXPECTED["raw_counts"]["raw/medical.gbk.csv"] - 1
    assert all(r.domain == "medical" and r.meta.get("department") and r.task for r in med)
    assert all("\ufffd" not in m.content for r in res.kept for m in r.messages)
    epoch = set(EXPECTED["epoch_created_at"])
    assert all(r.created_at and r.created_at.endswith("Z") for r in med if r.id in epoch)


def test_ids_are_the_source_ids(ingested):
    _, _, res = ingested
    ids = [r.id for r in res.kept]
    assert len(set(ids)) == len(ids)
    assert all(i.split("-")[0] in {"cs", "fin", "med", "edu"} for i in ids)
