"""Alpaca: ``{"instruction", "input", "output", "system"?, "history"?: [[q, a], ...]}``.

The user turn is ``instruction`` + ``alpaca_sep`` + ``input`` (just ``instruction`` when ``input`` is
empty); ``history`` pairs become earlier turns, as in LLaMA-Factory's Alpaca format.
"""

from __future__ import annotations

from typing import Any

from ...schema import Message, SchemaError
from .base import FormatOptions, Parsed, extra_meta, source_id, str_or_none, text_of

USED = {"instruction", "input", "output", "system", "history", "id", "uid", "domain", "task", "lang", "format"}


def matches(obj: dict[str, Any]) -> bool:
    return "instruction" in obj and ("output" in obj or "response" in obj)


def convert(obj: dict[str, Any], opts: FormatOptions) -> Parsed:
    if "instruction" not in obj:
        raise SchemaError("missing_field", "Alpaca record without 'instruction'")
    msgs: list[Message] = []
    system = text_of(obj.get("system"), "system")
    if system.strip():
        msgs.append(Message("system", system))
    history = obj.get("history") or []
    if not isinstance(history, list):
        raise SchemaError("schema", "'history' must be a list of [instruction, response] pairs")
    for i, pair in enumerate(history):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise SchemaError("schema", f"history[{i}] must be a [instruction, response] pair")
        msgs.append(Message("user", text_of(pair[0], f"history[{i}][0]")))
        msgs.append(Message("assistant", text_of(pair[1], f"history[{i}][1]")))
    instruction = text_of(obj.get("instruction"), "instruction")
    inp = text_of(obj.get("input"), "input")
    user = instruction + opts.alpaca_sep + inp if inp.strip() else instruction
    msgs.append(Message("user", user))
    msgs.append(Message("assistant", text_of(obj.get("output", obj.get("response")), "output")))
    used = USED | {"response"} | ({opts.time_field} if opts.time_field else {"created_at"})
    return Parsed(
        messages=msgs,
        source_id=source_id(obj),
        domain=str_or_none(obj.get("domain"), "domain"),
        task=str_or_none(obj.get("task"), "task"),
        lang=str_or_none(obj.get("lang"), "lang"),
        created_at=obj.get(opts.time_field) if opts.time_field else obj.get("created_at"),
        meta=extra_meta(obj, used),
    )
