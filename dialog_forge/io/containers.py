"""File containers: JSON Lines, JSON arrays, CSV/TSV and Parquet, read row by row.

Each reader yields :class:`RawRow` objects: a parsed row (a dict, or whatever the JSON held) with its
location, or a row-level error (``error`` = (reason, detail)) that ingest turns into a reject. Errors
that make a whole file unreadable raise :class:`~dialog_forge.errors.ForgeError` (exit code 2).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import sys
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

import orjson

from ..errors import ForgeError
from .encoding import detect
from .sources import InputFile, open_binary, peek_bytes

log = logging.getLogger("dialog_forge.io")

SNIFF_BYTES = 4 << 20
REPLACEMENT = "\ufffd"


@dataclass(slots=True)
class RawRow:
    """One row of an input file. ``obj`` is the parsed value (when ``error`` is set: the raw text or
    fields, kept for the rejects file, or ``None`` when nothing could be read);
    ``source`` is ``{"file", "line"}`` for line-based files or ``{"file", "row"}`` otherwise (1-based);
    ``container`` is ``jsonl``, ``json``, ``csv``, ``tsv`` or ``parquet``."""

    obj: Any
    source: dict[str, Any]
    container: str
    error: tuple[str, str] | None = None


def _has_replacement(obj: Any) -> bool:
    if isinstance(obj, str):
        return REPLACEMENT in obj
    if isinstance(obj, dict):
        return any(_has_replacement(v) for v in obj.values()) or any(REPLACEMENT in str(k) for k in obj)
    if isinstance(obj, list):
        return any(_has_replacement(v) for v in obj)
    return False


def read_rows(f: InputFile, *, encoding: str | None = None, csv_delimiter: str | None = None,
              stats: dict[str, Any] | None = None) -> Iterator[RawRow]:
    """All rows of one input file, whatever its container.

    ``stats`` (if given) receives ``encoding`` and ``bom_removed`` for this file. Raises
    :class:`ForgeError` for a file that is binary, not decodable or not parseable as a whole.
    """
    stream = open_binary(f)
    sample, stream = peek_bytes(stream, SNIFF_BYTES)
    if sample[:4] == b"PAR1" or f.suffix == ".parquet":
        if f.path == "-" or sample[:4] == b"PAR1" and f.suffix != ".parquet":
            yield from _parquet_rows(io.BytesIO(stream.read()), f.name)
        else:
            yield from _parquet_rows(f.path, f.name)
        return
    complete = len(sample) < SNIFF_BYTES
    det = detect(sample, f.name, encoding, complete=complete)
    if stats is not None:
        stats["encoding"] = det.encoding
        stats["encoding_how"] = det.how
        stats["bom_removed"] = bool(det.bom)
    if det.bom:
        stream.read(det.bom)
        log.info("%s: removed a %s byte-order mark", f.name, det.encoding)
    if det.how == "detected":
        log.warning("%s: not UTF-8; decoding as %s (detected; override with --encoding)", f.name, det.encoding)
    else:
        log.info("%s: decoding as %s (%s)", f.name, det.encoding, det.how)
    sfx = f.suffix
    if not csv_delimiter and sfx in ("", ".txt") and det.encoding.startswith(("utf-8", "gb", "big5", "shift", "cp")):
        csv_delimiter = _sniff_table(sample[det.bom:])
        if csv_delimiter:
            log.info("%s: no .csv/.tsv name, but the first line looks like a table header; reading it as %s",
                     f.name, "TSV" if csv_delimiter == "\t" else "CSV")
    body = sample[det.bom:]  # the text after a byte-order mark
    if det.encoding == "utf-8" and sfx not in (".csv", ".tsv") and not csv_delimiter and body.lstrip()[:1] != b"[":
        yield from _jsonl_rows_utf8(stream, f.name)
        return
    text = io.TextIOWrapper(stream, encoding=det.encoding, errors="replace", newline="")
    if sfx in (".csv", ".tsv") or csv_delimiter:
        delim = csv_delimiter or ("\t" if sfx == ".tsv" else ",")
        yield from _csv_rows(text, f.name, delim, "tsv" if delim == "\t" else "csv")
        return
    first_char = body.lstrip()[:1]
    if det.encoding.startswith(("utf-16", "utf-32")):
        first_char = sample[det.bom:].decode(det.encoding, "replace").lstrip()[:1].encode()
    if first_char == b"[":
        yield from _json_array_rows(text, f.name)
    else:
        yield from _jsonl_rows(text, f.name)


def _sniff_table(sample: bytes) -> str | None:
    """The delimiter of a CSV/TSV given without a telling name (standard input, ``.txt``): the first
    line does not start like JSON and holds a tab or a comma. ``None`` when it looks like JSON."""
    head = sample.lstrip()
    if not head or head[:1] in (b"{", b"[", b'"'):
        return None
    first = head.split(b"\n", 1)[0]
    if b"\t" in first:
        return "\t"
    if b"," in first:
        return ","
    return None


def _jsonl_rows(text: io.TextIOBase, name: str) -> Iterator[RawRow]:
    lineno = 0
    first_bad: tuple[int, str] | None = None
    good = 0
    for line in text:
        lineno += 1
        s = line.strip()
        if s.startswith("\ufeff"):  # a byte-order mark inside the file (files joined with cat)
            s = s[1:].strip()
        if not s:
            continue
        src = {"file": name, "line": lineno}
        if REPLACEMENT in s:
            yield RawRow(s, src, "jsonl", ("encoding_error", "the line holds bytes that are not valid in the file's encoding (U+FFFD after decoding); set --encoding if the whole file is misread"))
            continue
        try:
            obj = orjson.loads(s)
        except orjson.JSONDecodeError as e:
            if first_bad is None:
                first_bad = (lineno, str(e))
            if lineno == 1 and s.startswith("{") and not s.endswith("}"):
                # maybe a pretty-printed single JSON document: try the whole file
                rest = s + "\n" + text.read()
                try:
                    obj = orjson.loads(rest)
                except orjson.JSONDecodeError:
                    yield RawRow(s, src, "jsonl", ("malformed_json", f"line {lineno} is not valid JSON: {e}"))
                    for extra_no, extra in enumerate(rest.splitlines()[1:], start=2):
                        if extra.strip():
                            yield RawRow(extra, {"file": name, "line": extra_no}, "jsonl",
                                         ("malformed_json", "part of a file that is neither JSON Lines nor JSON"))
                    return
                for i, item in enumerate(obj if isinstance(obj, list) else [obj], start=1):
                    if _has_replacement(item):
                        yield RawRow(item, {"file": name, "row": i}, "json",
                                     ("encoding_error", "the record holds U+FFFD replacement characters after decoding"))
                    else:
                        yield RawRow(item, {"file": name, "row": i}, "json")
                return
            yield RawRow(s, src, "jsonl", ("malformed_json", f"line {lineno} is not valid JSON: {e}"))
            continue
        good += 1
        if _FFFD_ESCAPE_TEXT(s) and _has_replacement(obj):
            yield RawRow(s, src, "jsonl", ("encoding_error", _ESCAPED_DETAIL))
            continue
        yield RawRow(obj, src, "jsonl")
    if good == 0 and first_bad is not None and lineno > 0:
        log.warning("%s: no line parsed as JSON (first error on line %d: %s)", name, *first_bad)


#: A ``\\ufffd`` escape (any case) in JSON text; a match is confirmed on the parsed value (the escape may be
#: the text of an escaped backslash, ``\\\\ufffd``).
_FFFD_ESCAPE = re.compile(rb"\\u[fF][fF][fF][dD]").search
_FFFD_ESCAPE_TEXT = re.compile(r"\\u[fF][fF][fF][dD]").search
_ESCAPED_DETAIL = ("the record holds U+FFFD replacement characters (written as \\ufffd escapes: text damaged "
                   "before it reached forge)")

_BAD_UTF8 = b"\xef\xbf\xbd"
_UTF8_BOM = b"\xef\xbb\xbf"
#: ``_has_bad_utf8(line)`` is ``_BAD_UTF8 in line``, about twice as fast on CJK text (whose UTF-8 is dense
#: in the bytes of U+FFFD, which slows the plain substring search).
_has_bad_utf8 = re.compile(re.escape(_BAD_UTF8)).search


def _jsonl_rows_utf8(stream, name: str) -> Iterator[RawRow]:
    """JSON Lines from UTF-8 bytes: orjson parses bytes directly (no str round trip). Lines that are not
    valid UTF-8, or hold U+FFFD, are ``encoding_error``; anything else that fails is ``malformed_json``.
    A file whose first line is not JSON falls back to the text reader (pretty-printed JSON).

    The first line is parsed here; later lines come as :class:`JsonLine` rows, parsed when first used,
    so that a record is parsed, checked and written while it is still in the CPU cache."""
    it = iter(stream)
    lineno = 0
    for raw in it:
        lineno += 1
        s = raw.strip()
        if not s:
            continue
        src = {"file": name, "line": lineno}
        if lineno == 1:
            try:
                orjson.loads(s)
            except orjson.JSONDecodeError:
                try:
                    text = s.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                if text is not None and text.startswith("{") and not text.endswith("}"):
                    rest = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
                    yield from _jsonl_rows(_Chain(text + "\n", rest), name)
                    return
        yield JsonLine(raw, src)
        break
    for raw in it:
        lineno += 1
        if raw.isspace() or (raw.startswith(_UTF8_BOM) and (not raw[3:] or raw[3:].isspace())):
            continue  # blank (a BOM alone: an empty file joined to the others)
        yield JsonLine(raw, {"file": name, "line": lineno})


class JsonLine(RawRow):
    """A row of a UTF-8 JSON Lines file, parsed when ``obj`` or ``error`` is first read (or
    :meth:`parse` is called), with exactly the outcomes of the eager reader: the parsed value, or
    ``encoding_error`` (not valid UTF-8, or U+FFFD, also as a ``\\ufffd`` escape) / ``malformed_json`` with the line's text as ``obj``.
    ``container`` is ``jsonl``; ``source`` is ``{"file", "line"}``."""

    __slots__ = ("_line",)

    def __init__(self, line: bytes, source: dict[str, Any]):
        self._line = line
        self.source = source
        self.container = "jsonl"

    def parse(self) -> tuple[str, str] | None:
        """Parse the line (once) and return ``error`` (``None`` when ``obj`` holds the parsed value)."""
        line = self._line
        if line is None:
            return self.error
        self._line = None
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = _parse_failed(line.strip(), self.source["line"])
            if type(obj) is RawRow:
                self.obj, self.error = obj.obj, obj.error
                return self.error
        if _has_bad_utf8(line):
            self.obj = line.strip().decode("utf-8")
            self.error = ("encoding_error", "the line holds U+FFFD replacement characters (text damaged before it reached forge)")
            return self.error
        if _FFFD_ESCAPE(line) and _has_replacement(obj):
            self.obj = line.strip().decode("utf-8")
            self.error = ("encoding_error", _ESCAPED_DETAIL)
            return self.error
        self.obj, self.error = obj, None
        return None

    def value(self) -> Any:
        """The parsed value when the line is valid JSON without U+FFFD, else ``None``; nothing is stored
        (so the value can be freed as soon as the caller is done with it). Use :meth:`parse`, or
        :meth:`keep` with the value, to give the row its ``obj``/``error``."""
        line = self._line
        if line is None:
            return self.obj if self.error is None else None
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if _has_bad_utf8(line) or (_FFFD_ESCAPE(line) and _has_replacement(obj)):
            return None
        return obj

    def keep(self, value: Any) -> None:
        """Store ``value`` (what :meth:`value` returned, not ``None``) as the parsed row."""
        self._line = None
        self.obj, self.error = value, None

    def __getattr__(self, name: str) -> Any:
        # only reached for the slots obj/error before the line is parsed
        if name in ("obj", "error") and object.__getattribute__(self, "_line") is not None:
            self.parse()
            return object.__getattribute__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _parse_failed(s: bytes, lineno: int) -> Any:
    """A line that orjson rejected as it stood: the value of the stripped line (whitespace JSON does not
    allow, such as a form feed, and a UTF-8 byte-order mark are stripped first), or a :class:`RawRow`
    carrying the error."""
    if s.startswith(_UTF8_BOM):  # a UTF-8 file with a BOM appended to another (cat a.jsonl b.jsonl)
        s = s[len(_UTF8_BOM):].strip()
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError as e:
        try:
            text = s.decode("utf-8")
        except UnicodeDecodeError:
            return RawRow(s.decode("utf-8", "replace"), {}, "jsonl", ("encoding_error", "the line is not valid UTF-8 (set --encoding if the whole file is in another encoding)"))
        return RawRow(text, {}, "jsonl", ("malformed_json", f"line {lineno} is not valid JSON: {e}"))


class _Chain:
    """A minimal text stream: ``first`` then the lines of ``rest`` (iteration and ``read``)."""

    def __init__(self, first: str, rest):
        self.first, self.rest = first, rest

    def __iter__(self):
        if self.first:
            first, self.first = self.first, ""  # cleared before yielding: read() may be called meanwhile
            yield first
        yield from self.rest

    def read(self) -> str:
        out, self.first = self.first + self.rest.read(), ""
        return out


def _json_array_rows(text: io.TextIOBase, name: str) -> Iterator[RawRow]:
    data = text.read()
    try:
        arr = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise ForgeError(
            f"{name}: starts like a JSON array but is not valid JSON ({e}). If the file is truncated, repair "
            "or re-export it; if it is JSON Lines, make sure each line holds one object."
        ) from None
    if not isinstance(arr, list):
        arr = [arr]
    for i, item in enumerate(arr, start=1):
        src = {"file": name, "row": i}
        if _has_replacement(item):
            yield RawRow(item, src, "json", ("encoding_error", "the record holds U+FFFD replacement characters after decoding"))
        else:
            yield RawRow(item, src, "json")


def _csv_rows(text: io.TextIOBase, name: str, delim: str, kind: str) -> Iterator[RawRow]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(text, delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    if not any(header):
        raise ForgeError(f"{name}: the first row (the header) is empty; a CSV/TSV needs column names.")
    row_no = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            row_no += 1
            yield RawRow(None, {"file": name, "row": row_no}, kind, ("malformed_row", f"CSV parse error: {e}"))
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        row_no += 1
        src = {"file": name, "row": row_no}
        if any(REPLACEMENT in c for c in row):
            yield RawRow(row, src, kind, ("encoding_error", "the row holds bytes that are not valid in the file's encoding (U+FFFD after decoding)"))
            continue
        if len(row) != len(header):
            yield RawRow(row, src, kind, ("malformed_row", f"{len(row)} fields where the header has {len(header)}"))
            continue
        yield RawRow(dict(zip(header, row)), src, kind)


def _parquet_rows(path_or_buf, name: str) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path_or_buf)
    except Exception as e:  # pyarrow raises ArrowInvalid and friends
        raise ForgeError(f"{name}: not a readable Parquet file ({e}).") from None
    row_no = 0
    for batch in pf.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            row_no += 1
            src = {"file": name, "row": row_no}
            if _has_replacement(row):
                yield RawRow(row, src, "parquet", ("encoding_error", "the row holds U+FFFD replacement characters (text damaged before it reached forge)"))
            else:
                yield RawRow(row, src, "parquet")
