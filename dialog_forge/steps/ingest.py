"""``forge ingest``: raw rows of any supported format -> canonical :class:`~dialog_forge.schema.Dialogue`.

Input batches hold :class:`~dialog_forge.io.containers.RawRow` objects (parsed rows with their location),
produced by :func:`dialog_forge.io.containers.read_rows`. For each row the step detects the format
(ShareGPT, OpenAI messages, Alpaca, canonical, or mapped columns), converts it, applies the structure
policies of :mod:`dialog_forge.steps.structure`, and assigns a stable id: the source id if the row has
one, else a content hash (:func:`~dialog_forge.schema.content_id`). When two rows of one run would get the
same id, the later ones get ``-2``, ``-3``, ... appended (deterministic in input order), so ids stay unique.

Canonical records pass through unchanged (``forge ingest out.jsonl`` is idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import logging

from ..errors import ForgeError
from ..io.containers import RawRow
from ..io.formats import FormatOptions, convert, detect_format
from ..io.formats import canonical as _canonical
from ..pipeline.lineage import add_op
from ..pipeline.options import parse_kv
from ..pipeline.registry import register_step
from ..pipeline.step import BatchResult, Step, StepConfig, cfg_field
from ..schema import ROLES, Dialogue, SchemaError, content_id, normalize_timestamp
from .structure import apply_structure

log = logging.getLogger("dialog_forge.ingest")


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
    domain: str | None = cfg_field(None, help="Default domain for records that have none.")
    task: str | None = cfg_field(None, help="Default task for records that have none.")
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
    reasons = {
        "malformed_json": "a line or file is not valid JSON",
        "malformed_row": "a CSV/TSV row does not parse or has the wrong number of fields",
        "encoding_error": "the text holds U+FFFD after decoding (bytes invalid in the detected encoding)",
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

    def process(self, batch: list[Any]) -> BatchResult:
        res = BatchResult()
        for row in batch:
            if isinstance(row, Dialogue):  # already canonical (Python API)
                row = RawRow(row.to_dict(), dict(row.source), "python")
            try:
                rec = self._convert(row)
            except SchemaError as e:
                res.rejects.append(self._reject_raw(row, e.reason, e.detail))
                continue
            res.kept.append(rec)
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
                n = 0
                for row in read_rows(f, encoding=cfg.encoding, stats=info):
                    n += 1
                    yield row
                if info.get("bom_removed"):
                    self.count("bom_removed")
                if info.get("encoding"):
                    self.count(f"encoding_{info['encoding']}")
                if n == 0:
                    log.warning("%s: no records (empty file)", f.name)
                    self.count("empty_files")

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
        if msgs is not rec.messages and (len(msgs) != len(rec.messages)
                                         or any(a.content != b.content for a, b in zip(msgs, rec.messages))):
            rec.messages = msgs
            add_op(rec, "ingest", {"format": "canonical", "restructured": True})
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
