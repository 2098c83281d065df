"""Rule-based noise injection for zh and en text (the ``noise`` operator), seeded and reproducible.

Real users type fast: colloquial particles and fillers, typos, sloppy punctuation and odd number formats.
:func:`add_noise` imitates them. The text is cut into tokens (:func:`tokenize`); each eligible token is
changed with probability ``rate`` by one edit picked among the kinds that fit it:

========== ===============================================================================================
kind       edit
========== ===============================================================================================
filler     a sentence gets a particle before its end (zh 啊/呢/吧/嘛, 呢 for questions) or a leading filler
           (zh 嗯，/那个，; en "um, "/"uh, "/"so "); en words get chat spellings (please -> pls, you -> u)
homophone  a Han character becomes another common character with the same pinyin as it is read in
           context (pypinyin; same tone when one exists, else any tone), as a pinyin input method would
           offer it (e.g. 重置 chong2 zhi4 -> 重至)
keyboard   a Latin letter becomes a QWERTY neighbour (password -> passwird)
transpose  two adjacent inner letters of a Latin word swap (password -> passwrod)
punct      full-width <-> half-width punctuation, a dropped comma or full stop, a doubled ? or !
spacing    an extra space between Han characters, a missing space after a comma, a double space
num_format a measurement loses its separator (140/90 -> 14090) or its unit (5mg -> 5), or its digits
           turn full-width (120 -> １２０)
========== ===============================================================================================

Never corrupted: placeholders (``<PHONE_NUMBER>``, ``<PHONE_NUMBER:3fa9c2>`` from ``--pii-op hash``,
``[NAME]``, ``{{slot}}``), URLs, e-mails, names
(capitalised words inside a sentence, O'Brien-style names anywhere, all-caps acronyms, digit groups such as
``+86 138 0013 8000``, Chinese names after 我叫/我是/名叫/患者/病人/收件人/联系人... or before
先生/女士/小姐/老师/医生/经理, and any ``protect`` term), and numbers: typos never touch digits, and
``num_format`` keeps the digit sequence (after NFKC) exactly -- it only changes separators, units and
width, and never touches bare numbers of 7+ digits (phone numbers, order and account ids).

When no edit fired, the pass is repeated with the same generator (up to 8 times) and finally a
sentence-final particle or filler is added, so every call changes the text. A leading English filler
lower-cases the first word only when it is a common sentence starter (how, can, please...), so a name
opening the sentence keeps its capital. Limitation: a name opening a sentence ("Alice needs...") cannot be
told from an ordinary word without a lexicon, so it may get a typo; list such names with ``protect``.
Outputs are a pure function of
``(text, lang, rate, kinds, protect)`` and the state of ``rng``.
"""

from __future__ import annotations

import functools
import random
import re
from collections import Counter
from dataclasses import dataclass, field

NOISE_KINDS: tuple[str, ...] = ("filler", "homophone", "keyboard", "transpose", "punct", "spacing", "num_format")

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_UNITS = ("mmHg|mg|ml|mL|kg|km|cm|mm|g|%|℃|°C|元|块钱|块|岁|天|次|小时|分钟|公斤|斤|毫克|毫升|度|片|粒|周|个月")
_TOKEN = re.compile(
    rf"(?P<placeholder><[A-Z][A-Z0-9_]*(?::[0-9A-Za-z]+)?>|\[[A-Z][A-Z0-9_]*\]|\{{\{{\s*\w+\s*\}}\}})"
    rf"|(?P<url>https?://\S+|www\.\S+)"
    rf"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    rf"|(?P<number>\d+(?:[.,:/-]\d+)*(?:\s?(?:{_UNITS}))?)"
    rf"|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)?)"
    rf"|(?P<han>[{_HAN}])"
    rf"|(?P<space>\s+)"
    rf"|(?P<other>.)",
    re.DOTALL,
)
_ZH_NAME_BEFORE = re.compile(rf"(?:我叫|我是|叫做|名叫|姓名[:：]?\s*|名字是|(?:联系人|患者|病人|收件人|收货人|持卡人|户名|"
                             rf"家属)[:：]?\s*)([{_HAN}]{{2,3}})")
