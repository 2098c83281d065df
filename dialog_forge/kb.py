"""Knowledge-base loading and chunking, shared by ``forge synth`` (retrieval) and ``forge score --kb``
(fact checks): Markdown, plain text, CSV FAQ and JSONL
passages become :class:`Passage` s with stable ids.

* Markdown (``.md``, ``.markdown``): one section per heading (``#``...``######``; the heading becomes the
  title), sections longer than ``max_chars`` are cut at paragraph (blank line) boundaries.
* Plain text (``.txt``): paragraphs packed into chunks of at most ``max_chars``.
* CSV / TSV FAQ (``.csv``, ``.tsv``; UTF-8 or UTF-8 with BOM): a question column (``question``, ``q``,
  ``问题``, ``query``, ``title``) and an answer column (``answer``, ``a``, ``答案``, ``response``);
  optional ``id`` and ``category``/``intent``/``task`` columns. One passage per row.
* JSONL (``.jsonl``): one object per line with ``text``/``content``/``passage`` (or ``question`` +
  ``answer``), optional ``id`` and ``title``.

Passage ids: the file's stem, ``#``, then the row/section number (1-based) or the record's own id, and
``.k`` for the k-th chunk of a long section (e.g. ``medical_kb#3``, ``faq#12``, ``policies#2.1``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .errors import ForgeError

QUESTION_COLS = ("question", "q", "问题", "query", "title", "提问")
ANSWER_COLS = ("answer", "a", "答案", "response", "回答", "reply")
TASK_COLS = ("task", "intent", "category", "分类", "类别")
KB_SUFFIXES = (".md", ".markdown", ".txt", ".csv", ".tsv", ".jsonl")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass
class Passage:
    """One retrievable unit: ``id``, ``text``, ``title`` (heading or FAQ question), ``source`` file,
    and for FAQ rows the ``question``/``answer``/``task``."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    question: str | None = None
    answer: str | None = None
    task: str | None = None
    extra: dict = field(default_factory=dict)


def _chunks(paragraphs: list[str], max_chars: int) -> list[str]:
    out, cur = [], ""
    for p in paragraphs:
        p = p.strip()
        if not p:
            continue
        if cur and len(cur) + 1 + len(p) > max_chars:
            out.append(cur)
            cur = p
        else:
            cur = f"{cur}\n{p}" if cur else p
        while len(cur) > max_chars:  # one very long paragraph: cut it
            out.append(cur[:max_chars])
            cur = cur[max_chars:]
    if cur:
        out.append(cur)
    return out


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ForgeError(f"--kb {path}: not UTF-8 text; convert it (e.g. iconv -f GBK -t UTF-8)") from None


def _markdown(path: Path, max_chars: int) -> list[Passage]:
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in _read_text(path).splitlines():
        m = _HEADING.match(line)
        if m:
            sections.append((m.group(2), []))
        else:
            sections[-1][1].append(line)
    out, n = [], 0
    for title, lines in sections:
        paras = re.split(r"\n\s*\n", "\n".join(lines))
        chunks = _chunks(paras, max_chars)
        if not chunks:
            continue
        n += 1
        for k, c in enumerate(chunks, 1):
            pid = f"{path.stem}#{n}" + (f".{k}" if len(chunks) > 1 else "")
            out.append(Passage(pid, c, title, str(path)))
    return out


def _plain(path: Path, max_chars: int) -> list[Passage]:
    chunks = _chunks(re.split(r"\n\s*\n", _read_text(path)), max_chars)
    return [Passage(f"{path.stem}#{i}", c, "", str(path)) for i, c in enumerate(chunks, 1)]


def _pick(cols: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.strip().lower(): c for c in cols}
    return next((low[n] for n in names if n in low), None)


