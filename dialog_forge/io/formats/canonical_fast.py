"""Fast path for canonical records that are already in their final form (re-ingests and pipes).

A canonical JSONL line that ``forge`` itself wrote is, in the common case, already valid, already clean
(no structure policy would change it) and already laid out exactly as :meth:`Dialogue.to_json` would
write it. For such a record the full path (dict -> :class:`~dialog_forge.schema.Dialogue` -> dict -> JSON)
only reproduces its input. This module provides

* :func:`check` -- a quick, conservative test on the parsed dict: it accepts a record only when the full
  path (``Dialogue.from_dict`` + the structure policies of :mod:`dialog_forge.steps.structure` + the id
  uniqueness rule of ingest) would keep it unchanged; anything else (every invalid record, every record
  a policy would change, every layout that ``to_json`` would rewrite) goes to the full path, so reject
  reasons, details, counters and output stay exactly those of the full path;
* :class:`CanonicalRecord` -- a :class:`Dialogue` held as its JSON line (one ``orjson.dumps`` of the
  parsed dict), whose fields are built only when one is first read or written (lazily), and whose
  :meth:`~CanonicalRecord.to_json` returns that line while no field has been touched.

Layout rules that make ``orjson.dumps(d) == Dialogue.from_dict(d).to_json()`` (checked by :func:`check`):
top-level keys exactly :data:`KEYS` in that order; each turn exactly ``role, content`` or
``role, content, name`` (``name`` a string); ``lineage`` exactly ``root_id, parent_id, ops`` with a list of
ops, each exactly ``{"op": non-empty string, "params": object}`` (not the Parquet form whose ``params`` are
JSON strings); ``parent_id`` a string or ``null``; ``split`` ``null`` or one of
:data:`~dialog_forge.schema.SPLITS`; ``source`` and ``meta`` objects (``null`` would become ``{}``), with
``source.file`` a string and ``source.line``/``row`` integers where present; ``schema_version`` equal to :data:`~dialog_forge.schema.SCHEMA_VERSION`;
``created_at`` ``null`` or already the canonical UTC string of :func:`~dialog_forge.schema.normalize_timestamp`.
"""

from __future__ import annotations

from typing import Any

import orjson

from ...schema import ROLES, SCHEMA_VERSION, SPLITS, Dialogue, SchemaError, has_text, normalize_timestamp

#: Top-level keys of a canonical record, in the order :meth:`Dialogue.to_dict` writes them.
KEYS = ("id", "messages", "domain", "task", "lang", "source", "created_at", "meta", "lineage", "quality",
        "split", "schema_version")
_FIELDS = frozenset(KEYS)
_LINEAGE_KEYS = ("root_id", "parent_id", "ops")
_TURN_KEYS = ("role", "content")
_NAMED_TURN_KEYS = ("role", "content", "name")
_ROLES = frozenset(ROLES)
_SPLITS = frozenset(SPLITS)
_OP_KEYS = ("op", "params")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_SOURCE_KEYS = frozenset(("file", "line", "row"))

#: ``check`` results.
FULL_PATH = -1  #: the record must take the full path (invalid, to be restructured, or laid out otherwise)
CLEAN = 0  #: unchanged by the full path
CLEAN_OPENING_ASSISTANT = 1  #: unchanged, and counted as ``opening_assistant`` by the structure policies


def _canonical_time(value: str) -> bool:
    try:
        return normalize_timestamp(value) == value
    except SchemaError:
        return False


