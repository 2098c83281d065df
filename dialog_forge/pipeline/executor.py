"""The local executor: drive a chain of steps over a stream of records, batch by batch.

Records flow through the chain in batches (a record-wise first step such as ingest gets each batch in
slices, see :data:`RECORD_WISE_SLICE`); a global step holds its input until :meth:`Step.finish`,
whose output then flows on to the next steps. Kept records of the last step go to the sink, rejects of
every step to one rejects file, counts to :class:`~.stats.StepStats` (checked: in + generated == out +
rejected). The CLI (one step) and ``forge run`` (several) both use :func:`run_chain`.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator

import orjson

from ..errors import ForgeError
from ..io.manifest import redact_argv
from ..schema import SchemaError
from .stats import StepStats
from .step import BatchResult, Reject, Step

log = logging.getLogger("dialog_forge")


@dataclass
class RunResult:
    """Per-step stats, the sink's output files, the rejects path and wall time of one run."""

    stats: list[StepStats]
    outputs: list[dict[str, Any]] = field(default_factory=list)
    rejects_path: Path | None = None
    rejects_count: int = 0
    wall_seconds: float = 0.0


#: Slice size for a first step that is record-wise (``step.record_wise = True``: its ``process`` treats each
#: record on its own, so the result of a batch is the results of its slices joined, in order). The
#: executor reads and processes such a step's batch a slice at a time, so that each record is read,
#: parsed, checked and serialised while it is still in the CPU cache (a batch of 1000 canonical records
#: is a few MB, more than a core's L2 cache). Later steps and the sink see the same batches as without it.
RECORD_WISE_SLICE = 128


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while True:
        chunk = list(islice(it, size))
        if not chunk:
            return
        yield chunk


