"""The canonical fast path of ``forge ingest`` (io/formats/canonical_fast.py, JsonLine rows) gives exactly
the results of the full path: same output bytes, same rejects (reason, detail, id, source), same counters
(in the same order), same counts."""

from __future__ import annotations

import copy
import json
import pickle

import orjson
import pytest

from dialog_forge.io.containers import JsonLine, RawRow, read_rows
from dialog_forge.io.formats.canonical_fast import (CLEAN, CLEAN_OPENING_ASSISTANT, FULL_PATH, CanonicalRecord,
                                                    check)
from dialog_forge.io.rejects import RejectsSink
from dialog_forge.io.sources import InputFile
from dialog_forge.io.writers import JsonlSink
from dialog_forge.pipeline.executor import run_chain
from dialog_forge.schema import Dialogue, Lineage, Message
from dialog_forge.steps.ingest import IngestConfig, IngestStep


def _rec(rid: str = "c1", **over) -> dict:
    """A valid, clean canonical record (dict form, key order of Dialogue.to_dict)."""
    d = Dialogue(rid, [Message("user", "头痛怎么办？"), Message("assistant", "多休息，多喝水。")], domain="medical",
                 source={"file": "raw.jsonl", "line": 3}, meta={"title": "头痛", "score": 0.25},
                 lineage=Lineage(rid, None, [{"op": "ingest", "params": {"format": "sharegpt"}}])).to_dict()
    d.update(over)
    return d


