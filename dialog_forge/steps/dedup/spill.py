"""Spill files: what the global dedup step must hold until ``finish``, kept on disk instead of in memory.

The step has to see every record before it decides, but a parsed dialogue costs about 2 KB of memory
(1M dialogues: ~2 GB) and its shingle set another ~2 KB. So it writes them to two files:

* :class:`RecordSpill` -- every held record's canonical JSON (:meth:`Dialogue.to_json`), back to back;
  in memory stay only its byte offset (8 B) and its id (a few bytes, for reject details and clusters).
  :class:`SpilledRecords` reads the kept records back lazily, one at a time, in input order.
* :class:`SetSpill` -- every exact-group representative's shingle set (sorted distinct ``uint64``
  shingle hashes, built once for MinHash), so that verifying a candidate pair reads two sets instead of
  shingling two texts again; in memory stays one offset per set.

Both are anonymous temporary files (:func:`tempfile.TemporaryFile` in ``--spill-dir``, else the system
temp folder): on POSIX the file is unlinked as it is created, so nothing is left on disk when the step
ends, fails or is killed; the space is freed when the last reader closes it. Reads go through
``os.pread`` or a short-lived ``mmap`` of one chunk's sets, so the data sit in the OS page cache rather
than in the process's resident memory.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ...errors import ForgeError
from ...schema import Dialogue

_FLUSH_BYTES = 4 << 20  # write buffer of the record spill
_READ_BLOCK = 8 << 20   # sequential read block of SpilledRecords


def _write_failed(e: OSError, directory: str | None, what: str) -> ForgeError:
    """A write to a spill file failed (disk full, quota, I/O error): a clear error naming ``--spill-dir``."""
    import errno

    where = directory or f"{tempfile.gettempdir()} (the system temp folder)"
    why = ("the disk is full" if e.errno in (errno.ENOSPC, errno.EDQUOT)
           else e.strerror or str(e))
    return ForgeError(f"forge dedup --spill-dir {where}: cannot write the temporary {what} spill file ({why}). "
                      "It needs about 3 KB a dialogue (1 GB per 300k dialogues); name a folder with more free "
                      "space with --spill-dir (or set TMPDIR).")


class RecordSpill:
    """Append-only file of records (canonical JSON) with their offsets and ids in memory.

    ``directory``: where the anonymous temporary file is made (``None``: the system temp folder).
    Raises ``OSError`` when it cannot be created (the step turns that into a ``ForgeError``)."""

    def __init__(self, directory: str | None = None):
        self._fh = tempfile.TemporaryFile(dir=directory, prefix="forge-dedup-records-")
        self._dir = directory
        self._fd = self._fh.fileno()
        self._off = array("q", [0])
        self._buf = bytearray()
        self._written = 0
        self._ids = bytearray()
        self._id_off = array("q", [0])

    def __len__(self) -> int:
        return len(self._off) - 1

    def append(self, record: Dialogue) -> None:
        """Write ``record`` at the end (buffered)."""
        data = record.to_json()
        self._buf += data
        self._off.append(self._off[-1] + len(data))
        self._ids += record.id.encode("utf-8", "surrogatepass")
        self._id_off.append(len(self._ids))
        if len(self._buf) >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            try:
                self._fh.write(self._buf)
                self._fh.flush()
            except OSError as e:
                raise _write_failed(e, self._dir, "record") from None
            self._written += len(self._buf)
            self._buf = bytearray()

    def id(self, i: int) -> str:
        """Id of record ``i`` (no disk access)."""
        return self._ids[self._id_off[i]:self._id_off[i + 1]].decode("utf-8", "surrogatepass")

    def load(self, i: int) -> Dialogue:
        """Record ``i``, parsed again from its JSON (a new object each call)."""
        self.flush()
        start, stop = self._off[i], self._off[i + 1]
        return Dialogue.from_json(os.pread(self._fd, stop - start, start))

    def iter_load(self, indices: np.ndarray) -> Iterator[Dialogue]:
        """Records ``indices`` (ascending), read in large sequential blocks."""
        self.flush()
        off = self._off
        block, b0 = b"", 0
        for i in indices.tolist():
            start, stop = off[i], off[i + 1]
            if start < b0 or stop > b0 + len(block):
                b0 = start
                block = os.pread(self._fd, max(_READ_BLOCK, stop - start), start)
            yield Dialogue.from_json(block[start - b0:stop - b0])

    def close(self) -> None:
        self._fh.close()


class SpilledRecords(Sequence):
    """The kept records of a finished dedup step, read lazily from its :class:`RecordSpill`.

    A read-only sequence of :class:`Dialogue` (``len``, iteration, indexing, slicing); every access parses
    the record again, so each iteration gives new objects. ``prepare(record)`` is applied to each record as
    it is read (the step adds its lineage op there). The spill file is closed when this object is."""

    def __init__(self, spill: RecordSpill, indices: np.ndarray, prepare: Callable[[Dialogue], None]):
        self._spill = spill
        self._idx = np.asarray(indices, dtype=np.int64)
        self._prepare = prepare

    def __len__(self) -> int:
        return int(self._idx.shape[0])

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return [self._read(int(i)) for i in self._idx[k].tolist()]
        return self._read(int(self._idx[k]))

    def _read(self, i: int) -> Dialogue:
        rec = self._spill.load(i)
        self._prepare(rec)
        return rec

    def __iter__(self) -> Iterator[Dialogue]:
        for rec in self._spill.iter_load(self._idx):
            self._prepare(rec)
            yield rec

    def ids(self) -> list[str]:
        """The kept records' ids, in order (no parsing)."""
        return [self._spill.id(i) for i in self._idx.tolist()]


