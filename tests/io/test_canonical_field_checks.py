"""Canonical records whose lineage, source, split or schema_version have the wrong type or shape, and
records that carry U+FFFD written as a ``\\ufffd`` escape: both ingest paths (the canonical fast path and the
full path) reject them with the same reason and detail, instead of keeping them (they used to pass ingest
and then crash the Parquet writer, or come back different from a JSONL -> Parquet -> JSONL round trip)."""

from __future__ import annotations

import json

import orjson
import pyarrow.parquet as pq
import pytest

from dialog_forge.io.containers import read_rows
from dialog_forge.io.formats.canonical_fast import FULL_PATH, check
from dialog_forge.io.rejects import RejectsSink
from dialog_forge.io.sources import InputFile
from dialog_forge.io.writers import JsonlSink, ParquetFileSink
from dialog_forge.pipeline.executor import run_chain
from dialog_forge.schema import Dialogue, Lineage, Message
from dialog_forge.steps.ingest import IngestConfig, IngestStep


def _rec(rid: str = "c1", **over) -> dict:
    """A valid, clean canonical record (dict form, key order of Dialogue.to_dict)."""
    d = Dialogue(rid, [Message("user", "胸口闷怎么办？"), Message("assistant", "建议尽快就医。")], domain="medical",
                 source={"file": "raw.jsonl", "line": 3}, meta={"title": "胸闷"},
                 lineage=Lineage(rid, None, [{"op": "ingest", "params": {"format": "sharegpt"}}])).to_dict()
    d.update(over)
    return d


def _lin(**over) -> dict:
    return {"root_id": "c1", "parent_id": None, "ops": [{"op": "ingest", "params": {"format": "sharegpt"}}], **over}


def _ingest(tmp_path, data: bytes, *, fast: bool, name: str, sink: str = "jsonl", suffix: str = ".jsonl",
            **cfg) -> dict:
    src = tmp_path / f"in{suffix}"
    src.write_bytes(data)
    out = tmp_path / f"{name}.{sink}"
    rej = tmp_path / f"{name}.rejects.jsonl"
    step = IngestStep(IngestConfig(**cfg))
    step.fast_path = fast
    rows, _ = step.source([str(src)])
    res = run_chain([step], rows, JsonlSink(out) if sink == "jsonl" else ParquetFileSink(out), RejectsSink(rej),
                    progress=False)
    st = res.stats[0]
    rejects = [json.loads(x) for x in rej.read_bytes().splitlines()] if rej.exists() else []
    return {
        "out": out.read_bytes() if sink == "jsonl" else pq.read_table(out).column("id").to_pylist(),
        "rejects": [(r["reason"], r["detail"], r["source"]) for r in rejects],
        "counts": (st.n_in, st.n_out, dict(st.rejected)),
        "counters": list(step.counters.items()),
    }


def _both(tmp_path, data: bytes, **kw) -> dict:
    fast = _ingest(tmp_path, data, fast=True, name="fast", **kw)
    full = _ingest(tmp_path, data, fast=False, name="full", **kw)
    assert fast == full
    return fast


def _fffd_escape(obj: dict, placeholder: str, escape: bytes = b"\\ufffd") -> bytes:
    """The JSON line of ``obj`` with the string ``placeholder`` replaced by ``escape`` (JSON text)."""
    return orjson.dumps(obj).replace(placeholder.encode(), escape)


