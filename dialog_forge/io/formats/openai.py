"""OpenAI chat format: ``{"messages": [{"role": "user", "content": "..." | [parts]}, ...]}``.

An assistant turn's ``tool_calls`` (or legacy ``function_call``) become JSON text in its content (after
the text, if any), so function-calling dialogues keep their calls.
"""

from __future__ import annotations

from typing import Any

import orjson

from ...schema import Message, SchemaError
from .base import FormatOptions, Parsed, extra_meta, norm_role, source_id, str_or_none, text_of, turn_name

USED = {"messages", "id", "conversation_id", "uid", "domain", "task", "lang", "format"}


def matches(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("messages"), list)


def convert(obj: dict[str, Any], opts: FormatOptions) -> Parsed:
    turns = obj.get("messages")
    if not isinstance(turns, list):
        raise SchemaError("missing_field", "OpenAI record without a 'messages' list")
    msgs = []
    for i, t in enumerate(turns):
        if not isinstance(t, dict):
            raise SchemaError("schema", f"message {i} is not an object")
        role = norm_role(t.get("role"), i, opts)
        content = text_of(t.get("content"), f"message {i}")
        calls = t.get("tool_calls") or t.get("function_call")
        if calls:
            # the schema has no tool_calls field: keep the call as JSON text in the turn (as ShareGPT's
            # function_call turns carry it), so the tool result that follows is not left without its call
            call_text = orjson.dumps(calls).decode()
            content = content + "\n" + call_text if content.strip() else call_text
        msgs.append(Message(role, content, turn_name(t.get("name"), f"message {i}")))
    return Parsed(
        messages=msgs,
        source_id=source_id(obj),
        domain=str_or_none(obj.get("domain"), "domain"),
        task=str_or_none(obj.get("task"), "task"),
        lang=str_or_none(obj.get("lang"), "lang"),
        created_at=obj.get(opts.time_field) if opts.time_field else obj.get("created_at"),
        meta=extra_meta(obj, USED | ({opts.time_field} if opts.time_field else {"created_at"})),
    )
