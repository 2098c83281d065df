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
from ftfy.badness import BADNESS_RE
from ftfy.chardata import CONTROL_CHARS, LIGATURES

_FTFY = ftfy.TextFixerConfig(fix_character_width=False, uncurl_quotes=False, normalization=None,
                             explain=False, unescape_html=False)
# Characters without which ftfy has nothing to fix (Latin-1/cp1252 mojibake, C1 controls, ligatures,
# surrogates, terminal escapes, odd line breaks): plain CJK/ASCII turns skip the costly ftfy call.
# Also ftfy's line-break fix (\r) and the control characters it removes (ASCII controls, BOM, U+FFF9-FFFC):
# found in testing, "\r\n" stayed with --no-collapse-whitespace and U+FFFC stayed by default.
_FTFY_NEEDED = re.compile(r"[\x1b\x80-\u024f\u02c6-\u02dc\u2010-\u2122\ud800-\udfff\ufb00-\ufb06\ufffd\u2028\u2029\r"
                          + "".join(re.escape(chr(c)) for c in sorted(CONTROL_CHARS) if c > 0) + r"\x00]")


def _ftfy_would_change(text: str) -> bool:
    """False when ``ftfy.fix_text(text, _FTFY)`` provably returns ``text`` unchanged: its encoding fix only
    runs on texts its own mojibake detector (``ftfy.badness.is_bad``) flags, and its other fixers only touch
    the characters of :data:`_FTFY_OTHER` (C1 controls, ligatures, odd line breaks, surrogates, terminal
    escapes, the control characters ftfy removes). Plain text with Latin-1 symbols, curly quotes or dashes
    (``38.5°C``, ``“…”``, ``—``) then skip the costly ``fix_text`` call (about 0.25 ms per long turn)."""
    if len(text) > _FTFY.max_decode_length or _FTFY_OTHER.search(text) is not None:
        return True
    if _BAD_WINDOWS is None:
        return _BADNESS_LINES.search(text) is not None
    # every badness match holds one of its own non-ASCII characters and is at most `width` long: search
    # only the windows around those characters (``^`` keeps its meaning with search's pos/endpos)
    chars, width = _BAD_WINDOWS
    return any(_BADNESS_LINES.search(text, max(0, m.start() - width + 1), m.start() + width) is not None
               for m in chars.finditer(text))


def _badness_windows() -> tuple[re.Pattern, int] | None:
    """``(class of characters, maximum match length)`` such that every match of ftfy's ``BADNESS_RE`` holds
    a character of the class: each alternative of the pattern has a mandatory element that matches only
    non-ASCII characters (checked on the parsed pattern); ``None`` when that cannot be shown (another ftfy
    version), in which case the whole text is searched."""
    try:
        try:
            import re._constants as c
            import re._parser as sp
        except ImportError:  # Python < 3.11
            import sre_constants as c  # type: ignore[no-redef]
            import sre_parse as sp  # type: ignore[no-redef]
        tree = list(sp.parse(BADNESS_RE.pattern, BADNESS_RE.flags))
        width = sp.parse(BADNESS_RE.pattern, BADNESS_RE.flags).getwidth()[1]
        if len(tree) != 1 or tree[0][0] is not c.BRANCH or width > 64:
            return None
        chars: set[int] = set()
        for alt in tree[0][1][1]:
            for op, av in alt:
                got: set[int] = set()
                if op is c.LITERAL:
                    got = {av}
                elif op is c.IN and all(o in (c.LITERAL, c.RANGE) for o, _ in av):
                    for o, a in av:
                        got |= {a} if o is c.LITERAL else set(range(a[0], a[1] + 1))
                if got and min(got) > 127:
                    chars |= got
                    break
            else:
                return None
        return re.compile("[" + "".join(re.escape(chr(x)) for x in sorted(chars)) + "]"), width
    except Exception:  # noqa: BLE001 - any surprise in ftfy's internals: fall back to the full search
        return None


#: ``ftfy.badness.is_bad`` applied per line, as ``fix_text`` applies it per line-segment (its ``^`` anchors
#: a line start there).
_BADNESS_LINES = re.compile(BADNESS_RE.pattern, BADNESS_RE.flags | re.MULTILINE)
_BAD_WINDOWS = _badness_windows()


