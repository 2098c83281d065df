"""A failed run leaves an earlier output as it was (found in testing: ``forge clean ... --pii-action hash
--out precious.jsonl`` without a salt stopped with a usage error after truncating ``precious.jsonl`` to 0
bytes; with ``--out DIR`` it deleted the shards and left a manifest listing them). Output is written under a
temporary name and moved into place when the run succeeds."""

from __future__ import annotations

import json
import subprocess
import sys

from dialog_forge.io.sources import expand_inputs

REC = {"id": "a", "messages": [{"role": "user", "content": "电话13800138000"}, {"role": "assistant", "content": "好"}]}


def _forge(*args, cwd):
    return subprocess.run([sys.executable, "-m", "dialog_forge", *map(str, args)], capture_output=True, cwd=cwd,
                          timeout=120, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})


def test_a_usage_error_keeps_the_earlier_jsonl_and_shards(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(REC, ensure_ascii=False) + "\n", encoding="utf-8")
    for out in (tmp_path / "precious.jsonl", tmp_path / "shards"):
        ok = _forge("clean", src, "--out", out, "--rejects", tmp_path / "r.jsonl", cwd=tmp_path)
        assert ok.returncode == 0, ok.stderr.decode()
        before = {p.relative_to(tmp_path): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()
                  and p.name != "r.jsonl"}
        bad = _forge("clean", src, "--pii-action", "hash", "--out", out, "--rejects", tmp_path / "r.jsonl",
                     cwd=tmp_path)
        assert bad.returncode == 2 and b"--salt" in bad.stderr
        after = {p.relative_to(tmp_path): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()
                 and p.name != "r.jsonl"}
        assert after == before  # the earlier output, byte for byte, and no temporary file left behind
    assert any(str(p).endswith("part-00000.parquet") for p in before)


def test_a_killed_runs_temporary_output_is_not_read_as_input(tmp_path):
    shards = tmp_path / "shards"
    (shards / ".forge-tmp-123").mkdir(parents=True)
    (shards / "part-00000.jsonl").write_text(json.dumps(REC) + "\n", encoding="utf-8")
    (shards / ".forge-tmp-123" / "part-00000.jsonl").write_text(json.dumps(REC) + "\n", encoding="utf-8")
    (shards / ".part.tmp-9.jsonl").write_text(json.dumps(REC) + "\n", encoding="utf-8")
    assert [f.path.name for f in expand_inputs([str(shards)])] == ["part-00000.jsonl"]
