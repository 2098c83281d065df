"""Per-turn language detection, zh vs en, by script share.

A CJK character carries about as much as an English word, so a turn is ``zh`` when it has at least as
many CJK ideographs as Latin words (``请发邮件到test@example.com`` -> zh), ``en`` when it has Latin words and
fewer ideographs, and ``default`` when it has neither (digits and punctuation only).
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_lang(text: str, default: str = "en") -> str:
    """``"zh"`` or ``"en"`` for ``text`` by script share (see module docstring); ``default`` if neither."""
    n_words = len(_LATIN_WORD.findall(text))
    if n_words == 0:
        return "zh" if _CJK.search(text) else default
    # zh iff at least n_words ideographs: count them only that far (a long Chinese turn needs not be counted
    # to its end)
    n_cjk = 0
    for _ in _CJK.finditer(text):
        n_cjk += 1
        if n_cjk >= n_words:
            return "zh"
    return "en"
