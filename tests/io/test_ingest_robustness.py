"""Faults found by adversarial testing of `forge ingest` and the shared I/O (one test per fault)."""

from __future__ import annotations

import gzip
import json

import pytest
import zstandard

from dialog_forge.errors import ForgeError
from dialog_forge.io.containers import read_rows
from dialog_forge.io.encoding import detect
from dialog_forge.io.sources import InputFile, open_binary

PAIR = {"messages": [{"role": "user", "content": "头痛怎么办？"}, {"role": "assistant", "content": "多休息。"}]}


def _line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode()


def test_pretty_printed_single_object_is_one_record(tmp_path):
    # the file is one valid JSON object over several lines; it used to be rejected line by line
    p = tmp_path / "one.json"
    p.write_text(json.dumps({"instruction": "a", "output": "b"}, indent=2))
    rows = list(read_rows(InputFile(p)))
    assert [(r.obj, r.error) for r in rows] == [({"instruction": "a", "output": "b"}, None)]


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_truncated_compressed_file_is_an_input_error(tmp_path, kind):
    data = _line(PAIR) * 2000
    packed = gzip.compress(data) if kind == "gz" else zstandard.ZstdCompressor().compress(data)
    p = tmp_path / f"t.jsonl.{kind}"
    p.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ForgeError, match="truncated or corrupt"):
        list(read_rows(InputFile(p)))


