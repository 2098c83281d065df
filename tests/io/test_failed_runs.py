"""A failed run leaves no partial output; a closed output pipe ends quietly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _canonical(i: int, user: str) -> str:
    return json.dumps({"id": f"r{i}", "messages": [{"role": "user", "content": user},
                                                    {"role": "assistant", "content": "好的，我来帮您查询。"}],
                       "lineage": {"root_id": f"r{i}", "parent_id": None, "ops": []}, "schema_version": "1.0"},
                      ensure_ascii=False)


@pytest.mark.parametrize("out", ["out.jsonl", "out.parquet", "outdir"])
def test_leak_failure_removes_partial_output(tmp_path, forge, out):
    # identical user turns under different lineage roots, with grouping off: the leakage check must fail
    lines = [_canonical(i, "请问我的订单什么时候发货？") for i in range(12)]
    src = tmp_path / "leaky.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = forge("split", src, "--no-group-near-duplicates", "--test", "0.3", "--val", "0.2", "--seed", "3",
                 "-o", tmp_path / out)
    assert proc.returncode == 1, proc.stderr.decode()
    assert not (tmp_path / out).exists()


def test_closed_pipe_exits_quietly(tmp_path):
    src = tmp_path / "many.jsonl"
    src.write_text("\n".join(_canonical(i, f"问题{i}" * 50) for i in range(3000)) + "\n", encoding="utf-8")
    cmd = f"{sys.executable} -m dialog_forge ingest {src} -q | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, cwd=tmp_path)
    assert proc.stdout.count(b"\n") == 1
    assert b"error" not in proc.stderr and b"Traceback" not in proc.stderr
    assert proc.returncode in (0, 141)
