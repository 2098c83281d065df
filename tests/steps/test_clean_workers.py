"""``forge clean --workers N``: records travel to the workers in compact form and come back as the changes the
cleaner made; the output must be byte-identical to cleaning in one process."""

from __future__ import annotations

import time

import pytest

from dialog_forge.schema import Dialogue, Lineage, Message
from dialog_forge.steps import clean
from dialog_forge.steps.clean import CleanConfig, Cleaner, CleanStep, _atom_bounds

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


def test_atoms_cover_the_batch_in_order_in_runs_of_equal_size():
    bounds = _atom_bounds(1000, 2)
    assert len(bounds) == 2 * clean.ATOMS_PER_PROCESS
    assert bounds[0][0] == 0 and bounds[-1][1] == 1000
    assert all(b == c for (_, b), (c, _) in zip(bounds, bounds[1:]))
    assert {b - a for a, b in bounds} == {15, 16}  # 1000 = 40 * 16 + 24 * 15
    assert _atom_bounds(5, 2) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert _atom_bounds(1, 4) == [(0, 1)]


# -- the pool itself ---------------------------------------------------------------------------------------
def _square_worker():
    def work(items):
        if items == ["boom"]:
            raise ValueError("boom")
        if "slow" in items:  # keeps the worker on its first run while the main process takes the others
            time.sleep(0.5)
            return [0 if x == "slow" else x * x for x in items], {"n": len(items)}
        return [x * x for x in items], {"n": len(items)}
    return work


def _run(pool, atoms, own):
    """``pool.run`` collected: ``(results by atom, counts by atom, runs)``, each run's result split back into
    atoms (one item in, one result out)."""
    results, counts, runs = [None] * len(atoms), [None] * len(atoms), []

    def take(a, b, res, cnt):
        runs.append((a, b, cnt is None))
        assert sum(len(x) for x in atoms[a:b]) == len(res)
        for k in range(a, b):
            results[k], res = res[:len(atoms[k])], res[len(atoms[k]):]
            counts[k] = cnt
    pool.run(len(atoms), atoms.__getitem__, own, take)
    return results, counts, runs


def test_chunk_pool_hands_back_every_atom_once_and_reports_worker_errors():
    from dialog_forge.steps.clean_pool import ChunkPool, WorkerError

    pool = ChunkPool(1, _square_worker)
    try:
        atoms = [[i, i + 1] for i in range(0, 80, 2)]

        def own(a, b):
            return [x * x for atom in atoms[a:b] for x in atom]

        results, counts, runs = _run(pool, atoms, own)
        assert results == [[x * x for x in c] for c in atoms]
        assert counts[0] is not None and counts[0]["n"] >= 2  # atom 0 is always a worker's
        covered = sorted(k for a, b, _ in runs for k in range(a, b))
        assert covered == list(range(len(atoms)))  # every atom in exactly one run
        # guided self-scheduling: long runs first, the last ones single atoms
        assert max(b - a for a, b, _ in runs) >= 5 and min(b - a for a, b, _ in runs) == 1
        assert pool.worker_cpu_s >= 0
        # the worker's exception itself comes back (as --workers 1 raises it), its traceback as a note
        with pytest.raises(ValueError, match="boom") as info:
            _run(pool, [["boom"]], own)
        assert "in a clean worker process" in "".join(getattr(info.value, "__notes__", []))
        assert not isinstance(info.value, WorkerError)
    finally:
        pool.close()
        pool.close()  # idempotent


def test_chunk_pool_shares_the_work_when_the_worker_is_slow():
    """The worker is stuck on atom 0: the main process claims all the others, in shrinking runs."""
    from dialog_forge.steps.clean_pool import ChunkPool

    pool = ChunkPool(1, _square_worker)
    try:
        atoms = [["slow"]] + [[i] for i in range(1, 20)]
        results, _, runs = _run(pool, atoms, lambda a, b: [x * x for atom in atoms[a:b] for x in atom])
        assert results == [[0]] + [[i * i] for i in range(1, 20)]
        (first,) = [r for r in runs if r[0] == 0]
        assert not first[2] and 1 <= first[1] <= 5  # the worker's one claim: at most a quarter of 20 atoms
        mine = [(a, b) for a, b, me in runs if me]
        assert len(mine) == len(runs) - 1  # the main process did all the rest, from the back
        sizes = [b - a for a, b in mine]  # guided: ceil(left / 4) each time, so shrinking to single atoms
        # ceil(20 / 4) when this process claims first, ceil(15 / 4) after the worker's first claim
        assert sizes[0] in (4, 5) and sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    finally:
        pool.close()


def test_chunk_pool_stays_usable_after_an_error_in_the_main_process():
    from dialog_forge.steps.clean_pool import ChunkPool

    pool = ChunkPool(1, _square_worker)
    try:
        def bad(a, b):
            raise KeyError(a)

        with pytest.raises(KeyError):
            _run(pool, [["slow"], [2], [3], [4]], bad)
        atoms = [[5], [6], [7]]
        results, _, _ = _run(pool, atoms, lambda a, b: [x * x for atom in atoms[a:b] for x in atom])
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
        "got = {}\n"
        "pool.run(6, lambda k: [k + 1], lambda a, b: list(range(a, b)), lambda a, b, r, c: got.update({a: r}))\n"
        "assert got[0] == [1]\n"
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


def test_a_killed_worker_is_a_clear_error_not_a_traceback(tmp_path):
    """Found in testing: a worker killed by the OOM killer (or ``kill -9``) reached the user as "unexpected
    WorkerError" with a request to report a bug. It is now a one-paragraph error naming the signal and the fix
    (exit code 2), raised whether the main process notices while sending a batch or while waiting for one."""
    import os
    import signal

    from dialog_forge.errors import ForgeError
    from dialog_forge.steps.clean_pool import WorkerDied

    recs = [Dialogue(f"k{i}", [Message("user", f"电话1380013800{i % 10}"), Message("assistant", "好的")])
            for i in range(30)]
    for when in ("idle", "busy"):
        s = CleanStep(CleanConfig(safety=False, workers=2))
        s.setup()
        (proc,) = s._pool.procs
        if when == "busy":  # killed while the main process waits for its answers
            orig = s._cleaner.clean_batch

            def slow_then_kill(batch, orig=orig, pid=proc.pid):
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
                return orig(batch)
            s._cleaner.clean_batch = slow_then_kill
        else:
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(timeout=5)
        with pytest.raises(WorkerDied, match="killed by signal 9.*--workers") as info:
            s.process(recs)
        assert isinstance(info.value, ForgeError) and info.value.exit_code == 2
        s.finish()  # the pool is closed already: finishing is harmless
        assert s._pool is None
