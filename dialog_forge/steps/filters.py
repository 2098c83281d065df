"""Structure filters for dialogues: pure functions, each tied to a reject reason of ``forge clean``.

* :func:`symbol_ratio` -- share of non-text symbols in a turn (reason ``symbol_ratio``);
* :func:`longest_char_run` / :func:`max_line_repeats` -- runs of one repeated character or line
  (``repeated_chars`` / ``repeated_lines``);
* :func:`find_identity` -- AI-identity and boilerplate phrases common in scraped chat data ("As an AI
  language model", "我是由OpenAI训练的"; ``ai_identity``);
* :func:`strip_signoffs` -- canned closing sentences at the end of an assistant turn ("感谢您的咨询", "祝您
  早日康复", "I hope this helps!"; ``signoff`` unless stripped);
* :func:`window_messages` -- split an over-long dialogue into windows of at most ``max_turns`` messages,
  each keeping the system prompt and ending on an assistant turn.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache

from ..schema import Message

#: Punctuation that is ordinary text (not "symbols") in Chinese and English.
_TEXT_PUNCT = set(".,!?;:'\"()[]-–—…/%&@#+*=~_<>" "。，、；：？！“”‘’（）《》〈〉【】「」『』·～％")


_NON_TEXT = re.compile(r"[^\w\s" + re.escape("".join(sorted(_TEXT_PUNCT))) + r"]|_")
_WS = re.compile(r"\s")
_RUN = re.compile(r"(\S)\1+")


def symbol_ratio(text: str) -> float:
    """Share of non-whitespace characters that are neither letters (any script, incl. CJK), digits,
    combining marks nor common punctuation (:data:`_TEXT_PUNCT`): symbols, emoji, box drawing, private-use
    and replacement characters. 0.0 for text without non-whitespace characters."""
    if _NON_TEXT.search(text) is None:  # most turns: no candidate symbol, no need to count whitespace
        return 0.0
    n = len(text) - len(_WS.findall(text))
    if not n:
        return 0.0
    sym = [c for c in _NON_TEXT.findall(text) if c not in _TEXT_PUNCT and unicodedata.category(c)[0] not in "LNM"]
    return len(sym) / n


def longest_char_run(text: str) -> int:
    """Length of the longest run of one repeated non-space character (``"啊啊啊"`` -> 3)."""
    best = 0
    for m in _RUN.finditer(text):
        best = max(best, m.end() - m.start())
    return best if best else int(any(not c.isspace() for c in text))


@lru_cache(maxsize=8)
def _run_regex(limit: int) -> re.Pattern:
    return re.compile(r"(\S)\1{" + str(limit) + ",}")


def has_char_run(text: str, limit: int) -> bool:
    """True when some non-space character repeats more than ``limit`` times in a row (fast check)."""
    return _run_regex(limit).search(text) is not None


def texts_matching(rx: re.Pattern, texts: list[str], sep: str = "\n") -> list[bool]:
    """For each of ``texts``: whether ``rx`` may match in it -- True for every text in which
    ``rx.search`` finds a match (and possibly for one whose match runs into ``sep``). One scan over the
    texts joined by ``sep``, resuming at the next text after each hit: a pass plus one search per matching
    text, instead of one call per text. ``rx`` must not use look-behinds (a match must start where it would
    in the text alone)."""
    out = [False] * len(texts)
    if not texts:
        return out
    starts = [0] * len(texts)
    pos = 0
    for i, t in enumerate(texts):
        starts[i] = pos
        pos += len(t) + len(sep)
    joined = sep.join(texts)
    search = rx.search
    last = len(texts) - 1
    p = 0
    while (m := search(joined, p)) is not None:
        i = bisect_right(starts, m.start()) - 1
        out[i] = True
        if i == last:
            break
        p = starts[i + 1]
    return out


class CharClasses:
    """Which texts of a batch hold a character of each of some single-character classes, for a whole batch
    at once: the texts are joined, converted to code points (numpy) and looked up in a table of class bits
    over the Basic Multilingual Plane (characters above it, mostly emoji, are classified one by one).

    ``classes`` maps a name to a regex matching exactly one character (a character class such as
    ``r"[\\x00-\\x08]"`` or ``r"\\d"``); :meth:`texts_with` returns, per name, one bool per text -- the same
    as ``bool(re.search(pattern, text))``, without a regex call per text. Two extra names are always
    available: ``"ws_work"`` (what :func:`.normalize.collapse_ws` changes beyond stripping: the characters
    of class ``"ws_char"`` if given, two spaces, a space before or after a line break, three line breaks)
    is computed when ``"ws_char"`` is among the classes.
    """

    def __init__(self, classes: dict[str, str]):
        import numpy as np

        if len(classes) > 15:
            raise ValueError("at most 15 character classes (bit 15 is ws_work)")
        self.names = list(classes)
        self._rx = {name: re.compile(pat) for name, pat in classes.items()}
        bmp = "".join(map(chr, range(0x10000)))
        table = np.zeros(0x10000, dtype=np.uint16)
        for bit, name in enumerate(self.names):
            idx = np.fromiter((m.start() for m in self._rx[name].finditer(bmp)), dtype=np.int64)
            table[idx] |= np.uint16(1 << bit)
        self._table = table
        self._astral: dict[int, int] = {}

    def _bits_of(self, cp: int) -> int:
        if cp not in self._astral:
            c = chr(cp)
            self._astral[cp] = sum(1 << b for b, n in enumerate(self.names) if self._rx[n].fullmatch(c))
        return self._astral[cp]

    def texts_with(self, texts: list[str]) -> dict[str, list[bool]]:
        """``{name: [text holds a character of the class]}`` (plus ``"ws_work"``, see the class docstring)."""
        return self.joined_with("\x00".join(texts), [len(t) for t in texts])

    def joined_with(self, joined: str, lengths: list[int]) -> dict[str, list[bool]]:
        """:meth:`texts_with` of texts already joined by ``"\\x00"`` (``lengths``: their lengths)."""
        import numpy as np

        n = len(lengths)
        if not n:
            return {name: [] for name in [*self.names, "ws_work"]}
        a = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        flags = self._table.take(np.minimum(a, 0xFFFF))  # (take: about 2x faster than indexing)
        astral = np.flatnonzero(a > 0xFFFF)
        for pos in astral.tolist():
            flags[pos] = self._bits_of(int(a[pos]))
        lengths = np.asarray(lengths, dtype=np.int64)
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        flags[starts[1:] - 1] = 0  # the separators
        empty = lengths == 0
        safe_starts = np.minimum(starts, max(len(a) - 1, 0))
        if "ws_char" in self._rx:  # bit 15: what collapse_ws changes (see the class docstring)
            sp, nl = a == 32, a == 10
            work = np.zeros(len(a), dtype=bool)
            work[:-1] |= (sp[:-1] & sp[1:]) | (nl[:-1] & sp[1:]) | (sp[:-1] & nl[1:])
            work[:-2] |= nl[:-2] & nl[1:-1] & nl[2:]
            work[starts[1:] - 1] = False
            flags[work] |= np.uint16(1 << 15)
        # one OR over each text's characters gives all its class bits at once
        per = np.bitwise_or.reduceat(flags, safe_starts) if len(a) else np.zeros(n, dtype=np.uint16)
        per[empty] = 0
        # every class's bools in one array operation (one per class costs ~2 us each, on every chunk)
        bits = ((per[None, :] >> np.arange(len(self.names), dtype=np.uint16)[:, None]) & 1).astype(bool)
        out = dict(zip(self.names, bits.tolist()))
        if "ws_char" in self._rx:
            out["ws_work"] = ((per & np.uint16((1 << 15) | (1 << self.names.index("ws_char")))) != 0).tolist()
        return out


_CLASSES: CharClasses | None = None


def batch_classes() -> CharClasses:
    """The character classes used by the batch paths of ``forge clean`` (built once per process, ~0.1 s):
    what normalisation may change (``ftfy``, ``invisible``, ``ws_char``/``ws_work``), non-text symbols
    (``nontext``), the lead characters of the PII triggers (``digit``, ``cjk``, ``latin``, ``upper``, ``at``,
    ``colon``), the full-width forms the analyzer folds (``fullwidth``) and ``mo`` (模, see
    :data:`IDENTITY_PATTERNS`)."""
    global _CLASSES
    if _CLASSES is None:
        from .normalize import _FTFY_NEEDED, _INVISIBLE_ANY, _WS_CHAR

        _CLASSES = CharClasses({
            "ftfy": _FTFY_NEEDED.pattern, "invisible": _INVISIBLE_ANY.pattern, "ws_char": _WS_CHAR,
            "nontext": _NON_TEXT.pattern, "digit": r"\d", "cjk": r"[\u3400-\u9fff\uf900-\ufaff]",
            # classes of the PII triggers hold the full-width forms that fold_fullwidth turns into them
            "latin": "[A-Za-zＡ-Ｚａ-ｚ]", "upper": "[A-ZＡ-Ｚ]", "at": "[@＠]", "colon": ":",
            "fullwidth": "[０-９Ａ-Ｚａ-ｚ＠＋－．（）／＿\u3000\u00a0\u2000-\u200a\u202f\u205f]",
            "mo": "模",  # every AI-identity phrase holds a Latin letter or 模 (模型)
        })
    return _CLASSES


def char_run_candidates(texts: list[str], limit: int) -> list[bool]:
    """For each of ``texts``: False when it surely has no run of more than ``limit`` identical characters,
    True when it may (then ask :func:`has_char_run`). One vectorised pass over the whole batch (numpy,
    code points compared with their neighbours; windows of ``limit`` equal neighbours found by doubling)
    instead of a back-reference regex tried at every character of every text (about 5x faster)."""
    if limit < 1 or not texts:
        return [True] * len(texts)
    import numpy as np

    a = np.frombuffer("\x00".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    eq = a[1:] == a[:-1]  # eq[i]: a[i] == a[i + 1]
    width = 1  # eq[i] now means a[i..i + width] are all equal
    while width * 2 <= limit and eq.size:
        eq = eq[:-width] & eq[width:]
        width *= 2
    if limit > width and eq.size:
        d = limit - width
        eq = eq[:-d] & eq[d:]
    hits = np.flatnonzero(eq)
    out = [False] * len(texts)
    if hits.size:
        starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
        for i in set(np.searchsorted(starts, hits, side="right").tolist()):
            out[i - 1] = True
    return out


def max_line_repeats(text: str, min_len: int = 4) -> int:
    """How often the most frequent non-blank line of at least ``min_len`` characters occurs in ``text``."""
    counts: dict[str, int] = {}
    for ln in text.split("\n"):
        ln = ln.strip()
        if len(ln) >= min_len:
            counts[ln] = counts.get(ln, 0) + 1
    return max(counts.values(), default=0)


IDENTITY_PATTERNS = re.compile(
    r"as an ai(?: language)? model|as a (?:large )?language model|i(?:'m| am) an ai (?:language model|assistant|"
    r"developed|created|trained)|i(?:'m| am) chatgpt|(?:developed|trained|created) by openai|"
    r"我是(?:由)?openai(?:公司)?(?:训练|开发|创建)的|我是chatgpt|由openai(?:训练|开发)的|"
    r"作为一个?(?:ai|人工智能)(?:语言)?模型|我是一个?(?:ai|人工智能)语言模型",
    re.IGNORECASE,
)


#: The same, led by a look-ahead on the first characters of its branches: a case-insensitive alternation
#: has no first-character fast path of its own, so the engine tried every branch at every position
#: (about 4x slower on chat turns).
_IDENTITY_FAST = re.compile(r"(?=[aidtc我由作])(?:" + IDENTITY_PATTERNS.pattern + ")", re.IGNORECASE)


def find_identity(text: str) -> str | None:
    """The first AI-identity/boilerplate phrase in ``text`` (lower-cased), or ``None``."""
    m = _IDENTITY_FAST.search(text)
    return m.group(0).lower() if m else None


SIGNOFF_PATTERNS = re.compile(
    r"^(?:感谢(?:您的)?(?:咨询|提问|信任|来信)|谢谢(?:您的)?(?:咨询|提问|信任)|祝(?:您|你)?(?:早日(?:恢复)?(?:康复|健康)|"
    r"身体健康|健康|生活愉快|好运)|希望(?:我的|以上)?(?:回答|解答|建议)?(?:能)?对(?:您|你)有所?帮助|如(?:有|还有)(?:其他|任何)?"
    r"(?:疑问|问题)(?:[，,]?(?:请|可以|欢迎)?(?:随时)?(?:咨询|提问|联系|追问))?|请随时(?:咨询|联系|提问|追问)|以上是对.{0,60}的建议|期[待望](?:能)?对(?:您|你)有所?帮助|"
    r"(?:i )?hope (?:this|that) helps|let me know if you have any (?:other|more|further) questions|"
    r"feel free to (?:ask|reach out)|thank you for (?:your question|reaching out|contacting us)|"
    r"i wish you a (?:speedy|quick) recovery)",
    re.IGNORECASE,
)


_SIGNOFF_ANY = re.compile(r"(?=[感谢祝希如请以期ihlft])(?:" + SIGNOFF_PATTERNS.pattern[1:] + ")",
                          re.IGNORECASE)  # first-character look-ahead: see _IDENTITY_FAST
_CLAUSE = re.compile(r"[^。！？!?.，,；;\n]+[。！？!?.…，,；;]*[\n ]*|[。！？!?.…，,；;\n ]+")


def _sentences(text: str) -> list[str]:
    parts = _CLAUSE.findall(text)
    return parts or [text]


def strip_signoffs(text: str) -> tuple[str, int]:
    """``text`` without trailing canned sign-off clauses (split at 。！？.!? and ，,；;), and how many were removed.

    Only sentences at the END of the turn are removed (an opening "感谢您的咨询，" greeting followed by
    content is kept); the result is right-stripped, and a clause left ending in a comma gets a full stop
    ("防止加重症状，祝您健康。" -> "防止加重症状。").
    """
    if not _SIGNOFF_ANY.search(text[-160:]):
        return text, 0
    parts = _sentences(text)
    removed = 0
    while parts:
        tail = parts[-1].strip(" \n，,：:")
        if not tail:
            parts.pop()
            continue
        if SIGNOFF_PATTERNS.search(tail):
            parts.pop()
            removed += 1
            continue
        break
    kept = "".join(parts).rstrip(" \n")
    out = kept.rstrip("，,")
    if out != kept and out and out[-1] not in "。！？!?.…；;":  # "防止加重症状，祝您健康。": the sentence ends here now
        out += "。" if "\u4e00" <= out[-1] <= "\u9fff" else "."
    return (out, removed) if removed else (text, 0)


def window_messages(messages: list[Message], max_turns: int) -> list[list[Message]]:
    """Split ``messages`` into windows of at most ``max_turns`` messages (the leading system prompt, if
    any, is repeated in every window and counted). Each window ends on an assistant turn; turns that
    cannot end a window on an assistant turn are dropped. Returns ``[messages]`` when short enough and
    ``[]`` when no window can be formed (e.g. no assistant turn at all)."""
    if len(messages) <= max_turns:
        return [messages]
    system = [m for m in messages[:1] if m.role == "system"]
    body = messages[len(system):]
    cap = max_turns - len(system)
    if cap < 2:
        return []
    windows: list[list[Message]] = []
    i = 0
    while i < len(body):
        chunk = body[i:i + cap]
        last = max((k for k, m in enumerate(chunk) if m.role == "assistant"), default=-1)
        if last <= 0 and not (last == 0 and len(chunk) == 1):
            # no assistant turn (or only an opening one) in reach: skip to the next user turn
            nxt = next((k for k in range(1, len(chunk)) if chunk[k].role == "user"), len(chunk))
            i += max(nxt, 1)
            continue
        windows.append(system + chunk[:last + 1])
        i += last + 1
    return windows