def _ingest(tmp_path, lines: list[bytes], *, fast: bool, name: str, **cfg) -> dict:
    """Run ingest over ``lines`` (one file) with the fast path on or off; everything it produced."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(line + b"\n" for line in lines))
    out, rej = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rejects.jsonl"
    step = IngestStep(IngestConfig(**cfg))
    step.fast_path = fast
    rows, _ = step.source([str(src)])
    res = run_chain([step], rows, JsonlSink(out), RejectsSink(rej), progress=False)
    st = res.stats[0]
    return {
        "out": out.read_bytes(),
        "rejects": rej.read_bytes() if rej.exists() else b"",
        "counts": (st.n_in, st.n_out, dict(st.rejected)),
        "counters": list(step.counters.items()),  # order included
        "fast": step.fast_path_records,
    }


def _both(tmp_path, lines: list[bytes], **cfg) -> tuple[dict, dict]:
    fast = _ingest(tmp_path, lines, fast=True, name="fast", **cfg)
    full = _ingest(tmp_path, lines, fast=False, name="full", **cfg)
    assert full["fast"] == 0
    return fast, full


def test_valid_canonical_record_takes_fast_path_and_comes_out_byte_identical(tmp_path):
    lines = [Dialogue.from_dict(_rec(f"c{i}")).to_json() for i in range(3)]
    fast, full = _both(tmp_path, lines)
    assert fast["fast"] == 3
    assert fast["out"] == b"".join(line + b"\n" for line in lines)  # what went in
    assert fast == {**full, "fast": 3}
    assert dict(fast["counters"]) == {"format_canonical": 3, "encoding_utf-8": 1}


def _line(obj) -> bytes:
    return orjson.dumps(obj)


def _msgs(*turns) -> list[dict]:
    return [{"role": r, "content": c} for r, c in turns]


# each: (case id, JSONL line, takes the fast path?)
CASES = [
    ("clean", _line(_rec()), True),
    ("bad_role", _line(_rec(messages=_msgs(("bot", "hi"), ("assistant", "yo")))), False),
    ("role_not_string", _line(_rec(messages=[{"role": 1, "content": "hi"}, {"role": "assistant", "content": "yo"}])), False),
    ("content_number", _line(_rec(messages=[{"role": "user", "content": 5}, {"role": "assistant", "content": "yo"}])), False),
    ("content_null", _line(_rec(messages=[{"role": "user", "content": None}, {"role": "assistant", "content": "yo"}])), False),
    ("content_list", _line(_rec(messages=[{"role": "user", "content": ["hi"]}, {"role": "assistant", "content": "yo"}])), False),
    ("missing_id", _line({k: v for k, v in _rec().items() if k != "id"}), False),
    ("empty_id", _line(_rec(id="")), False),
    ("id_number", _line(_rec(id=7)), False),
    ("schema_version_2", _line(_rec(schema_version="2.0")), False),
    ("schema_version_empty", _line(_rec(schema_version="")), False),
    ("schema_version_null", _line(_rec(schema_version=None)), False),
    ("schema_version_number", _line(_rec(schema_version=1)), False),
    ("fffd_in_content", _line(_rec(messages=_msgs(("user", "坏\ufffd字"), ("assistant", "yo")))), False),
    ("fffd_in_meta", _line(_rec(meta={"t": "\ufffd"})), False),
    ("same_role_users", _line(_rec(messages=_msgs(("user", "在吗？"), ("user", "改地址"), ("assistant", "好的。")))), False),
    ("same_role_assistants", _line(_rec(messages=_msgs(("user", "q"), ("assistant", "a"), ("assistant", "b")))), False),
    ("tool_run_is_clean", _line(_rec(messages=_msgs(("user", "q"), ("assistant", "call"), ("tool", "r1"), ("tool", "r2"),
                                                     ("assistant", "a")))), True),
    ("trailing_user", _line(_rec(messages=_msgs(("user", "q"), ("assistant", "a"), ("user", "thanks")))), False),
    ("empty_turn", _line(_rec(messages=_msgs(("user", "q"), ("user", ""), ("assistant", "a")))), False),
    ("blank_turn", _line(_rec(messages=_msgs(("user", "q"), ("assistant", " \n\t")))), False),
    ("no_user", _line(_rec(messages=_msgs(("assistant", "a")))), False),
    ("no_turns", _line(_rec(messages=[])), False),
    ("messages_not_list", _line(_rec(messages={"role": "user"})), False),
    ("turn_not_object", _line(_rec(messages=["user: hi", {"role": "assistant", "content": "a"}])), False),
    ("opening_assistant", _line(_rec(messages=_msgs(("system", "s"), ("assistant", "欢迎"), ("user", "q"),
                                                     ("assistant", "a")))), True),
    ("named_turn", _line(_rec(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a",
                                                                             "name": "bot"}])), True),
    ("name_null", _line(_rec(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a",
                                                                            "name": None}])), False),
    ("name_number", _line(_rec(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a",
                                                                              "name": 3}])), False),
    ("turn_keys_reordered", _line(_rec(messages=[{"content": "q", "role": "user"}, {"role": "assistant", "content": "a"}])), False),
    ("turn_extra_key", _line(_rec(messages=[{"role": "user", "content": "q", "w": 1}, {"role": "assistant", "content": "a"}])), False),
    ("keys_reordered", _line(dict(reversed(list(_rec().items())))), False),
    ("extra_key", _line({**_rec(), "extra": 1}), False),
    ("format_key", _line({**_rec(), "format": "sharegpt"}), False),
    ("missing_meta", _line({k: v for k, v in _rec().items() if k != "meta"}), False),
    ("meta_null", _line(_rec(meta=None)), False),
    ("meta_list", _line(_rec(meta=[1])), False),
    ("meta_json_string", _line(_rec(meta='{"a": 1}')), False),
    ("source_null", _line(_rec(source=None)), False),
    ("quality_object", _line(_rec(quality={"score": 0.5, "decision": "keep"})), True),
    ("quality_list", _line(_rec(quality=[0.5])), False),
    ("domain_number", _line(_rec(domain=3)), False),
    ("split_value", _line(_rec(split="train")), True),
    ("lineage_null", _line(_rec(lineage=None)), False),
    ("lineage_no_root", _line(_rec(lineage={"parent_id": None, "ops": []})), False),
    ("lineage_ops_null", _line(_rec(lineage={"root_id": "c1", "parent_id": None, "ops": None})), False),
    ("lineage_parquet_params", _line(_rec(lineage={"root_id": "c1", "parent_id": None,
                                                   "ops": [{"op": "ingest", "params": '{"format": "x"}'}]})), False),
    ("created_canonical", _line(_rec(created_at="2024-03-01T08:00:00Z")), True),
    ("created_micro", _line(_rec(created_at="2024-03-01T08:00:00.250000Z")), True),
    ("created_zero_micro", _line(_rec(created_at="2024-03-01T08:00:00.000000Z")), False),
    ("created_offset", _line(_rec(created_at="2024-03-01T08:00:00+08:00")), False),
    ("created_epoch", _line(_rec(created_at=1709280000)), False),
    ("created_invalid", _line(_rec(created_at="2024-13-01T00:00:00Z")), False),
    ("spaced_json", json.dumps(_rec(), ensure_ascii=False).encode(), True),
    ("ascii_escaped_json", json.dumps(_rec()).encode(), True),
    ("not_an_object", b"[1, 2]", False),
    ("truncated", b'{"id": "t", "messages": [', False),
    ("not_utf8", b'{"id": "\xff\xfe"}', False),
    ("form_feed_padded", b"\x0c" + _line(_rec()), False),
]


@pytest.mark.parametrize("same_role", ["merge", "reject"])
@pytest.mark.parametrize("case,line,fast", CASES, ids=[c[0] for c in CASES])
def test_fast_path_gives_the_full_path_result(tmp_path, case, line, fast, same_role):
    # the case comes after clean lines (so a file with one damaged line still reads as UTF-8)
    first = [_line(_rec(f"first{i}")) for i in range(9)]
    got, want = _both(tmp_path, [*first, line], same_role=same_role)
    assert got["fast"] == 9 + int(fast)
    assert got == {**want, "fast": got["fast"]}


def test_all_cases_in_one_file_and_duplicate_ids(tmp_path):
    lines = [_line(_rec(f"first{i}")) for i in range(50)] + [c[1] for c in CASES] + [_line(_rec()), _line(_rec())]  # c1 three times: -2, -3 on the full path
    got, want = _both(tmp_path, lines)
    assert got == {**want, "fast": got["fast"]}
    ids = [json.loads(x)["id"] for x in got["out"].splitlines()]
    assert ids.count("c1") == 1 and "c1-2" in ids and "c1-3" in ids
    reasons = want["counts"][2]
    assert reasons["unknown_role"] >= 2 and reasons["invalid_content"] >= 3 and reasons["encoding_error"] >= 2


def test_json_array_of_canonical_records_takes_fast_path(tmp_path):
    src = tmp_path / "arr.json"
    recs = [_rec("a1"), _rec("a2", messages=_msgs(("user", "q"), ("user", "q2"), ("assistant", "a")))]
    src.write_bytes(orjson.dumps(recs))
    outs = []
    for fast in (True, False):
        step = IngestStep()
        step.fast_path = fast
        rows, _ = step.source([str(src)])
        out = tmp_path / f"{fast}.jsonl"
        run_chain([step], rows, JsonlSink(out), RejectsSink(tmp_path / "r.jsonl"), progress=False)
        outs.append((out.read_bytes(), list(step.counters.items()), step.fast_path_records))
    assert outs[0][:2] == outs[1][:2] and (outs[0][2], outs[1][2]) == (1, 0)
    assert outs[0][0].splitlines()[0] == Dialogue.from_dict(recs[0]).to_json()


def test_check_results():
    assert check(_rec()) == CLEAN
    assert check(_rec(messages=_msgs(("assistant", "hi"), ("user", "q"), ("assistant", "a")))) == CLEAN_OPENING_ASSISTANT
    assert check(_rec(), {"c1"}) == FULL_PATH  # the id is taken: the full path renames it
    assert check(_rec(messages=_msgs(("user", "q"), ("assistant", "a"), ("user", "more")))) == FULL_PATH
    assert check([_rec()]) == FULL_PATH and check(None) == FULL_PATH


def test_canonical_record_is_lazy_until_a_field_is_used():
    d = _rec()
    line = orjson.dumps(d)
    rec = CanonicalRecord.wrap(line)
    assert rec.is_lazy and rec.to_json() is line
    assert isinstance(rec, Dialogue)
    assert rec.messages[1].content == "多休息，多喝水。" and not rec.is_lazy
    assert rec.to_json() == line == Dialogue.from_dict(d).to_json()
    assert rec == Dialogue.from_dict(d) and Dialogue.from_dict(d) == rec


def test_canonical_record_changes_show_in_its_output():
    rec = CanonicalRecord.wrap(orjson.dumps(_rec()))
    rec.domain = "finance"  # a write builds the record first, then changes it
    assert json.loads(rec.to_json())["domain"] == "finance"
    assert json.loads(rec.to_json())["messages"][0]["content"] == "头痛怎么办？"
    rec2 = CanonicalRecord.wrap(orjson.dumps(_rec()))
    rec2.meta["new"] = 1  # a read builds it, so changing what was read shows too
    assert json.loads(rec2.to_json())["meta"] == {"title": "头痛", "score": 0.25, "new": 1}
    rec3 = CanonicalRecord.wrap(orjson.dumps(_rec()))
    assert rec3.to_dict() == _rec() and not rec3.is_lazy


def test_canonical_record_copies_and_pickles_are_plain_dialogues():
    rec = CanonicalRecord.wrap(orjson.dumps(_rec()))
    for other in (copy.copy(rec), copy.deepcopy(rec), pickle.loads(pickle.dumps(rec))):
        assert type(other) is Dialogue and other == rec and other.to_json() == rec.to_json()
    deep = copy.deepcopy(CanonicalRecord.wrap(orjson.dumps(_rec())))
    deep.meta["x"] = 1
    assert "x" not in rec.meta
    with pytest.raises(AttributeError):
        _ = rec.no_such_field


def test_json_lines_parse_when_used_with_the_eager_outcomes(tmp_path):
    p = tmp_path / "m.jsonl"
    good = '{"z": "好"}\n'.encode() * 9  # enough valid UTF-8 that the damaged line does not sink the file
    p.write_bytes(b'{"a": 1}\n\n  \n{"b": \n\xff\xfe{}\n{"c": "\xef\xbf\xbd"}\n\x0c{"d": 2}\n[3]\n' + good)
    rows = list(read_rows(InputFile(p)))[:6]
    assert [type(r) for r in rows] == [JsonLine] * 6
    assert [r.source["line"] for r in rows] == [1, 4, 5, 6, 7, 8]
    assert [(r.obj, r.error[0] if r.error else None) for r in rows] == [
        ({"a": 1}, None), ('{"b":', "malformed_json"), ("\ufffd\ufffd{}", "encoding_error"),
        ('{"c": "\ufffd"}', "encoding_error"), ({"d": 2}, None), ([3], None)]
    assert rows[1].error[1].startswith("line 4 is not valid JSON")
    row = JsonLine(b'{"e": 5}\n', {"file": "x", "line": 9})
    assert row.value() == {"e": 5} and row.parse() is None and row.obj == {"e": 5}
    assert JsonLine(b'{"e": "\xef\xbf\xbd"}\n', {"file": "x", "line": 9}).value() is None
    assert RawRow({"e": 5}, {}, "jsonl") == RawRow({"e": 5}, {}, "jsonl")


@pytest.mark.parametrize("field,value", [("meta", "not json"), ("quality", "{broken")])
def test_parquet_form_field_that_is_not_json_is_a_reject_not_a_stopped_run(tmp_path, field, value):
    lines = [_line(_rec("ok")), _line(_rec("bad", **{field: value}))]
    got = _ingest(tmp_path, lines, fast=True, name="x")
    assert got["counts"] == (2, 1, {"schema": 1})
    rej = json.loads(got["rejects"])
    assert rej["id"] == "bad" and f"field {field!r} is a string that is not JSON" in rej["detail"]


def test_canonical_record_works_with_dataclass_helpers():
    import dataclasses

    rec = CanonicalRecord.wrap(orjson.dumps(_rec()))
    assert dataclasses.asdict(rec)["messages"][0] == {"role": "user", "content": "头痛怎么办？", "name": None}
    other = dataclasses.replace(CanonicalRecord.wrap(orjson.dumps(_rec())), domain="finance")
    assert other.domain == "finance" and json.loads(other.to_json())["domain"] == "finance"
    assert other.messages == rec.messages
