"""``normalize_many`` (batch fast path: class look-ups, redundant regex checks skipped) equals ``normalize_text``
per text, on inputs that exercise every step."""

from __future__ import annotations

import pytest

from dialog_forge.steps.normalize import NormalizeOptions, normalize_many, normalize_text

TRICKY = [
    "", " ", "\n\n\n", "plain text", "  padded  ", "two  spaces", "line \n next", "a\n\n\n\nb", "tab\there",
    "crlf\r\nline", "nbsp\u00a0here", "ideographic\u3000space", "“curly” — 38.5°C", "æ‰‹æœºå·", "cafÃ©",
    "zero\u200bwidth", "soft\u00adhyphen", "ctrl\x07char", "bom\ufeffhere", "emoji 👨\u200d👩 zwj", "a\u200db",
    "ﬁ ligature", "ｆｕｌｌ　width", "中文，标点。", "```\ncode  block\n```\n  indented", "e\u0301 decomposed",
    "\x85next line", "\u2028sep", "Â\xa0nbsp mojibake",
]


@pytest.mark.parametrize("opts", [
    NormalizeOptions(), NormalizeOptions(nfkc=True), NormalizeOptions(fix_unicode=False),
    NormalizeOptions(strip_control=False), NormalizeOptions(collapse_whitespace=False),
])
def test_normalize_many_equals_per_text(opts):
    plain = [normalize_text(t, opts) for t in TRICKY]
    assert normalize_many(TRICKY, opts) == plain
    for i, t in enumerate(TRICKY):  # each among NFC-clean neighbours (the batch path), and alone
        batch = ["hello", t, "请问"]
        assert normalize_many(batch, opts) == [normalize_text(x, opts) for x in batch]
        assert normalize_many([t], opts) == [plain[i]]
