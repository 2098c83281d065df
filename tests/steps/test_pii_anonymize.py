"""Anonymisation operators, per-entity overrides, consistency within a dialogue, no raw values in counts."""

from __future__ import annotations

import re

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.steps.pii.analyzer import PiiAnalyzer
from dialog_forge.steps.pii.anonymize import DialogueAnonymizer, mask_value, parse_actions
from dialog_forge.steps.pii.entities import ALL_ENTITIES
from dialog_forge.steps.pii.scrub import PiiScrubber

TURNS = ["我叫王小明，电话13800138000。", "好的王小明，请再确认138 0013 8000和邮箱wxm@example.com。"]


@pytest.fixture(scope="module")
def analyzer() -> PiiAnalyzer:
    return PiiAnalyzer()


def scrub(analyzer, spec, salt="", turns=TURNS, did="d1"):
    s = PiiScrubber(analyzer, DialogueAnonymizer(spec, salt, ALL_ENTITIES))
    return s.scrub_texts(list(turns), did)


def test_parse_actions():
    assert parse_actions("replace", ALL_ENTITIES) == ("replace", {})
    assert parse_actions("PERSON=pseudonym,PHONE_NUMBER=mask", ALL_ENTITIES) == (
        "replace", {"PERSON": "pseudonym", "PHONE_NUMBER": "mask"})
    assert parse_actions("hash,PERSON=pseudonym", ALL_ENTITIES) == ("hash", {"PERSON": "pseudonym"})
    with pytest.raises(ForgeError, match="--pii-action.*operator"):
        parse_actions("scramble", ALL_ENTITIES)
    with pytest.raises(ForgeError, match="--pii-action.*entity"):
        parse_actions("NAME=replace", ALL_ENTITIES)


def test_replace_default_and_name_propagation(analyzer):
    out, counts = scrub(analyzer, "replace")
    assert out == ["我叫<PERSON>，电话<PHONE_NUMBER>。", "好的<PERSON>，请再确认<PHONE_NUMBER>和邮箱<EMAIL_ADDRESS>。"]
    assert counts == {"PERSON": 2, "PHONE_NUMBER": 2, "EMAIL_ADDRESS": 1}


def test_pseudonym_consistent_across_turns_and_spacing(analyzer):
    out, _ = scrub(analyzer, "pseudonym")
    assert out[0] == "我叫<PERSON_1>，电话<PHONE_NUMBER_1>。"
    assert out[1] == "好的<PERSON_1>，请再确认<PHONE_NUMBER_1>和邮箱<EMAIL_ADDRESS_1>。"


def test_pseudonym_numbering_restarts_per_dialogue(analyzer):
    a, _ = scrub(analyzer, "pseudonym", turns=["电话13800138000或13900139000"], did="x")
    assert a == ["电话<PHONE_NUMBER_1>或<PHONE_NUMBER_2>"]
    b, _ = scrub(analyzer, "pseudonym", turns=["电话13900139000"], did="y")
    assert b == ["电话<PHONE_NUMBER_1>"]


def test_mask_keeps_last_four(analyzer):
    assert mask_value("13800138000") == "*******8000"
    assert mask_value("138 0013 8000") == "*** **** 8000"
    assert mask_value("abc") == "***"
    out, _ = scrub(analyzer, "mask")
    assert "*******8000" in out[0] and "13800138000" not in out[0]


def test_hash_needs_salt_and_is_salted(analyzer):
    with pytest.raises(ForgeError, match="--salt"):
        DialogueAnonymizer("hash", "", ALL_ENTITIES)
    a, _ = scrub(analyzer, "hash", salt="s1")
    b, _ = scrub(analyzer, "hash", salt="s2")
    ha = re.findall(r"<PHONE_NUMBER:([0-9a-f]{12})>", "".join(a))
    hb = re.findall(r"<PHONE_NUMBER:([0-9a-f]{12})>", "".join(b))
    assert len(ha) == 2 and ha[0] == ha[1]  # same number, spaced or not, same hash
    assert ha[0] != hb[0]  # another salt, another hash