# (case id, JSONL line, reject reason, words of the detail)
BAD = [
    ("parent_id_number", orjson.dumps(_rec(lineage=_lin(parent_id=5))), "schema",
     "lineage.parent_id must be a string or null, got int 5"),
    ("parent_id_list", orjson.dumps(_rec(lineage=_lin(parent_id=["p"]))), "schema",
     "lineage.parent_id must be a string or null, got list"),
    ("ops_item_string", orjson.dumps(_rec(lineage=_lin(ops=["ingest"]))), "schema",
     "lineage.ops[0] must be an object"),
    ("ops_second_item_number", orjson.dumps(_rec(lineage=_lin(ops=[{"op": "ingest", "params": {}}, 7]))), "schema",
     "lineage.ops[1] must be an object"),
    ("ops_item_without_op", orjson.dumps(_rec(lineage=_lin(ops=[{"params": {}}]))), "schema",
     "lineage.ops[0].op must be a non-empty string, got None"),
    ("ops_op_number", orjson.dumps(_rec(lineage=_lin(ops=[{"op": 3, "params": {}}]))), "schema",
     "lineage.ops[0].op must be a non-empty string, got 3"),
    ("ops_params_list", orjson.dumps(_rec(lineage=_lin(ops=[{"op": "x", "params": [1]}]))), "schema",
     "lineage.ops[0].params must be an object, got list"),
    ("ops_extra_key", orjson.dumps(_rec(lineage=_lin(ops=[{"op": "x", "params": {}, "at": 1}]))), "schema",
     "lineage.ops[0] has keys other than 'op' and 'params' (at)"),
    ("ops_object", orjson.dumps(_rec(lineage=_lin(ops={"op": "x"}))), "schema", "lineage.ops must be a list"),
    ("source_line_string", orjson.dumps(_rec(source={"file": "a.jsonl", "line": "3"})), "schema",
     "source.line must be a 64-bit integer or null, got str '3'"),
    ("source_row_bool", orjson.dumps(_rec(source={"file": "a.csv", "row": True})), "schema",
     "source.row must be a 64-bit integer or null, got bool True"),
    ("source_line_over_int64", orjson.dumps(_rec(source={"file": "a.jsonl", "line": 1 << 63})), "schema",
     "source.line must be a 64-bit integer or null, got int 9223372036854775808"),
    ("source_file_number", orjson.dumps(_rec(source={"file": 5, "line": 3})), "schema",
     "source.file must be a string or null, got int 5"),
    ("split_unknown", orjson.dumps(_rec(split="dev")), "schema",
     "field 'split' must be one of train, val, test or null, got 'dev'"),
    ("schema_version_number", orjson.dumps(_rec(schema_version=1.0)), "schema",
     "field 'schema_version' must be a string, got float 1.0"),
    ("fffd_escape_in_content", _fffd_escape(_rec(messages=[{"role": "user", "content": "胸口XX"},
                                                           {"role": "assistant", "content": "就医"}]), "XX"),
     "encoding_error", "written as \\ufffd escapes"),
    ("fffd_escape_upper_case_in_meta", _fffd_escape(_rec(meta={"t": "XX"}), "XX", b"\\uFFFD"), "encoding_error",
     "written as \\ufffd escapes"),
    ("fffd_escape_in_meta_key", _fffd_escape(_rec(meta={"XX": 1}), "XX", b"\\uFffD"), "encoding_error",
     "written as \\ufffd escapes"),
]


@pytest.mark.parametrize("case,line,reason,detail", BAD, ids=[c[0] for c in BAD])
def test_bad_canonical_field_is_rejected_on_both_paths(tmp_path, case, line, reason, detail):
    good = [orjson.dumps(_rec(f"g{i}")) for i in range(3)]
    data = b"\n".join([good[0], line, *good[1:]]) + b"\n"
    got = _both(tmp_path, data)
    assert got["counts"] == (4, 3, {reason: 1})
    assert got["out"] == b"".join(g + b"\n" for g in good)  # the good records unchanged
    [(r_reason, r_detail, r_source)] = got["rejects"]
    assert r_reason == reason and detail in r_detail and r_source["line"] == 2


@pytest.mark.parametrize("case,line,reason,detail", BAD, ids=[c[0] for c in BAD])
def test_bad_canonical_field_never_reaches_the_parquet_writer(tmp_path, case, line, reason, detail):
    # parent_id 5, ops ["ingest"], source.line "3", schema_version 1.0 used to crash to_arrow
    data = orjson.dumps(_rec("g0")) + b"\n" + line + b"\n"
    got = _both(tmp_path, data, sink="parquet")
    assert got["out"] == ["g0"] and got["counts"] == (2, 1, {reason: 1})


