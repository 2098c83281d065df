"""The canonical record: JSON Schema file in sync with the code, dict and Arrow round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialog_forge.schema import (Dialogue, Lineage, Message, SchemaError, arrow_schema, content_id, from_arrow,
                                 json_schema, normalize_timestamp, to_arrow)

ROOT = Path(__file__).resolve().parents[1]


def test_checked_in_json_schema_matches_code():
    on_disk = json.loads((ROOT / "schemas" / "dialogue.schema.json").read_text(encoding="utf-8"))
    assert on_disk == json_schema(), "schemas/dialogue.schema.json is stale: run `make schema`"


def test_arrow_schema_has_every_record_field():
    fields = set(arrow_schema().names)
    assert fields == set(json_schema()["properties"])


def _record() -> Dialogue:
    return Dialogue(
        id="r1",
        messages=[Message("system", "你是客服"), Message("user", "你好"), Message("assistant", "您好！", name="bot")],
        domain="customer_service", task="greeting", lang="zh",
        source={"file": "a.jsonl", "line": 3}, created_at="2025-03-01T08:00:00Z",
        meta={"k": [1, 2, {"x": None}]},
        lineage=Lineage("r0", "r0", [{"op": "ingest", "params": {"format": "sharegpt"}}]),
        quality={"score": 0.9, "components": {"format": 1.0}, "decision": "keep"}, split="train",
    )


def test_dict_round_trip_is_exact():
    r = _record()
    assert Dialogue.from_dict(r.to_dict()).to_dict() == r.to_dict()
    assert Dialogue.from_json(r.to_json()).to_json() == r.to_json()


def test_arrow_round_trip_is_exact():
    recs = [_record(), Dialogue(id="r2", messages=[Message("user", "hi"), Message("assistant", "hello")])]
    back = from_arrow(to_arrow(recs))
    assert [b.to_dict() for b in back] == [r.to_dict() for r in recs]


def test_name_absent_is_not_null():
    r = Dialogue(id="x", messages=[Message("user", "a"), Message("assistant", "b")])
    assert "name" not in r.to_dict()["messages"][1]


@pytest.mark.parametrize("bad,reason", [
    ({"id": "a", "messages": [{"role": "bot", "content": "x"}]}, "unknown_role"),
    ({"id": "a", "messages": [{"role": "user", "content": 5}]}, "invalid_content"),
    ({"id": "", "messages": []}, "schema"),
    ({"id": "a", "messages": "hi"}, "schema"),
])
def test_from_dict_rejects_with_reason(bad, reason):
    with pytest.raises(SchemaError) as e:
        Dialogue.from_dict(bad)
    assert e.value.reason == reason


@pytest.mark.parametrize("raw,want", [
    ("2025-03-14T09:21:00Z", "2025-03-14T09:21:00Z"),
    ("2025-03-14T17:21:00+08:00", "2025-03-14T09:21:00Z"),
    (1741944060, "2025-03-14T09:21:00Z"),
    ("1741944060", "2025-03-14T09:21:00Z"),
    ("2025-03-14 09:21:00", "2025-03-14T09:21:00Z"),
    (1741944060000, "2025-03-14T09:21:00Z"),  # epoch milliseconds (JavaScript exports)
    ("1741944060000", "2025-03-14T09:21:00Z"),
])
def test_normalize_timestamp(raw, want):
    assert normalize_timestamp(raw) == want


def test_content_id_is_stable_and_content_sensitive():
    a = [Message("user", "你好"), Message("assistant", "您好")]
    b = [Message("user", "你好"), Message("assistant", "您好！")]
    assert content_id(a) == content_id(list(a))
    assert content_id(a) != content_id(b)
    assert len(content_id(a)) == 16


@pytest.mark.parametrize("raw", [10**20, float("inf"), float("nan"), "9" * 30, "0001-01-01T00:00:00+08:00", "yesterday",
                                 [2025], {"t": 1}])
def test_normalize_timestamp_out_of_range_is_schema_error_not_crash(raw):
    with pytest.raises(SchemaError) as e:
        normalize_timestamp(raw)
    assert e.value.reason == "invalid_timestamp"


@pytest.mark.parametrize("raw,want", [
    ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00Z"),  # strftime's %Y wrote "999-...", unreadable afterwards
    ("0045-06-07T08:09:10.5Z", "0045-06-07T08:09:10.500000Z"),
    ("2025-03-14T09:21:00.000000Z", "2025-03-14T09:21:00Z"),
])
def test_normalize_timestamp_pads_the_year_and_reads_its_own_output(raw, want):
    assert normalize_timestamp(raw) == want
    assert normalize_timestamp(want) == want
    d = Dialogue("t", [Message("user", "q"), Message("assistant", "a")], created_at=want)
    assert from_arrow(to_arrow([d]))[0].created_at == want


def _lin_rec(**lin) -> dict:
    return {"id": "a", "messages": [], "lineage": {"root_id": "a", "parent_id": None, "ops": [], **lin}}


@pytest.mark.parametrize("bad,detail", [
    (_lin_rec(parent_id=5), "lineage.parent_id must be a string or null, got int 5"),
    (_lin_rec(ops=["ingest"]), "lineage.ops[0] must be an object"),
    (_lin_rec(ops=[{"op": "", "params": {}}]), "lineage.ops[0].op must be a non-empty string"),
    (_lin_rec(ops=[{"op": "x", "params": "{}"}]), "lineage.ops[0].params must be an object, got str"),
    (_lin_rec(ops=[{"op": "x", "params": {}, "t": 1}]), "lineage.ops[0] has keys other than 'op' and 'params' (t)"),
    ({"id": "a", "messages": [], "source": {"line": "1"}}, "source.line must be a 64-bit integer or null, got str"),
    ({"id": "a", "messages": [], "source": {"file": ["f"]}}, "source.file must be a string or null, got list"),
    ({"id": "a", "messages": [], "split": "holdout"}, "field 'split' must be one of train, val, test or null"),
    ({"id": "a", "messages": [], "schema_version": 1}, "field 'schema_version' must be a string, got int 1"),
])
def test_from_dict_rejects_lineage_source_split_version_of_wrong_type(bad, detail):
    # these passed from_dict and then crashed to_arrow (Parquet output)
    with pytest.raises(SchemaError) as e:
        Dialogue.from_dict(bad)
    assert e.value.reason == "schema" and detail in e.value.detail


def test_from_dict_ops_params_absent_or_null_becomes_empty_object_and_round_trips_through_arrow():
    d = Dialogue.from_dict(_lin_rec(ops=[{"op": "a"}, {"op": "b", "params": None}, {"params": {"k": 1}, "op": "c"}]))
    assert d.lineage.ops == [{"op": "a", "params": {}}, {"op": "b", "params": {}}, {"op": "c", "params": {"k": 1}}]
    assert from_arrow(to_arrow([d]))[0].to_json() == d.to_json()
    ops = [{"op": "a", "params": {}}]
    assert Dialogue.from_dict(_lin_rec(ops=ops)).lineage.ops is ops  # a valid list is not copied


def test_from_dict_keeps_unknown_top_level_keys_in_meta():
    d = Dialogue.from_dict({"id": "a", "messages": [], "meta": {"k": 1}, "extra": [1], "k": 1})
    assert d.meta == {"k": 1, "extra": [1]}
    with pytest.raises(SchemaError, match="meta already holds"):
        Dialogue.from_dict({"id": "a", "messages": [], "meta": {"k": 1}, "k": 2})
