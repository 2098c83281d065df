"""Reading the knowledge base given with ``forge score --kb FILE`` (the passages ``fact`` checks against).

Formats: ``.jsonl`` (one JSON string, or an object with a ``text``, ``passage`` or ``content`` field,
per line); ``.md``/``.markdown`` (paragraphs separated by blank lines; heading lines starting with ``#`` are dropped); anything else is UTF-8 text with
one passage per non-empty line.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from ...errors import ForgeError


def load_kb(path: str) -> list[str]:
    """The passages of the KB file at ``path``, stripped, empty ones dropped, duplicates kept once.

    Raises :class:`ForgeError` naming ``--kb`` when the file is missing, undecodable, malformed or empty.
    """
    p = Path(path)
    if not p.is_file():
        raise ForgeError(f"--kb {path}: no such file; give a text (one passage per line), .md or .jsonl file.")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ForgeError(f"--kb {path}: not UTF-8 text; convert it to UTF-8.") from None
    suffix = p.suffix.lower()
    passages: list[str] = []
    if suffix in (".jsonl", ".ndjson"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise ForgeError(f"--kb {path} line {n}: not valid JSON.") from None
            if isinstance(obj, dict):
                obj = next((obj[k] for k in ("text", "passage", "content") if isinstance(obj.get(k), str)), None)
            if not isinstance(obj, str):
                raise ForgeError(f"--kb {path} line {n}: expected a string or an object with a 'text' field.")
            passages.append(obj)
    elif suffix in (".md", ".markdown"):
        body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        passages = re.split(r"\n\s*\n", body)
    else:
        passages = text.splitlines()
    out = list(dict.fromkeys(s.strip() for s in passages if s.strip()))
    if not out:
        raise ForgeError(f"--kb {path}: holds no passage.")
    return out
