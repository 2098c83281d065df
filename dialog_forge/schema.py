"""The canonical dialogue record: one source of truth for every step.

A :class:`Dialogue` is what travels between ``forge`` commands, as one JSON object per line (JSONL) or as
one row of a Parquet shard. This module defines

* the record (:class:`Message`, :class:`Lineage`, :class:`Dialogue`) and its dict form,
* :func:`json_schema` -- the JSON Schema checked in as ``schemas/dialogue.schema.json``,
* :func:`arrow_schema` and :func:`to_arrow` / :func:`from_arrow` -- the Parquet form.

Free-form fields (``meta``, ``quality`` and each op's ``params``) are JSON objects in JSONL and JSON
strings in Arrow, so that JSONL -> Parquet -> JSONL round-trips exactly.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from collections.abc import Iterable

import orjson

SCHEMA_VERSION = "1.0"

#: Roles of the canonical schema (OpenAI chat roles).
ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")

#: A character that shows: not whitespace, and not an invisible format character (zero-width space,
#: non-joiner and joiner, word joiner, BOM / zero-width no-break space, soft hyphen).
_VISIBLE = re.compile(r"[^\s\u200b-\u200d\u2060\ufeff\u00ad]")


def has_text(content: str) -> bool:
    """Whether a turn's ``content`` holds any visible character; a turn of only whitespace or zero-width
    characters counts as empty (the structure policies drop or reject it)."""
    return _VISIBLE.search(content) is not None
_ROLE_SET = frozenset(ROLES)


class SchemaError(ValueError):
    """A record does not satisfy the canonical schema. ``reason`` is a short code, ``str(e)`` the detail."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Message:
    """One turn: ``role`` in :data:`ROLES`, ``content`` text, optional ``name`` (speaker or tool name)."""

    role: str
    content: str
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name is not None:
            d["name"] = self.name
        return d


@dataclass(slots=True)
class Lineage:
    """Where a record comes from: ``root_id`` (the raw record), ``parent_id`` (the record it was derived
    from, ``None`` for raw records) and ``ops``: the steps applied, each ``{"op": name, "params": {...}}``."""

    root_id: str
    parent_id: str | None = None
    ops: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"root_id": self.root_id, "parent_id": self.parent_id, "ops": self.ops}


