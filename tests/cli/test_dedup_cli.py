"""`forge dedup` as a user runs it: JSONL through pipes, rejects, stats, clusters, --against, errors, help."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from dialog_forge.schema import Dialogue, Message

Q = "我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？"
EVAL_Q = "请问长期服用降压药会不会对肾脏功能造成影响，需要多久复查一次肾功能"


def _line(rid: str, user: str, assistant: str = "可以适量饮用。") -> bytes:
    return Dialogue(id=rid, messages=[Message("user", user), Message("assistant", assistant)]).to_json() + b"\n"


def _input() -> bytes:
    return b"".join([
        _line("a", Q),
        _line("b", Q.replace("，", ",") + "！！"),           # exact duplicate after normalisation
        _line("c", Q.replace("党参吗", "党参呢")),            # near duplicate (one particle)
        _line("d", "信用卡逾期了三天，会不会影响征信？我应该怎么补救比较好"),
        _line("e", "   ", "这条记录的问题是空的。"),
        _line("f", "我想知道" + EVAL_Q[3:20] + "。"),          # contaminated by eval.jsonl
    ])


def test_dedup_pipes_jsonl_and_writes_rejects_stats_and_clusters(forge, tmp_path):
    ev = tmp_path / "eval.jsonl"
    ev.write_bytes(_line("e1", EVAL_Q))
    rej, stats, clusters = tmp_path / "rej.jsonl", tmp_path / "stats.json", tmp_path / "clusters.parquet"
    args = ["dedup", "--on", "user", "--keep", "first", "--against", str(ev), "--rejects", str(rej),
            "--stats-json", str(stats), "--clusters", str(clusters), "--seed", "3"]
    p = forge(*args, input=_input())
    assert p.returncode == 0, p.stderr.decode()
    out = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["id"] for r in out] == ["a", "d", "e"]
    assert out[0]["lineage"]["ops"][-1]["op"] == "dedup"
    rejects = {r["id"]: r for r in map(json.loads, rej.read_text().splitlines())}
    assert {k: v["reason"] for k, v in rejects.items()} == {
        "b": "exact_duplicate", "c": "near_duplicate", "f": "contaminated"}
    assert "of a" in rejects["c"]["detail"] and "Jaccard" in rejects["c"]["detail"]
    assert "e1" in rejects["f"]["detail"]
    counters = json.loads(stats.read_text())["steps"][0]["counters"]
    assert counters["lsh_candidate_pairs"] >= 1 and counters["verified_pairs"] == 1
    assert counters["empty_view"] == 1 and counters["contaminated_ngram"] == 1
    rows = pq.read_table(clusters).to_pylist()
    assert [(r["id"], r["reason"]) for r in rows] == [("a", "kept"), ("b", "exact_duplicate"), ("c", "near_duplicate")]
    assert b"dedup: 6 in, 3 out, 3 rejected" in p.stderr
    # same seed, same bytes
    p2 = forge(*args, input=_input())
    assert p2.stdout == p.stdout


def test_bad_flags_exit_2_with_a_message_naming_the_flag(forge):
    p = forge("dedup", "--threshold", "1.5", input=_input())
    assert p.returncode == 2
    assert b"--threshold" in p.stderr and b"Traceback" not in p.stderr
    p = forge("dedup", "--bands", "40", "--rows", "8", input=_input())
    assert p.returncode == 2 and b"--bands" in p.stderr


def test_spill_dir_is_used_and_left_empty(forge, tmp_path):
    spill = tmp_path / "spill"
    p = forge("dedup", "--spill-dir", str(spill), input=_input())
    assert p.returncode == 2 and b"--spill-dir" in p.stderr and b"Traceback" not in p.stderr
    spill.mkdir()
    p = forge("dedup", "--on", "user", "--spill-dir", str(spill), "--workers", "2", input=_input())
    assert p.returncode == 0, p.stderr
    assert [json.loads(x)["id"] for x in p.stdout.splitlines()] == ["a", "d", "e", "f"]
    assert list(spill.iterdir()) == []


def test_help_lists_reasons_and_the_empty_view_policy(forge):
    p = forge("dedup", "--help")
    assert p.returncode == 0
    text = b" ".join(p.stdout.split()).decode()
    for reason in ("exact_duplicate", "near_duplicate", "semantic_duplicate", "contaminated", "empty_text"):
        assert reason in text
    for flag in ("--on", "--threshold", "--keep", "--against", "--semantic", "--clusters", "--seed", "--empty-view"):
        assert flag in text


# -- adversarial findings (tester of issue 4) -------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    import os

    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def test_ctrl_c_with_workers_stops_quietly_and_leaves_nothing(tmp_path):
    """Ctrl-C (SIGINT to the whole process group) during `forge dedup --workers 2` printed a
    KeyboardInterrupt traceback from every worker process; now: exit 130, no traceback, no output file,
    no spill file in --spill-dir, no worker left."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import numpy as np
    import pytest

    if not os.path.isdir("/proc/self/task"):
        pytest.skip("needs Linux /proc to find the worker processes")
    rng = np.random.default_rng(7)
    han = np.array([chr(c) for c in range(0x4E00, 0x4E00 + 3000)])
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(b"".join(_line(f"r{i}", "".join(rng.choice(han, 60))) for i in range(6000)))
    spill = tmp_path / "spill"
    spill.mkdir()
    p = subprocess.Popen([sys.executable, "-m", "dialog_forge", "dedup", str(inp), "--workers", "2",
                          "--batch-size", "20", "--spill-dir", str(spill), "-o", str(tmp_path / "out.jsonl"),
                          "--rejects", str(tmp_path / "rej.jsonl")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < deadline:
        workers = [k for k in _children(p.pid) if b"spawn_main" in open(f"/proc/{k}/cmdline", "rb").read()]
        if workers:
            break
        time.sleep(0.02)
    time.sleep(0.2)  # the workers are importing (a second or so): where a KeyboardInterrupt printed tracebacks
    assert p.poll() is None, "the run ended before its workers started; make the input larger"
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err, err.decode()
    assert not (tmp_path / "out.jsonl").exists()
    assert list(spill.iterdir()) == []
    for k in workers:
        for _ in range(100):
            if not os.path.exists(f"/proc/{k}") or open(f"/proc/{k}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"worker {k} still running after the main process ended")