class SpilledRejects(Sequence):
    """The rejects of a finished dedup step, their records read lazily from its :class:`RecordSpill` (so
    that removing 30% of 1M dialogues does not hold 300k parsed records at once).

    ``indices`` (ascending), ``reasons`` and ``details`` are parallel; ``make(record, reason, detail)``
    builds each :class:`~dialog_forge.pipeline.step.Reject` (the step's own ``reject``)."""

    def __init__(self, spill: RecordSpill, indices: list[int], reasons: list[str], details: list[str],
                 make: Callable):
        self._spill, self._idx, self._reasons, self._details, self._make = spill, indices, reasons, details, make

    def __len__(self) -> int:
        return len(self._idx)

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        return self._make(self._spill.load(self._idx[k]), self._reasons[k], self._details[k])

    def __iter__(self) -> Iterator:
        recs = self._spill.iter_load(np.asarray(self._idx, dtype=np.int64))
        for rec, reason, detail in zip(recs, self._reasons, self._details):
            yield self._make(rec, reason, detail)


class SetSpill:
    """Append-only file of shingle sets (``uint64`` values), one set per representative, in order.

    ``directory``: as for :class:`RecordSpill`."""

    def __init__(self, directory: str | None = None):
        self._fh = tempfile.TemporaryFile(dir=directory, prefix="forge-dedup-sets-")
        self._dir = directory
        self._start = array("q", [0])  # in values, not bytes

    def __len__(self) -> int:
        return len(self._start) - 1

    def append(self, values: np.ndarray, sizes: np.ndarray) -> None:
        """Add ``len(sizes)`` sets given back to back (as :func:`~.shingles.batch_shingle_sets` returns)."""
        try:
            self._fh.write(np.ascontiguousarray(values, dtype=np.uint64).tobytes())
        except OSError as e:
            raise _write_failed(e, self._dir, "shingle-set") from None
        ends = self._start[-1] + np.cumsum(sizes, dtype=np.int64)
        self._start.extend(ends.tolist())

    def gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sets ``ids`` (any order): ``(values, sizes)`` back to back in that order."""
        try:
            self._fh.flush()
        except OSError as e:
            raise _write_failed(e, self._dir, "shingle-set") from None
        start = np.frombuffer(self._start, dtype=np.int64)
        s, e = start[ids], start[np.asarray(ids) + 1]
        sizes = e - s
        total = int(sizes.sum())
        if total == 0:
            return np.zeros(0, dtype=np.uint64), sizes
        offsets = np.cumsum(sizes) - sizes
        pos = np.repeat(s - offsets, sizes) + np.arange(total)
        mm = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            view = np.frombuffer(mm, dtype=np.uint64)
            values = view[pos]
            del view
        finally:
            mm.close()
        return values, sizes

    def close(self) -> None:
        self._fh.close()