@dataclass(slots=True)
class Dialogue:
    """The canonical record.

    Fields: ``id`` (stable string: the source id if any, else :func:`content_id`), ``messages``
    (list of :class:`Message`), ``domain``, ``task``, ``lang`` (strings or ``None``), ``source``
    (``{"file": str, "line": int|None, "row": int|None}``, 1-based), ``created_at`` (ISO-8601 UTC string
    ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` or ``None``), ``meta`` (free JSON object), ``lineage``
    (:class:`Lineage`), ``quality`` (``None`` until ``forge score``: ``{score, components, decision}``),
    ``split`` (``None`` until ``forge split``: ``train|val|test``), ``schema_version``.
    """

    id: str
    messages: list[Message]
    domain: str | None = None
    task: str | None = None
    lang: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    lineage: Lineage | None = None
    quality: dict[str, Any] | None = None
    split: str | None = None
    schema_version: str = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.lineage is None:
            self.lineage = Lineage(root_id=self.id)

    # -- views used by many steps -------------------------------------------------------------
    def turns(self, role: str) -> list[str]:
        """Contents of every turn with ``role``, in order."""
        return [m.content for m in self.messages if m.role == role]

    def pairs(self) -> list[tuple[str, str]]:
        """``(user, assistant)`` pairs: each assistant turn with the nearest user turn before it."""
        out: list[tuple[str, str]] = []
        last_user: str | None = None
        for m in self.messages:
            if m.role == "user":
                last_user = m.content
            elif m.role == "assistant" and last_user is not None:
                out.append((last_user, m.content))
        return out

    def text(self, sep: str = "\n") -> str:
        """All turn contents joined by ``sep`` (system prompt included)."""
        return sep.join(m.content for m in self.messages)

    # -- dict form ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with keys in schema order."""
        return {
            "id": self.id,
            "messages": [{"role": m.role, "content": m.content} if m.name is None else
                         {"role": m.role, "content": m.content, "name": m.name} for m in self.messages],
            "domain": self.domain,
            "task": self.task,
            "lang": self.lang,
            "source": self.source,
            "created_at": self.created_at,
            "meta": self.meta,
            "lineage": self.lineage.to_dict() if self.lineage else None,
            "quality": self.quality,
            "split": self.split,
            "schema_version": self.schema_version,
        }

    def to_json(self) -> bytes:
        """One JSONL line (without the newline), UTF-8, non-ASCII kept as is."""
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Dialogue":
        """Build a record from its dict form and validate it.

        Top-level keys that are not fields go to ``meta`` (see :func:`_extra_keys_to_meta`).
        Raises :class:`SchemaError` (reason ``schema``) naming the first offending field.
        """
        if not isinstance(d, dict):
            raise SchemaError("schema", f"record must be a JSON object, got {type(d).__name__}")
        get = d.get
        rid = get("id")
        if not isinstance(rid, str) or not rid:
            raise SchemaError("schema", "field 'id' must be a non-empty string")
        raw_msgs = get("messages")
        if not isinstance(raw_msgs, list):
            raise SchemaError("schema", "field 'messages' must be a list")
        msgs = []
        append = msgs.append
        for i, m in enumerate(raw_msgs):
            # hot path (every record of every command): plain type checks, one Message per turn
            if not isinstance(m, dict):
                raise SchemaError("schema", f"messages[{i}] must be an object")
            role = m.get("role")
            content = m.get("content")
            name = m.get("name")
            if not isinstance(role, str) or role not in _ROLE_SET:
                raise SchemaError("unknown_role", f"messages[{i}].role {role!r} is not one of {ROLES}")
            if not isinstance(content, str):
                raise SchemaError(
                    "invalid_content", f"messages[{i}].content must be a string, got {type(content).__name__}"
                )
            if name is not None and not isinstance(name, str):
                raise SchemaError("schema", f"messages[{i}].name must be a string")
            append(Message(role, content, name))
        lin = get("lineage")
        if lin is None:
            lineage = Lineage(root_id=rid)
        elif isinstance(lin, dict) and isinstance(lin.get("root_id"), str):
            ops = lin.get("ops") or []
            if not isinstance(ops, list):
                raise SchemaError("schema", "lineage.ops must be a list")
            parent = lin.get("parent_id")
            if parent is not None and not isinstance(parent, str):
                raise SchemaError("schema", f"lineage.parent_id must be a string or null, got {type(parent).__name__} "
                                            f"{parent!r:.40}")
            if ops:
                ops = _check_ops(ops)
            lineage = Lineage(lin["root_id"], parent, ops)
        else:
            raise SchemaError("schema", "field 'lineage' must be an object with a string 'root_id'")
        domain, task, lang, split = get("domain"), get("task"), get("lang"), get("split")
        for key, v in (("domain", domain), ("task", task), ("lang", lang), ("split", split)):
            if v is not None and not isinstance(v, str):
                raise SchemaError("schema", f"field {key!r} must be a string or null")
        if split is not None and split not in SPLITS:
            raise SchemaError("schema", f"field 'split' must be one of {', '.join(SPLITS)} or null, got {split!r:.40}")
        meta = get("meta") or {}
        if not isinstance(meta, dict):
            raise SchemaError("schema", "field 'meta' must be an object")
        source = get("source") or {}
        if not isinstance(source, dict):
            raise SchemaError("schema", "field 'source' must be an object")
        extra = [k for k in source if k not in _SOURCE_KEYS]
        if extra:
            raise SchemaError("schema", f"source may hold only file, line and row, got {', '.join(map(repr, extra))[:80]}"
                                        " (put other provenance in meta)")
        for key, want in _SOURCE_TYPES:
            v = source.get(key)
            if v is not None and (type(v) is bool or not isinstance(v, want)
                                  or (want is int and not _INT64_MIN <= v <= _INT64_MAX)):
                raise SchemaError("schema", f"source.{key} must be {'a string' if want is str else 'a 64-bit integer'} "
                                            f"or null, got {type(v).__name__} {v!r:.40}")
        version = get("schema_version")
        if version is not None and not isinstance(version, str):
            raise SchemaError("schema", f"field 'schema_version' must be a string, got {type(version).__name__} "
                                        f"{version!r:.40}")
        quality = get("quality")
        if quality is not None and not isinstance(quality, dict):
            raise SchemaError("schema", "field 'quality' must be an object or null")
        created = get("created_at")
        if created is not None:
            created = normalize_timestamp(created)
        if not _RECORD_KEYS.issuperset(d):
            meta = _extra_keys_to_meta(d, meta)
        return cls(rid, msgs, domain, task, lang, source, created, meta, lineage, quality, split,
                   version or SCHEMA_VERSION)

    @classmethod
    def from_json(cls, line: bytes | str) -> "Dialogue":
        """Parse one JSONL line. Raises :class:`SchemaError` (reason ``malformed_json`` or a schema code)."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            raise SchemaError("malformed_json", f"not valid JSON: {e}") from None
        return cls.from_dict(obj)


#: Values of ``split`` (besides ``None``).
SPLITS: tuple[str, ...] = ("train", "val", "test")
#: The ``source`` keys and their types (the columns of the Parquet form); no other key is allowed.
_SOURCE_TYPES = (("file", str), ("line", int), ("row", int))
_SOURCE_KEYS = frozenset(k for k, _ in _SOURCE_TYPES)
_OP_KEYS = ("op", "params")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1  # source.line/row are int64 in the Parquet form


#: Top-level keys of a record (its dict form).
_RECORD_KEYS = frozenset(("id", "messages", "domain", "task", "lang", "source", "created_at", "meta", "lineage",
                          "quality", "split", "schema_version"))


def _extra_keys_to_meta(d: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` plus the top-level keys of ``d`` that are not record fields (a hand-edited or foreign
    record), so that nothing is dropped (as raw formats keep their extra keys); raises :class:`SchemaError`
    when ``meta`` already holds such a key with another value."""
    extra = {k: v for k, v in d.items() if k not in _RECORD_KEYS}
    clash = [k for k, v in extra.items() if k in meta and meta[k] != v]
    if clash:
        raise SchemaError("schema", f"top-level key(s) {', '.join(map(repr, clash))[:80]} are not record fields and meta "
                                    "already holds another value under that name; rename them or move them into meta")
    return {**meta, **extra}


