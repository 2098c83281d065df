"""The worker processes of ``forge clean --workers N``: N-1 processes that clean a batch together with the main one.

Per batch, the main process cuts the batch into small *atoms* (a few records each), sends every worker all of
them in compact form (one pickled message per worker through a pipe) and then cleans atoms itself. Work is
claimed as runs of consecutive atoms through a shared table of two indices under one lock: workers take
runs from the front, the main process from the back (never atom 0, which is always a worker's). Each claim
takes a share of what is left (guided self-scheduling: ``ceil(left / (GUIDED_DIVISOR * processes))`` atoms),
so the first claims are long -- few calls, little fixed cost per call -- and the last ones a single atom,
so that all processes finish within about one atom of each other whatever each record costs (records with
dense PII cost several times more per character than plain chat).

A worker sends the result of each claim as soon as it has it; the main process takes them in between its
own claims (a poll of the pipe) and hands each to the caller's ``take`` at once, so that rebuilding the
workers' records overlaps with the workers' cleaning instead of following it. There are no helper threads
in the main process, unlike :class:`concurrent.futures.ProcessPoolExecutor`, whose feeder and result threads
cost the main process about as much CPU time as rebuilding the records.

The cleaning itself is the caller's: ``work(items) -> (results, counts)`` runs in the workers (built there by
``make_worker()`` once, after the fork) on the items of a claimed run of atoms, ``own(a, b)`` in the main
process on atoms ``a`` to ``b - 1``.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from itertools import chain
from typing import Any

from ..errors import ForgeError

_PROTOCOL = pickle.HIGHEST_PROTOCOL

#: A claim takes ``ceil(left / (GUIDED_DIVISOR * processes))`` of the ``left`` unclaimed atoms (guided
#: self-scheduling, Polychronopoulos & Kuck 1987, with the divisor raised from 1 to 2: shorter first claims
#: leave more to balance with when records differ a lot in cost).
GUIDED_DIVISOR = 2


class WorkerError(RuntimeError):
    """A worker process failed to start, or with an exception that cannot be sent back as it is."""


class WorkerDied(ForgeError):
    """A worker process died (killed, out of memory): a clear error for the user, not a traceback."""


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


def _share(left: int, processes: int) -> int:
    """Atoms one claim takes of ``left`` unclaimed ones (at least 1)."""
    return max(1, -(-left // (GUIDED_DIVISOR * processes)))


def _claim(lock, state, parent: int, processes: int) -> tuple[int, int] | None:
    """The next run of atoms ``(a, b)`` from the front, or ``None`` when none is left (or the main process is
    gone: a main process killed while holding the lock must not leave its workers waiting on it for ever)."""
    while not lock.acquire(timeout=1.0):
        if os.getppid() != parent:
            return None
    try:
        a, left = state[0], state[1] - state[0]
        if left <= 0:
            return None
        b = state[0] = a + _share(left, processes)
        return a, b
    finally:
        lock.release()


def _worker_main(conn, make_worker: Callable[[], Callable], lock, state, processes: int, inherited=()) -> None:
    """A worker's loop: build the cleaner, answer ``"ready"``, then per batch claim runs of atoms from the front
    (``processes``: the pool's processes, the main one included, for the size of a claim), send
    ``(a, b, results, counts)`` for each run as it is done and finally the CPU seconds spent on the batch; an
    empty message stops it.

    Ctrl-C (SIGINT, sent to the whole process group) is ignored here: the main process handles it, collects
    the run in flight and stops the workers (or they read EOF when it exits), so an interrupted run prints
    no worker tracebacks.

    ``inherited``: the main process's ends of the pipes created so far (its own included), which a forked
    worker inherits; they are closed here, so that a worker reads EOF and exits when the main process dies
    without stopping it (killed, out of memory) instead of waiting for ever on a pipe it holds open itself."""
    try:  # first of all: a Ctrl-C during start-up must not kill the worker (the main process handles it)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # pragma: no cover - not the main thread of the worker
        pass
    parent = os.getppid()
    for c in inherited:
        try:
            c.close()
        except OSError:  # pragma: no cover
            pass
    try:
        work = make_worker()
        conn.send_bytes(pickle.dumps("ready", _PROTOCOL))
    except BaseException as e:  # noqa: BLE001 - reported to the main process, which raises it
        conn.send_bytes(_failure(e, "starting"))
        return
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_into, args=(conn, inbox), daemon=True).start()
    while True:
        payload = inbox.get()
        if not payload:  # stop, or the main process is gone
            return
        c0 = time.process_time()
        gc_on = gc.isenabled()
        gc.disable()  # a batch allocates many objects and no cycles (see Cleaner.clean_batch)
        try:
            m, atoms = pickle.loads(payload)  # the head; each atom still pickled: only the claimed ones are read
            while True:
                run = _claim(lock, state, parent, processes)
                if run is None:
                    break
                a, b = run
                if b > len(atoms) < m:  # the rest of the atoms (sent right after the head)
                    if not (tail := inbox.get()):
                        return
                    atoms += pickle.loads(tail)
                results, counts = work(list(chain.from_iterable(map(pickle.loads, atoms[a:b]))))
                if not _send(conn, pickle.dumps((a, b, results, counts), _PROTOCOL)):
                    return
            if len(atoms) < m and not inbox.get():  # the tail of a batch whose other atoms were not ours
                return
            msg = pickle.dumps(time.process_time() - c0, _PROTOCOL)
        except BaseException as e:  # noqa: BLE001
            msg = _failure(e, "cleaning")
        finally:
            if gc_on:
                gc.enable()
        if not _send(conn, msg):
            return


def _read_into(conn, inbox: queue.SimpleQueue) -> None:
    """A worker's reader thread: every message from the main process into ``inbox`` (``None`` at EOF), so
    that the main process never waits on a full pipe while the worker cleans: it sends a batch's atoms in two
    messages, the head (enough for the workers' first claims) and the rest, and goes on with its own share."""
    while True:
        try:
            msg = conn.recv_bytes()
        except (EOFError, OSError):
            inbox.put(None)
            return
        inbox.put(msg)
        if not msg:
            return


def _send(conn, msg: bytes) -> bool:
    """Send ``msg`` to the main process; False when it is gone (BrokenPipeError: nothing to answer to)."""
    try:
        conn.send_bytes(msg)
        return True
    except OSError:
        return False


class ChunkPool:
    """``n`` worker processes sharing each batch's atoms with the calling process (see the module docstring).

    Args:
        n: number of worker processes (>= 1).
        make_worker: called once in each worker; returns ``work(items) -> (results, counts)``.
    Raises:
        WorkerError: a worker failed to start.
    """

    def __init__(self, n: int, make_worker: Callable[[], Callable]):
        ctx = mp.get_context()
        self.lock = ctx.Lock()
        self.state = ctx.RawArray("i", 2)  # [next atom from the front, one past the last unclaimed atom]
        self.conns = []
        self.procs = []
        self.worker_cpu_s = 0.0
        for _ in range(n):
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(theirs, make_worker, self.lock, self.state, n + 1,
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

    def _died(self, conn) -> None:
        """Raise :class:`WorkerDied` for the worker at the other end of ``conn`` (closing the pool)."""
        proc = self.procs[self.conns.index(conn)]
        proc.join(timeout=1)
        how = ("still running, but its pipe closed" if proc.exitcode is None
               else f"killed by signal {-proc.exitcode}" if proc.exitcode < 0 else f"exit status {proc.exitcode}")
        self.close()
        raise WorkerDied(f"a clean worker process died ({how}; out of memory?); the batch was not written. Rerun "
                         "with fewer --workers or a smaller --batch-size, or with --workers 1") from None

    def _send(self, msg: bytes) -> None:
        """Send ``msg`` to every worker (:class:`WorkerDied` when one is gone)."""
        for conn in self.conns:
            try:
                conn.send_bytes(msg)
            except OSError:  # BrokenPipeError: it died
                self._died(conn)

    def _recv(self, conn) -> Any:
        try:
            msg = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            self._died(conn)
        if isinstance(msg, _Failure):
            self.close()
            raise msg.exc
        return msg

    def run(self, m: int, atom: Callable[[int], list], own: Callable[[int, int], Any],
            take: Callable[[int, int, Any, dict | None], None]) -> None:
        """Process ``m`` atoms, ``atom(k)`` giving the (picklable) items of atom ``k``: workers run ``work`` on
        the items of the runs of atoms they claim, this process ``own(a, b)`` on atoms ``a`` to ``b - 1`` of
        its claims. Each run's result is handed to ``take(a, b, result, counts)`` in this process as soon as
        it is here (``counts`` is ``None`` for the runs this process cleaned), in no particular order; every
        atom is in exactly one run. Raises what a worker or ``own`` raised (the pool stays usable after an
        error in ``own``)."""
        if m <= 0:
            return
        processes = len(self.conns) + 1
        with self.lock:
            self.state[0], self.state[1] = 0, m
        # each atom pickled on its own (a worker unpickles only the atoms it claims); the head -- the atoms of
        # the workers' first claims -- goes first, so that they start while this process packs the rest
        head, left = 0, m
        for _ in self.conns:
            c = _share(left, processes)
            head, left = head + c, left - c
        head = min(head, m)
        self._send(pickle.dumps((m, [pickle.dumps(atom(k), _PROTOCOL) for k in range(head)]), _PROTOCOL))
        if head < m:
            self._send(pickle.dumps([pickle.dumps(atom(k), _PROTOCOL) for k in range(head, m)], _PROTOCOL))
        busy = list(self.conns)  # the workers that have not yet said they are done with this batch
        processes = len(self.conns) + 1
        try:
            while True:
                for conn in busy[:]:
                    while conn.poll():
                        self._take(conn, busy, take)
                        if conn not in busy:
                            break
                with self.lock:
                    left = self.state[1] - max(self.state[0], 1)  # atom 0 is always a worker's
                    if left <= 0:
                        break
                    b = self.state[1]
                    a = self.state[1] = b - _share(left, processes)
                take(a, b, own(a, b), None)
        except BaseException:
            # leave the pool ready for the next batch: stop the workers claiming, read their answers
            if self.conns:  # not closed by a worker's failure
                with self.lock:
                    self.state[1] = self.state[0]
                while busy:
                    self._take(busy[0], busy, None)
            raise
        while busy:
            self._take(busy[0], busy, take)

    def _take(self, conn, busy: list, take: Callable | None) -> None:
        """Read one message of a worker: a run's result (given to ``take``, or dropped when ``None``), or the
        end of its batch (its CPU seconds; ``conn`` leaves ``busy``)."""
        msg = self._recv(conn)
        if isinstance(msg, tuple):
            if take is not None:
                take(*msg)
            return
        self.worker_cpu_s += msg
        busy.remove(conn)

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


__all__ = ["ChunkPool", "WorkerDied", "WorkerError"]