class _Progress:
    """A rich progress counter on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._p = None
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._p = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                               TextColumn("{task.completed} records"), TimeElapsedColumn(),
                               console=Console(stderr=True), transient=True)
            self._p.start()
            self._task = self._p.add_task(label, total=None)

    def advance(self, n: int) -> None:
        if self._p is not None:
            self._p.update(self._task, advance=n)

    def close(self) -> None:
        if self._p is not None:
            self._p.stop()


def run_chain(steps: list[Step], source: Iterable[Any], sink, rejects, *, batch_size: int = 1000,
              progress: bool = True) -> RunResult:
    """Run ``steps`` in order over ``source`` and write to ``sink`` / ``rejects``.

    ``source`` yields records (or, for ingest, raw rows), and :class:`Reject` objects for input that could
    not be read; those count as input of the first step and go straight to the rejects.
    Raises ``AssertionError`` if a step loses or invents records (a bug, not a user error).
    """
    t_start = time.perf_counter()
    # Records are trees of small dicts and lists: with the default thresholds the cyclic collector
    # runs every few hundred records and rescans everything alive (models, lexicons, held batches),
    # which cost a third of the time of a canonical-JSONL ingest. Records hold no reference cycles,
    # so collect far less often during the run (restored afterwards).
    old_gc = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old_gc[0], 50_000), max(old_gc[1], 20), max(old_gc[2], 100))
    stats = [StepStats(s.name) for s in steps]
    bar = _Progress(steps[0].name if steps else "records", progress)

    def emit(i: int, res: BatchResult) -> None:
        st, step = stats[i], steps[i]
        st.n_generated += res.generated
        for rej in res.rejects:
            st.rejected[rej.reason] += 1
            rejects.write(rej, step.name)
        st.n_out += len(res.kept)
        if len(res.kept) <= batch_size:
            push(i + 1, res.kept)
        else:  # a global step's finish() (or a generating step) passes its records on in batches, so the
            # next step never holds them all at once (they may come from a lazy, disk-backed sequence)
            for chunk in _batches(res.kept, batch_size):
                push(i + 1, chunk)

    def records_of(i: int, items: list[Any]) -> list[Any]:
        """The records among ``items``; :class:`Reject` objects (input that could not be read) are
        counted as input of step ``i`` and rejected."""
        recs = [it for it in items if not isinstance(it, Reject)]
        if len(recs) != len(items):
            st, step = stats[i], steps[i]
            for it in items:
                if isinstance(it, Reject):
                    st.n_in += 1
                    st.rejected[it.reason] += 1
                    rejects.write(it, step.name)
        return recs

    def push(i: int, items: list[Any]) -> None:
        if i == len(steps):
            if items:
                sink.write(items)
            return
        st, step = stats[i], steps[i]
        recs = records_of(i, items)
        if not recs:
            return
        st.n_in += len(recs)
        t0 = time.perf_counter()
        res = step.process(recs)
        st.seconds += time.perf_counter() - t0
        emit(i, res)

    def push_sliced(it: Iterator[Any]) -> int:
        """The first step over one batch (up to ``batch_size`` items of ``it``), read and processed
        :data:`RECORD_WISE_SLICE` at a time and joined; the rest of the chain and the sink then get the
        batch exactly as if it had been processed whole. Returns the number of items read."""
        st, step = stats[0], steps[0]
        joined = BatchResult()
        n = 0
        while n < batch_size:
            t0 = time.perf_counter()
            part = list(islice(it, min(RECORD_WISE_SLICE, batch_size - n)))
            st.seconds += time.perf_counter() - t0  # reading and parsing count as the first step's time
            if not part:
                break
            n += len(part)
            recs = records_of(0, part)
            if recs:
                st.n_in += len(recs)
                t0 = time.perf_counter()
                res = step.process(recs)
                st.seconds += time.perf_counter() - t0
                joined.kept += res.kept
                joined.rejects += res.rejects
                joined.generated += res.generated
        if n:
            emit(0, joined)
        return n

    ok = False
    try:
        for s in steps:  # inside the try: a bad option found here leaves an earlier output as it was
            s.setup()
        it = iter(source)
        if (steps and getattr(steps[0], "record_wise", False) and not steps[0].global_step
                and batch_size > RECORD_WISE_SLICE):
            while n := push_sliced(it):
                bar.advance(n)
        batches = _batches(it, batch_size)  # (nothing left when the sliced loop above ran)
        while True:
            t0 = time.perf_counter()
            batch = next(batches, None)
            if stats:  # reading and parsing count as the first step's time
                stats[0].seconds += time.perf_counter() - t0
            if batch is None:
                break
            push(0, batch)
            bar.advance(len(batch))
        for i, step in enumerate(steps):
            t0 = time.perf_counter()
            res = step.finish()
            stats[i].seconds += time.perf_counter() - t0
            emit(i, res)
        ok = True
    finally:
        gc.set_threshold(*old_gc)
        gc.unfreeze()
        bar.close()
        if ok or not hasattr(sink, "abort"):
            sink.close()
        else:  # a failed run (a leak found by split, bad input) leaves no partial output behind
            sink.abort()
        if ok or not hasattr(rejects, "abort"):
            rejects.close()
        else:  # ... nor its rejects, where they can be taken out (see RejectsSink.abort)
            rejects.abort()
    for st, step in zip(stats, steps):
        st.counters = step.summary()
        st.check()
    return RunResult(stats=stats, outputs=list(getattr(sink, "files", [])),
                     rejects_path=getattr(rejects, "path", None), rejects_count=getattr(rejects, "count", 0),
                     wall_seconds=time.perf_counter() - t_start)


def stats_payload(result: RunResult, argv: list[str]) -> dict[str, Any]:
    """The ``--stats-json`` document: the first step's input count, the last step's output count,
    rejects in total, and every step's own figures."""
    steps = [s.to_dict() for s in result.stats]
    return {
        "command": redact_argv(argv),
        "in": result.stats[0].n_in if result.stats else 0,
        "out": result.stats[-1].n_out if result.stats else 0,
        "rejected": sum(s.n_rejected for s in result.stats),
        "rejects_file": str(result.rejects_path) if result.rejects_path and result.rejects_count else None,
        "steps": steps,
        "wall_seconds": round(result.wall_seconds, 3),
    }


def write_stats_json(path: str | Path, payload: dict[str, Any]) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2, default=str))
    except OSError as e:
        raise ForgeError(f"--stats-json {path}: cannot write ({e.strerror}).") from None


__all__ = ["RunResult", "run_chain", "stats_payload", "write_stats_json", "SchemaError"]
