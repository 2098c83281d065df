"""Reading canonical records (what every data command after ``ingest`` consumes).

Inputs are JSONL files (optionally gzip/zstd), Parquet files, directories of either (recursively, sorted;
rejects files and ``_manifest.json`` skipped), or ``-``/nothing for standard input. A malformed line
becomes a :class:`~dialog_forge.pipeline.step.Reject` (reasons ``malformed_json`` or a schema code), so it
is counted and quarantined by the executor, never dropped silently.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from ..errors import ForgeError
from ..pipeline.step import Reject
from ..schema import Dialogue, SchemaError, from_arrow
from .sources import InputFile, expand_inputs, open_binary, peek_bytes

#: Reasons a record can be rejected while it is read (listed in every data command's --help).
READ_REASONS = {
    "malformed_json": "an input line is not valid JSON",
    "schema": "an input record does not satisfy the canonical schema (run it through `forge ingest` first)",
    "unknown_role": "an input record has a role outside system/user/assistant/tool",
    "invalid_content": "an input record has non-text content",
    "invalid_timestamp": "an input record has an unreadable created_at",
}


def _iter_file(f: InputFile) -> Iterator[Dialogue | Reject]:
    if f.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(f.path if f.path != "-" else io.BytesIO(open_binary(f).read()))
        except Exception as e:
            raise ForgeError(f"{f.name}: not a readable Parquet file ({e}).") from None
        for batch in pf.iter_batches(batch_size=2048):
            import pyarrow as pa

            yield from from_arrow(pa.Table.from_batches([batch]))
        return
    head, stream = peek_bytes(open_binary(f), 4)
    if head == b"PAR1":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(stream.read()))
        yield from from_arrow(table)
        return
    lineno = 0
    first = True
    for raw in stream:
        lineno += 1
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        if first:
            first = False
            _check_not_raw(raw, f.name)
        try:
            yield Dialogue.from_json(raw)
        except SchemaError as e:
            reason = e.reason if e.reason in READ_REASONS else "schema"
            yield Reject(record=raw.decode("utf-8", "replace").rstrip("\n"), reason=reason,
                         detail=f"{f.name} line {lineno}: {e.detail}", source={"file": f.name, "line": lineno})


RAW_KEYS = ("conversations", "conversation", "instruction", "messages")


def _check_not_raw(first_line: bytes, name: str) -> None:
    """Raise :class:`ForgeError` when a file is plainly not canonical records but raw data (a JSON array,
    or ShareGPT/OpenAI/Alpaca rows without the canonical fields), instead of rejecting every line of it."""
    raw = "RAW_FILE" if name == "<stdin>" else name
    hint = f"Run it through `forge ingest` first, e.g. `forge ingest {raw} | forge clean`."
    if first_line.lstrip()[:1] == b"[":
        raise ForgeError(f"{name}: starts with '[' (a JSON array); data commands read canonical JSONL or Parquet. {hint}")
    try:
        import orjson

        obj = orjson.loads(first_line)
    except ValueError:
        return  # a damaged first line: rejected (malformed_json) like any other
    if not isinstance(obj, dict) or "schema_version" in obj or "lineage" in obj:
        return
    # raw: ShareGPT/Alpaca keys, or OpenAI messages without an id; a minimal {id, messages} record is
    # read as canonical (a bad value in it is a reject like any other)
    if any(k in obj for k in RAW_KEYS[:3]) or ("messages" in obj and not obj.get("id")):
        raise ForgeError(f"{name} line 1: a raw dialogue (keys {', '.join(list(obj)[:6])}), not a canonical record. {hint}")


def read_records(inputs: Iterable[str] | None) -> Iterator[Dialogue | Reject]:
    """Stream canonical records from ``inputs`` (paths, directories, globs, ``-``; none = stdin).

    Yields :class:`Dialogue` objects, or :class:`Reject` objects for lines that cannot be read.
    Raises :class:`ForgeError` for missing paths or unreadable files.
    """
    for f in expand_inputs(inputs):
        yield from _iter_file(f)


def load_records(inputs: Iterable[str] | None, *, strict: bool = True) -> list[Dialogue]:
    """All records of ``inputs`` as a list. With ``strict`` a malformed record raises
    :class:`ForgeError` naming the file and line; otherwise it is skipped."""
    out = []
    for item in read_records(inputs):
        if isinstance(item, Reject):
            if strict:
                raise ForgeError(f"{item.detail} ({item.reason}). Fix the record or run the file through `forge ingest`.")
            continue
        out.append(item)
    return out
