"""Text normalisation of one turn: mojibake, invisible characters, whitespace, Unicode form, script, HTML.

Order (each part switchable through :class:`NormalizeOptions`):

1. ``fix_unicode``: ftfy repairs mojibake (UTF-8 read as cp1252/latin-1, ``æ‰‹æœºå·`` -> ``手机号``) and
   broken escapes. ftfy's ``fix_character_width`` and ``uncurl_quotes`` are switched OFF: they would turn
   full-width Chinese punctuation (，) and curly quotes (“ ”) into ASCII and change the style the model
   learns.
2. ``strip_html``: HTML tags (a closed list of common tags, so ``<PHONE_NUMBER>`` placeholders and
   ``a < b`` survive) are removed; ``<br>``/``</p>`` become line breaks; entities (``&amp;``) unescaped.
3. ``strip_control``: zero-width characters (U+200B/C, U+2060, U+FEFF, soft hyphen, bidi marks) and
   control characters other than ``\\n`` and ``\\t`` are removed. A zero-width joiner between two emoji
   is kept (it builds emoji sequences).
4. Unicode normal form: NFC by default; NFKC only with ``nfkc=True`` (it rewrites ，→, and full-width
   letters, so never the default).
5. ``to_simplified`` / ``to_traditional``: OpenCC ``t2s`` / ``s2t``.
6. ``collapse_whitespace``: runs of horizontal whitespace become one space, trailing spaces on a line
   and 3+ line breaks are removed; the turn is stripped. Indentation (2+ spaces or tabs at a line start)
   and the inside of fenced code blocks are kept: Python code in an answer stays valid.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import ftfy

_FTFY = ftfy.TextFixerConfig(fix_character_width=False, uncurl_quotes=False, normalization=None,
                             explain=False, unescape_html=False)
# Characters without which ftfy has nothing to fix (Latin-1/cp1252 mojibake, C1 controls, ligatures,
# surrogates, terminal escapes, odd line breaks): plain CJK/ASCII turns skip the costly ftfy call.
_FTFY_NEEDED = re.compile(r"[\x1b\x80-\u024f\u02c6-\u02dc\u2010-\u2122\ud800-\udfff\ufb00-\ufb06\ufffd\u2028\u2029]")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200e\u200f\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069]")
_ZWJ_NOT_EMOJI = re.compile(r"(?<![\U0001F000-\U0001FAFF\u2600-\u27BF])\u200d|\u200d(?![\U0001F000-\U0001FAFF\u2600-\u27BF])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INVISIBLE_ANY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069]")
_HTML_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li|/tr|/h[1-6])\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"</?(?:a|abbr|b|blockquote|body|br|center|code|div|em|font|h[1-6]|head|hr|html|i|img|li|ol|p|pre|"
    r"section|small|span|strong|sub|sup|table|tbody|td|th|thead|tr|u|ul)(?:\s[^<>]*)?/?>", re.IGNORECASE)
_HSPACE_RUN = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0]")
_MANY_NL = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class NormalizeOptions:
    """Which parts of :func:`normalize_text` run (see module docstring)."""

    fix_unicode: bool = True
    strip_control: bool = True
    collapse_whitespace: bool = True
    nfkc: bool = False
    to_simplified: bool = False
    to_traditional: bool = False
    strip_html: bool = False


@lru_cache(maxsize=2)
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


def strip_html(text: str) -> str:
    """``text`` without common HTML tags (breaks -> newlines) and with entities unescaped."""
    if "<" not in text and "&" not in text:
        return text
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    return html.unescape(text)


def strip_invisible(text: str) -> str:
    """``text`` without zero-width and control characters (``\\n``/``\\t`` kept; ZWJ kept between emoji)."""
    if not _INVISIBLE_ANY.search(text):
        return text
    text = _ZERO_WIDTH.sub("", text)
    if "\u200d" in text:
        text = _ZWJ_NOT_EMOJI.sub("", text)
    return _CONTROL.sub("", text)


_WS_WORK = re.compile(r"[\r\t\u00a0\u2000-\u200a\u202f\u205f\u3000]|  |\n[ \n]| \n|\n\n\n")


_INDENT = re.compile(r"[ \t]*")
_FENCE = ("```", "~~~")


def collapse_ws(text: str) -> str:
    """Runs of horizontal whitespace -> one space; no trailing spaces per line; at most one blank line;
    stripped. Indentation is kept: a line's leading run of two or more spaces or tabs (code, nested
    lists) stays as it is, and lines inside a fenced code block (```) keep their inner spacing too; a
    single leading space is dropped."""
    if not _WS_WORK.search(text):
        return text.strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    fenced = False
    for line in text.split("\n"):
        if line.lstrip(" \t").startswith(_FENCE):
            fenced = not fenced
            out.append(line.rstrip(" \t\u3000"))
            continue
        if fenced:
            out.append(line.rstrip(" \t\u3000"))
            continue
        indent = _INDENT.match(line).group(0)
        rest = _HSPACE_RUN.sub(" ", line[len(indent):]).strip(" \t\u3000")
        if indent == " " or not rest:
            indent = ""
        out.append(indent + rest)
    return _MANY_NL.sub("\n\n", "\n".join(out)).strip()


def normalize_text(text: str, opts: NormalizeOptions = NormalizeOptions()) -> str:
    """One turn normalised as ``opts`` says (order in the module docstring). Never raises on text."""
    if opts.fix_unicode and _FTFY_NEEDED.search(text):
        text = ftfy.fix_text(text, _FTFY)
    if opts.strip_html:
        text = strip_html(text)
    if opts.strip_control:
        text = strip_invisible(text)
    form = "NFKC" if opts.nfkc else "NFC"
    if not unicodedata.is_normalized(form, text):
        text = unicodedata.normalize(form, text)
    if opts.to_simplified:
        text = _opencc("t2s").convert(text)
    elif opts.to_traditional:
        text = _opencc("s2t").convert(text)
    if opts.collapse_whitespace:
        text = collapse_ws(text)
    return text
