"""``meta.pii`` keeps the audit across repeated cleaning: the counts a run finds are added to those an
earlier ``forge clean`` recorded (found in testing: cleaning a cleaned file again reset every ``meta.pii``
to ``{}``, losing the record of what was scrubbed)."""

from __future__ import annotations

import pytest

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.clean import CleanConfig, CleanStep


def _recs():
    return [
        Dialogue("a", [Message("user", "电话13800138000，我叫王小明"), Message("assistant", "好的")]),
        Dialogue("b", [Message("user", "mail bob@example.org"), Message("assistant", "ok")]),
        Dialogue("c", [Message("user", "没有个人信息"), Message("assistant", "好的")]),
        Dialogue("w", [Message("user" if i % 2 == 0 else "assistant", f"第{i}轮，电话1380013{i:04d}")
                       for i in range(6)]),
    ] * 3


@pytest.mark.parametrize("workers", [1, 2])
def test_cleaning_twice_adds_to_the_recorded_counts(workers):
    step = CleanStep(CleanConfig(workers=workers, max_turns=4))
    try:
        first = step.process(_recs()).kept
        again = step.process([Dialogue.from_dict(d.to_dict()) for d in first]).kept
    finally:
        step.finish()
    by_id = {d.id: d.meta["pii"] for d in first}
    assert by_id["a"] == {"PERSON": 1, "PHONE_NUMBER": 1} and by_id["c"] == {}
    windows = [d for d in first if d.id.startswith("w~")]
    assert [d.meta["pii"] for d in windows[:2]] == [{"PHONE_NUMBER": 4}, {"PHONE_NUMBER": 2}]
    # the second pass finds nothing new (placeholders are no PII) and keeps the first pass's counts
    assert [d.meta["pii"] for d in again] == [d.meta["pii"] for d in first]
    assert [d.messages for d in again] == [d.messages for d in first]


def test_new_pii_is_added_and_a_malformed_record_of_counts_is_replaced():
    step = CleanStep(CleanConfig())
    recs = [Dialogue("x", [Message("user", "电话13800138000"), Message("assistant", "好")],
                     meta={"pii": {"EMAIL_ADDRESS": 2, "PHONE_NUMBER": 1}}),
            Dialogue("y", [Message("user", "电话13800138000"), Message("assistant", "好")],
                     meta={"pii": "not counts"}),
            Dialogue("z", [Message("user", "电话13800138000"), Message("assistant", "好")],
                     meta={"pii": {"EMAIL_ADDRESS": 2, "PHONE_NUMBER": "3", "IBAN_CODE": -1}})]
    out = step.process(recs).kept
    assert out[0].meta["pii"] == {"EMAIL_ADDRESS": 2, "PHONE_NUMBER": 2}
    assert out[1].meta["pii"] == {"PHONE_NUMBER": 1}
    assert out[2].meta["pii"] == {"EMAIL_ADDRESS": 2, "PHONE_NUMBER": 1}  # the valid earlier entry kept
