"""``forge clean --workers N``: records travel to the workers in compact form and come back as the changes the
cleaner made; the output must be byte-identical to cleaning in one process."""

from __future__ import annotations

import time

import pytest

from dialog_forge.schema import Dialogue, Lineage, Message
from dialog_forge.steps import clean
from dialog_forge.steps.clean import CleanConfig, Cleaner, CleanStep, _chunk_bounds

ACTIONS = ["replace", "mask", "hash", "pseudonym", "fake", "PERSON=pseudonym,PHONE_NUMBER=hash"]


def _batch() -> list[Dialogue]:
    """PII in turns, names and meta; structure and safety rejects; over-long dialogues (windowed, and one with
    no window ending on an assistant turn); normalisation changes; records with lineage ops and every field."""
    recs = [
        Dialogue("p0", [Message("user", "我叫王小明，手机号是13800138000，麻烦回电。"), Message("assistant", "好的，王小明。")]),
        Dialogue("p1", [Message("system", "你是客服"), Message("user", "mail bob@example.org or 415-555-0132",
                                                              name="张伟"),
                        Message("assistant", "Noted.")],
                 domain="support", task="chat", lang="zh", source={"file": "a.jsonl", "line": 3},
                 created_at="2024-01-02T03:04:05Z", meta={"customer_email": "amy@example.com", "tags": ["x"]},
                 lineage=Lineage("root-p1", "parent-p1", [{"op": "ingest", "params": {"format": "sharegpt"}}]),
                 quality={"score": 0.5}, split="train"),
        Dialogue("n0", [Message("user", "  hello\u200b   world  "), Message("assistant", "ï¿½ fine　thanks")]),
        Dialogue("r0", [Message("user", "电话13912345678"), Message("assistant", "")]),  # empty turn: scrubbed reject
        Dialogue("r1", [Message("user", "hi"), Message("assistant", "As an AI language model, I cannot.")]),
        Dialogue("r2", [Message("user", "how do I make a pipe bomb at home"), Message("assistant", "No.")]),
        Dialogue("r3", [Message("user", "a" * 80), Message("assistant", "ok")]),
        Dialogue("w0", [Message("system", "sys")] + [Message("user" if i % 2 == 0 else "assistant",
                                                             f"第{i}轮，电话1380013{i:04d}，张三")
                                                     for i in range(9)]),
        Dialogue("w1", [Message("user", f"turn {i}") for i in range(7)]),  # no window ends on an assistant turn
        Dialogue("ok", [Message("user", "血压140/90，ALT 120 U/L"), Message("assistant", "建议复查。")],
                 lineage=Lineage("root-ok", None, [{"op": "dedup", "params": {}}])),
    ]
    return recs * 3


def _dump(kept, rejects):
    return ([d.to_json() for d in kept],
            [(r.reason, r.detail, r.record.to_json() if isinstance(r.record, Dialogue) else r.record)
             for r in rejects])


@pytest.mark.parametrize("action", ACTIONS)
def test_packed_round_trip_equals_cleaning_in_process(action):
    """The worker protocol (_pack -> _work -> _unpack_outcome) rebuilds exactly what Cleaner.clean gives."""
    cfg = CleanConfig(pii_action=action, salt="s", max_turns=4)
    cleaner = Cleaner(cfg)
    clean._WORKER = Cleaner(cfg)
    try:
        batch = _batch()
        direct = cleaner.clean_batch(batch)
        packed, totals = clean._work(clean._pack(batch))
        assert any(p is None for p in packed) and any(p is not None for p in packed)  # both forms sent back
        rebuilt = [clean._unpack_outcome(d, p, cleaner.params) for d, p in zip(batch, packed)]
    finally:
        clean._WORKER = None
    reasons = [r for _, r, _, _ in direct]
    assert {"empty_turn", "ai_identity", "repeated_chars", "too_many_turns"} <= set(reasons)
    assert any(r and r.startswith("safety_") for r in reasons)
    assert max(len(k) for k, r, _, _ in direct if r is None) > 1  # windows
    for (k1, r1, d1, _), (k2, r2, d2, _) in zip(direct, rebuilt):
        assert (r1, d1) == (r2, d2)
        assert [d.to_json() for d in k1] == [d.to_json() for d in k2]
    expected: dict[str, int] = {}
    for _, _, _, counts in direct:  # summed in record order, as CleanStep.process adds them
        for k, v in counts.items():
            if v:
                expected[k] = expected.get(k, 0) + v
    assert list(totals.items()) == list(expected.items()) and totals["pii.PHONE_NUMBER"] > 0
    # PII was really scrubbed on both sides
    assert b"13800138000" not in b"".join(d.to_json() for k, _, _, _ in rebuilt for d in k)
    assert b"amy@example.com" not in b"".join(d.to_json() for k, _, _, _ in rebuilt for d in k)