def test_truncated_gzip_cli_exit_2_not_aborted(tmp_path, forge):
    packed = gzip.compress(_line(PAIR) * 2000)
    p = tmp_path / "t.jsonl.gz"
    p.write_bytes(packed[: len(packed) // 2])
    proc = forge("ingest", p)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "truncated or corrupt" in err and str(p) in err
    assert "Aborted" not in err and "Traceback" not in err


def test_multi_frame_zstd_and_multi_member_gzip_read_fully(tmp_path):
    a, b = _line(PAIR) * 3, _line(PAIR) * 4
    z = zstandard.ZstdCompressor()
    (tmp_path / "m.jsonl.zst").write_bytes(z.compress(a) + z.compress(b))
    (tmp_path / "m.jsonl.gz").write_bytes(gzip.compress(a) + gzip.compress(b))
    for name in ("m.jsonl.zst", "m.jsonl.gz"):
        assert open_binary(InputFile(tmp_path / name)).read() == a + b


def test_utf8_file_with_one_damaged_line_rejects_only_that_line(tmp_path):
    lines = [_line({**PAIR, "id": str(i)}) for i in range(30)]
    lines[7] = lines[7].replace("头痛".encode(), b"\xff\xfe")
    p = tmp_path / "damaged.jsonl"
    p.write_bytes(b"".join(lines))
    assert detect(b"".join(lines), "x").encoding == "utf-8"
    rows = list(read_rows(InputFile(p)))
    assert len(rows) == 30
    assert [r.source["line"] for r in rows if r.error] == [8]
    assert rows[7].error[0] == "encoding_error"
    assert rows[0].obj["messages"][0]["content"] == "头痛怎么办？"


def test_gbk_is_still_detected_not_taken_for_damaged_utf8():
    text = "department,ask,answer\n内科,头痛三天了怎么办,建议先测量血压。\n外科,膝盖疼,建议拍片检查。\n" * 20
    assert detect(text.encode("gbk"), "x", complete=True).encoding == "gb18030"


def test_csv_on_stdin_is_read_as_a_table(tmp_path, forge):
    csv_bytes = "department,ask,answer\n内科,\"头痛\n三天了\",建议先测量血压。\n外科,膝盖疼,建议拍片检查。\n".encode("gbk")
    proc = forge("ingest", "-", "--map", "user=ask,assistant=answer,domain=department", input=csv_bytes)
    assert proc.returncode == 0, proc.stderr.decode()
    recs = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [r["messages"][0]["content"] for r in recs] == ["头痛\n三天了", "膝盖疼"]
    assert [r["domain"] for r in recs] == ["内科", "外科"]
    assert "2 in, 2 out, 0 rejected" in proc.stderr.decode()


def test_out_dir_holding_the_input_shards_is_refused_and_kept(tmp_path, forge):
    src = tmp_path / "a.jsonl"
    src.write_bytes(_line(PAIR) * 3)
    assert forge("ingest", src, "--out", tmp_path / "shards").returncode == 0
    shard = tmp_path / "shards" / "part-00000.parquet"
    before = shard.read_bytes()
    for inp in (tmp_path / "shards", shard):
        proc = forge("ingest", inp, "--out", tmp_path / "shards")
        assert proc.returncode == 2 and "holds the input shard" in proc.stderr.decode()
        assert shard.read_bytes() == before  # the input survived


def test_shard_sink_never_deletes_parquet_files_deeper_than_its_partitions(tmp_path):
    from dialog_forge.io.writers import ShardSink

    deep = tmp_path / "out" / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "part-00000.parquet").write_bytes(b"someone else's data")
    (tmp_path / "out" / "part-00003.parquet").write_bytes(b"old shard")
    ShardSink(tmp_path / "out").close()
    assert (deep / "part-00000.parquet").exists()
    assert not (tmp_path / "out" / "part-00003.parquet").exists()


def test_canonical_record_with_bad_created_at_is_rejected_not_a_crash(tmp_path, forge):
    from dialog_forge.schema import Dialogue, Message

    good = Dialogue("c1", [Message("user", "q"), Message("assistant", "a")]).to_dict()
    bad = {**good, "id": "c2", "created_at": "yesterday"}
    p = tmp_path / "canon.jsonl"
    p.write_bytes(_line(good) + _line(bad))
    proc = forge("ingest", p, "--rejects", tmp_path / "r.jsonl")
    assert proc.returncode == 0, proc.stderr.decode()
    assert [json.loads(x)["id"] for x in proc.stdout.decode().splitlines()] == ["c1"]
    rej = json.loads((tmp_path / "r.jsonl").read_text())
    assert rej["reason"] == "invalid_timestamp" and rej["source"]["line"] == 2


def test_raw_record_with_out_of_range_epoch_is_kept_with_raw_value(tmp_path, forge):
    p = tmp_path / "raw.jsonl"
    p.write_bytes(_line({**PAIR, "created_at": 10**20}) + _line({**PAIR, "id": "ms", "created_at": 1741944060000}))
    proc = forge("ingest", p)
    recs = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert proc.returncode == 0 and len(recs) == 2
    assert recs[0]["created_at"] is None and float(recs[0]["meta"]["created_at_raw"]) == 1e20
    assert recs[1]["created_at"] == "2025-03-14T09:21:00Z"


def test_map_naming_a_missing_table_column_is_exit_2(tmp_path, forge):
    p = tmp_path / "t.csv"
    p.write_text("ask,answer\n头痛,多休息\n膝盖疼,拍片\n", encoding="utf-8")
    proc = forge("ingest", p, "--map", "user=question,assistant=answer")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and proc.stdout == b""
    assert "question" in err and "ask, answer" in err and "Traceback" not in err


def test_parquet_row_with_replacement_char_is_rejected(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"ask": ["头痛", "膝盖\ufffd疼"], "answer": ["多休息", "拍片"]}), p)
    rows = list(read_rows(InputFile(p)))
    assert [r.error[0] if r.error else None for r in rows] == [None, "encoding_error"]


@pytest.mark.parametrize("args,needle", [
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--out", "/proc/forge-test/x.jsonl"], "--out /proc/forge-test/x.jsonl: cannot write"),
    (["--out", "/proc/forge-test-dir"], "cannot write there"),
    (["--rejects", "/proc/forge-test/r.jsonl"], "--rejects /proc/forge-test/r.jsonl: cannot write"),
])
def test_bad_io_flags_are_exit_2_not_silent_or_traceback(tmp_path, forge, args, needle):
    p = tmp_path / "a.jsonl"
    # the second record is rejected, so the rejects file is opened
    p.write_bytes(_line(PAIR) + _line({"messages": [{"role": "user", "content": "q"}]}))
    proc = forge("ingest", p, *args)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and needle in err and "Traceback" not in err and "unexpected" not in err


