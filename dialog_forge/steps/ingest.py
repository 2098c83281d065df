"""``forge ingest``: raw rows of any supported format -> canonical :class:`~dialog_forge.schema.Dialogue`.

Input batches hold :class:`~dialog_forge.io.containers.RawRow` objects (parsed rows with their location),
produced by :func:`dialog_forge.io.containers.read_rows`. For each row the step detects the format
(ShareGPT, OpenAI messages, Alpaca, canonical, or mapped columns), converts it, applies the structure
policies of :mod:`dialog_forge.steps.structure`, and assigns a stable id: the source id if the row has
one, else a content hash (:func:`~dialog_forge.schema.content_id`). When two rows of one run would get the
same id, the later ones get ``-2``, ``-3``, ... appended (deterministic in input order), so ids stay unique.

Canonical records pass through unchanged (``forge ingest out.jsonl`` is idempotent). Canonical JSON rows
that are already valid and that no structure policy changes take a fast path
(:mod:`dialog_forge.io.formats.canonical_fast`): they are kept as lazy records that write back one
``orjson.dumps`` of the parsed dict, with the same counters and output bytes as the full path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import logging

import orjson

from ..errors import ForgeError
from ..io.containers import JsonLine, RawRow
from ..io.formats import FormatOptions, convert, detect_format
from ..io.formats import canonical as _canonical
from ..io.formats import canonical_fast as _fast
from ..pipeline.lineage import add_op
from ..pipeline.options import parse_kv
from ..pipeline.registry import register_step
from ..pipeline.step import BatchResult, Step, StepConfig, cfg_field
from ..schema import ROLES, Dialogue, SchemaError, content_id, normalize_timestamp
from .structure import apply_structure

log = logging.getLogger("dialog_forge.ingest")

#: Containers whose rows reach the canonical format the same way whatever the options (tables with
#: ``--map`` are read as mapped columns instead).
_FAST_CONTAINERS = frozenset(("jsonl", "json"))


def _as_map(value: dict[str, str] | str | None, flag: str) -> dict[str, str]:
    if not value:
        return {}
    return parse_kv(value, flag) if isinstance(value, str) else dict(value)


@dataclass
class IngestConfig(StepConfig):
    """Flags of ``forge ingest``."""

    format: Literal["auto", "sharegpt", "openai", "alpaca", "canonical", "columns"] = cfg_field(
        "auto", help="Input format; 'auto' detects it per record (files may mix formats).")
    map: dict[str, str] = cfg_field(
        {}, help="Column mapping for CSV/TSV/Parquet tables, e.g. user=ask,assistant=answer,domain=department,"
                 "title=title. Keys user, assistant, system, id, domain, task, lang, created_at fill the record; "
                 "other keys go to meta.")
    encoding: str | None = cfg_field(
        None, help="Text encoding of the inputs (default: BOM, else UTF-8, else detected among GB18030/GBK, "
                   "Big5, Shift_JIS, cp1252).")
    same_role: Literal["merge", "reject"] = cfg_field(
        "merge", help="Consecutive turns of one role: 'merge' joins them with a newline (counted), 'reject' "
                      "drops the record (reason consecutive_same_role).")
    role_map: dict[str, str] = cfg_field(
        {}, help="Extra role aliases, e.g. bot=assistant,customer=user. Unknown roles otherwise reject the record.")
    alpaca_sep: str = cfg_field("\n\n", help="Separator between an Alpaca 'instruction' and its 'input'.")
    domain: str | None = cfg_field(None, help="Default domain for records that have none (canonical records "
                                              "with domain null included).")
    task: str | None = cfg_field(None, help="Default task for records that have none (canonical records with "
                                            "task null included).")
    source_name: str | None = cfg_field(None, help="Name recorded as source.file instead of the file path.")
    time_field: str | None = cfg_field(
        None, help="Field (or column) holding created_at: ISO 8601 or epoch seconds (numbers >= 1e11 are taken as "
                   "milliseconds). Default: 'created_at' if present. An unreadable value is counted "
                   "(invalid_timestamp) and kept in meta.created_at_raw.")


@register_step
class IngestStep(Step):
    """Convert raw rows to canonical records (see the module docstring). Input: ``RawRow`` batches."""

    name = "ingest"
    config_class = IngestConfig
    #: each row is converted on its own (ids stay unique across calls), so the executor may hand a batch
    #: over in slices (pipeline.executor.RECORD_WISE_SLICE) and keep each record in the CPU cache
    record_wise = True
    reasons = {
        "malformed_json": "a line or file is not valid JSON",
        "malformed_row": "a CSV/TSV row does not parse or has the wrong number of fields",
        "encoding_error": "the text holds U+FFFD after decoding (bytes invalid in the detected encoding, or a "
                          "\\ufffd escape in JSON)",
        "not_an_object": "a row is not a JSON object",
        "unknown_format": "no known format (ShareGPT, OpenAI messages, Alpaca, canonical) matches the row",
        "missing_field": "a required field or mapped column is missing",
        "schema": "a field has the wrong type or shape",
        "unknown_role": "a turn's role is not a known alias (use --role-map)",
        "invalid_content": "a turn's content is not text (a number, an object, ...)",
        "consecutive_same_role": "consecutive turns of one role under --same-role reject",
        "empty_assistant": "every assistant turn is empty or whitespace",
        "no_assistant": "the dialogue has no assistant turn",
        "no_user": "the dialogue has no user turn with text",
        "invalid_timestamp": "a canonical record's created_at is not an ISO-8601 time or epoch number (raw "
                             "formats keep the record and its raw value in meta.created_at_raw instead)",
    }

    def __init__(self, config: IngestConfig | None = None):
        super().__init__(config)
        cfg: IngestConfig = self.config  # type: ignore[assignment]
        self.opts = FormatOptions(
            format=cfg.format,
            column_map=_as_map(cfg.map, "--map"),
            role_map=_as_map(cfg.role_map, "--role-map"),
            alpaca_sep=cfg.alpaca_sep,
            time_field=cfg.time_field,
        )
        bad = {k: v for k, v in self.opts.role_map.items() if v not in ROLES}
        if bad:
            k, v = next(iter(bad.items()))
            raise ForgeError(f"--role-map {k}={v}: {v!r} is not a role; map to one of {', '.join(ROLES)}.")
        if cfg.format == "columns" and not ({"user", "assistant"} <= set(self.opts.column_map)):
            raise ForgeError("--format columns needs --map naming at least user=COLUMN and assistant=COLUMN.")
        self._seen_ids: set[str] = set()
        self._auto = cfg.format == "auto"
        #: canonical JSON rows that are already valid and clean skip the full path (see canonical_fast);
        #: set to False to force the full path (the tests compare the two)
        self.fast_path = cfg.format in ("auto", "canonical")
        #: how many records took the canonical fast path (kept out of the counters, which stay as they were)
        self.fast_path_records = 0
        #: --domain/--task: a canonical record with that field null takes the full path, which fills it
        self._canonical_defaults = tuple((k, v) for k, v in (("domain", cfg.domain), ("task", cfg.task)) if v)

    def process(self, batch: list[Any]) -> BatchResult:
        res = BatchResult()
        kept, counters, seen = res.kept, self.counters, self._seen_ids
        check, wrap, fast_ok, dumps = _fast.check, _fast.CanonicalRecord.wrap, self.fast_path, orjson.dumps
        defaults = self._canonical_defaults
        n_fast = 0
        for row in batch:
            # fast path: exactly the result of the full path below for canonical rows that no rule
            # changes (same counters, same output bytes), without building the record. A JsonLine is
            # parsed here and its dict freed at once, so parse, check and serialise stay in the CPU cache.
            kind, obj = type(row), None
            if kind is JsonLine:
                if fast_ok:
                    obj = row.value()
            elif kind is RawRow:
                if fast_ok and row.error is None and row.container in _FAST_CONTAINERS:
                    obj = row.obj
            elif isinstance(row, Dialogue):  # already canonical (Python API)
                row = RawRow(row.to_dict(), dict(row.source), "python")
            if obj is not None:
                clean = check(obj, seen)
                if clean >= 0 and defaults and any(obj[k] is None for k, _ in defaults):
                    clean = _fast.FULL_PATH  # a default to fill in
                if clean >= 0:
                    if n_fast:  # counted below, after the first (which places the key as the full path would)
                        n_fast += 1
                    else:
                        counters["format_canonical"] = counters.get("format_canonical", 0) + 1
                        n_fast = 1
                    if clean:
                        counters["opening_assistant"] = counters.get("opening_assistant", 0) + 1
                    seen.add(obj["id"])
                    kept.append(wrap(dumps(obj)))
                    continue
                if kind is JsonLine:
                    row.keep(obj)  # parsed once: the full path reads it from the row
            try:
                rec = self._convert(row)
            except SchemaError as e:
                res.rejects.append(self._reject_raw(row, e.reason, e.detail))
                continue
            kept.append(rec)
        if n_fast > 1:
            counters["format_canonical"] += n_fast - 1
        self.fast_path_records += n_fast
        return res

    def source(self, inputs: list[str] | None):
        """Raw rows of every input file (any container, any supported encoding), in order."""
        from ..io.containers import read_rows
        from ..io.sources import expand_inputs

        files = expand_inputs(inputs)
        cfg: IngestConfig = self.config  # type: ignore[assignment]

        def rows():
            for f in files:
                info: dict[str, Any] = {}
                it = read_rows(f, encoding=cfg.encoding, stats=info)
                first = next(it, None)
                # counted when the file is opened (info is set by then), so the order of the counters
                # does not depend on how batches fall
                if info.get("bom_removed"):
                    self.count("bom_removed")
                if info.get("encoding"):
                    self.count(f"encoding_{info['encoding']}")
                if first is None:
                    log.warning("%s: no records (empty file)", f.name)
                    self.count("empty_files")
                    continue
                yield first
                yield from it  # no per-row work here: this loop runs once per input line

        return rows(), files

    # ------------------------------------------------------------------------------------------
    def _reject_raw(self, row: RawRow, reason: str, detail: str):
        rej = self.reject(row.obj, reason, detail)
        rej.source = row.source
        if isinstance(row.obj, dict):
            sid = row.obj.get("id")
            rej.id = str(sid) if sid is not None else None
        return rej

    def _unique(self, rid: str) -> str:
        if rid not in self._seen_ids:
            self._seen_ids.add(rid)
            return rid
        n = 2
        while f"{rid}-{n}" in self._seen_ids:
            n += 1
        self.count("ids_disambiguated")
        new = f"{rid}-{n}"
        self._seen_ids.add(new)
        return new

    def _finish_canonical(self, rec: Dialogue, cfg: IngestConfig) -> Dialogue:
        msgs, _ = apply_structure(rec.messages, cfg.same_role, self.counters)
        params: dict[str, Any] = {"format": "canonical"}
        if msgs is not rec.messages and (len(msgs) != len(rec.messages)
                                         or any(a.content != b.content for a, b in zip(msgs, rec.messages))):
            rec.messages = msgs
            params["restructured"] = True
        filled = {}
        for key, value in self._canonical_defaults:  # --domain/--task fill a null field (recorded in lineage)
            if getattr(rec, key) is None:
                setattr(rec, key, value)
                filled[key] = value
        if filled:
            params["defaults"] = filled
            self.count("defaults_filled")
        if len(params) > 1:
            add_op(rec, "ingest", params)
        rec.id = self._unique(rec.id)
        return rec

    def _convert(self, row: RawRow) -> Dialogue:
        if row.error is not None:
            raise SchemaError(*row.error)
        cfg: IngestConfig = self.config  # type: ignore[assignment]
        obj = row.obj
        if (self._auto and type(obj) is dict and "schema_version" in obj and "lineage" in obj
                and "format" not in obj and row.container == "jsonl"):
            # hot path: canonical JSONL (what every re-ingest and pipe carries); the same checks as
            # detect_format + canonical.convert, without building the intermediate objects
            msgs_raw, meta, quality = obj.get("messages"), obj.get("meta"), obj.get("quality")
            if (type(msgs_raw) is list and not isinstance(meta, str) and not isinstance(quality, str)
                    and not _canonical.arrow_lineage(obj)):
                self.counters["format_canonical"] = self.counters.get("format_canonical", 0) + 1
                return self._finish_canonical(Dialogue.from_dict(obj), cfg)
        fmt = detect_format(obj, self.opts, row.container)
        if fmt == "columns" and row.container in ("csv", "tsv", "parquet"):
            # every row of a table has the header's columns: a mapped column that is missing is a usage
            # error (a typo in --map), not thousands of rejects
            missing = [c for c in self.opts.column_map.values() if c not in row.obj]
            if missing:
                raise ForgeError(
                    f"{row.source.get('file')}: --map names column(s) {', '.join(missing)} that the table does not "
                    f"have; its columns are {', '.join(map(str, list(row.obj)[:30]))}. Fix --map."
                )
        parsed = convert(row.obj, fmt, self.opts)
        self.count(f"format_{fmt}")
        if parsed.canonical is not None:
            return self._finish_canonical(Dialogue.from_dict(parsed.canonical), cfg)
        msgs, flags = apply_structure(parsed.messages, cfg.same_role, self.counters)
        rid = self._unique(parsed.source_id or content_id(msgs))
        created = None
        if parsed.created_at not in (None, ""):
            try:
                created = normalize_timestamp(parsed.created_at)
            except SchemaError:
                self.count("invalid_timestamp")
                parsed.meta["created_at_raw"] = str(parsed.created_at)
        meta = dict(parsed.meta)
        meta.update(flags)
        source = dict(row.source)
        if cfg.source_name:
            source["file"] = cfg.source_name
        rec = Dialogue(
            id=rid,
            messages=msgs,
            domain=parsed.domain or cfg.domain,
            task=parsed.task or cfg.task,
            lang=parsed.lang,
            source=source,
            created_at=created,
            meta=meta,
        )
        add_op(rec, "ingest", {"format": fmt})
        return rec