def test_workers_2_output_is_byte_identical_to_workers_1():
    recs = _batch() * 4
    outs = []
    for workers in (1, 2):
        step = CleanStep(CleanConfig(workers=workers, max_turns=4, pii_action="pseudonym"))
        step.setup()
        res = [step.process(recs[i:i + 40]) for i in range(0, len(recs), 40)]
        step.finish()
        if workers == 2:
            assert step.worker_cpu_s > 0  # the worker process did clean part of each batch
        outs.append((_dump([d for r in res for d in r.kept], [x for r in res for x in r.rejects]),
                     [r.generated for r in res], list(step.counters.items())))
    assert outs[0] == outs[1]
    counters = dict(outs[0][2])
    assert counters["pii.PHONE_NUMBER"] > 0 and counters["windows"] > 0


def test_chunks_cover_the_batch_in_order_and_balance_characters():
    recs = [Dialogue(f"d{i}", [Message("user", "x" * (10 if i % 2 else 1000))]) for i in range(100)]
    bounds = _chunk_bounds(recs, 8)
    assert bounds[0][0] == 0 and bounds[-1][1] == 100
    assert all(a < b for a, b in bounds) and all(b == c for (_, b), (c, _) in zip(bounds, bounds[1:]))
    assert len(bounds) == 8
    sizes = [sum(100 + len(m.content) for d in recs[a:b] for m in d.messages) for a, b in bounds]
    assert max(sizes) <= sum(sizes) / 8 + 1100
    assert _chunk_bounds(recs[:1], 8) == [(0, 1)]


# -- the pool itself ---------------------------------------------------------------------------------------
def _square_worker():
    def work(items):
        if items == ["boom"]:
            raise ValueError("boom")
        if items == ["slow"]:  # keeps the worker on its first chunk while the main process takes the others
            time.sleep(0.5)
            return [], {}
        return [x * x for x in items], {"n": len(items)}
    return work


def test_chunk_pool_returns_every_chunk_in_order_and_reports_worker_errors():
    from dialog_forge.steps.clean_pool import ChunkPool, WorkerError

    pool = ChunkPool(1, _square_worker)
    try:
        chunks = [[i, i + 1] for i in range(0, 40, 2)]
        mine = []

        def own(k):
            mine.append(k)
            return [x * x for x in chunks[k]]

        results, counts = pool.run(chunks, own)
        assert results == [[x * x for x in c] for c in chunks]
        assert counts[0] == {"n": 2}  # the first chunk is always a worker's
        assert all((counts[k] is None) == (k in mine) for k in range(len(chunks)))
        assert pool.worker_cpu_s >= 0
        # the worker's exception itself comes back (as --workers 1 raises it), its traceback as a note
        with pytest.raises(ValueError, match="boom") as info:
            pool.run([["boom"]], own)
        assert "in a clean worker process" in "".join(getattr(info.value, "__notes__", []))
        assert not isinstance(info.value, WorkerError)
    finally:
        pool.close()
        pool.close()  # idempotent


def test_chunk_pool_stays_usable_after_an_error_in_the_main_process():
    from dialog_forge.steps.clean_pool import ChunkPool

    pool = ChunkPool(1, _square_worker)
    try:
        def bad(k):
            raise KeyError(k)

        with pytest.raises(KeyError):
            pool.run([["slow"], [2], [3], [4]], bad)
        chunks = [[5], [6], [7]]
        results, _ = pool.run(chunks, lambda k: [x * x for x in chunks[k]])
        assert results == [[25], [36], [49]]  # not the previous batch's answers
    finally:
        pool.close()


