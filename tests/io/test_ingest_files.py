"""`forge ingest` on every container, encoding and kind of malformed input."""

from __future__ import annotations

import gzip
import json

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

SHAREGPT = [
    {"id": "s1", "conversations": [{"from": "human", "value": "退货要几天？"}, {"from": "gpt", "value": "一般3到5个工作日。"}]},
    {"id": "s2", "conversations": [{"from": "system", "value": "You are helpful."}, {"from": "human", "value": "Hi"},
                                   {"from": "gpt", "value": "Hello! How can I help?"}]},
]


def _out(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr.decode()
    return [json.loads(x) for x in proc.stdout.decode().splitlines() if x.strip()]


def _jsonl(rows) -> bytes:
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n").encode()


def test_gbk_csv_with_multiline_fields_is_detected(tmp_path, forge):
    csv_text = ('department,ask,answer\n内科,"头痛\n三天了怎么办",建议先测量血压。\n'
                '外科,膝盖疼,"建议拍片检查，\n必要时就诊。"\n儿科,孩子发烧38度,多喝水，观察体温。\n')
    p = tmp_path / "med.csv"
    p.write_bytes(csv_text.encode("gbk"))
    proc = forge("ingest", p, "--map", "user=ask,assistant=answer,domain=department", "--verbose")
    recs = _out(proc)
    assert len(recs) == 3
    assert recs[0]["messages"][0]["content"] == "头痛\n三天了怎么办"
    assert recs[1]["messages"][1]["content"] == "建议拍片检查，\n必要时就诊。"
    assert [r["domain"] for r in recs] == ["内科", "外科", "儿科"]
    assert [r["source"]["row"] for r in recs] == [1, 2, 3]
    assert "gb18030" in proc.stderr.decode()


def test_gbk_row_with_invalid_bytes_is_rejected_not_garbled(tmp_path, forge):
    good = "ask,answer\n胃疼怎么办,建议清淡饮食并观察。\n".encode("gbk")
    bad = "头晕".encode("gbk") + b"\x80\xff" + ",休息一下。\n".encode("gbk")
    more = "咳嗽两周,建议拍胸片。\n".encode("gbk")
    p = tmp_path / "m.csv"
    p.write_bytes(good + bad + more)
    rej = tmp_path / "rej.jsonl"
    recs = _out(forge("ingest", p, "--map", "user=ask,assistant=answer", "--rejects", rej))
    assert len(recs) == 2 and all("\ufffd" not in json.dumps(r, ensure_ascii=False) for r in recs)
    rejects = [json.loads(x) for x in rej.read_text(encoding="utf-8").splitlines()]
    assert [(r["reason"], r["source"]["row"]) for r in rejects] == [("encoding_error", 2)]


def test_explicit_encoding_overrides(tmp_path, forge):
    p = tmp_path / "big5.csv"
    p.write_bytes("q,a\n你好嗎,您好\n".encode("big5"))
    recs = _out(forge("ingest", p, "--map", "user=q,assistant=a", "--encoding", "big5"))
    assert recs[0]["messages"][0]["content"] == "你好嗎"


def test_tsv_and_parquet_tables(tmp_path, forge):
    tsv = tmp_path / "t.tsv"
    tsv.write_text("q\ta\tcat\nWhat is APR?\tThe annual percentage rate.\tloans\n", encoding="utf-8")
    recs = _out(forge("ingest", tsv, "--map", "user=q,assistant=a,category=cat"))
    assert recs[0]["meta"] == {"category": "loans"}
    pqf = tmp_path / "t.parquet"
    pq.write_table(pa.table({"q": ["Hi"], "a": ["Hello"], "ts": [1741944060]}), pqf)
    recs = _out(forge("ingest", pqf, "--map", "user=q,assistant=a", "--time-field", "ts"))
    assert recs[0]["created_at"] == "2025-03-14T09:21:00Z"


def test_compressed_json_array_and_jsonl(tmp_path, forge):
    gz = tmp_path / "a.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(SHAREGPT, ensure_ascii=False).encode()))
    zst = tmp_path / "b.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(_jsonl(SHAREGPT)))
    a, b = _out(forge("ingest", gz)), _out(forge("ingest", zst))
    assert [r["id"] for r in a] == [r["id"] for r in b] == ["s1", "s2"]
    assert [m["role"] for m in a[1]["messages"]] == ["system", "user", "assistant"]


def test_directory_and_glob_inputs(tmp_path, forge):
    d = tmp_path / "raw"
    d.mkdir()
    (d / "one.jsonl").write_bytes(_jsonl(SHAREGPT[:1]))
    (d / "two.jsonl").write_bytes(_jsonl(SHAREGPT[1:]))
    assert len(_out(forge("ingest", d))) == 2
    assert len(_out(forge("ingest", str(d / "*.jsonl")))) == 2


def test_alpaca_instruction_and_input_join(tmp_path, forge):
    rows = [{"instruction": "Translate to French", "input": "Good morning", "output": "Bonjour",
             "history": [["Hi", "Hello"]], "system": "Be brief."},
            {"instruction": "Name a prime", "input": "", "output": "7"}]
    p = tmp_path / "alpaca.json"
    p.write_text(json.dumps(rows), encoding="utf-8")
    recs = _out(forge("ingest", p, "--alpaca-sep", " :: "))
    assert [(m["role"], m["content"]) for m in recs[0]["messages"]] == [
        ("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"),
        ("user", "Translate to French :: Good morning"), ("assistant", "Bonjour")]
    assert recs[1]["messages"][0]["content"] == "Name a prime"


def test_openai_content_parts_null_and_number(tmp_path, forge):
    rows = [
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": "x"}}]},
                      {"role": "assistant", "content": "A cat."}]},
        {"messages": [{"role": "user", "content": None}, {"role": "assistant", "content": "?"}]},
        {"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "ok"}]},
    ]
    p = tmp_path / "o.jsonl"
    p.write_bytes(_jsonl(rows))
    rej = tmp_path / "r.jsonl"
    recs = _out(forge("ingest", p, "--rejects", rej))
    assert len(recs) == 1 and recs[0]["messages"][0]["content"] == "Describe"
    reasons = [json.loads(x)["reason"] for x in rej.read_text().splitlines()]
    assert reasons == ["no_user", "invalid_content"]


