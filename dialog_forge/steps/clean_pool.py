"""The worker processes of ``forge clean --workers N``: N-1 processes that clean a batch together with the main one.

Per batch, the main process cuts the batch into chunks, sends every worker the whole batch in compact form
(one pickled message per worker through a pipe) and then cleans chunks itself. Chunks are claimed through a
shared table of two indices under one lock: workers take them from the front, the main process from the back
(never the first, which is always a worker's), so all finish together whatever each chunk costs. A worker
sends its results once it finds nothing left to claim (one message: its pipe never fills while the main
process is busy). There are no helper threads in the main process, unlike
:class:`concurrent.futures.ProcessPoolExecutor`, whose feeder and result threads cost the main process
about as much CPU time as rebuilding the records.

The cleaning itself is the caller's: ``work(items) -> (results, counts)`` runs in the workers (built there by
``make_worker()`` once, after the fork), ``own(index)`` in the main process.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import signal
import time
import traceback
from typing import Any
from collections.abc import Callable

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class WorkerError(RuntimeError):
    """A worker process died, or failed with an exception that cannot be sent back as it is."""


class _Failure:
    """What a worker sends instead of its results when cleaning raised: the exception itself (the worker's
    traceback added as a note, shown with ``--debug``), so that the main process raises what ``--workers 1``
    raises -- a :class:`~dialog_forge.errors.ForgeError` stays a one-paragraph error, anything else the CLI's
    one-line "unexpected ..." message -- instead of a traceback in the error message."""

    def __init__(self, exc: BaseException):
        self.exc = exc


def _failure(e: BaseException, what: str) -> bytes:
    """The pickled :class:`_Failure` of ``e`` (raised in a worker while ``what``)."""
    tb = traceback.format_exc()
    try:
        e.add_note(f"(in a clean worker process, {what}; its traceback:)\n{tb}")
        return pickle.dumps(_Failure(e), _PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception that does not pickle: its type, message and traceback
        err = WorkerError(f"clean worker failed {what}: {type(e).__name__}: {e}")
        err.add_note(tb)
        return pickle.dumps(_Failure(err), _PROTOCOL)


def _claim(lock, state, parent: int) -> int | None:
    """The next chunk index from the front, or ``None`` when none is left (or the main process is gone: a
    main process killed while holding the lock must not leave its workers waiting on it for ever)."""
    while not lock.acquire(timeout=1.0):
        if os.getppid() != parent:
            return None
    try:
        k = state[0]
        if k >= state[1]:
            return None
        state[0] = k + 1
        return k
    finally:
        lock.release()


def _worker_main(conn, make_worker: Callable[[], Callable], lock, state, inherited=()) -> None:
    """A worker's loop: build the cleaner, answer ``"ready"``, then per batch claim chunks from the front and
    send ``(results by chunk index, CPU seconds)``; an empty message stops it.

    Ctrl-C (SIGINT, sent to the whole process group) is ignored here: the main process handles it, collects
    the chunk in flight and stops the workers (or they read EOF when it exits), so an interrupted run prints
    no worker tracebacks.

    ``inherited``: the main process's ends of the pipes created so far (its own included), which a forked
    worker inherits; they are closed here, so that a worker reads EOF and exits when the main process dies
    without stopping it (killed, out of memory) instead of waiting for ever on a pipe it holds open itself."""
    parent = os.getppid()
    for c in inherited:
        try:
            c.close()
        except OSError:  # pragma: no cover
            pass
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # pragma: no cover - not the main thread of the worker
        pass
    try:
        work = make_worker()
        conn.send_bytes(pickle.dumps("ready", _PROTOCOL))
    except BaseException as e:  # noqa: BLE001 - reported to the main process, which raises it
        conn.send_bytes(_failure(e, "starting"))
        return
    while True:
        try:
            payload = conn.recv_bytes()
        except EOFError:
            return
        if not payload:
            return
        c0 = time.process_time()
        gc_on = gc.isenabled()
        gc.disable()  # a batch allocates many objects and no cycles (see Cleaner.clean_batch)
        try:
            chunks = None
            done = []
            while True:
                k = _claim(lock, state, parent)
                if k is None:
                    break
                if chunks is None:
                    chunks = pickle.loads(payload)
                done.append((k, *work(chunks[k])))
            msg = pickle.dumps((done, time.process_time() - c0), _PROTOCOL)
        except BaseException as e:  # noqa: BLE001
            msg = _failure(e, "cleaning")
        finally:
            if gc_on:
                gc.enable()
        try:
            conn.send_bytes(msg)
        except OSError:  # the main process is gone (BrokenPipeError): nothing to answer to
            return


class ChunkPool:
    """``n`` worker processes sharing each batch's chunks with the calling process (see the module docstring).

    Args:
        n: number of worker processes (>= 1).
        make_worker: called once in each worker; returns ``work(items) -> (results, counts)``.
    Raises:
        WorkerError: a worker failed to start.
    """

    def __init__(self, n: int, make_worker: Callable[[], Callable]):
        ctx = mp.get_context()
        self.lock = ctx.Lock()
        self.state = ctx.RawArray("i", 2)  # [next chunk from the front, one past the last unclaimed chunk]
        self.conns = []
        self.procs = []
        self.worker_cpu_s = 0.0
        for _ in range(n):
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(theirs, make_worker, self.lock, self.state,
                                                       [*self.conns, mine]), daemon=True)
            p.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(p)
        for conn in self.conns:
            answer = self._recv(conn)
            if answer != "ready":
                self.close()
                raise WorkerError(f"clean worker answered {answer!r} instead of 'ready'")

    def _recv(self, conn) -> Any:
        try:
            msg = pickle.loads(conn.recv_bytes())
        except EOFError:
            self.close()
            raise WorkerError("a clean worker process died (killed, or out of memory?)") from None
        if isinstance(msg, _Failure):
            self.close()
            raise msg.exc
        return msg

    def run(self, chunks: list, own: Callable[[int], Any]) -> tuple[list[Any], list[dict | None]]:
        """Process ``chunks`` (a list of picklable payloads, one per chunk): workers run ``work`` on them,
        this process ``own(index)``. Returns ``(results, counts)`` by chunk index; ``counts`` is ``None`` for
        the chunks this process cleaned."""
        m = len(chunks)
        results: list[Any] = [None] * m
        counts: list[dict | None] = [None] * m
        with self.lock:
            self.state[0], self.state[1] = 0, m
        payload = pickle.dumps(chunks, _PROTOCOL)
        for conn in self.conns:
            conn.send_bytes(payload)
        try:
            while True:
                with self.lock:
                    k = self.state[1] - 1
                    if k < 1 or k < self.state[0]:  # chunk 0 is always a worker's
                        break
                    self.state[1] = k
                results[k] = own(k)
        except BaseException:
            # leave the pool ready for the next batch: stop the workers claiming, read their answers
            with self.lock:
                self.state[1] = self.state[0]
            for conn in self.conns:
                self._recv(conn)
            raise
        for conn in self.conns:
            done, cpu = self._recv(conn)
            self.worker_cpu_s += cpu
            for k, res, cnt in done:
                results[k], counts[k] = res, cnt
        return results, counts

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        for conn in self.conns:
            try:
                conn.send_bytes(b"")
            except (OSError, ValueError):
                pass
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        for conn in self.conns:
            conn.close()
        self.conns, self.procs = [], []


__all__ = ["ChunkPool", "WorkerError"]
