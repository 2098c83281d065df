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


def _reject(i: int):
    from dialog_forge.pipeline.step import Reject

    return Reject({"raw": i}, "malformed_json", f"line {i}", id=f"x{i}")


def test_failed_run_takes_its_rejects_back_out(tmp_path):
    from dialog_forge.io.rejects import RejectsSink

    path = tmp_path / "rejects.jsonl"
    path.write_bytes(b'{"id":"earlier"}\n')
    sink = RejectsSink(path)
    for i in range(3):
        sink.write(_reject(i), "ingest")
    assert path.read_bytes().count(b"\n") == 4
    assert sink.abort() is True
    assert path.read_bytes() == b'{"id":"earlier"}\n' and sink.count == 0

    fresh = RejectsSink(tmp_path / "new.jsonl")  # a file this run created goes away entirely
    fresh.write(_reject(0), "ingest")
    assert fresh.abort() is True and not (tmp_path / "new.jsonl").exists()


def test_abort_keeps_rejects_when_another_process_appended_since(tmp_path):
    """In a pipe the rejects file is shared: cutting this run's lines out would lose the other's."""
    from dialog_forge.io.rejects import RejectsSink

    path = tmp_path / "shared.jsonl"
    sink = RejectsSink(path)
    sink.write(_reject(0), "dedup")
    with open(path, "ab") as other:
        other.write(b'{"id":"from-clean"}\n')
    assert sink.abort() is False
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2 and lines[1] == b'{"id":"from-clean"}'


def test_failed_run_leaves_no_rejects(tmp_path, forge):
    """split rejects an unreadable line, then finds a leak and fails (exit 1): neither its output nor
    its rejects stay behind; the same input without the leak keeps its reject."""
    lines = [_canonical(i, "请问我的订单什么时候发货？") for i in range(12)]
    lines.insert(5, '{"id": "broken", "messages": [')
    src = tmp_path / "leaky.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rej = tmp_path / "rej.jsonl"
    proc = forge("split", src, "--no-group-near-duplicates", "--test", "0.3", "--val", "0.2", "--seed", "3",
                 "--rejects", rej, "-o", tmp_path / "out")
    assert proc.returncode == 1, proc.stderr.decode()
    assert not rej.exists() and not (tmp_path / "out").exists()
    ok = forge("split", src, "--test", "0.3", "--val", "0.2", "--seed", "3", "--rejects", rej, "-o", tmp_path / "out")
    assert ok.returncode == 0, ok.stderr.decode()
    assert rej.read_bytes().count(b"\n") == 1 and b"malformed_json" in rej.read_bytes()
