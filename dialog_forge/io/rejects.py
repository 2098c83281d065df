"""The rejects sink: every dropped record, one JSON line ``{id, step, reason, detail, source, record}``.

Several piped commands may share one rejects file (the default ``./forge-rejects.jsonl`` when
streaming), so the file is opened for appending and each reject is written with a single ``write`` call.
A failed or interrupted run takes its own rejects back out (:meth:`RejectsSink.abort`) when no other
process has appended to the file since, so a rerun does not find the rejects of a run that produced no
output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from ..errors import ForgeError
from ..pipeline.step import Reject
from ..schema import Dialogue


def _record_json(record: Any) -> Any:
    if isinstance(record, Dialogue):
        return record.to_dict()
    if isinstance(record, (dict, list, str, int, float, bool)) or record is None:
        return record
    if isinstance(record, bytes):
        return record.decode("utf-8", "replace")
    return repr(record)


class RejectsSink:
    """Appends rejects to ``path`` (created lazily on the first reject; parent folders too)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._start = 0  # the file's size when this run opened it
        self._written = 0  # bytes this run appended
        self.count = 0

    def write(self, rej: Reject, step: str) -> None:
        """Write one reject of ``step``."""
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                self._start = os.fstat(self._fd).st_size
            except OSError as e:
                raise ForgeError(f"--rejects {self.path}: cannot write the rejects file ({e.strerror or e}). "
                                 "Choose a writable path with --rejects.") from None
        rid = rej.id if rej.id is not None else getattr(rej.record, "id", None)
        line = orjson.dumps(
            {
                "id": rid,
                "step": step,
                "reason": rej.reason,
                "detail": rej.detail,
                "source": rej.source if rej.source is not None else getattr(rej.record, "source", None),
                "record": _record_json(rej.record),
            },
            default=str,
        ) + b"\n"
        os.write(self._fd, line)
        self._written += len(line)
        self.count += 1

    def close(self) -> None:
        """Close the file (the rejects stay)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def abort(self) -> bool:
        """Close the file after a failed run, removing this run's rejects when the file still ends with
        them (nothing else appended since). Returns whether they were removed; when another process of a
        pipe has appended in between, they stay (cutting them out would lose that process's rejects)."""
        if self._fd is None:
            return False
        removed = False
        try:
            if self._written and os.fstat(self._fd).st_size == self._start + self._written:
                os.ftruncate(self._fd, self._start)
                removed = True
                if self._start == 0:
                    os.unlink(self.path)
        except OSError:
            removed = False
        finally:
            os.close(self._fd)
            self._fd = None
        if removed:
            self.count = 0
        return removed
