"""Harder Chinese PII (the ``generate_hard`` set of benchmarks/pii_zh_corpus.py): values without cue words,
names whose surname is not in Faker's list, cue-free addresses, and look-alikes that must survive."""

from __future__ import annotations

import pytest

from dialog_forge.steps.pii.analyzer import PiiAnalyzer


@pytest.fixture(scope="module")
def analyzer() -> PiiAnalyzer:
    return PiiAnalyzer()


def hits(analyzer, text):
    return [(r.entity_type, text[r.start:r.end]) for r in analyzer.analyze(text)]


@pytest.mark.parametrize("text,value,entity", [
    ("13912345678打不通，换个号试试？", "13912345678", "PHONE_NUMBER"),
    ("有事找我（13912345678），下午都在。", "13912345678", "PHONE_NUMBER"),
    ("明天下午三点前回13912345678就行。", "13912345678", "PHONE_NUMBER"),
    ("我的是１３９１２３４５６７８，别打错了。", "１３９１２３４５６７８", "PHONE_NUMBER"),
    ("有问题就打+8613912345678吧", "+8613912345678", "PHONE_NUMBER"),
    ("11010519491231002X这个号之前办过卡吗？", "11010519491231002X", "CN_RESIDENT_ID"),
    ("6222021234567890128转账一直失败，怎么办？", "6222021234567890128", "BANK_CARD"),
    ("zhang.wei@example.com收不到验证码。", "zhang.wei@example.com", "EMAIL_ADDRESS"),
])
def test_bare_values_without_cue_words(analyzer, text, value, entity):
    assert hits(analyzer, text) == [(entity, value)]


@pytest.mark.parametrize("text", [
    "单据110105194912310021已打印。",  # resident-ID shape, valid birth date, wrong check digit (and not Luhn)
    "6222021234567890129是系统生成的流水。",  # 19 digits failing Luhn
    "血压150/95，吃了药降到125/80。", "白细胞12.5×10^9/L，中性粒细胞85%。", "每次0.5g，每日3次，疗程14天。",
    "2024-03-15复诊，2024/3/15拍的片子。", "App升级到v2.3.15后闪退，系统版本10.0.19045.2364。",
    "一共花了1,234,567.89元，报销了12800元。", "订单20241234567已经发货。",
])
def test_hard_negatives_survive(analyzer, text):
    assert hits(analyzer, text) == []


@pytest.mark.parametrize("text,name", [
    ("我叫厍婷婷，想挂个专家号。", "厍婷婷"),  # 厍, 禚, 訾: real surnames outside Faker's list
    ("联系人：禚红，电话见附件。", "禚红"),
    ("患者訾红霞，女，21岁，咳嗽两周。", "訾红霞"),
    ("患者钭旭 男 31岁", "钭旭"),
])
def test_names_with_unlisted_surnames_after_strong_cues(analyzer, text, name):
    assert ("PERSON", name) in hits(analyzer, text)


@pytest.mark.parametrize("text", ["心得安学名叫什么名字？", "这个病叫做痛风。", "患者出现贫血，女性多见。",
                                  "患者自述头痛，男，45岁"])
def test_no_name_without_one(analyzer, text):
    assert [h for h in hits(analyzer, text) if h[0] == "PERSON"] == []


def test_structured_address_keeps_street_and_postcode_after_a_zhou_district(analyzer):
    """'兰州' ends in the district marker 州; the street '街' right after it and the postcode belong to the
    address too (they used to be left in the text)."""
    text = "江西省郑州市海陵兰州街n座 912672那边今天停水了吗？"
    assert hits(analyzer, text) == [("ADDRESS", "江西省郑州市海陵兰州街n座 912672")]

