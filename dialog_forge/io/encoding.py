"""Text-encoding detection for input files.

Order (issue #2): a byte-order mark (UTF-8, UTF-16, UTF-32) wins; then strict UTF-8; then
charset-normalizer restricted to the encodings chat logs actually come in (GB18030 -- a superset of
GBK/GB2312 --, Big5, Shift_JIS, cp1252). ``--encoding`` overrides all of it.
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass

from ..errors import ForgeError

log = logging.getLogger("dialog_forge.io")

#: Candidates for charset-normalizer, in the order they are preferred on a tie.
CANDIDATES = ("gb18030", "big5", "shift_jis", "cp1252")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Detected:
    """Result of :func:`detect`: ``encoding`` (a Python codec name), ``bom`` (bytes of BOM to skip, 0 if
    none) and ``how`` (``bom``, ``utf-8``, ``detected``, ``given``)."""

    encoding: str
    bom: int
    how: str


def detect(sample: bytes, name: str, given: str | None = None, complete: bool = False) -> Detected:
    """Choose the encoding of a file from its first bytes.

    ``sample``: the first bytes (up to a few MB); ``complete`` says the sample is the whole file.
    Raises :class:`ForgeError` when the bytes look binary or no candidate fits, naming ``--encoding``.
    """
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            if given:
                return Detected(given, len(bom), "given")
            return Detected(enc, len(bom), "bom")
    if given:
        try:
            codecs.lookup(given)
        except LookupError:
            raise ForgeError(f"--encoding {given!r} is not an encoding Python knows (try utf-8, gb18030, big5).") from None
        return Detected(given, 0, "given")
    if b"\x00" in sample[:65536]:
        raise ForgeError(
            f"{name}: the file holds NUL bytes, so it looks binary (or UTF-16/32 without a byte-order mark). "
            "Give a text file (JSON, JSONL, CSV, TSV) or Parquet, or name the encoding with --encoding utf-16-le."
        )
    cut = sample if complete else sample[: sample.rfind(b"\n") + 1] or sample
    try:
        cut.decode("utf-8")
        return Detected("utf-8", 0, "utf-8")
    except UnicodeDecodeError as e:
        if not complete and e.start >= len(cut) - 4 and e.reason == "unexpected end of data":
            return Detected("utf-8", 0, "utf-8")
    if _mostly_utf8(cut):
        # a UTF-8 file with a few damaged lines: decode as UTF-8 so that only those lines are rejected
        # (encoding_error), instead of misreading the whole file in a legacy encoding or failing it
        log.warning("%s: UTF-8 with a few lines that are not valid UTF-8; those lines are rejected "
                    "(encoding_error). Set --encoding if the file is in another encoding.", name)
        return Detected("utf-8", 0, "utf-8")
    from charset_normalizer import from_bytes

    best = from_bytes(cut, cp_isolation=list(CANDIDATES)).best()
    if best is None:
        # A few corrupt rows make the detector give up; judge the lines that do decode, so that the
        # corrupt rows are later rejected one by one (encoding_error) instead of failing the whole file.
        clean = b"\n".join(line for line in cut.split(b"\n") if _decodes_somewhere(line))
        if clean and len(clean) >= len(cut) // 2:
            best = from_bytes(clean, cp_isolation=list(CANDIDATES)).best()
    if best is None:
        raise ForgeError(
            f"{name}: the text is not UTF-8 and its encoding could not be recognised among "
            f"{', '.join(CANDIDATES)}. Name it with --encoding (e.g. --encoding gb18030)."
        )
    enc = codecs.lookup(best.encoding).name
    if enc in ("gbk", "gb2312", "hz"):
        enc = "gb18030"
    return Detected(enc, 0, "detected")


def _mostly_utf8(data: bytes) -> bool:
    """True when at least 90% of the lines holding non-ASCII bytes are valid UTF-8 (legacy multi-byte
    text such as GBK or Big5 is almost never valid UTF-8, so this only holds for damaged UTF-8)."""
    good = bad = 0
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good > 0 and good >= 9 * bad


def _decodes_somewhere(line: bytes) -> bool:
    """True when ``line`` is strict UTF-8 or strict in one of the multi-byte candidates."""
    for enc in ("utf-8", "gb18030", "big5", "shift_jis"):
        try:
            line.decode(enc)
            return True
        except UnicodeDecodeError:
            continue
    return False