def _check_ops(ops: list) -> list:
    """``lineage.ops`` validated: each item an object ``{"op": non-empty string, "params": object}``.
    ``params`` absent or null becomes ``{}`` and the keys are put in that order (as the Parquet form reads them
    back); other keys are rejected (the Parquet form has no place for them). The list is copied only when an
    item is rewritten.
    Raises :class:`SchemaError` (reason ``schema``) naming the first bad item."""
    out = ops
    for i, o in enumerate(ops):
        if not isinstance(o, dict):
            raise SchemaError("schema", f"lineage.ops[{i}] must be an object {{\"op\": name, \"params\": {{...}}}}, "
                                        f"got {type(o).__name__} {o!r:.40}")
        op = o.get("op")
        if not isinstance(op, str) or not op:
            raise SchemaError("schema", f"lineage.ops[{i}].op must be a non-empty string, got {op!r:.40}")
        params = o.get("params")
        if params is not None and not isinstance(params, dict):
            raise SchemaError("schema", f"lineage.ops[{i}].params must be an object, got {type(params).__name__} "
                                        f"{params!r:.40}")
        if len(o) != 2 or params is None or tuple(o) != _OP_KEYS:
            extra = [str(k) for k in o if k not in _OP_KEYS]
            if extra:
                raise SchemaError("schema", f"lineage.ops[{i}] has keys other than 'op' and 'params' "
                                            f"({', '.join(extra)[:60]}); put them inside 'params'")
            if out is ops:
                out = list(ops)
            out[i] = {"op": op, "params": {} if params is None else params}
    return out


