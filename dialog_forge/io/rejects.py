"""The rejects sink: every dropped record, one JSON line ``{id, step, reason, detail, source, record}``.

Several piped commands may share one rejects file (the default ``./forge-rejects.jsonl`` when
streaming), so the file is opened for appending and each reject is written with a single ``write`` call.
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
        self.count = 0

    def write(self, rej: Reject, step: str) -> None:
        """Write one reject of ``step``."""
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
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
        self.count += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
