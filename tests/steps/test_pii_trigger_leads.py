"""The batch trigger scan (``PiiAnalyzer.fired_triggers_batch``: lead table + regex at the leads) equals the
plain per-text scan (``fired_triggers``) on tricky inputs, and every trigger match starts with its lead."""

from __future__ import annotations

import random
import re

import pytest

from dialog_forge.steps.pii.analyzer import _LEADS, PiiAnalyzer, fold_fullwidth
from dialog_forge.steps.pii.context_zh import ALL_SURNAMES, COMPOUND_SURNAMES
from dialog_forge.steps.pii.entities import ALL_ENTITIES

#: Pieces around every trigger's lead: cue words, look-alikes, separators, full-width and odd characters.
PIECES = [
    "我叫", "名叫", "叫做", "姓名", "名字是", "联系人", "收件人", "户名", "开户名", "持卡人", "签名", "我是", "患者", "病人",
    "本人", "家属", "先生", "女士", "小姐", "老师", "医生", "大夫", "主任", "阿姨", "护士", "住在", "住址", "地址", "寄到",
    "居住在", "送往", "北京", "上海", "黑龙江", "江西", "内蒙古自治区", "广东省", "市", "区", "县", "路", "号", "朝阳区", "苏州市姑苏区",
    "长安市东城区", "市场",
    "：", ":", " ", "，", "。", "\u3000", "\xa0", "\n", "\x00", "（", "）", "(", ")", "-", ".", "/", "．", "－", "+86",
    "Dr.", "dr ", "Mr", "MRS. ", "Ms", "miss", "Prof.", "patient", "CONTACT", "name", "NAME:", "rename", "names", "Dear",
    "Sincerely,", "regards", "signed", "call me", "cAll Me", "mſ", "\u017fincerely", "\u212a", "İ", "ı", "Ｄｒ",
    "ｎａｍｅ", "ＮＡＭＥ", "Ｍｒ", "Wang", "Li Na", "José", "@", "＠", "a@b.com", "1.2", "1．2", "fe80::1", "A:B:", "::",
    "京A12345", "粤Ｂ", "沪", "A", "Z", "ab", "12 Main", "３ Oak", "1 St", "www.", "WWW．", "http://", "2023", "２０２３",
    "13800138000", "１３８　００１３　８０００", "138 0013 8000", "010-6234", "٣٣٣٣٣٣٣", "𝟙𝟚𝟛𝟜𝟝𝟞𝟟", "😀", "\ud800",
    "\uffff", "的", "了", "严重", "男", "女", "31岁", "，男，", "张", "王小明", "欧阳",
]


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    surnames = sorted(ALL_SURNAMES | COMPOUND_SURNAMES)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(0, 8)):
            r = rng.random()
            if r < 0.55:
                parts.append(rng.choice(PIECES))
            elif r < 0.7:
                parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12))))
            elif r < 0.85:
                parts.append(rng.choice(surnames))
            else:
                parts.append("".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(1, 3))))
        out.append("".join(parts))
    return out


TRICKY = [
    "", " ", "\x00", "a", "1", "名", "我叫", "我叫王", "王先生", "先生", "Dr", "dr.", "name", "xname", "name1", "1234567",
    "123456", "1 2 3 4 5 6 7", "1  2  3  4  5  6  7", "1   2   3   4   5   6   7", "１２３４５６７", "1.2", "1.",
    ".2", "a:b:", ":", "京A", "京a", "A京A", "12 Ma", "12 MA", "@", "＠", "我是张", "患者\x00张", "我\x00叫王",
    "Dr\x00Wang", "123\x004567", "北京\x00市区", "请联系Dr. Wang", "收件人：Mary", "病人王伟，男", "call me Bob",
    "CALL ME", "mſ", "dſ", "mr\u017f", "Mr𝔘", "😀😀", "\ud800\udfff", "江西省南昌市", "黑龙江西省",
]


@pytest.fixture(scope="module")
def analyzer() -> PiiAnalyzer:
    return PiiAnalyzer()


def _pats(fired):
    return [[rx.pattern for rx, _ in f] for f in fired]


def test_batch_equals_single_on_tricky_texts(analyzer):
    single = [[rx.pattern for rx, _ in analyzer.fired_triggers(t)] for t in TRICKY]
    assert _pats(analyzer.fired_triggers_batch(TRICKY)) == single
    for t, want in zip(TRICKY, single):  # batches of one: the text is first and last at once
        assert _pats(analyzer.fired_triggers_batch([t])) == [want], repr(t)
    assert analyzer.fired_triggers_batch([]) == []


@pytest.mark.parametrize("entities", [None, [e for e in ALL_ENTITIES if e != "LOCATION"],  # (LOCATION needs a model)
                                      ["PERSON", "URL", "DATE_TIME", "IP_ADDRESS", "ADDRESS"]])
def test_batch_equals_single_on_generated_texts(analyzer, entities):
    a = analyzer if entities is None else PiiAnalyzer(entities=entities)
    texts = _texts(3000, 11)
    single = [[rx.pattern for rx, _ in a.fired_triggers(t)] for t in texts]
    assert sum(map(bool, single)) > 1000
    assert _pats(a.fired_triggers_batch(texts)) == single
    rng = random.Random(5)
    i = 0
    while i < len(texts):  # batches of varied sizes: texts at every position of a batch
        n = rng.choice([1, 2, 3, 17, 200])
        assert _pats(a.fired_triggers_batch(texts[i:i + n])) == single[i:i + n]
        i += n


def test_every_trigger_match_starts_with_its_lead():
    """For each trigger of :data:`_LEADS`: wherever it matches (at ``s``), the folded text has a character of
    the lead's first class at ``s - back`` and one of its second class after it (after a text's last character
    comes the batch's separator, ``"\\x00"``)."""
    texts = [fold_fullwidth(t) + "\x00" for t in (*TRICKY, *_texts(4000, 3))]
    for pattern, (first, second, back, _refine, _scan) in _LEADS.items():
        rx, c1, c2 = re.compile(pattern), re.compile(first), re.compile(second)
        n = 0
        for t in texts:
            for s in range(len(t) + 1):
                if rx.match(t, s, len(t) - 1):
                    n += 1
                    i = s - back
                    assert i >= 0 and c1.fullmatch(t[i]) and c2.fullmatch(t[i + 1]), (pattern, t, s)
        assert n > 0, f"no match of {pattern[:40]!r} generated"
