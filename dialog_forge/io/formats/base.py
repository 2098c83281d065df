"""Shared pieces of the format readers: options, the parsed form, role aliases and content checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...schema import Message, SchemaError

#: Role spellings seen in public chat data, lower-cased, mapped to canonical roles.
ROLE_ALIASES: dict[str, str] = {
    "user": "user",
    "human": "user",
    "prompter": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "function_call": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "observation": "tool",
}


@dataclass
class FormatOptions:
    """How rows are read: ``format`` (``auto`` or a name of :data:`~. FORMATS`), ``column_map``
    (canonical key -> column name, for tables), ``role_map`` (extra role aliases), ``alpaca_sep``
    (joins Alpaca ``instruction`` and ``input``)."""

    format: str = "auto"
    column_map: dict[str, str] = field(default_factory=dict)
    role_map: dict[str, str] = field(default_factory=dict)
    alpaca_sep: str = "\n\n"
    time_field: str | None = None


@dataclass
class Parsed:
    """A row converted to turns plus metadata, before structure policies and id assignment."""

    messages: list[Message]
    source_id: str | None = None
    domain: str | None = None
    task: str | None = None
    lang: str | None = None
    created_at: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    canonical: dict[str, Any] | None = None  # the whole record when it already is canonical


def norm_role(value: Any, index: int, opts: FormatOptions) -> str:
    """Canonical role for a raw role value; raises ``SchemaError('unknown_role')`` naming it."""
    if not isinstance(value, str):
        raise SchemaError("unknown_role", f"turn {index}: role {value!r} is not a string")
    key = value.strip().lower()
    if value in opts.role_map:
        return opts.role_map[value]
    if key in opts.role_map:
        return opts.role_map[key]
    role = ROLE_ALIASES.get(key)
    if role is None:
        raise SchemaError(
            "unknown_role",
            f"turn {index}: unknown role value {value!r}; map it with --role-map {value}=assistant (or user)",
        )
    return role


def text_of(value: Any, where: str) -> str:
    """Content as a string: ``None`` is empty; a list of OpenAI text parts is joined with newlines;
    numbers, booleans and other objects raise ``SchemaError('invalid_content')``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for p in value:
            if isinstance(p, str):
                texts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                texts.append(p["text"])
            elif isinstance(p, dict) and p.get("type") not in (None, "text", "input_text", "output_text"):
                continue  # image or audio part: not text, skipped
            else:
                raise SchemaError("invalid_content", f"{where}: content part {p!r:.60} is not text")
        return "\n".join(texts)
    raise SchemaError("invalid_content", f"{where}: content must be a string, got {type(value).__name__} {value!r:.40}")


def turn_name(value: Any, where: str) -> str | None:
    """A turn's ``name`` (speaker or tool): a string, a number as its text, or ``None``; anything else
    raises ``SchemaError('schema')`` (it used to be dropped without a word)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise SchemaError("schema", f"{where}: name must be a string, got {type(value).__name__} {value!r:.40}")


def source_id(obj: dict[str, Any]) -> str | None:
    """The record's own id, if it has one (``id``, ``conversation_id``, ``uid``), as a string."""
    for key in ("id", "conversation_id", "uid"):
        v = obj.get(key)
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
            return str(v).strip()
    return None


def extra_meta(obj: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """Top-level keys no reader consumed, kept in ``meta`` so nothing is lost."""
    return {k: v for k, v in obj.items() if k not in used}


def str_or_none(v: Any, key: str = "value") -> str | None:
    """A text field (domain, task, lang, id column): numbers become their text, blank becomes ``None``; an
    object or a list raises ``SchemaError('schema')`` naming ``key`` (its Python repr would be kept as text)."""
    if v is None:
        return None
    if isinstance(v, (dict, list)):
        raise SchemaError("schema", f"field {key!r} must be a string, got {type(v).__name__} {v!r:.40}")
    s = str(v).strip()
    return s or None