def test_parent_id_number_with_out_parquet_is_a_reject_not_a_crash(tmp_path, forge):
    src = tmp_path / "in.jsonl"
    src.write_bytes(orjson.dumps(_rec("ok")) + b"\n" + orjson.dumps(_rec("bad", lineage=_lin(parent_id=5))) + b"\n")
    proc = forge("ingest", src, "--out", tmp_path / "x.parquet", "--rejects", tmp_path / "r.jsonl")
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "ingest: 2 in, 1 out, 1 rejected (schema 1)" in err
    assert pq.read_table(tmp_path / "x.parquet").column("id").to_pylist() == ["ok"]
    [rej] = [json.loads(x) for x in (tmp_path / "r.jsonl").read_bytes().splitlines()]
    assert (rej["id"], rej["reason"]) == ("bad", "schema") and "lineage.parent_id" in rej["detail"]


def test_check_sends_every_bad_field_to_the_full_path():
    # (U+FFFD is caught on the line, before check sees the parsed dict)
    for case, line, reason, _detail in BAD:
        if reason == "schema":
            assert check(orjson.loads(line)) == FULL_PATH, case


@pytest.mark.parametrize("ops,want", [
    ([{"op": "x", "params": None}], [{"op": "x", "params": {}}]),
    ([{"op": "x"}], [{"op": "x", "params": {}}]),
    ([{"params": {"a": 1}, "op": "x"}], [{"op": "x", "params": {"a": 1}}]),
])
def test_ops_params_missing_or_null_or_reordered_is_normalised_then_stable(tmp_path, ops, want):
    # written as the Parquet form reads it back, so JSONL -> Parquet -> JSONL is exact afterwards
    data = orjson.dumps(_rec(lineage=_lin(ops=ops))) + b"\n"
    got = _both(tmp_path, data)
    assert got["counts"] == (1, 1, {})
    assert json.loads(got["out"])["lineage"]["ops"] == want
    again = _both(tmp_path, got["out"])
    assert again["out"] == got["out"]
    pq_ids = _both(tmp_path, got["out"], sink="parquet")["out"]
    assert pq_ids == ["c1"]


def test_escaped_backslash_before_ufffd_is_text_not_a_replacement_character(tmp_path):
    # "\\ufffd" in JSON is a backslash followed by "ufffd": no U+FFFD, the record is kept as it is
    line = _fffd_escape(_rec(meta={"regex": "XX"}), "XX", b"\\\\ufffd")
    got = _both(tmp_path, line + b"\n")
    assert got["counts"] == (1, 1, {}) and got["out"] == line + b"\n"
    assert json.loads(got["out"])["meta"]["regex"] == "\\ufffd"


def test_fffd_escape_in_utf16_jsonl_and_pretty_printed_json_is_rejected(tmp_path):
    # the text reader (non-UTF-8 files) and the pretty-printed-document fallback check it too
    bad = _fffd_escape(_rec("bad", meta={"t": "XX"}), "XX").decode()
    p = tmp_path / "u16.jsonl"
    p.write_bytes((orjson.dumps(_rec("ok")).decode() + "\n" + bad + "\n").encode("utf-16"))
    assert [r.error[0] if r.error else None for r in read_rows(InputFile(p))] == [None, "encoding_error"]
    p = tmp_path / "pretty.json"
    p.write_text(json.dumps(_rec("bad", meta={"t": "坏\ufffd"}), ensure_ascii=False, indent=2), encoding="utf-8")
    assert [r.error[0] if r.error else None for r in read_rows(InputFile(p))] == ["encoding_error"]


