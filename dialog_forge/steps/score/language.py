"""Language check by script share plus length rules, and the per-script tokeniser the scorers share.

Scripts are read from Unicode code-point ranges (no model): Han (CJK ideographs), kana (Japanese),
Hangul (Korean), Cyrillic, Arabic, Latin. Shares are taken over *letter tokens* (:func:`tokenize`: each
CJK character, or each word of another script, counts once -- a Chinese character is closer to a word
than to a Latin letter, so ``"我的iPhone 15 Pro Max坏了"`` is 4 Han tokens against 3 Latin words, i.e.
Chinese). Digits, punctuation and spaces are ignored. Rules:

1. Any kana among the letters -> ``ja``; Hangul share >= 0.3 -> ``ko``.
2. Han share >= 0.3 -> ``zh``. **Short lines**: with fewer than 10 letter tokens, a single Han character and no
   kana or Hangul is enough for ``zh`` -- so ``"好的"``, ``"谢谢"`` or ``"OK，好的"`` are never called
   Japanese or English (a short Chinese line has no kana to tell it from Japanese, and kana decide ``ja``).
3. Cyrillic share >= 0.5 -> ``ru``; Arabic share >= 0.5 -> ``ar``.
4. Latin share >= 0.5 -> ``en`` (the toolkit's data are Chinese and English; a Latin-script text is taken as
   English -- a model-based detector is needed to tell French from English).
5. Otherwise, or with no letters at all, ``und`` (undetermined).
"""

from __future__ import annotations

import re
from collections import Counter

#: Tokens: one CJK ideograph / kana / Hangul syllable each, or a run of other word characters.
_TOKEN_RE = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]"  # Han
    r"|[\u3040-\u30ff]"  # kana
    r"|[\uac00-\ud7af]"  # Hangul syllables
    r"|[^\W\d_\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+(?:['’][^\W\d_]+)*"
    r"|\d+(?:[.,]\d+)*"
)


def script_of(ch: str) -> str | None:
    """Script code of one character: ``han``, ``kana``, ``hangul``, ``cyrillic``, ``arabic``, ``latin``,
    ``other`` (another letter) or ``None`` (not a letter: digits, punctuation, space)."""
    o = ord(ch)
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF:
        return "han"
    if 0x3040 <= o <= 0x30FF:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
        return "hangul"
    if not ch.isalpha():
        return None
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if 0x0600 <= o <= 0x06FF:
        return "arabic"
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    return "other"


def script_shares(text: str) -> tuple[Counter, int]:
    """``(counts per script, number of letter tokens)`` over the letter tokens of ``text`` (each token's
    script is that of its first character; digit tokens are skipped)."""
    c: Counter = Counter()
    for tok in _TOKEN_RE.findall(text):
        s = script_of(tok[0])
        if s is not None:
            c[s] += 1
    return c, sum(c.values())


#: With fewer letter tokens than this, the short-line rule (2) applies.
SHORT_LINE_LETTERS = 10


def detect_language(text: str) -> str:
    """ISO-639-1 code (``zh``, ``en``, ``ja``, ``ko``, ``ru``, ``ar``) or ``und`` for ``text``, by the rules
    in the module docstring."""
    c, n = script_shares(text)
    if n == 0:
        return "und"
    if c["kana"]:
        return "ja"
    if c["hangul"] / n >= 0.3:
        return "ko"
    if c["han"] and (c["han"] / n >= 0.3 or n < SHORT_LINE_LETTERS):
        return "zh"
    for script, code in (("cyrillic", "ru"), ("arabic", "ar"), ("latin", "en")):
        if c[script] / n >= 0.5:
            return code
    return "und"


def dialogue_language(texts: list[str]) -> str:
    """Language of a dialogue: :func:`detect_language` of all its turns joined (so one short English
    acknowledgement in a Chinese dialogue does not change the verdict)."""
    return detect_language("\n".join(texts))


def cjk_share(text: str) -> float:
    """Share of Han + kana + Hangul among the letter tokens of ``text`` (0.0 when there are none)."""
    c, n = script_shares(text)
    return (c["han"] + c["kana"] + c["hangul"]) / n if n else 0.0


def tokenize(text: str) -> list[str]:
    """Per-script tokens, lower-cased: each CJK ideograph, kana or Hangul syllable is a token (character
    tokenisation, no segmenter needed); other scripts split into words (apostrophes kept inside words);
    digit groups are one token. Punctuation and spaces are dropped."""
    return [t.lower() for t in _TOKEN_RE.findall(text)]
