"""Table rows (CSV, TSV, Parquet) mapped to turns by ``--map``, e.g.
``--map user=ask,assistant=answer,domain=department,title=title``.

Canonical keys: ``user``, ``assistant``, ``system``, ``id``, ``domain``, ``task``, ``lang``,
``created_at``; any other key names a ``meta`` field filled from its column.
"""

from __future__ import annotations

from typing import Any

from ...schema import Message, SchemaError
from .base import FormatOptions, Parsed, str_or_none, text_of

CORE = {"user", "assistant", "system", "id", "domain", "task", "lang", "created_at"}


def matches(obj: dict[str, Any]) -> bool:
    return False  # used only through --map


def convert(obj: dict[str, Any], opts: FormatOptions) -> Parsed:
    cmap = opts.column_map
    missing = [c for c in cmap.values() if c not in obj]
    if missing:
        raise SchemaError(
            "missing_field", f"column(s) {missing} named in --map are not in the row (columns: {list(obj)[:20]})"
        )
    if "user" not in cmap or "assistant" not in cmap:
        raise SchemaError("missing_field", "--map must name at least user=COLUMN and assistant=COLUMN")
    msgs = []
    if "system" in cmap:
        s = text_of(_cell(obj[cmap["system"]]), "system")
        if s.strip():
            msgs.append(Message("system", s))
    msgs.append(Message("user", text_of(_cell(obj[cmap["user"]]), cmap["user"])))
    msgs.append(Message("assistant", text_of(_cell(obj[cmap["assistant"]]), cmap["assistant"])))
    created = obj.get(opts.time_field) if opts.time_field else (obj[cmap["created_at"]] if "created_at" in cmap else None)
    meta = {k: obj[c] for k, c in cmap.items() if k not in CORE}
    return Parsed(
        messages=msgs,
        source_id=str_or_none(obj[cmap["id"]], cmap["id"]) if "id" in cmap else None,
        domain=str_or_none(obj[cmap["domain"]], cmap["domain"]) if "domain" in cmap else None,
        task=str_or_none(obj[cmap["task"]], cmap["task"]) if "task" in cmap else None,
        lang=str_or_none(obj[cmap["lang"]], cmap["lang"]) if "lang" in cmap else None,
        created_at=created if created not in ("", None) else None,
        meta=meta,
    )


def _cell(v: Any) -> Any:
    # pandas/pyarrow give NaN/None for empty cells; CSV gives ""
    if isinstance(v, float) and v != v:
        return None
    return v