def test_parquet_form_ops_with_a_json_params_object_after_a_string_one(tmp_path):
    # Parquet-form detection looks at ops[0] only; an op whose params is already an object is kept as it is
    d = _rec(lineage=_lin(ops=[{"op": "ingest", "params": '{"format": "x"}'}, {"op": "clean", "params": {"a": 1}}]))
    got = _both(tmp_path, orjson.dumps(d) + b"\n")
    assert got["counts"] == (1, 1, {})
    assert json.loads(got["out"])["lineage"]["ops"] == [{"op": "ingest", "params": {"format": "x"}},
                                                        {"op": "clean", "params": {"a": 1}}]


@pytest.mark.parametrize("messages", [None, {"role": "user"}])
def test_format_canonical_with_messages_not_a_list_and_meta_as_text_is_a_reject(tmp_path, forge, messages):
    # canonical.convert iterated messages without checking: --format canonical stopped the run (exit 2)
    src = tmp_path / "in.jsonl"
    src.write_bytes(orjson.dumps(_rec(messages=messages, meta="{}")) + b"\n" + orjson.dumps(_rec("ok")) + b"\n")
    proc = forge("ingest", src, "--format", "canonical", "--rejects", tmp_path / "r.jsonl")
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "ingest: 2 in, 1 out, 1 rejected (schema 1)" in err
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == ["ok"]
    [rej] = [json.loads(x) for x in (tmp_path / "r.jsonl").read_bytes().splitlines()]
    assert rej["detail"] == "field 'messages' must be a list"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_byte_order_mark_inside_a_joined_file_is_stripped_not_a_reject(tmp_path, encoding):
    # `cat a.jsonl b.jsonl` where b.jsonl starts with a BOM (or is empty but for one): line 2 used to be
    # rejected as malformed_json ("UTF-8 byte order mark (BOM) is not supported")
    a, b = orjson.dumps(_rec("a")).decode(), orjson.dumps(_rec("b")).decode()
    text = f"{a}\n\ufeff{b}\n\ufeff\n"
    data = text.encode(encoding)
    got = _both(tmp_path, data)
    assert got["counts"] == (2, 2, {})
    assert got["out"] == f"{a}\n{b}\n".encode()


@pytest.mark.parametrize("fmt_record", [
    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "task": ["qa", "zh"]},
    {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}], "domain": {"name": "med"}},
    {"instruction": "a", "output": "b", "lang": ["zh"]},
], ids=["openai_task_list", "sharegpt_domain_object", "alpaca_lang_list"])
def test_raw_domain_task_lang_as_list_or_object_is_a_reject_not_python_repr(tmp_path, fmt_record):
    # str_or_none kept str(["qa", "zh"]) == "['qa', 'zh']" as the task
    got = _both(tmp_path, orjson.dumps(fmt_record) + b"\n" + orjson.dumps({**fmt_record, "task": "qa", "domain": None,
                                                                             "lang": "zh"}) + b"\n")
    assert got["counts"] == (2, 1, {"schema": 1})
    [(reason, detail, _src)] = got["rejects"]
    assert detail.startswith("field '") and "must be a string, got" in detail
    assert "['" not in got["out"].decode() and json.loads(got["out"])["lang"] == "zh"


def test_domain_and_task_defaults_fill_null_fields_of_canonical_records(tmp_path):
    # --domain/--task were silently ignored for canonical input (a re-ingest or a pipe)
    has = orjson.dumps(_rec("has"))  # domain "medical", task null
    none = orjson.dumps(_rec("none", domain=None))
    got = _both(tmp_path, has + b"\n" + none + b"\n", domain="finance", task="qa")
    assert got["counts"] == (2, 2, {})
    out = [json.loads(x) for x in got["out"].splitlines()]
    assert [(d["id"], d["domain"], d["task"]) for d in out] == [("has", "medical", "qa"), ("none", "finance", "qa")]
    assert out[1]["lineage"]["ops"][-1] == {"op": "ingest", "params": {"format": "canonical",
                                                                       "defaults": {"domain": "finance", "task": "qa"}}}
    assert out[0]["lineage"]["ops"][-1]["params"] == {"format": "canonical", "defaults": {"task": "qa"}}
    again = _both(tmp_path, got["out"], domain="finance", task="qa")
    assert again["out"] == got["out"]  # idempotent with the same flags
    plain = _both(tmp_path, has + b"\n" + none + b"\n")  # no flag: unchanged, as before
    assert plain["out"] == has + b"\n" + none + b"\n"