_ZH_SURNAME_TITLE = re.compile(rf"[{_HAN}](?:[{_HAN}]{{0,2}})(?:先生|女士|小姐|老师|医生|经理|大夫|护士|律师|同学)")
#: Digit groups split by spaces or hyphens (+86 138 0013 8000, 6222 0212 3456 7894, 010-62345678): one
#: protected span, so spacing noise cannot split a phone or card number.
_DIGIT_GROUPS = re.compile(r"(?<![\d+])\+?\d{1,4}(?:[ -]\d{2,8})+(?!\d)")
_SENT_END = "。！？!?.…~～"
_QWERTY = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_CHAT_SPELLING = {"please": "pls", "you": "u", "thanks": "thx", "are": "r", "your": "ur", "because": "cuz",
                  "okay": "ok", "really": "rly", "tomorrow": "tmr"}
_ZH_PUNCT = {"，": ",", "。": ".", "？": "?", "！": "!", "：": ":", "；": ";", "（": "(", "）": ")"}
_ZH_PUNCT_BACK = {v: k for k, v in _ZH_PUNCT.items()}
_ZH_PARTICLES = frozenset("吗呢吧啊嘛呀哦啦")
_ZH_LEADING = ("嗯，", "那个，", "呃，")
_EN_LEADING = ("um, ", "uh, ", "so ")
#: Sentence-initial words a leading filler may lower-case ("um, how do I..."); any other capitalised first
#: word may be a name (Alice, O'Brien) and keeps its capital.
_EN_LOWERABLE = frozenset((
    "how", "what", "why", "when", "where", "who", "which", "whose", "can", "could", "would", "will", "should",
    "shall", "do", "does", "did", "is", "are", "am", "was", "were", "have", "has", "had", "please", "my", "our",
    "your", "the", "a", "an", "it", "this", "that", "these", "those", "there", "hi", "hello", "hey", "thanks",
    "thank", "yes", "no", "ok", "okay", "so", "and", "but", "if", "may", "might", "i'd", "any", "some",
))


@dataclass
class NoiseResult:
    """The noised ``text`` and ``edits``: how many edits of each kind were made."""

    text: str
    edits: Counter = field(default_factory=Counter)


@dataclass
class Token:
    """A piece of text: ``kind`` is placeholder, url, email, number, word, han, space or other;
    ``protected`` tokens are copied unchanged."""

    text: str
    kind: str
    protected: bool = False
    reading: str | None = None


def _name_spans(text: str, protect: tuple[str, ...]) -> list[tuple[int, int]]:
    spans = [m.span(1) for m in _ZH_NAME_BEFORE.finditer(text)]
    spans += [m.span() for m in _DIGIT_GROUPS.finditer(text)]
    spans += [m.span() for m in _ZH_SURNAME_TITLE.finditer(text)]
    for term in protect:
        if term:
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(term), text)]
    return spans


def tokenize(text: str, protect: tuple[str, ...] = ()) -> list[Token]:
    """Cut ``text`` into :class:`Token` s and mark the protected ones (see the module docstring)."""
    spans = _name_spans(text, protect)
    toks: list[Token] = []
    sentence_start = True
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        s, e = m.span()
        prot = kind in ("placeholder", "url", "email") or any(a < e and s < b for a, b in spans)
        if kind == "word":
            w = m.group()
            if ((w[0].isupper() and not sentence_start and w != "I") or (len(w) > 1 and w.isupper())
                    or re.fullmatch(r"[A-Z]'[A-Z]\w*", w)):  # O'Brien, D'Angelo: names wherever they stand
                prot = True
        toks.append(Token(m.group(), kind, prot))
        if kind not in ("space",):
            sentence_start = kind == "other" and m.group() in _SENT_END
    return toks


