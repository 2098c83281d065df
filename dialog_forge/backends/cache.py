"""On-disk completion cache: SQLite, keyed by SHA-256 of the canonical JSON of (endpoint, model, prompt,
parameters). Reruns with the same inputs cost nothing and return the same text.

SQLite (not pickle) so the file is safe to open from any source and can be inspected with ``sqlite3``.
One connection per cache object, guarded by a lock, so worker threads may share it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

from ..errors import ForgeError


def cache_key(**parts: Any) -> str:
    """SHA-256 hex digest of the canonical (sorted-key) JSON of ``parts``."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


class CompletionCache:
    """A key -> completion text store in ``<directory>/completions.sqlite``.

    Raises :class:`ForgeError` when the directory cannot be created or the file is not a SQLite database.
    """

    FILENAME = "completions.sqlite"

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / self.FILENAME
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except (OSError, sqlite3.DatabaseError) as e:
            raise ForgeError(f"cannot open the completion cache {self.path}: {e}. Pass another --cache-dir "
                             "or delete the file.") from None
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The cached text for ``key``, or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT value FROM completions WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing any previous value)."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO completions (key, value) VALUES (?, ?)", (key, value))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