def test_extra_top_level_keys_of_a_canonical_record_go_to_meta_not_lost(tmp_path):
    # to_dict wrote only the schema's keys: {"extra": ...} vanished without a trace
    lines = [orjson.dumps({**_rec("x"), "reviewer": "王医生", "score": 0.9}),
             orjson.dumps({**_rec("f"), "format": "canonical"}),  # the format hint is consumed, not data
             orjson.dumps({**_rec("c", meta={"reviewer": "李"}), "reviewer": "王"})]  # clash: meta has another value
    got = _both(tmp_path, b"\n".join(lines) + b"\n")
    assert got["counts"] == (3, 2, {"schema": 1})
    out = [json.loads(x) for x in got["out"].splitlines()]
    assert [(d["id"], d["meta"]) for d in out] == [("x", {"title": "胸闷", "reviewer": "王医生", "score": 0.9}),
                                                   ("f", {"title": "胸闷"})]
    assert "'reviewer'" in got["rejects"][0][1] and "meta already holds" in got["rejects"][0][1]
    assert _both(tmp_path, got["out"])["out"] == got["out"]  # and the result is stable


def test_raw_turn_name_number_is_kept_as_text_and_object_is_a_reject(tmp_path):
    # a non-string name used to be dropped without a word
    turns = [{"role": "user", "content": "查订单"}, {"role": "assistant", "content": "好的", "name": 7}]
    bad = [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a", "name": {"id": 1}}]
    got = _both(tmp_path, orjson.dumps({"messages": turns}) + b"\n" + orjson.dumps({"conversations": bad}) + b"\n")
    assert got["counts"] == (2, 1, {"schema": 1})
    assert json.loads(got["out"])["messages"][1] == {"role": "assistant", "content": "好的", "name": "7"}
    assert got["rejects"][0][1] == "turn 1: name must be a string, got dict {'id': 1}"


def test_extra_source_keys_are_schema_rejects_on_both_paths(tmp_path):
    """``source`` holds only file/line/row (the Parquet form has no room for more), so a record with other
    keys there is rejected with a detail naming them instead of losing them in JSONL -> Parquet -> JSONL."""
    from dialog_forge.io.formats.canonical_fast import FULL_PATH, check
    from dialog_forge.schema import Dialogue, Message, SchemaError

    good = Dialogue(id="s1", messages=[Message("user", "q"), Message("assistant", "a")],
                    source={"file": "a.jsonl", "line": 3}).to_dict()
    bad = {**good, "source": {"file": "a.jsonl", "line": 3, "x": [1]}}
    assert Dialogue.from_dict(good).source == {"file": "a.jsonl", "line": 3}
    with pytest.raises(SchemaError, match="source may hold only file, line and row, got 'x'"):
        Dialogue.from_dict(bad)
    assert check(bad, set()) is FULL_PATH


@pytest.mark.parametrize("blank", ["\u200b", " \u200b\u200c ", "\ufeff", "\u2060\n", "\u00ad"])
def test_zero_width_only_turns_count_as_empty_on_both_paths(blank):
    """A turn of only invisible characters is an empty turn: dropped when the dialogue stays valid, and
    the fast path never keeps it."""
    from dialog_forge.io.formats.canonical_fast import FULL_PATH, check
    from dialog_forge.schema import Dialogue, Message, has_text
    from dialog_forge.steps.structure import apply_structure

    assert not has_text(blank) and has_text(blank + "好")
    d = Dialogue(id="z1", messages=[Message("user", "q"), Message("user", blank), Message("assistant", "a")])
    assert check(d.to_dict(), set()) is FULL_PATH
    out, _ = apply_structure(d.messages, counters=(c := {}))
    assert [m.content for m in out] == ["q", "a"] and c["empty_turns_dropped"] == 1
