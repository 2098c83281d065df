"""The batch paths of ``forge clean`` give the same answers as the per-text functions they speed up.

Each fast path (one scan over a whole batch, a pre-check that skips work) is compared with the plain
function on texts built to hit its edge cases: separators, CJK next to digits, full-width digits, mojibake,
whitespace runs, lexicon terms at word boundaries, overlapping PII spans.
"""

from __future__ import annotations

import random
import re

import ftfy
import pytest
from faker import Faker
from presidio_anonymizer.entities import OperatorConfig

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps import filters
from dialog_forge.steps.clean import CleanConfig, Cleaner
from dialog_forge.steps.normalize import _FTFY, NormalizeOptions, _ftfy_would_change, normalize_many, normalize_text
from dialog_forge.steps.pii.analyzer import PiiAnalyzer
from dialog_forge.steps.pii.anonymize import DialogueAnonymizer
from dialog_forge.steps.pii.context_zh import ADDRESS_TRIGGERS, PERSON_TRIGGERS, find_zh_addresses, find_zh_names
from dialog_forge.steps.safety import SafetyGate

#: Texts with PII and look-alikes, next to CJK characters and full-width punctuation.
PII_TEXTS = [
    "我叫王小明，手机号是13800138000，麻烦回电。", "13912345678打不通，换个号？", "有事找我（１３８００１３８０００），下午都在。",
    "患者张伟，男，45岁，身份证号11010519491231002X，主诉头痛。", "联系人：欧阳娜娜，座机010-62345678。",
    "退款请打到6222021234567890128，户名李雷。", "请寄到北京市朝阳区建国路88号 100022，收件人韩梅梅。",
    "call me at +1 415 555 0132 or mail bob@example.org", "Dear Mr. Smith, my SSN is 078-05-1120.",
    "IBAN DE89 3704 0044 0532 0130 00，请核对。", "登录IP是192.168.1.23，还有fe80::1:2。", "车牌京A12345停在B2层。",
    "血压140/90，ALT 120 U/L，订单号6222021234567890129。", "v2.3.15版本，2024-03-15复诊，花了12,800元。",
    "张医生说明天复查", "找李老师", "我是江苏人", "患者严重贫血", "学名叫什么", "我叫厍婷婷，想挂号。",
    "患者钭秀梅，女，43岁。", "江西省郑州市海陵兰州街n座 912672那边停水了吗？", "住在上海市浦东新区世纪大道100号",
    "", "。", "1", "name", "市", "a@b", "12 Main Street",
]


@pytest.fixture(scope="module")
def analyzer() -> PiiAnalyzer:
    return PiiAnalyzer()


def _mixed_texts(n: int, seed: int) -> list[str]:
    """Random concatenations of the texts above and of separators/whitespace (the batch joins must never
    let a match cross from one text into the next)."""
    rng = random.Random(seed)
    bits = PII_TEXTS + ["\n", " ", "  ", "\n\n\n", "\x00", "，", "8", "8888888", "Ã©", "\u200b", "—", "“好”"]
    return ["".join(rng.choice(bits) for _ in range(rng.randint(0, 4))) for _ in range(n)]


def test_fired_triggers_batch_equals_per_text(analyzer):
    texts = PII_TEXTS + _mixed_texts(400, seed=1)
    batch = analyzer.fired_triggers_batch(texts)
    assert [[t[0].pattern for t in f] for f in batch] == [
        [t[0].pattern for t in analyzer.fired_triggers(x)] for x in texts]
    assert any(batch) and not all(batch)