def check(obj: Any, seen_ids: set[str] | frozenset[str] = frozenset()) -> int:
    """Whether the parsed canonical dict ``obj`` can skip the full ingest path.

    ``seen_ids``: ids already given out in this run (a record whose id is taken gets ``-2``... on the full
    path, so it is not clean). Returns :data:`FULL_PATH`, :data:`CLEAN` or :data:`CLEAN_OPENING_ASSISTANT`
    (the first non-system turn is an assistant turn, which the structure policies count). Never raises.

    The turn rules mirror ``steps.structure._already_clean``: every turn has non-blank text, no two
    consecutive turns share a role other than ``tool``, at least one user turn, and the last turn is the
    assistant's.
    """
    if type(obj) is not dict or tuple(obj) != KEYS:
        return FULL_PATH
    rid, msgs, domain, task, lang, source, created, meta, lin, quality, split, version = obj.values()
    # (a JSON value other than the string itself never equals SCHEMA_VERSION)
    if (type(rid) is not str or not rid or rid in seen_ids or version != SCHEMA_VERSION
            or type(msgs) is not list or type(source) is not dict or type(meta) is not dict
            or type(lin) is not dict or (quality is not None and type(quality) is not dict)
            or (domain is not None and type(domain) is not str) or (task is not None and type(task) is not str)
            or (lang is not None and type(lang) is not str) or (split is not None and split not in _SPLITS)
            or tuple(lin) != _LINEAGE_KEYS):
        return FULL_PATH
    if created is not None and (type(created) is not str or not _canonical_time(created)):
        return FULL_PATH
    if source:  # typed keys only (from_dict rejects other keys and types; the Parquet form could not hold them)
        if not source.keys() <= _SOURCE_KEYS:
            return FULL_PATH
        v = source.get("file")
        if v is not None and type(v) is not str:
            return FULL_PATH
        v = source.get("line")
        if v is not None and (type(v) is not int or not _INT64_MIN <= v <= _INT64_MAX):
            return FULL_PATH
        v = source.get("row")
        if v is not None and (type(v) is not int or not _INT64_MIN <= v <= _INT64_MAX):
            return FULL_PATH
    root, parent, ops = lin.values()
    if type(root) is not str or type(ops) is not list or (parent is not None and type(parent) is not str):
        return FULL_PATH
    for o in ops:  # exactly {"op": name, "params": {...}} (the Parquet form, params as JSON text, included)
        if type(o) is not dict or tuple(o) != _OP_KEYS:
            return FULL_PATH
        op, params = o.values()
        if type(op) is not str or not op or type(params) is not dict:
            return FULL_PATH
    prev = None
    has_user = False
    for m in msgs:
        if type(m) is not dict:
            return FULL_PATH
        keys = tuple(m)
        if keys == _TURN_KEYS:
            role, content = m.values()
        elif keys == _NAMED_TURN_KEYS:
            role, content, name = m.values()
            if type(name) is not str:
                return FULL_PATH
        else:
            return FULL_PATH
        if (type(content) is not str or not has_text(content) or type(role) is not str
                or role not in _ROLES or (role == prev and role != "tool")):
            return FULL_PATH
        if role == "user":
            has_user = True
        prev = role
    if not has_user or prev != "assistant":
        return FULL_PATH
    first = msgs[0]["role"]
    if first == "system":  # the first turn after the system prompt(s); there is a user turn
        first = next(m["role"] for m in msgs if m["role"] != "system")
    return CLEAN_OPENING_ASSISTANT if first == "assistant" else CLEAN


class CanonicalRecord(Dialogue):
    """A :class:`Dialogue` held as its canonical JSON line, for records whose parsed dict passed
    :func:`check`.

    Its fields are built (``Dialogue.from_dict(orjson.loads(line))``) the first time any of them is read or
    set; from then on it is an ordinary :class:`Dialogue`. Until then :meth:`to_json` returns the line,
    which :func:`check` guarantees is what the built record would write (``orjson.loads`` of an
    ``orjson.dumps`` line gives back the same values). Copies and pickles are plain :class:`Dialogue`
    objects; it compares equal to a :class:`Dialogue` with the same fields. Create one with :meth:`wrap`.
    """

    __slots__ = ("_json",)

    @classmethod
    def wrap(cls, line: bytes) -> "CanonicalRecord":
        """A lazy record for ``line`` = ``orjson.dumps(d)`` of a dict ``d`` that passed :func:`check`.

        Only the bytes are kept: the parsed dict can be freed at once, which keeps the parse -> check ->
        serialise loop of ingest in the CPU cache."""
        rec = _new(cls)
        _set_json(rec, line)
        return rec

    @property
    def is_lazy(self) -> bool:
        """True while no field has been built (the record is still its JSON line)."""
        return self._json is not None

    def _build(self) -> None:
        line = self._json
        if line is None:
            return
        d = Dialogue.from_dict(orjson.loads(line))
        for name in KEYS:
            object.__setattr__(self, name, getattr(d, name))
        object.__setattr__(self, "_json", None)

    def __getattr__(self, name: str) -> Any:
        # only reached for slots not set yet: the fields of a lazy record, or _json of a record made
        # with the Dialogue constructor
        if name == "_json":
            return None
        if name in _FIELDS and self._json is not None:
            self._build()
            return object.__getattribute__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FIELDS:
            self._build()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._build()
        object.__delattr__(self, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dialogue):
            return all(getattr(self, k) == getattr(other, k) for k in KEYS)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like Dialogue (a mutable dataclass)

    def __reduce_ex__(self, protocol: int):
        self._build()
        return (Dialogue, tuple(getattr(self, k) for k in KEYS))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (builds the record first; see :meth:`Dialogue.to_dict`)."""
        self._build()
        return Dialogue.to_dict(self)

    def to_json(self) -> bytes:
        """One JSONL line: the line given to :meth:`wrap` while the record is lazy, else
        :meth:`Dialogue.to_json`."""
        line = self._json
        if line is not None:
            return line
        return Dialogue.to_json(self)


_new = object.__new__
_set_json = CanonicalRecord.__dict__["_json"].__set__  # the slot's own setter (skips __setattr__)
