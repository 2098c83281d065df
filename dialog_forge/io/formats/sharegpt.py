"""ShareGPT: ``{"conversations": [{"from": "human", "value": "..."}, ...], "system"?: "..."}``.

Also accepts ``conversation`` as the list key and ``role``/``content`` inside turns (some exports mix).
"""

from __future__ import annotations

from typing import Any

from ...schema import Message, SchemaError
from .base import FormatOptions, Parsed, extra_meta, norm_role, source_id, str_or_none, text_of, turn_name

USED = {"conversations", "conversation", "system", "id", "conversation_id", "uid", "domain", "task", "lang", "format"}


def matches(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("conversations"), list) or isinstance(obj.get("conversation"), list)


def convert(obj: dict[str, Any], opts: FormatOptions) -> Parsed:
    turns = obj.get("conversations", obj.get("conversation"))
    if not isinstance(turns, list):
        raise SchemaError("missing_field", "ShareGPT record without a 'conversations' list")
    msgs: list[Message] = []
    system = obj.get("system")
    if system is not None:
        s = text_of(system, "system")
        if s.strip():
            msgs.append(Message("system", s))
    for i, t in enumerate(turns):
        if not isinstance(t, dict):
            raise SchemaError("schema", f"turn {i} is not an object")
        raw_role = t.get("from", t.get("role"))
        role = norm_role(raw_role, i, opts)
        content = text_of(t.get("value", t.get("content")), f"turn {i}")
        msgs.append(Message(role, content, turn_name(t.get("name"), f"turn {i}")))
    return Parsed(
        messages=msgs,
        source_id=source_id(obj),
        domain=str_or_none(obj.get("domain"), "domain"),
        task=str_or_none(obj.get("task"), "task"),
        lang=str_or_none(obj.get("lang"), "lang"),
        created_at=obj.get(opts.time_field) if opts.time_field else obj.get("created_at"),
        meta=extra_meta(obj, USED | ({opts.time_field} if opts.time_field else {"created_at"})),
    )
