"""The batch fast path of the safety gate (:class:`safety._KeyFilter` in :meth:`SafetyGate.check_many`) gives
exactly the hits of the plain per-text check, on inputs chosen to break a pre-filter."""

from __future__ import annotations

import random

import pytest

from dialog_forge.steps import safety
from dialog_forge.steps.safety import SafetyGate


@pytest.fixture(scope="module")
def gate() -> SafetyGate:
    g = SafetyGate()
    assert g._filter is not None  # the shipped lexicons use the fast path
    return g


def plain(g: SafetyGate, texts: list[str]) -> list[list[str]]:
    return [g.check(t) for t in texts]


TRICKY = [
    "", " ", "\n", "kill you", "KILL YOU", "Kill\n\t  You!", "skill you", "kill youth", "I will kill",
    "i  will\u3000kill", "i\u2028will kill", "\u212aill you",  # Kelvin sign lower-cases to k
    "\u0130 will kill", "I\u0307 will kill", "ΣΣ kill you Σ", "how to murder", "how tomurder",
    "beat him to death", "beat him up", "beat up", "beat upset",  # longest at a start, then word boundary
    "pornography", "porn", "pornographyx", "xporn", "porn-star", "3d printed gun", "self-harm tips",
    "冰毒", "买冰毒", "k粉", "K粉", "Ｋ粉", "ｋｉｌｌ ｙｏｕ",  # full-width forms are other characters
    "毒品", "静脉注射毒品", "远离毒品，拒绝毒品", "静脉注射毒品冰毒", "分尸体肝移植", "把人分尸", "av女优", "AV女优",
    "我想死", "我想死了kill you", "kill you我想死", "杀了你kill", "怎么自杀", "怎么 自杀", "怎么\n自杀",
    "nigger", "n1gger", "N1GGER.", "heil hitler", "heil  hitler", "heil\nhitler", "heilhitler",
    "\ud800 kill you", "kill you\udfff", "emoji 😀 kill you 😀", "kill\u200byou", "kill\u00a0you",
    "child porn links", "cp links", "buy a gun illegally", "buy a gun", "make a bomb at home",
]


def test_tricky_texts_as_one_batch(gate):
    assert gate.check_many(TRICKY) == plain(gate, TRICKY)
    assert any(plain(gate, TRICKY)) and not all(plain(gate, TRICKY))


@pytest.mark.parametrize("i", range(len(TRICKY)))
def test_each_tricky_text_among_innocent_ones(gate, i):
    texts = ["hello there", TRICKY[i], "请问高血压吃什么药？"]
    assert gate.check_many(texts) == plain(gate, texts)
    texts = [TRICKY[i], ""]  # at the batch's start, and at its end
    assert gate.check_many(texts) == plain(gate, texts)
    assert gate.check_many(texts[::-1]) == plain(gate, texts[::-1])
    assert gate.check_many([TRICKY[i]]) == plain(gate, [TRICKY[i]])  # a batch of one


def test_random_batches_of_term_fragments(gate):
    rnd = random.Random(7)
    terms = sorted(gate._category_of)
    pieces = [*terms, *(t[:len(t) // 2] for t in terms), *(t[len(t) // 2:] for t in terms),
              "静脉注射", "尸体", "远离", " ", "  ", "\n", "\t", "a", "X", "1", "，", "-", "İ", "Σ", "\u212a", "的", "怎么"]
    for _ in range(300):
        texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6))) for _ in range(rnd.randint(1, 8))]
        texts = [t.upper() if rnd.random() < 0.2 else t for t in texts]
        assert gate.check_many(texts) == plain(gate, texts), texts


def test_user_lexicons_one_character_terms_and_sigma(tmp_path):
    (tmp_path / "hate.txt").write_text("x\nσκατά\nfoo bar\n", encoding="utf-8")
    g = SafetyGate([str(tmp_path / "hate.txt")])
    assert g._filter is None  # a one-character term: every text is scanned
    texts = ["x marks", "ΣΚΑΤΆ", "foo  bar", "boxes", ""]
    assert g.check_many(texts) == plain(g, texts) == [["hate"], ["hate"], ["hate"], [], []]
    (tmp_path / "hate.txt").write_text("σκατά\nfoo bar\nάς\n", encoding="utf-8")
    g = SafetyGate([str(tmp_path / "hate.txt")])
    assert g._filter is not None
    texts = ["ΣΚΑΤΆ", "skata", "ΆΣ", "ΆΣΑ", "foo  bar", "FOO\nBAR", "foobar", "ά ς"]
    assert g.check_many(texts) == plain(g, texts)
    assert g.check_many(texts)[:2] == [["hate"], []]
    (tmp_path / "hate.txt").write_text("taxi\n", encoding="utf-8")  # İ lower-cases to i + U+0307
    g = SafetyGate([str(tmp_path / "hate.txt")])
    texts = ["TAX\u0130", "TAXI", "taxİs", "ta xi", ""]
    assert g.check_many(texts) == plain(g, texts) == [["hate"], ["hate"], ["hate"], [], []]  # "taxi\u0307s"


def test_keys_and_lower_table():
    assert safety._rarest_key("kill you") == "kill"
    assert safety._rarest_key("我想死") == "我想死"
    assert safety._rarest_key("a b") is None and safety._rarest_key("x") is None
    lower = safety._lower_codes()
    for x in range(0x110000):
        lo = chr(x).lower()
        want = ord(lo) if len(lo) == 1 and x != 0x3A3 else 0xFFFFFFFF
        assert lower[x] == want, hex(x)
