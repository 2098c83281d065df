"""Canonical dialog-forge records (JSONL objects or Parquet rows), so re-ingesting output is idempotent."""

from __future__ import annotations

from typing import Any

import orjson

from .base import FormatOptions, Parsed


def matches(obj: dict[str, Any]) -> bool:
    return "schema_version" in obj and isinstance(obj.get("messages"), list) and "lineage" in obj


def convert(obj: dict[str, Any], opts: FormatOptions) -> Parsed:
    d = dict(obj)
    # Parquet rows carry free-form fields as JSON strings
    for key in ("meta", "quality"):
        if isinstance(d.get(key), str):
            d[key] = orjson.loads(d[key])
    lin = d.get("lineage")
    if isinstance(lin, dict) and lin.get("ops") and isinstance(lin["ops"][0].get("params"), str):
        d["lineage"] = {**lin, "ops": [{"op": o["op"], "params": orjson.loads(o["params"] or "{}")} for o in lin["ops"]]}
    if isinstance(d.get("messages"), list):
        d["messages"] = [{k: v for k, v in m.items() if not (k == "name" and v is None)} if isinstance(m, dict) else m
                         for m in d["messages"]]
    if isinstance(d.get("source"), dict):
        d["source"] = {k: v for k, v in d["source"].items() if v is not None}
    return Parsed(messages=[], canonical=d)