def test_zh_cue_triggers_fire_wherever_the_recognizers_find_something():
    """The cheap triggers of .context_zh are necessary conditions of the recognizers: a text on which no
    trigger fires is never analysed, so a miss here would be a silent PII leak."""
    fake = Faker("zh_CN")
    fake.seed_instance(3)
    texts = list(PII_TEXTS)
    for _ in range(300):
        name, addr = fake.name(), fake.address()
        texts += [f"我叫{name}。", f"患者{name}今天来了", f"{name[0]}医生", f"找{name}老师", f"{addr}那边",
                  f"寄到{addr}", f"收件人：{name}", f"{fake.city()}{fake.district()}区{fake.street_name()}"]
    person = [re.compile(p) for p in PERSON_TRIGGERS]
    address = [re.compile(p) for p in ADDRESS_TRIGGERS]
    n_names = n_addr = 0
    for t in texts:
        if find_zh_names(t):
            n_names += 1
            assert any(p.search(t) for p in person), t
        if find_zh_addresses(t):
            n_addr += 1
            assert any(p.search(t) for p in address), t
    assert n_names > 500 and n_addr > 300
    # and they are selective: ordinary medical text with cue words but no name fires none
    assert not any(p.search("患者出现贫血，医生建议住院，市里的病人很多。") for p in person + address)


def test_normalize_many_equals_normalize_text():
    rng = random.Random(2)
    bits = ["a", "中", " ", "\n", "\t", "Ã", "©", "â€œ", "°", "“", "\u00a0", "\r\n", "\x85", "ﬁ", "\u3000", "```",
            "  x", "\u200b", "\x07", "e\u0301", "\n\n\n", "æ‰‹æœºå·"]
    texts = ["".join(rng.choice(bits) for _ in range(rng.randint(0, 10))) for _ in range(2000)]
    for opts in (NormalizeOptions(), NormalizeOptions(nfkc=True), NormalizeOptions(collapse_whitespace=False),
                 NormalizeOptions(fix_unicode=False, strip_control=False)):
        assert normalize_many(texts, opts) == [normalize_text(t, opts) for t in texts]


def test_ftfy_gate_skips_only_texts_ftfy_leaves_alone():
    for t in ["38.5°C “你好” — ok", "plain ×2 μg", "—", "“引号”"]:
        assert not _ftfy_would_change(t) and ftfy.fix_text(t, _FTFY) == t
    for t in ["sÃ³", "æ‰‹æœºå·", "\nÃ ", "ﬁne", "a\r\nb"]:  # mojibake (also at a line start), ligature, CR
        assert _ftfy_would_change(t) and ftfy.fix_text(t, _FTFY) != t


def test_texts_matching_and_char_runs():
    texts = _mixed_texts(500, seed=4) + ["啊" * 51, "啊" * 50, " " * 80, "x" * 7]
    rx = filters._NON_TEXT
    flags = filters.texts_matching(rx, texts)
    assert all(f for t, f in zip(texts, flags) if rx.search(t))
    for limit in (1, 5, 50):
        cands = filters.char_run_candidates(texts, limit)
        assert all(c for t, c in zip(texts, cands) if filters.has_char_run(t, limit))
    cands = filters.char_run_candidates(texts, 50)
    assert cands[-4] and filters.has_char_run(texts[-4], 50) and not filters.has_char_run(texts[-3], 50)


def test_safety_check_many_equals_check():
    gate = SafetyGate()
    terms = sorted(gate._category_of)[:60]
    rng = random.Random(5)
    fill = [" ", "a", "的", "x1", "\n", "  ", "-", "Kill", "毒", "\x00"]
    texts = ["".join(rng.choice(terms) if rng.random() < 0.4 else rng.choice(fill) for _ in range(rng.randint(1, 8)))
             for _ in range(1500)] + ["远离毒品", "I will kill you", "skill", "我想自杀"]
    assert gate.check_many(texts) == [gate.check(t) for t in texts]
    assert gate.check("I will kill you") and not gate.check("skill") and gate.check("我想自杀")


@pytest.mark.parametrize("action", ["replace", "pseudonym", "mask", "hash"])
def test_direct_anonymisation_equals_presidio_engine(analyzer, action):
    fast = DialogueAnonymizer(action, "salt")
    slow = DialogueAnonymizer(action, "salt")
    n = 0
    for t in PII_TEXTS:
        hits = analyzer.analyze(t)
        fast.start("d")
        slow.start("d")
        for r in sorted(hits, key=lambda r: r.start):
            slow._value(r.entity_type, t[r.start:r.end], "zh")
        ops = {e: OperatorConfig("custom", {"lambda": (lambda v, _e=e: slow._value(_e, v, "zh"))})
               for e in {r.entity_type for r in hits}}
        want = slow.engine.anonymize(text=t, analyzer_results=hits, operators=ops).text if hits else t
        assert fast.anonymize(t, hits, "zh") == want
        n += bool(hits)
    assert n > 15