def test_openai_tool_calls_are_kept_as_json_text_not_dropped():
    from dialog_forge.io.formats import FormatOptions, convert

    obj = {"messages": [
        {"role": "user", "content": "北京天气？"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "name": "weather", "content": "晴"},
        {"role": "assistant", "content": "晴天。"},
    ]}
    msgs = convert(obj, "openai", FormatOptions()).messages
    assert [m.role for m in msgs] == ["user", "assistant", "tool", "assistant"]
    assert json.loads(msgs[1].content) == obj["messages"][1]["tool_calls"]


@pytest.mark.parametrize("indent", [None, 2])
def test_json_array_with_utf8_bom_is_read_as_an_array(tmp_path, indent):
    arr = [{"instruction": "翻译", "input": "你好", "output": "Hello"}, {"instruction": "a", "output": "b"}]
    p = tmp_path / "bom.json"
    p.write_text(json.dumps(arr, ensure_ascii=False, indent=indent), encoding="utf-8-sig")
    rows = list(read_rows(InputFile(p)))
    assert [(r.obj, r.error, r.container) for r in rows] == [(a, None, "json") for a in arr]


@pytest.mark.parametrize("content,needle", [
    (json.dumps([{"instruction": "a", "output": "b"}], indent=2).encode(), "a JSON array"),
    (_line({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}) * 3, "raw dialogue"),
    (_line(PAIR) * 3, "raw dialogue"),
])
def test_data_command_given_raw_data_says_run_ingest_first(tmp_path, forge, content, needle):
    # used to reject every line (one reject per line of a pretty-printed array) and exit 0 with nothing out
    p = tmp_path / "raw.json"
    p.write_bytes(content)
    proc = forge("clean", p)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and needle in err and "forge ingest" in err
    assert not (tmp_path / "forge-rejects.jsonl").exists()


def test_minimal_id_messages_records_still_read_by_data_commands(tmp_path):
    from dialog_forge.io.records import load_records

    p = tmp_path / "min.jsonl"
    p.write_bytes(_line({"id": "g1", "domain": "general", **PAIR}))
    assert [r.id for r in load_records([str(p)])] == ["g1"]


@pytest.mark.parametrize("kw,needle", [
    ({"role_map": "bot=robot"}, "'robot' is not a role"),
    ({"format": "columns"}, "--format columns needs --map"),
])
def test_ingest_flags_that_cannot_work_are_refused_up_front(kw, needle):
    from dialog_forge.pipeline.options import build_config
    from dialog_forge.steps.ingest import IngestConfig, IngestStep

    with pytest.raises(ForgeError, match=needle):
        IngestStep(build_config(IngestConfig, kw))


def test_reading_a_folder_skips_forge_side_files(tmp_path, forge):
    src = tmp_path / "a.jsonl"
    src.write_bytes(_line(PAIR) + _line({"messages": [{"role": "user", "content": "q"}]}))
    assert forge("ingest", src, "--out", tmp_path / "o" / "x.jsonl").returncode == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["x.jsonl", "x.jsonl.manifest.json", "x.rejects.jsonl"]
    from dialog_forge.io.sources import expand_inputs

    assert [f.path.name for f in expand_inputs([str(tmp_path / "o")])] == ["x.jsonl"]


def test_canonical_fast_path_still_applies_structure_and_unique_ids(tmp_path):
    from dialog_forge.pipeline.executor import run_chain
    from dialog_forge.schema import Dialogue, Message
    from dialog_forge.steps.ingest import IngestStep

    rec = Dialogue("k1", [Message("user", "在吗？"), Message("user", "改地址"), Message("assistant", "好的。")]).to_dict()
    p = tmp_path / "c.jsonl"
    p.write_bytes(_line(rec) * 2)
    step = IngestStep()
    rows, _ = step.source([str(p)])

    class Sink:
        def __init__(self):
            self.out = []

        def write(self, recs):
            self.out.extend(recs)

        def close(self):
            pass

    class Rej(Sink):
        def write(self, r, step):
            self.out.append(r)

    sink = Sink()
    run_chain([step], rows, sink, Rej(), progress=False)
    assert [r.id for r in sink.out] == ["k1", "k1-2"]
    assert [m.content for m in sink.out[0].messages] == ["在吗？\n改地址", "好的。"]
    assert sink.out[0].lineage.ops[-1] == {"op": "ingest", "params": {"format": "canonical", "restructured": True}}
    assert step.counters["format_canonical"] == 2 and step.counters["merged_turns"] == 2