@functools.lru_cache(maxsize=1)
def _pinyin_groups() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Common characters (GB2312 level 1, the 3755 most frequent) grouped by their usual pinyin, with
    tone (``zhi4``) and without (``zhi``)."""
    from pypinyin import Style, lazy_pinyin

    toned: dict[str, list[str]] = {}
    toneless: dict[str, list[str]] = {}
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes([hi, lo]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            py = lazy_pinyin(ch, style=Style.TONE3, errors="ignore")
            if py and py[0][:1].isalpha():
                toned.setdefault(py[0], []).append(ch)
                toneless.setdefault(py[0].rstrip("012345"), []).append(ch)
    return ({k: tuple(v) for k, v in toned.items()}, {k: tuple(v) for k, v in toneless.items()})


def homophones(ch: str, reading: str | None) -> tuple[str, ...]:
    """Other common characters read ``reading`` (e.g. ``zhi4``): same tone when there are any (what an
    input method lists first), else any tone. Empty when ``reading`` is unknown."""
    if not reading:
        return ()
    toned, toneless = _pinyin_groups()
    same = tuple(c for c in toned.get(reading, ()) if c != ch)
    return same or tuple(c for c in toneless.get(reading.rstrip("012345"), ()) if c != ch)


def _readings(tokens: list[Token]) -> None:
    """Set ``token.reading`` of every Han token to its pinyin in context (pypinyin's phrase dictionary
    resolves heteronyms: 重置 -> chong2 zhi4)."""
    han = [t for t in tokens if t.kind == "han"]
    if not han:
        return
    from pypinyin import Style, lazy_pinyin

    py = lazy_pinyin("".join(t.text for t in han), style=Style.TONE3, errors=lambda x: ["-"] * len(x))
    if len(py) != len(han):  # should not happen; fall back to one character at a time
        py = [(lazy_pinyin(t.text, style=Style.TONE3, errors=lambda x: ["-"]) or ["-"])[0] for t in han]
    for t, p in zip(han, py):
        t.reading = p if p[:1].isalpha() else None


def _neighbours(ch: str) -> str:
    low = ch.lower()
    for r, row in enumerate(_QWERTY):
        i = row.find(low)
        if i < 0:
            continue
        out = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
        for rr in (r - 1, r + 1):
            if 0 <= rr < len(_QWERTY):
                out += [_QWERTY[rr][j] for j in (i - 1, i) if 0 <= j < len(_QWERTY[rr])]
        out = sorted(set(out) - {low})
        return "".join(c.upper() for c in out) if ch.isupper() else "".join(out)
    return ""


def _full_width(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in s)


def _num_edits(t: str) -> list[str]:
    """Format-noised forms of the number token ``t`` (same digits in the same order)."""
    m = re.match(r"(\d+(?:[.,:/-]\d+)*)(\s?)(.*)", t, re.DOTALL)
    num, unit = m.group(1), m.group(3)
    digits = re.sub(r"\D", "", num)
    if not unit and len(digits) >= 7 and num.isdigit():
        return []  # an id or phone number: leave it alone
    out = []
    if "/" in num:
        out.append(num.replace("/", "") + m.group(2) + unit)
    if unit:
        out.append(num)
    if len(digits) < 7:
        out.append(_full_width(num) + m.group(2) + unit)
    return out


def _token_options(tok: Token, kinds: frozenset[str], prev: Token | None, nxt: Token | None) -> list[tuple[str, str]]:
    """``(kind, replacement)`` candidates for one token."""
    if tok.protected:
        return []
    t, k, opts = tok.text, tok.kind, []
    if k == "han":
        if "homophone" in kinds and homophones(t, tok.reading):
            opts.append(("homophone", None))  # replacement drawn later from the homophone list
        if "spacing" in kinds and nxt is not None and nxt.kind == "han":
            opts.append(("spacing", t + " "))
    elif k == "word":
        low = t.lower()
        if "filler" in kinds and low in _CHAT_SPELLING:
            opts.append(("filler", _CHAT_SPELLING[low]))
        if "'" in t and "punct" in kinds:
            opts.append(("punct", t.replace("'", "")))
        if len(t) >= 4 and "'" not in t:
            if "keyboard" in kinds:
                opts.append(("keyboard", None))
            if "transpose" in kinds:
                opts.append(("transpose", None))
    elif k == "number" and "num_format" in kinds:
        opts += [("num_format", x) for x in _num_edits(t)]
    elif k == "other" and "punct" in kinds:
        if t in _ZH_PUNCT:
            opts.append(("punct", _ZH_PUNCT[t]))
        elif t in _ZH_PUNCT_BACK and prev is not None and prev.kind == "han":
            opts.append(("punct", _ZH_PUNCT_BACK[t]))
        if t in "，,。":
            opts.append(("punct", ""))
        if t in "?？!！":
            opts.append(("punct", t * 2))
    elif k == "space" and "spacing" in kinds and t == " " and not (
            prev is not None and nxt is not None and prev.kind == "number" and nxt.kind == "number"):
        opts.append(("spacing", "  "))
        if prev is not None and prev.text in ",;":
            opts.append(("spacing", ""))
    return opts


def _apply(tok: Token, kind: str, repl: str | None, rng: random.Random) -> str:
    if repl is not None:
        return repl
    t = tok.text
    if kind == "homophone":
        return rng.choice(homophones(t, tok.reading))
    if kind == "keyboard":
        letters = [i for i, c in enumerate(t) if _neighbours(c)]
        i = rng.choice(letters)
        return t[:i] + rng.choice(_neighbours(t[i])) + t[i + 1:]
    if kind == "transpose":
        i = rng.randrange(1, len(t) - 2)
        return t[:i] + t[i + 1] + t[i] + t[i + 2:]
    raise AssertionError(kind)


def _is_zh(tokens: list[Token]) -> bool:
    han = sum(1 for t in tokens if t.kind == "han")
    latin = sum(len(t.text) for t in tokens if t.kind == "word")
    return han > 0 and han >= latin / 4


def _filler(tokens: list[Token], out: list[str], zh: bool, rng: random.Random) -> bool:
    """Add one particle (zh) or leading filler to ``out`` (the rendered tokens), in place."""
    if zh:
        ends = [i for i, t in enumerate(tokens) if t.kind == "other" and t.text in _SENT_END and i > 0
                and tokens[i - 1].kind == "han" and tokens[i - 1].text not in _ZH_PARTICLES]
        last = len(tokens) - 1
        while last >= 0 and tokens[last].kind == "space":
            last -= 1
        if last >= 0 and tokens[last].kind == "han" and tokens[last].text not in _ZH_PARTICLES:
            ends.append(last + 1)
        if ends and rng.random() < 0.7:
            i = rng.choice(ends)
            is_q = i < len(tokens) and tokens[i].text in "？?"
            particle = "呢" if is_q else rng.choice(("啊", "吧", "嘛"))
            if i < len(out):
                out[i] = particle + out[i]
            else:
                out.append(particle)
            return True
        out.insert(0, rng.choice(_ZH_LEADING))
        return True
    lead = rng.choice(_EN_LEADING)
    first = next((i for i, t in enumerate(tokens) if t.kind != "space"), None)
    if (first is not None and tokens[first].kind == "word" and not tokens[first].protected
            and tokens[first].text.lower() in _EN_LOWERABLE):
        out[first] = out[first][:1].lower() + out[first][1:]
    out.insert(0, lead)
    return True


def add_noise(text: str, *, rng: random.Random, rate: float = 0.1, kinds: tuple[str, ...] | list[str] = NOISE_KINDS,
              protect: tuple[str, ...] = ()) -> NoiseResult:
    """Noised copy of ``text`` (see the module docstring). ``rate`` in (0, 1]: the chance that each
    eligible token (and each sentence, for fillers) is edited. Raises ``ValueError`` for an unknown kind or
    a rate outside (0, 1]."""
    bad = set(kinds) - set(NOISE_KINDS)
    if bad:
        raise ValueError(f"unknown noise kinds {sorted(bad)}; choose among {list(NOISE_KINDS)}")
    if not 0 < rate <= 1:
        raise ValueError(f"rate must be in (0, 1], got {rate}")
    kset = frozenset(kinds)
    tokens = tokenize(text, tuple(protect))
    if "homophone" in kset:
        _readings(tokens)
    zh = _is_zh(tokens)
    options = [_token_options(t, kset, tokens[i - 1] if i else None, tokens[i + 1] if i + 1 < len(tokens) else None)
               for i, t in enumerate(tokens)]
    n_sent = max(1, sum(1 for t in tokens if t.kind == "other" and t.text in _SENT_END))
    for _ in range(8):
        edits: Counter = Counter()
        out = [t.text for t in tokens]
        for i, (tok, opts) in enumerate(zip(tokens, options)):
            if opts and rng.random() < rate:
                kind, repl = opts[rng.randrange(len(opts))]
                new = _apply(tok, kind, repl, rng)
                if new != tok.text:
                    out[i] = new
                    edits[kind] += 1
        if "filler" in kset and text.strip():
            for _ in range(n_sent):
                if rng.random() < rate:
                    edits["filler"] += _filler(tokens, out, zh, rng)
                    break
        if edits:
            return NoiseResult("".join(out), edits)
    if not text.strip():
        return NoiseResult(text, Counter())
    out = [t.text for t in tokens]
    _filler(tokens, out, zh, rng)
    return NoiseResult("".join(out), Counter({"filler": 1}))
