"""Dialogue formats: ShareGPT, OpenAI chat messages, Alpaca, canonical records, and mapped table columns.

:func:`detect_format` looks at one parsed row (records in one file may mix formats, as exports often
do); :func:`convert` turns it into a :class:`~.base.Parsed` (raw turns plus metadata) or raises
:class:`~dialog_forge.schema.SchemaError` with a reason code.
"""

from __future__ import annotations

from typing import Any

from ...schema import SchemaError
from . import alpaca, canonical, columns, openai, sharegpt
from .base import FormatOptions, Parsed

FORMATS = {
    "canonical": canonical,
    "sharegpt": sharegpt,
    "openai": openai,
    "alpaca": alpaca,
    "columns": columns,
}

__all__ = ["FORMATS", "FormatOptions", "Parsed", "convert", "detect_format"]


TABLE_CONTAINERS = ("csv", "tsv", "parquet")


def detect_format(obj: Any, opts: FormatOptions, container: str | None = None) -> str:
    """Name of the format of one row.

    A column mapping (``--map``) applies to rows of tables (CSV, TSV, Parquet) and to JSON rows that no
    known format matches, so one run can read a mapped CSV beside ShareGPT files.

    Raises :class:`SchemaError` (``not_an_object`` or ``unknown_format``) naming the keys it saw.
    """
    if not isinstance(obj, dict):
        raise SchemaError("not_an_object", f"a record must be a JSON object, got {type(obj).__name__}")
    hint = obj.get("format")
    if isinstance(hint, str) and hint in FORMATS and hint != "columns" and opts.format == "auto":
        return hint
    if opts.format != "auto":
        return opts.format
    if opts.column_map and container in TABLE_CONTAINERS:
        return "columns"
    for name in ("canonical", "sharegpt", "openai", "alpaca"):
        if FORMATS[name].matches(obj):
            return name
    if opts.column_map:
        return "columns"
    keys = ", ".join(list(obj)[:12])
    raise SchemaError(
        "unknown_format",
        f"no known format matches keys [{keys}]: expected ShareGPT 'conversations', OpenAI 'messages' or "
        "Alpaca 'instruction'/'output'; for table columns pass --map user=COL,assistant=COL",
    )


def convert(obj: Any, fmt: str, opts: FormatOptions) -> Parsed:
    """Convert one row of format ``fmt``. Raises :class:`SchemaError` with a reason code."""
    return FORMATS[fmt].convert(obj, opts)