def test_clean_batch_equals_record_by_record():
    cfg = CleanConfig(pii_action="pseudonym", salt="s", safety_action="flag", max_turns=3)
    cleaner = Cleaner(cfg)
    recs = []
    for i, t in enumerate(PII_TEXTS + ["As an AI language model, I cannot.", "啊" * 80, "我想自杀", "感谢您的咨询！"]):
        recs.append(Dialogue(id=f"r{i}", messages=[Message("system", "客服"), Message("user", t or "?"),
                                                   Message("assistant", t + " 好的"), Message("user", t[::-1] or "?"),
                                                   Message("assistant", "收到")],
                             meta={"customer_email": "a.b@example.com"} if i % 3 == 0 else {}))
    batch = cleaner.clean_batch(recs)
    one = [cleaner.clean(d) for d in recs]

    def as_dicts(outs):
        return [([d.to_dict() for d in kept], reason, detail, dict(c)) for kept, reason, detail, c in outs]

    assert as_dicts(batch) == as_dicts(one)
    assert any(reason for _, reason, _, _ in batch) and any(r is None for _, r, _, _ in batch)


def test_char_classes_equal_regex_search():
    """Every class (also those past the 8th bit) on short and long texts (a class character 256 times must
    not wrap a counter), empty texts, separators inside texts and characters beyond the BMP."""
    classes = filters.batch_classes()
    rng = random.Random(6)
    bits = ["a", "中", " ", "\n", "\t", "Ã", "\x00", "😀", "_", "\u200b", "1", "٣", "  ", "\n\n\n", "—", "@", ":", "京",
            "", ":" * 256, "@" * 300, "１"]
    texts = ["".join(rng.choice(bits) for _ in range(rng.randint(0, 6))) for _ in range(3000)] + ["", ":" * 256]
    got = classes.texts_with(texts)
    for name in classes.names:
        rx = classes._rx[name]
        assert got[name] == [bool(rx.search(t)) for t in texts], name
    from dialog_forge.steps.normalize import _WS_WORK
    assert got["ws_work"] == [bool(_WS_WORK.search(t)) for t in texts]
    assert got["colon"][-1] and got["at"].count(True) > 100


def test_ftfy_gate_windows_equal_the_full_badness_search():
    """The gate searches ftfy's mojibake detector only around its own characters; same answer as searching
    every line of the text."""
    from dialog_forge.steps.normalize import _BAD_WINDOWS, _BADNESS_LINES, _FTFY_OTHER

    assert _BAD_WINDOWS is not None  # the shortcut is active with the installed ftfy
    rng = random.Random(7)
    bits = ["a", "中", " ", "\n", "Ã", "©", "â€œ", "°", "“", "”", "×", "²", "Â ", "Ð", "µ", "é", "æ‰‹", "вЂ", "‚Ä",
            "β€", "ā€", "Œx", "œ.", "│", "ï»¿", "x", ".", "¿", "Ã\xa0"]
    texts = ["".join(rng.choice(bits) for _ in range(rng.randint(1, 12))) for _ in range(6000)]
    want = [bool(_FTFY_OTHER.search(t) or _BADNESS_LINES.search(t)) for t in texts]
    assert [_ftfy_would_change(t) for t in texts] == want
    assert 500 < sum(want) < 5500


def test_lean_pattern_hits_equal_presidio_pattern_recognizer(analyzer):
    from dialog_forge.steps.pii.analyzer import _pattern_hits

    n = 0
    for recs in analyzer._recognizers.values():
        for rec in recs:
            pats = analyzer._prechecks.get(rec.id)
            if pats is None:
                continue
            for t in PII_TEXTS + _mixed_texts(100, seed=8):
                want = sorted((r.entity_type, r.start, r.end, r.score) for r in rec.analyze(t, rec.supported_entities))
                got = sorted((r.entity_type, r.start, r.end, r.score) for r in _pattern_hits(rec, pats, t))
                assert got == want, (rec.name, t)
                n += bool(want)
    assert n > 50