def read_faq(path: Path) -> tuple[list[Passage], list[tuple[int, str]]]:
    """FAQ rows of a CSV/TSV/JSONL file as passages, and ``(row, problem)`` for rows that were skipped
    (an empty question or answer). Raises :class:`ForgeError` when no question/answer columns exist."""
    rows: list[dict] = []
    if path.suffix.lower() == ".jsonl":
        for i, line in enumerate(_read_text(path).splitlines(), 1):
            if line.strip():
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise ForgeError(f"{path} line {i}: not valid JSON") from None
                rows.append(obj if isinstance(obj, dict) else {})
    else:
        text = _read_text(path)
        delim = "\t" if path.suffix.lower() == ".tsv" else ","
        rows = list(csv.DictReader(io.StringIO(text), delimiter=delim))
    if not rows:
        raise ForgeError(f"{path}: holds no FAQ row (only a header, or nothing); add question/answer rows.")
    cols = list(rows[0].keys())
    qc, ac, tc = _pick(cols, QUESTION_COLS), _pick(cols, ANSWER_COLS), _pick(cols, TASK_COLS)
    idc = _pick(cols, ("id",))
    if not qc or not ac:
        raise ForgeError(f"{path}: a FAQ file needs a question column ({', '.join(QUESTION_COLS)}) and an answer "
                         f"column ({', '.join(ANSWER_COLS)}); found {cols}")
    out, skipped = [], []
    for i, r in enumerate(rows, 1):
        q, a = str(r.get(qc) or "").strip(), str(r.get(ac) or "").strip()
        if not q or not a:
            skipped.append((i, "empty question" if not q else "empty answer"))
            continue
        pid = f"{path.stem}#{r.get(idc) or i}" if idc else f"{path.stem}#{i}"
        task = str(r.get(tc)).strip() if tc and r.get(tc) else None
        out.append(Passage(pid, f"{q}\n{a}", q, str(path), question=q, answer=a, task=task, extra={"row": i}))
    return out, skipped


def _jsonl(path: Path, max_chars: int) -> list[Passage]:
    out = []
    for i, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ForgeError(f"--kb {path} line {i}: not valid JSON") from None
        if not isinstance(obj, dict):
            raise ForgeError(f"--kb {path} line {i}: expected an object with a 'text' field")
        text = obj.get("text") or obj.get("content") or obj.get("passage")
        if not text and obj.get("question") and obj.get("answer"):
            text = f"{obj['question']}\n{obj['answer']}"
        if not isinstance(text, str) or not text.strip():
            raise ForgeError(f"--kb {path} line {i}: no 'text' (or 'content', 'passage', question+answer) string")
        base = f"{path.stem}#{obj.get('id') or i}"
        chunks = _chunks(re.split(r"\n\s*\n", text), max_chars)
        for k, c in enumerate(chunks, 1):
            out.append(Passage(base + (f".{k}" if len(chunks) > 1 else ""), c, str(obj.get("title") or ""), str(path)))
    return out


def load_kb(paths: list[str], max_chars: int = 800) -> list[Passage]:
    """Every passage of ``paths`` (files, or directories searched recursively for :data:`KB_SUFFIXES`),
    in sorted path order. Raises :class:`ForgeError` for a missing path, an unsupported file type or an
    empty knowledge base."""
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files += sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in KB_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise ForgeError(f"--kb {p}: no such file or directory")
    out: list[Passage] = []
    for f in files:
        sfx = f.suffix.lower()
        if sfx in (".md", ".markdown"):
            out += _markdown(f, max_chars)
        elif sfx == ".txt":
            out += _plain(f, max_chars)
        elif sfx in (".csv", ".tsv"):
            out += read_faq(f)[0]
        elif sfx == ".jsonl":
            out += _jsonl(f, max_chars)
        else:
            raise ForgeError(f"--kb {f}: unsupported file type {sfx!r}; use {', '.join(KB_SUFFIXES)}")
    if not out:
        raise ForgeError(f"--kb {' '.join(paths)}: no passages found (supported: {', '.join(KB_SUFFIXES)})")
    return out