def content_id(messages: Iterable[Message], prefix: str = "") -> str:
    """A stable id from the turns' roles and contents: ``prefix`` + 16 hex digits of BLAKE2b-64."""
    h = hashlib.blake2b(digest_size=8)
    for m in messages:
        h.update(m.role.encode())
        h.update(b"\x1f")
        h.update(m.content.encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return prefix + h.hexdigest()


#: Epoch numbers at or above this are milliseconds (1e11 seconds would be the year 5138).
_EPOCH_MS_FROM = 1e11


def normalize_timestamp(value: Any) -> str:
    """Canonical UTC string for an ISO-8601 string, a ``datetime`` or epoch seconds (int/float/digit string;
    a number of 1e11 or more is taken as epoch milliseconds, as JavaScript exports write them).

    Naive times are taken as UTC. Output: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.
    Raises :class:`SchemaError` (reason ``invalid_timestamp``) when the value cannot be read or is out of
    range (never another exception).
    """
    if isinstance(value, bool):
        raise SchemaError("invalid_timestamp", f"not a timestamp: {value!r}")
    try:
        if isinstance(value, datetime):
            dt = value
        elif isinstance(value, (int, float)):
            dt = _from_epoch(float(value))
        elif isinstance(value, str):
            s = value.strip()
            if s.replace(".", "", 1).isdigit():
                dt = _from_epoch(float(s))
            else:
                dt = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
        else:
            raise SchemaError("invalid_timestamp", f"not a timestamp: {value!r:.60}")
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        dt = dt.astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError) as e:
        if isinstance(e, SchemaError):
            raise
        raise SchemaError("invalid_timestamp",
                          f"not an ISO-8601 time or epoch seconds (or out of range): {value!r:.60}") from None
    # isoformat pads the year to 4 digits (strftime's %Y does not below 1000 on glibc, and such a string
    # could not be read back)
    return dt.replace(tzinfo=None).isoformat(timespec="microseconds" if dt.microsecond else "seconds") + "Z"


def _from_epoch(x: float) -> datetime:
    if abs(x) >= _EPOCH_MS_FROM:
        x /= 1000.0
    return datetime.fromtimestamp(x, tz=timezone.utc)


