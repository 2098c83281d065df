"""Errors that the CLI turns into a one-paragraph message and an exit code (never a traceback)."""

from __future__ import annotations


class ForgeError(Exception):
    """A usage or input error: bad flag value, unreadable file, missing dependency.

    ``str(e)`` is shown to the user as is, so it names the file, line and the fix. ``exit_code`` is
    2 by default (usage or input error); gates use 1.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class GateFailed(ForgeError):
    """A check failed (``forge gate``, the leakage check of ``forge split``): exit code 1."""

    exit_code = 1


class OutputClosed(Exception):
    """The reader of standard output went away (``forge ingest x | head -1``). The CLI exits quietly with
    141, as Unix tools do. Not an ``OSError``, so no framework mistakes it for a failure of its own."""