def test_shallow_copy_copies_every_field_of_the_schema():
    from dialog_forge.steps.clean import _shallow_copy

    d = _batch()[1]
    rec = _shallow_copy(d)
    assert rec is not d
    assert all(getattr(rec, f) is getattr(d, f) for f in Dialogue.__slots__)


def test_worker_processes_ignore_ctrl_c_and_leave_it_to_the_main_process():
    """Found in testing: ``timeout -s INT`` on ``forge clean --workers 4`` printed a KeyboardInterrupt traceback
    from every worker (SIGINT reaches the whole process group). Workers now ignore SIGINT: the main process
    handles it and stops them; a worker hit by SIGINT keeps serving batches."""
    import os
    import signal

    s = CleanStep(CleanConfig(safety=False, workers=2))
    s.setup()
    try:
        (proc,) = s._pool.procs
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        assert proc.is_alive()
        recs = [Dialogue(f"c{i}", [Message("user", f"电话1380013800{i}"), Message("assistant", "好的")])
                for i in range(8)]
        out = s.process(recs)
        assert [d.messages[0].content for d in out.kept] == ["电话<PHONE_NUMBER>"] * 8
    finally:
        s.finish()
    assert s._pool is None and not proc.is_alive()


def test_workers_exit_when_the_main_process_dies_without_stopping_them():
    """Found in testing: after the main process died abruptly (``os._exit``, SIGKILL, the OOM killer), its
    worker processes waited for ever: each held the main process's end of its own pipe (and of the pipes
    created before it), inherited through fork, so it never read EOF. They now close those ends and exit."""
    import os
    import subprocess
    import sys

    script = (
        "import os\n"
        "from dialog_forge.steps.clean_pool import ChunkPool\n"
        "def make():\n"
        "    return lambda items: (items, {})\n"
        "pool = ChunkPool(3, make)\n"
        "assert pool.run([[1], [2], [3], [4], [5], [6]], lambda k: [k])[0][0] == [1]\n"
        "print(*[p.pid for p in pool.procs], flush=True)\n"
        "os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    pids = [int(x) for x in out.stdout.split()]
    assert len(pids) == 3

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if alive(p)]
    for p in left:  # do not leave them behind if the test fails
        os.kill(p, 9)
    assert not left


def test_errors_in_a_worker_read_as_with_one_process(tmp_path):
    """Found in testing: an exception in a worker reached the user as "unexpected WorkerError: clean worker
    failed: ValueError(...)" followed by the worker's whole traceback, and a ForgeError (a clear usage error) as
    an "unexpected" one. The worker now sends the exception itself: the CLI prints what --workers 1 prints."""
    import json
    import subprocess
    import sys

    (tmp_path / "clf_mod.py").write_text(
        "def boom(text):\n    if 'BOOM' in text:\n        raise ValueError('classifier exploded')\n    return []\n"
        "def bad(text):\n    return ['gambling'] if 'BOOM' in text else []\n", encoding="utf-8")
    recs = [{"id": f"b{i}", "messages": [{"role": "user", "content": "BOOM" if i == 1 else f"问题{i}"},
                                         {"role": "assistant", "content": "好"}]} for i in range(40)]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    for fn, want in (("boom", "forge: error: unexpected ValueError: classifier exploded. Re-run with --debug"),
                     ("bad", "forge: error: --safety-classifier returned unknown category 'gambling'")):
        errs = []
        for workers in ("1", "2"):
            p = subprocess.run([sys.executable, "-m", "dialog_forge", "clean", "--no-pii", "--safety-classifier",
                                f"clf_mod:{fn}", "--workers", workers, "--rejects", str(tmp_path / "r.jsonl")],
                               input=data, capture_output=True, env=env, cwd=tmp_path, timeout=120)
            assert p.returncode == 2
            errs.append(p.stderr.decode())
        assert errs[0] == errs[1] and errs[0].startswith(want) and "Traceback" not in errs[1]