# ---------------------------------------------------------------------------------------------------
# JSON Schema
# ---------------------------------------------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one canonical record, as checked in at
    ``schemas/dialogue.schema.json``. A test fails when the file and this function disagree."""
    nullable_str = {"type": ["string", "null"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dialog-forge.dev/schemas/dialogue.schema.json",
        "title": "Dialogue",
        "description": f"A canonical dialog-forge record (schema_version {SCHEMA_VERSION}).",
        "type": "object",
        "required": ["id", "messages", "lineage", "schema_version"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["role", "content"],
                    "additionalProperties": False,
                    "properties": {
                        "role": {"enum": list(ROLES)},
                        "content": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
            },
            "domain": nullable_str,
            "task": nullable_str,
            "lang": nullable_str,
            "source": {
                "type": "object",
                "properties": {
                    "file": {"type": ["string", "null"]},
                    "line": {"type": ["integer", "null"]},
                    "row": {"type": ["integer", "null"]},
                },
                "additionalProperties": False,
            },
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "meta": {"type": "object"},
            "lineage": {
                "type": "object",
                "required": ["root_id", "parent_id", "ops"],
                "properties": {
                    "root_id": {"type": "string"},
                    "parent_id": nullable_str,
                    "ops": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["op"],
                            "properties": {"op": {"type": "string"}, "params": {"type": "object"}},
                        },
                    },
                },
            },
            "quality": {
                "type": ["object", "null"],
                "properties": {
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "components": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
                    "decision": {"enum": ["keep", "review", "drop"]},
                },
            },
            "split": {"enum": ["train", "val", "test", None]},
            "schema_version": {"type": "string"},
        },
    }


# ---------------------------------------------------------------------------------------------------
# Arrow / Parquet
# ---------------------------------------------------------------------------------------------------
def arrow_schema():
    """The ``pyarrow.Schema`` of a Parquet shard: one row per record; ``meta``, ``quality`` and op
    ``params`` are JSON strings; ``created_at`` is ``timestamp[us, UTC]``."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string()), ("name", pa.string())])
    op = pa.struct([("op", pa.string()), ("params", pa.string())])
    return pa.schema(
        [
            ("id", pa.string()),
            ("messages", pa.list_(message)),
            ("domain", pa.string()),
            ("task", pa.string()),
            ("lang", pa.string()),
            ("source", pa.struct([("file", pa.string()), ("line", pa.int64()), ("row", pa.int64())])),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("meta", pa.string()),
            ("lineage", pa.struct([("root_id", pa.string()), ("parent_id", pa.string()), ("ops", pa.list_(op))])),
            ("quality", pa.string()),
            ("split", pa.string()),
            ("schema_version", pa.string()),
        ],
        metadata={"dialog_forge.schema_version": SCHEMA_VERSION},
    )


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def to_arrow(records: list[Dialogue]):
    """Records -> ``pyarrow.Table`` with :func:`arrow_schema`. Extra ``source`` keys go nowhere, so
    writers keep ``source`` to ``file``/``line``/``row``."""
    import pyarrow as pa

    cols: dict[str, list] = {name: [] for name in arrow_schema().names}
    for r in records:
        cols["id"].append(r.id)
        cols["messages"].append([{"role": m.role, "content": m.content, "name": m.name} for m in r.messages])
        cols["domain"].append(r.domain)
        cols["task"].append(r.task)
        cols["lang"].append(r.lang)
        src = r.source or {}
        cols["source"].append({"file": src.get("file"), "line": src.get("line"), "row": src.get("row")})
        cols["created_at"].append(_parse_ts(r.created_at) if r.created_at else None)
        cols["meta"].append(_dumps(r.meta))
        lin = r.lineage or Lineage(r.id)
        cols["lineage"].append(
            {
                "root_id": lin.root_id,
                "parent_id": lin.parent_id,
                "ops": [{"op": o.get("op"), "params": _dumps(o.get("params", {}))} for o in lin.ops],
            }
        )
        cols["quality"].append(_dumps(r.quality) if r.quality is not None else None)
        cols["split"].append(r.split)
        cols["schema_version"].append(r.schema_version)
    return pa.Table.from_pydict(cols, schema=arrow_schema())


def _parse_ts(s: str) -> datetime:
    return datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)


def from_arrow(table) -> list[Dialogue]:
    """``pyarrow.Table`` with :func:`arrow_schema` columns -> records (inverse of :func:`to_arrow`)."""
    out = []
    names = set(table.column_names)
    for row in table.to_pylist():
        msgs = [Message(m["role"], m["content"], m.get("name")) for m in (row.get("messages") or [])]
        lin = row.get("lineage") or {"root_id": row["id"], "parent_id": None, "ops": []}
        ops = [{"op": o["op"], "params": orjson.loads(o["params"]) if o.get("params") else {}} for o in lin["ops"] or []]
        src = row.get("source") or {}
        src = {k: v for k, v in src.items() if v is not None} if src else {}
        created = row.get("created_at")
        out.append(
            Dialogue(
                id=row["id"],
                messages=msgs,
                domain=row.get("domain"),
                task=row.get("task"),
                lang=row.get("lang"),
                source=src,
                created_at=normalize_timestamp(created) if created is not None else None,
                meta=orjson.loads(row["meta"]) if row.get("meta") else {},
                lineage=Lineage(lin["root_id"], lin.get("parent_id"), ops),
                quality=orjson.loads(row["quality"]) if "quality" in names and row.get("quality") else None,
                split=row.get("split"),
                schema_version=row.get("schema_version") or SCHEMA_VERSION,
            )
        )
    return out
