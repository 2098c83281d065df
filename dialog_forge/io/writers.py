"""Record sinks: canonical JSONL (stdout or a file), one Parquet file, or a directory of Parquet shards
``part-00000.parquet`` ... with ``_manifest.json``.

Files are written under a temporary name next to their destination (``.NAME.tmp-PID``; shards in a
``.forge-tmp-PID`` folder inside the directory) and moved into place only when the run succeeds: a run that
fails (a usage error found after the sink was opened, Ctrl-C, a dead worker) leaves an earlier output as it was.

:func:`open_sink` picks the sink from ``--out``: nothing -> JSONL on stdout; ``*.jsonl`` / ``*.jsonl.gz``
-> a JSONL file; ``*.parquet`` -> one Parquet file; anything else -> a directory of shards. A directory
sink given ``partition_by="split"`` writes ``DIR/train/``, ``DIR/val/``, ``DIR/test/`` from each record's
``split`` field.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
from pathlib import Path
from typing import IO
from collections.abc import Iterable

from ..errors import ForgeError, OutputClosed
from ..schema import Dialogue, arrow_schema, to_arrow

DEFAULT_SHARD_ROWS = 50_000
WRITE_BLOCK = 4 << 20  # bytes of JSON lines per write() call of JsonlSink


class JsonlSink:
    """Canonical JSONL to a binary stream (stdout by default) or a file path."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        if self.path is None:
            self._fh: IO[bytes] = sys.stdout.buffer
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = _tmp_name(self.path)
            self._fh = gzip.open(self._tmp, "wb") if self.path.suffix == ".gz" else open(self._tmp, "wb")
        self.count = 0
        self.files: list[dict] = []

    def write(self, records: Iterable[Dialogue]) -> None:
        """Append ``records`` as JSON lines, written in blocks of about :data:`WRITE_BLOCK` bytes (so a
        large batch never builds one huge buffer). Raises :class:`OutputClosed` when the reader of a pipe
        has gone."""
        lines: list[bytes] = []
        size = 0
        for r in records:
            line = r.to_json()
            lines.append(line)
            size += len(line) + 1
            if size >= WRITE_BLOCK:
                self._write_lines(lines)
                lines, size = [], 0
        if lines:
            self._write_lines(lines)

    def _write_lines(self, lines: list[bytes]) -> None:
        self.count += len(lines)
        lines.append(b"")
        try:
            self._fh.write(b"\n".join(lines))
        except BrokenPipeError:
            raise OutputClosed() from None

    def close(self) -> None:
        try:
            self._fh.flush()
        except BrokenPipeError:
            pass
        if self.path is not None:
            self._fh.close()
            os.replace(self._tmp, self.path)
            self.files = [{"file": self.path.name, "rows": self.count}]

    def abort(self) -> None:
        """The run failed: close and remove the partial output (an earlier file at ``--out`` is left as it
        was)."""
        try:
            self._fh.flush()
        except (BrokenPipeError, ValueError):
            pass
        if self.path is not None:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)


class ParquetFileSink:
    """All records into one Parquet file (written on close; for large outputs use a directory)."""

    def __init__(self, path: str | Path):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = _tmp_name(self.path)
        self._writer = pq.ParquetWriter(self._tmp, arrow_schema(), compression="zstd")
        self.count = 0
        self.files: list[dict] = []

    def write(self, records: Iterable[Dialogue]) -> None:
        recs = list(records)
        if recs:
            self._writer.write_table(to_arrow(recs))
            self.count += len(recs)

    def close(self) -> None:
        self._writer.close()
        os.replace(self._tmp, self.path)
        self.files = [{"file": self.path.name, "rows": self.count}]

    def abort(self) -> None:
        """The run failed: close and remove the partial output (an earlier file is left as it was)."""
        self._writer.close()
        self._tmp.unlink(missing_ok=True)