_FTFY_OTHER = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(
    {*range(0x80, 0xA0), *LIGATURES, *CONTROL_CHARS, 0x0D, 0x1B, 0x85, 0x2028, 0x2029}))
    + "\ud800-\udfff]")
_ZERO_WIDTH = re.compile(r"[\u200b\u200e\u200f\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069]")
#: Scripts in which ZWNJ (U+200C) is spelling, not noise: Arabic/Persian and the Indic scripts (می‌خواهم).
_ZWNJ_SCRIPTS = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufeff"
_ZWNJ_NOT_JOINING = re.compile(rf"(?<![{_ZWNJ_SCRIPTS}])\u200c|\u200c(?![{_ZWNJ_SCRIPTS}])")
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
    """``text`` without zero-width and control characters (``\\n``/``\\t`` kept; ZWJ kept between emoji, ZWNJ
    between letters of the scripts that spell with it: Persian, Arabic, Indic)."""
    if not _INVISIBLE_ANY.search(text):
        return text
    text = _ZERO_WIDTH.sub("", text)
    if "\u200c" in text:
        text = _ZWNJ_NOT_JOINING.sub("", text)
    if "\u200d" in text:
        text = _ZWJ_NOT_EMOJI.sub("", text)
    return _CONTROL.sub("", text)


#: Whitespace characters :func:`collapse_ws` always rewrites (the one-character part of :data:`_WS_WORK`).
_WS_CHAR = r"[\r\t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
#: What :func:`collapse_ws` changes beyond ``str.strip``: odd spaces, tabs and CR, double spaces, a line's
#: leading or trailing space, 3+ line breaks (a plain blank line, ``\n\n``, is left alone: no work).
_WS_WORK = re.compile(_WS_CHAR + r"|  |\n | \n|\n\n\n")


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
    if opts.fix_unicode and _FTFY_NEEDED.search(text) and _ftfy_would_change(text):
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


def normalize_many(texts: list[str], opts: NormalizeOptions = NormalizeOptions()) -> list[str]:
    """``[normalize_text(t, opts) for t in texts]``, faster on a batch: the quick tests that tell which texts
    need any work (ftfy-relevant characters, invisible characters, whitespace to collapse, a non-NFC
    character) run once over the batch (:class:`.filters.CharClasses`, a table look-up per character); the
    other texts are only stripped. OpenCC and HTML stripping, when on, run per text."""
    if opts.strip_html or opts.to_simplified or opts.to_traditional or len(texts) < 2:
        return [normalize_text(t, opts) for t in texts]
    from .filters import batch_classes

    form = "NFKC" if opts.nfkc else "NFC"
    joined = "\x00".join(texts)
    if not unicodedata.is_normalized(form, joined):
        return [normalize_text(t, opts) for t in texts]
    has = batch_classes().joined_with(joined, [len(t) for t in texts])
    need = [False] * len(texts)
    for on, name in ((opts.fix_unicode, "ftfy"), (opts.strip_control, "invisible"),
                     (opts.collapse_whitespace, "ws_work")):
        if on:
            need = [a or b for a, b in zip(need, has[name])]
    strip = opts.collapse_whitespace
    ftfy_ = has["ftfy"] if opts.fix_unicode else [False] * len(texts)
    inv = has["invisible"] if opts.strip_control else [False] * len(texts)
    return [_normalize_known(t, opts, f, i) if n else (t.strip() if strip else t)
            for t, n, f, i in zip(texts, need, ftfy_, inv)]


def _normalize_known(text: str, opts: NormalizeOptions, ftfy_chars: bool, invisible: bool) -> str:
    """``normalize_text(text, opts)`` for a text known to be NFC (``opts.nfkc`` off) or NFKC (on), with no
    HTML stripping or script conversion, and known to hold characters of :data:`_FTFY_NEEDED` only where
    ``ftfy_chars`` and of :data:`_INVISIBLE_ANY` only where ``invisible`` (with ``opts`` off, False). When ftfy
    leaves it as it is (:func:`_ftfy_would_change`) and there is nothing invisible, the only step left that may
    change it is :func:`collapse_ws`: the regex checks ``normalize_text`` repeats are skipped."""
    if (ftfy_chars and _ftfy_would_change(text)) or invisible:
        return normalize_text(text, opts)
    return collapse_ws(text) if opts.collapse_whitespace else text
