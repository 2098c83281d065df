"""``forge clean`` never crashes on odd Unicode next to PII-like values: characters that case-fold to ASCII
(İ, ı, ſ, the Kelvin sign), non-ASCII digits, full-width forms, lone surrogates (reachable from the Python
API; the JSON reader rejects them). Found in testing: ``İ`` inside an IBAN-like value made the IBAN check
raise ``ValueError`` (``int('İ', 36)``), and a lone surrogate made the batch character-class scan raise
``UnicodeEncodeError``."""

from __future__ import annotations

import random

import pytest

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.clean import CleanConfig, Cleaner
from dialog_forge.steps.pii.recognizers import iban_ok

ODD = ["İ", "ı", "ſ", "\u212a", "ß", "٣", "²", "１", "Ａ", "\ud800", "\u200b", "\u3000", "é", "ǅ"]
TEMPLATES = ["IBAN GB82 WEST 1234 5698 7654 32", "卡号6222 0212 3456 7890 128", "身份证11010519491231002X",
             "SSN 078-05-1120", "电话138 0013 8000", "mail bob@example.org", "IP 192.168.1.23", "车牌京A12345",
             "护照E12345678", "Dear Mr. Smith", "我叫王小明", "住在北京市朝阳区建国路88号"]


@pytest.fixture(scope="module")
def cleaner():
    return Cleaner(CleanConfig())


def test_iban_check_refuses_non_ascii_letters_instead_of_raising():
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82 WEST 1234 5698 7654 3İ")
    assert not iban_ok("İB82 WEST 1234 5698 7654 32")
    # other scripts' digits are read as digits (found in testing: the first version of this fix let
    # "DE٨٩370400440532013000" through unscrubbed, which the old code caught)
    assert iban_ok("DE٨٩370400440532013000") and iban_ok("DE𝟖𝟗370400440532013000") and iban_ok("DE८९370400440532013000")
    assert not iban_ok("DE٨٨370400440532013000")  # still the MOD 97 check


def test_odd_characters_inside_pii_values_never_crash_clean(cleaner):
    rnd = random.Random(7)
    batch = []
    for i in range(600):
        t = list(rnd.choice(TEMPLATES))
        for _ in range(rnd.randint(1, 3)):
            t.insert(rnd.randrange(len(t) + 1), rnd.choice(ODD))
        batch.append(Dialogue(f"u{i}", [Message("user", "".join(t)), Message("assistant", "好的")]))
    out = cleaner.clean_batch(batch)  # one batch: the batch scans see every odd character
    assert len(out) == len(batch)
    one = [cleaner.clean_batch([d])[0] for d in batch[:80]]  # and record by record: the same outcomes
    assert [(o[1], [r.messages[0].content for r in o[0]]) for o in out[:80]] == \
           [(o[1], [r.messages[0].content for r in o[0]]) for o in one]
    # the plain value is still found where nothing odd was planted inside it
    clean_iban = cleaner.clean_batch([Dialogue("x", [Message("user", "IBAN GB82 WEST 1234 5698 7654 32 İ"),
                                                     Message("assistant", "ok")])])
    assert clean_iban[0][0][0].messages[0].content == "IBAN <IBAN_CODE> İ"
    arabic = cleaner.clean_batch([Dialogue("y", [Message("user", "账户 GB٨2 WEST 1234 5698 7654 32"),
                                                 Message("assistant", "ok")])])
    assert arabic[0][0][0].messages[0].content == "账户 <IBAN_CODE>"