class ShardSink:
    """Parquet shards of at most ``shard_rows`` rows in ``directory`` (optionally one subdirectory per
    value of ``partition_by``; records without a value go to the top directory)."""

    def __init__(self, directory: str | Path, shard_rows: int = DEFAULT_SHARD_ROWS, partition_by: str | None = None):
        if shard_rows < 1:
            raise ForgeError("--shard-rows must be at least 1.")
        self.dir = Path(directory)
        if self.dir.exists() and not self.dir.is_dir():
            raise ForgeError(f"--out {self.dir}: exists and is not a directory.")
        self.dir.mkdir(parents=True, exist_ok=True)
        # shards are written here and replace an earlier run's only on close
        self._tmp = self.dir / f".forge-tmp-{os.getpid()}"
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir()
        self._closed = False
        self.shard_rows = shard_rows
        self.partition_by = partition_by
        self._buf: dict[str, list[Dialogue]] = {}
        self._next: dict[str, int] = {}
        self.count = 0
        self.files: list[dict] = []

    def write(self, records: Iterable[Dialogue]) -> None:
        for r in records:
            key = (getattr(r, self.partition_by) or "") if self.partition_by else ""
            buf = self._buf.setdefault(key, [])
            buf.append(r)
            self.count += 1
            if len(buf) >= self.shard_rows:
                self._flush(key)

    def _flush(self, key: str) -> None:
        import pyarrow.parquet as pq

        buf = self._buf.get(key) or []
        if not buf:
            return
        n = self._next.get(key, 0)
        sub = self._tmp / key if key else self._tmp
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"part-{n:05d}.parquet"
        pq.write_table(to_arrow(buf), path, compression="zstd")
        self.files.append({"file": str(path.relative_to(self._tmp)), "rows": len(buf)})
        self._next[key] = n + 1
        self._buf[key] = []

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for key in list(self._buf):
            self._flush(key)
        if self.count == 0 and not self.partition_by:
            import pyarrow.parquet as pq

            # an empty but valid shard, so readers of the directory see the schema
            pq.write_table(to_arrow([]), self._tmp / "part-00000.parquet", compression="zstd")
            self.files.append({"file": "part-00000.parquet", "rows": 0})
        # replace the shards of an earlier run (top level and partition folders, never deeper), then move
        # this run's into place
        for old in [*self.dir.glob("part-*.parquet"), *self.dir.glob("*/part-*.parquet")]:
            if old.parent != self._tmp:
                old.unlink()
        for f in self.files:
            dest = self.dir / f["file"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp / f["file"], dest)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def abort(self) -> None:
        """The run failed: remove the shards written so far, so no partial output looks like a result; an
        earlier run's shards are left as they were (and a directory this run created, left empty, goes)."""
        self._buf.clear()
        shutil.rmtree(self._tmp, ignore_errors=True)
        if self.dir.is_dir() and not any(self.dir.iterdir()):
            self.dir.rmdir()


def _tmp_name(path: Path) -> Path:
    """Where a file for ``path`` is written until the run succeeds: ``.NAME.tmp-PID`` next to it (same
    suffix, so that gzip and Parquet writers see their extension)."""
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{''.join(path.suffixes[-1:])}")


def open_sink(out: str | Path | None, shard_rows: int = DEFAULT_SHARD_ROWS, partition_by: str | None = None):
    """The sink for ``--out`` (see the module docstring). Raises :class:`ForgeError` when it cannot be
    created (a read-only place, a file where a folder is needed, ...)."""
    try:
        return _open_sink(out, shard_rows, partition_by)
    except OSError as e:
        raise ForgeError(f"--out {out}: cannot write there ({e.strerror or e}). Choose a writable path.") from None


def _open_sink(out: str | Path | None, shard_rows: int, partition_by: str | None):
    if out is None or str(out) == "-":
        return JsonlSink(None)
    p = Path(out)
    name = p.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return JsonlSink(p)
    if name.endswith(".parquet"):
        return ParquetFileSink(p)
    if name.endswith(".json"):
        raise ForgeError(f"--out {out}: a .json array is not an output format; use .jsonl, .parquet or a directory.")
    return ShardSink(p, shard_rows, partition_by)


def write_records(records: Iterable[Dialogue], path: str | Path, shard_rows: int = DEFAULT_SHARD_ROWS,
                  partition_by: str | None = None) -> int:
    """Write ``records`` to ``path`` (JSONL, Parquet file, or shard directory); returns the count.
    A shard directory gets no manifest from this function (the executor writes manifests)."""
    sink = open_sink(path, shard_rows, partition_by)
    sink.write(records)
    sink.close()
    return sink.count
