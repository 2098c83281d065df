"""Lineage helpers: record which op touched a record, and derive new records from a parent."""

from __future__ import annotations

import copy
from typing import Any

from ..schema import Dialogue, Lineage, Message, content_id


def add_op(record: Dialogue, op: str, params: dict[str, Any] | None = None) -> None:
    """Append ``{"op": op, "params": params}`` to ``record.lineage.ops`` (in place)."""
    record.lineage.ops.append({"op": op, "params": dict(params or {})})


def derive(parent: Dialogue, messages: list[Message], op: str, params: dict[str, Any] | None = None,
           suffix: str = "") -> Dialogue:
    """A new record made from ``parent`` by ``op``: new id (``parent.id`` + ``~`` + content hash, plus
    ``suffix`` if given), ``lineage.parent_id = parent.id``, same ``root_id``, parent's ops plus this op,
    metadata (domain, task, lang, source, created_at, meta) copied; ``quality`` and ``split`` reset."""
    rid = f"{parent.id}~{content_id(messages)[:10]}{suffix}"
    lin = Lineage(
        root_id=parent.lineage.root_id if parent.lineage else parent.id,
        parent_id=parent.id,
        ops=copy.deepcopy(parent.lineage.ops if parent.lineage else []) + [{"op": op, "params": dict(params or {})}],
    )
    return Dialogue(
        id=rid,
        messages=messages,
        domain=parent.domain,
        task=parent.task,
        lang=parent.lang,
        source=dict(parent.source),
        created_at=parent.created_at,
        meta=copy.deepcopy(parent.meta),
        lineage=lin,
        quality=None,
        split=None,
        schema_version=parent.schema_version,
    )