def test_fake_is_consistent_reproducible_and_drops_originals(analyzer):
    a, _ = scrub(analyzer, "fake", salt="k")
    b, _ = scrub(analyzer, "fake", salt="k")
    assert a == b
    joined = "".join(a)
    for raw in ("王小明", "13800138000", "138 0013 8000", "wxm@example.com"):
        assert raw not in joined
    phones = analyzer.analyze(a[0], "zh")
    fake_phone = next(a[0][r.start:r.end] for r in phones if r.entity_type == "PHONE_NUMBER")
    assert fake_phone in a[1]  # the same surrogate in both turns


def test_per_entity_override(analyzer):
    out, _ = scrub(analyzer, "PERSON=pseudonym,PHONE_NUMBER=replace")
    assert out[1] == "好的<PERSON_1>，请再确认<PHONE_NUMBER>和邮箱<EMAIL_ADDRESS>。"


# -- found in testing --------------------------------------------------------------------------------------
PHONE_FORMS = ["我的手机13800138000。", "也可以打+86 138 0013 8000，", "或者１３８００１３８０００", "(+86)138-0013-8000"]


def test_pseudonym_same_phone_with_country_code_and_fullwidth(analyzer):
    out, counts = scrub(analyzer, "pseudonym", turns=PHONE_FORMS)
    assert counts["PHONE_NUMBER"] == 4
    assert all("<PHONE_NUMBER_1>" in t for t in out), out
    assert not any("<PHONE_NUMBER_2>" in t for t in out)


def test_hash_same_phone_with_country_code(analyzer):
    out, _ = scrub(analyzer, "hash", salt="s", turns=["电话13800138000", "电话+86 138 0013 8000",
                                                      "座机010-62345678", "座机+86 10 6234 5678"])
    tags = [re.search(r"<PHONE_NUMBER:[0-9a-f]{12}>", t).group(0) for t in out]
    assert tags[0] == tags[1] and tags[2] == tags[3] and tags[0] != tags[2]


def test_mask_hides_names_completely(analyzer):
    out, _ = scrub(analyzer, "mask", turns=["My name is John Smith, call 415-555-0132."])
    assert out == ["My name is **** *****, call ***-***-0132."]
    assert mask_value("John Smith", keep_last=0) == "**** *****"
    assert mask_value("13800138000") == "*******8000"


@pytest.mark.parametrize("spec", ["pseudonym", "hash"])
def test_two_values_of_one_type_separated_by_a_space_stay_two_values(analyzer, spec):
    """Found in testing: Presidio's anonymizer merged "13800138000 13900139000" into one span, which got a
    pseudonym (or hash) of its own -- ``<PHONE_NUMBER_3>`` there, ``<PHONE_NUMBER_2>`` for 13900139000 in the
    next turn -- and meta.pii counted 3 phones for 2 placeholders. Structured values stay apart; name-like hits
    separated by spaces are still merged, and counted once."""
    turns = ["电话 13800138000 13900139000 都行", "好的 13900139000", "My name is Ann Lee.", "Ann Lee Ann Lee!"]
    out, counts = scrub(analyzer, spec, salt="s", turns=turns)
    phones = re.findall(r"<PHONE_NUMBER[^>]*>", out[0])
    assert len(phones) == 2 and phones[0] != phones[1]
    assert re.findall(r"<PHONE_NUMBER[^>]*>", out[1]) == [phones[1]]
    assert len(re.findall(r"<PERSON[^>]*>", out[3])) == 1  # two propagated hits with a space between: merged
    assert counts == {"PHONE_NUMBER": 3, "PERSON": 2}
    if spec == "pseudonym":
        assert out[0] == "电话 <PHONE_NUMBER_1> <PHONE_NUMBER_2> 都行"


def test_mask_hides_ip_addresses_and_plates_completely(analyzer):
    """Found in testing: ``mask`` kept the last four characters of an IP address (``*******1.23``: the host
    part) and of a licence plate (``***2345``: most of it). Both are now masked completely."""
    out, _ = scrub(analyzer, "mask", turns=["登录IP是192.168.1.23，车牌京A12345，电话13800138000。"])
    assert out[0] == "登录IP是************，车牌*******，电话*******8000。"