def test_truncated_line_is_rejected_and_counted(tmp_path, forge):
    p = tmp_path / "t.jsonl"
    p.write_bytes(_jsonl(SHAREGPT) + b'{"conversations": [{"from": "human", "val')
    rej = tmp_path / "r.jsonl"
    stats = tmp_path / "s.json"
    recs = _out(forge("ingest", p, "--rejects", rej, "--stats-json", stats))
    assert len(recs) == 2
    r = json.loads(rej.read_text())
    assert r["reason"] == "malformed_json" and r["source"]["line"] == 3 and r["record"].startswith('{"conv')
    s = orjson.loads(stats.read_bytes())
    assert s["in"] == 3 and s["out"] + s["rejected"] == 3


@pytest.mark.parametrize("content,needle", [
    (b"\x00\x01\x02\x03binary\x00\x00" * 100, "binary"),
    (b'[{"conversations": [', "not valid JSON"),
])
def test_unreadable_files_exit_2_without_traceback(tmp_path, forge, content, needle):
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    proc = forge("ingest", p)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert needle in err and "Traceback" not in err and str(p) in err


def test_missing_path_exit_2(tmp_path, forge):
    proc = forge("ingest", tmp_path / "nope.jsonl")
    assert proc.returncode == 2 and "no such file" in proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()


def test_empty_file_is_zero_records(tmp_path, forge):
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"")
    proc = forge("ingest", p)
    assert proc.returncode == 0 and proc.stdout == b""
    assert "ingest: 0 in, 0 out, 0 rejected" in proc.stderr.decode()


def test_ten_megabyte_single_line(tmp_path, forge):
    big = "长" * (10 * 1024 * 1024 // 3)
    p = tmp_path / "big.jsonl"
    p.write_bytes(_jsonl([{"messages": [{"role": "user", "content": "总结"}, {"role": "assistant", "content": big}]}]))
    recs = _out(forge("ingest", p))
    assert len(recs[0]["messages"][1]["content"]) == len(big)


def test_duplicate_source_ids_are_disambiguated(tmp_path, forge):
    p = tmp_path / "d.jsonl"
    p.write_bytes(_jsonl([SHAREGPT[0], SHAREGPT[0], SHAREGPT[0]]))
    ids = [r["id"] for r in _out(forge("ingest", p))]
    assert ids == ["s1", "s1-2", "s1-3"]


def test_ids_stable_and_reingest_idempotent(tmp_path, forge):
    p = tmp_path / "a.jsonl"
    p.write_bytes(_jsonl([{"conversations": c["conversations"]} for c in SHAREGPT]))
    first = forge("ingest", p)
    second = forge("ingest", p)
    assert first.stdout == second.stdout
    canon = tmp_path / "canon.jsonl"
    canon.write_bytes(first.stdout)
    again = forge("ingest", canon)
    assert again.stdout == first.stdout


def test_jsonl_parquet_jsonl_round_trip(tmp_path, forge):
    p = tmp_path / "a.jsonl"
    p.write_bytes(_jsonl(SHAREGPT))
    canon = forge("ingest", p, "--time-field", "nope").stdout
    (tmp_path / "c.jsonl").write_bytes(canon)
    proc = forge("ingest", tmp_path / "c.jsonl", "--out", tmp_path / "shards")
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "shards" / "part-00000.parquet").exists()
    manifest = json.loads((tmp_path / "shards" / "_manifest.json").read_text())
    assert manifest["counts"] == {"in": 2, "out": 2, "rejected": 0}
    assert manifest["inputs"][0]["sha256"] and manifest["versions"]["python"]
    back = forge("ingest", tmp_path / "shards")
    assert back.stdout == canon


def test_stdin_pipe(forge):
    proc = forge("ingest", "-", input=_jsonl(SHAREGPT))
    assert [r["id"] for r in _out(proc)] == ["s1", "s2"]
    assert [r["source"]["file"] for r in _out(proc)] == ["<stdin>", "<stdin>"]
