"""Canonical dialog-forge records (JSONL objects or Parquet rows), so re-ingesting output is idempotent."""

from __future__ import annotations

from typing import Any

import orjson

from .base import FormatOptions, Parsed


def matches(obj: dict[str, Any]) -> bool:
    return "schema_version" in obj and isinstance(obj.get("messages"), list) and "lineage" in obj


def convert(obj: dict[str, Any], opts: FormatOptions) -> Parsed:
    """Canonical JSONL objects pass through as they are; Parquet rows (free-form fields as JSON strings,
    ``name``/``source`` keys present as nulls) are brought back to the JSON form first."""
    if "format" in obj:  # the per-record format hint (consumed here, not data)
        obj = {k: v for k, v in obj.items() if k != "format"}
    arrow = arrow_lineage(obj)
    if arrow or isinstance(obj.get("meta"), str) or isinstance(obj.get("quality"), str):
        d = dict(obj)
        for key in ("meta", "quality"):
            if isinstance(d.get(key), str):
                d[key] = _json_field(d[key], key)
        lin = d.get("lineage")
        if arrow:
            d["lineage"] = {**lin, "ops": [_arrow_op(o) if isinstance(o, dict) else o for o in lin["ops"]]}
        if isinstance(d.get("source"), dict):
            d["source"] = {k: v for k, v in d["source"].items() if v is not None}
        if isinstance(d.get("messages"), list):  # (anything else: Dialogue.from_dict rejects it naming the field)
            d["messages"] = [{k: v for k, v in m.items() if not (k == "name" and v is None)} if isinstance(m, dict)
                             else m for m in d["messages"]]
        created = d.get("created_at")
        if created is not None and not isinstance(created, str):
            from ...schema import normalize_timestamp

            d["created_at"] = normalize_timestamp(created)
        return Parsed(messages=[], canonical=d)
    return Parsed(messages=[], canonical=obj)


def _arrow_op(o: dict[str, Any]) -> dict[str, Any]:
    """One op of the Parquet form (``params`` a JSON string, or null) in the JSON form; ``params`` that is
    not a string is left for :meth:`Dialogue.from_dict` to check."""
    params = o.get("params")
    if params is None or isinstance(params, str):
        params = _json_field(params or "{}", "lineage.ops.params")
    return {**o, "params": params}


def _json_field(text: str, key: str) -> Any:
    """A free-form field stored as a JSON string (the Parquet form); raises ``SchemaError('schema')``
    when the string is not JSON, so the record is rejected rather than the run stopped."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        from ...schema import SchemaError

        raise SchemaError("schema", f"field {key!r} is a string that is not JSON ({e}); it must be an object") from None


def arrow_lineage(obj: dict[str, Any]) -> bool:
    lin = obj.get("lineage")
    if not isinstance(lin, dict):
        return False
    ops = lin.get("ops")
    # (ops of the wrong type are left to Dialogue.from_dict, which rejects them naming the field)
    return isinstance(ops, list) and bool(ops) and isinstance(ops[0], dict) and isinstance(ops[0].get("params"), str)


_arrow_lineage = arrow_lineage  # older name
