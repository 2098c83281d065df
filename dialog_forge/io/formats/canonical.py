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
    arrow = arrow_lineage(obj)
    if arrow or isinstance(obj.get("meta"), str) or isinstance(obj.get("quality"), str):
        d = dict(obj)
        for key in ("meta", "quality"):
            if isinstance(d.get(key), str):
                d[key] = orjson.loads(d[key])
        lin = d.get("lineage")
        if arrow:
            d["lineage"] = {**lin, "ops": [{"op": o["op"], "params": orjson.loads(o["params"] or "{}")} for o in lin["ops"]]}
        if isinstance(d.get("source"), dict):
            d["source"] = {k: v for k, v in d["source"].items() if v is not None}
        d["messages"] = [{k: v for k, v in m.items() if not (k == "name" and v is None)} if isinstance(m, dict) else m
                         for m in d["messages"]]
        created = d.get("created_at")
        if created is not None and not isinstance(created, str):
            from ...schema import normalize_timestamp

            d["created_at"] = normalize_timestamp(created)
        return Parsed(messages=[], canonical=d)
    return Parsed(messages=[], canonical=obj)


def arrow_lineage(obj: dict[str, Any]) -> bool:
    lin = obj.get("lineage")
    return isinstance(lin, dict) and bool(lin.get("ops")) and isinstance(lin["ops"][0], dict) \
        and isinstance(lin["ops"][0].get("params"), str)


_arrow_lineage = arrow_lineage  # older name
