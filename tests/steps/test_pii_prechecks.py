"""The analyzer's cheap prechecks (``can_match`` of the pattern recognizers) are necessary conditions of their
patterns: on generated texts full of digit runs, separators, letters and look-alikes, a recognizer whose
``can_match`` says ``False`` never has a pattern match, and analysing with the prechecks finds exactly what
the plain recognizers find."""

from __future__ import annotations

import random

import pytest
import regex

from dialog_forge.steps.pii.analyzer import PiiAnalyzer, _pattern_hits
from dialog_forge.steps.pii.context_en import EnAddressRecognizer, EnPersonCueRecognizer
from dialog_forge.steps.pii.recognizers import PATTERN_RECOGNIZERS, _ForgePatternRecognizer, digit_runs

CHECKED = [cls for cls in (*PATTERN_RECOGNIZERS, EnAddressRecognizer, EnPersonCueRecognizer)
           if cls.can_match is not _ForgePatternRecognizer.can_match]

#: Values each pattern is built for, to be cut, glued and varied by the generator.
VALUES = ["13800138000", "+86 138 0013 8000", "+8613800138000", "008613800138000", "(+86)138-0013-8000",
          "138 00138000", "1380013 8000", "010-62345678", "(0571)88886666", "(0571) 8888 6666", "+86 21 5555 6666",
          "+86(21)55556666", "00862155556666", "+86 571 8888666", "0755-3448186", "11010519491231002X",
          "110105194912310021", "110105491231002", "130503670401001", "110105 19491231 002X",
          "110105-19491231-0021", "11010519491231002x", "4111 1111 1111 1111",
          "4111111111111111", "6222 0212 3456 7890 128", "3782 822463 10005", "378282246310005", "123-45-6789",
          "123 45 6789", "123.45.6789", "123456789", "E12345678", "EA1234567", "G12345678", "H1234567890",
          "M123456789", "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "192.168.1.1", "fe80::1:2",
          "2001:db8::8a2e:370:7334", "12 Main Street", "6556 106 Rue Oak Avenue", '"name": "王小明"',
          "customer_name='Mary Johnson'", "NAME=张伟", "Dear Mary", "Dr. Wang Li", "call me John"]
PIECES = [" ", " ", "-", "-", "\u00a0", ".", "(", ")", "+", "/", ":", ",", "X", "x", "E", "G", "D", "S", "P", "H",
          "M", "A", "Z", "k", "\u212a", "\u017f", "号", "电话", "，", "。", "＃", "٣", "१", "𝟙", "86", "00", '"', "'",
          "=", "Street", " Rd.", "name", "Name"]


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.3:
                v = rng.choice(VALUES)
                if rng.random() < 0.4:  # cut or extend it
                    i = rng.randint(0, len(v))
                    v = v[:i] + rng.choice(["", "0", "12", "7", " ", "-"]) + v[i + rng.randint(0, 2):]
                parts.append(v)
            elif r < 0.6:
                parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20))))
            else:
                parts.append(rng.choice(PIECES))
        out.append("".join(parts))
    return out


TEXTS = [*_texts(6000, 1), *VALUES, *(f"号{v}，" for v in VALUES), *(f"a{v}b" for v in VALUES)]


def _allowed(rec, text: str) -> list[bool]:
    """Per pattern of ``rec``: whether its ``can_match`` lets the analyzer run it on ``text``."""
    can = rec.can_match(text, digit_runs(text) if rec.NEEDS_DIGIT_RUNS else None)
    return [can] * len(rec.patterns) if isinstance(can, bool) else list(can)


@pytest.mark.parametrize("cls", CHECKED, ids=lambda c: c.__name__)
def test_can_match_is_necessary(cls):
    rec = cls()
    patterns = [regex.compile(p.regex, flags=rec.global_regex_flags) for p in rec.patterns]
    matched = [0] * len(patterns)
    for text in TEXTS:
        allowed = _allowed(rec, text)
        assert len(allowed) == len(patterns)
        for i, rx in enumerate(patterns):
            if any(m.start() < m.end() for m in rx.finditer(text)):
                matched[i] += 1
                assert allowed[i], (cls.__name__, rec.patterns[i].name, text)
    assert min(matched) >= 20, f"the generator rarely produces {cls.__name__} matches ({matched}): the test proves little"


def test_digit_runs():
    assert digit_runs("") == ()
    assert digit_runs("电话010-62345678") == (3, 8)
    assert digit_runs("a1b22c333") == (1, 2, 3)
    assert digit_runs("13800138000") == (11,)
    assert digit_runs("编号٣123") is None  # a non-ASCII digit: run lengths prove nothing
    assert digit_runs("𝟙") is None


def _hits(rec, patterns, text) -> list | str:
    try:
        return [(r.entity_type, r.start, r.end, r.score) for r in _pattern_hits(rec, patterns, text)]
    except ValueError as e:  # iban_ok on a case-insensitive look-alike letter (K, Kelvin sign): both paths raise
        return f"ValueError: {e}"


def test_analyze_with_prechecks_equals_plain_recognizers():
    """The hits of the pattern recognizers run with their prechecks are the hits of all their patterns."""
    a = PiiAnalyzer()
    for text in TEXTS[:3000]:
        for lang in a.languages:
            for rec in a._recognizers[lang]:
                pre = a._prechecks.get(rec.id)
                if pre is None:
                    continue
                fast = pre if rec.id not in a._can_match else [p for p, ok in zip(pre, _allowed(rec, text)) if ok]
                assert _hits(rec, fast, text) == _hits(rec, pre, text), (rec.name, text)


def test_patterns_stay_far_below_the_timeout_on_short_texts():
    """``_pattern_hits`` scans texts of up to ``NO_TIMEOUT_CHARS`` characters without the regex time-out (0.1 s
    of CPU): every pattern must stay far below it there, also on inputs built to make it backtrack."""
    import itertools
    import time

    from dialog_forge.steps.pii.analyzer import NO_TIMEOUT_CHARS

    n = NO_TIMEOUT_CHARS
    units = ["a", "A", "1", "@", ".", "-", " ", "a.", "a-", "a@", "1 ", "1-", "1.", "1:", "Ab", "Ab ", '"name": "',
             "Dear ", "Mr. ", "\n", "Ab-", "1 Ab", "京A", "1:1:", "%", "+", "1年1月", "=", "'"]
    texts = [(u * n)[:n] for u in units]
    texts += [((u * 20 + v) * n)[:n] for u, v in itertools.product(units, units)]
    texts += [(u * (n // 2) + v * n)[:n] for u, v in itertools.product(units, units)]
    worst = 0.0
    for cls in (*PATTERN_RECOGNIZERS, EnAddressRecognizer, EnPersonCueRecognizer):
        rec = cls()
        for p in rec.patterns:
            rx = regex.compile(p.regex, flags=rec.global_regex_flags)
            for t in texts:
                t0 = time.process_time()
                for _ in rx.finditer(t):
                    pass
                worst = max(worst, time.process_time() - t0)
    assert worst < 0.01, f"a pattern took {worst * 1000:.1f} ms on {n} characters"
