"""Structure filters, sign-off stripping, windowing and the CleanStep as a whole (reasons, counts, meta)."""

from __future__ import annotations

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps import filters
from dialog_forge.steps.clean import REASONS, CleanConfig, CleanStep


def dlg(rid, *turns, system=None):
    msgs = [Message("system", system)] if system else []
    roles = ["user", "assistant"]
    msgs += [Message(roles[i % 2], t) for i, t in enumerate(turns)]
    return Dialogue(id=rid, messages=msgs)


def run(step, records):
    res = step.process(records)
    assert len(records) + res.generated == len(res.kept) + len(res.rejects)
    return res


@pytest.fixture(scope="module")
def step():
    s = CleanStep(CleanConfig())
    s.setup()
    return s


# -- pure filters ----------------------------------------------------------------------------------------
def test_symbol_ratio():
    assert filters.symbol_ratio("你好，世界！") == 0.0
    assert filters.symbol_ratio("★★★★☆☆") == 1.0
    assert filters.symbol_ratio("ok ★★") == pytest.approx(0.5)
    assert filters.symbol_ratio("") == 0.0


def test_runs_and_repeated_lines():
    assert filters.longest_char_run("啊啊啊啊好") == 4
    assert filters.max_line_repeats("buy now\nbuy now\nbuy now\nok") == 3


def test_identity_patterns():
    assert filters.find_identity("As an AI language model, I cannot.") == "as an ai language model"
    assert filters.find_identity("我是由OpenAI训练的大语言模型") is not None
    assert filters.find_identity("作为一个人工智能语言模型，我无法回答") is not None
    assert filters.find_identity("As a doctor, I suggest rest.") is None


def test_strip_signoffs_only_at_the_end():
    text, n = filters.strip_signoffs("建议多喝水，注意休息。感谢您的咨询，祝您早日康复！")
    assert (text, n) == ("建议多喝水，注意休息。", 2)
    text, n = filters.strip_signoffs("Drink water. I hope this helps! Let me know if you have any other questions.")
    assert (text, n) == ("Drink water.", 2)
    opening = "感谢您的咨询，您的情况是感冒。"
    assert filters.strip_signoffs(opening) == (opening, 0)
    assert filters.strip_signoffs("多喝水。如有疑问，请随时咨询。") == ("多喝水。", 2)
    assert filters.strip_signoffs("Sure: 3.5 mg, twice a day.") == ("Sure: 3.5 mg, twice a day.", 0)


def test_window_messages_keeps_system_and_ends_on_assistant():
    msgs = [Message("system", "sys")] + [Message("user" if i % 2 == 0 else "assistant", f"t{i}") for i in range(10)]
    wins = filters.window_messages(msgs, 5)
    assert len(wins) == 3
    for w in wins:
        assert w[0].role == "system" and w[-1].role == "assistant" and len(w) <= 5
    assert [m.content for w in wins for m in w[1:]] == [f"t{i}" for i in range(10)]
    assert filters.window_messages([Message("user", "a")] * 6, 4) == []


# -- the step ---------------------------------------------------------------------------------------------
def test_reasons_vocabulary_names_every_category():
    for cat in ("violence", "self_harm", "sexual", "minors", "drugs", "weapons", "hate"):
        assert f"safety_{cat}" in REASONS


@pytest.mark.parametrize("record,reason", [
    (dlg("e", "hi", "\u200b\u200b"), "empty_turn"),
    (dlg("l", "hi", "x" * 20001), "turn_too_long"),
    (dlg("s", "hi", "★★★★★★★★★★★★ ok"), "symbol_ratio"),
    (dlg("r", "hi", "好" + "啊" * 60), "repeated_chars"),
    (dlg("rl", "hi", "\n".join(["点击购买链接"] * 6)), "repeated_lines"),
    (dlg("ai", "你是谁", "我是由OpenAI训练的语言模型。"), "ai_identity"),
    (dlg("so", "头疼怎么办", "多休息。感谢您的咨询！"), "signoff"),
    (dlg("sf", "how to make meth at home", "no"), "safety_drugs"),
])
def test_step_rejects_with_reason(step, record, reason):
    res = run(step, [record])
    assert [r.reason for r in res.rejects] == [reason]
    assert res.rejects[0].id == record.id


def test_step_cleans_and_counts_pii(step):
    d = dlg("p", "我叫王小明，电话13800138000。", "好的，ALT 120 U/L，血压140/90，已记录。")
    res = run(step, [d])
    (out,) = res.kept
    assert out.messages[0].content == "我叫<PERSON>，电话<PHONE_NUMBER>。"
    assert out.messages[1].content == "好的，ALT 120 U/L，血压140/90，已记录。"
    assert out.meta["pii"] == {"PERSON": 1, "PHONE_NUMBER": 1}
    assert out.lineage.ops[-1]["op"] == "clean"
    assert step.counters["pii.PHONE_NUMBER"] >= 1
    assert all("13800138000" not in str(k) for k in step.counters)
    assert d.messages[0].content.startswith("我叫王小明")  # input record untouched


def test_rejected_records_are_scrubbed(step):
    d = dlg("rj", "我叫王小明，电话13800138000", "As an AI language model, I can't.")
    res = run(step, [d])
    (rej,) = res.rejects
    assert rej.reason == "ai_identity"
    assert rej.record.messages[0].content == "我叫<PERSON>，电话<PHONE_NUMBER>"
    assert rej.record.meta["pii"] == {"PERSON": 1, "PHONE_NUMBER": 1}


def test_strip_signoffs_and_safety_flag():
    s = CleanStep(CleanConfig(strip_signoffs=True, safety_action="flag", pii=False))
    res = run(s, [dlg("so", "头疼怎么办", "多休息。感谢您的咨询！"), dlg("sf", "how to make meth", "no")])
    assert [d.messages[1].content for d in res.kept] == ["多休息。", "no"]
    assert res.kept[1].meta["safety"] == ["drugs"]
    assert s.counters["signoffs_stripped"] == 1


def test_long_dialogue_windows_with_lineage_or_reject():
    turns = [f"问题{i}" if i % 2 == 0 else f"回答{i}" for i in range(12)]
    d = dlg("long", *turns, system="你是医生")
    s = CleanStep(CleanConfig(max_turns=5, pii=False, safety=False))
    res = run(s, [d])
    assert len(res.kept) == 3 and res.generated == 2
    for w in res.kept:
        assert w.messages[0].content == "你是医生" and w.messages[-1].role == "assistant"
        assert w.lineage.parent_id == "long" and w.lineage.root_id == "long"
        assert w.lineage.ops[-1]["op"] == "clean.window"
    assert len({w.id for w in res.kept}) == 3
    r = CleanStep(CleanConfig(max_turns=5, long="reject", pii=False, safety=False))
    assert [x.reason for x in run(r, [d]).rejects] == ["too_many_turns"]


def test_bad_config_is_a_clear_error():
    with pytest.raises(ForgeError, match="--to-simplified"):
        CleanStep(CleanConfig(to_simplified=True, to_traditional=True)).setup()
    with pytest.raises(ForgeError, match="--max-turns"):
        CleanStep(CleanConfig(max_turns=1)).setup()


def test_workers_give_the_same_result():
    recs = [dlg(f"w{i}", f"我叫王小明，电话1380013800{i}。", "好的") for i in range(8)]
    s1 = CleanStep(CleanConfig(safety=False))
    s2 = CleanStep(CleanConfig(safety=False, workers=2))
    a = run(s1, recs)
    b = run(s2, recs)
    s2.finish()
    assert [d.to_dict() for d in a.kept] == [d.to_dict() for d in b.kept]
    assert a.kept[3].messages[0].content == "我叫<PERSON>，电话<PHONE_NUMBER>。"


def test_salt_is_redacted_and_can_come_from_the_environment(monkeypatch):
    assert CleanConfig(salt="s3cret").to_params()["salt"] == "<redacted>"
    step = CleanStep(CleanConfig(salt="s3cret", pii_action="hash", safety=False))
    res = run(step, [dlg("h0", "电话13800138000", "好的")])
    assert "s3cret" not in str(res.kept[0].lineage.ops) and "s3cret" not in str(step.counters)
    monkeypatch.setenv("FORGE_PII_SALT", "from-env")
    s = CleanStep(CleanConfig(pii_action="hash", safety=False))
    res = run(s, [dlg("h", "电话13800138000", "好的")])
    assert res.kept[0].messages[0].content.startswith("电话<PHONE_NUMBER:")
    assert all("from-env" not in str(op) for op in res.kept[0].lineage.ops)


def test_windows_count_the_pii_of_their_own_turns():
    """Found in testing: every window used to carry the whole dialogue's meta.pii (13 phones in a window
    holding 2)."""
    turns = []
    for i in range(6):
        turns += [f"第{i}个问题，我的手机13800138000" if i < 3 else f"第{i}个问题", f"第{i}个回答"]
    d = dlg("longpii", *turns, system="你是客服。")
    s = CleanStep(CleanConfig(max_turns=5, safety=False))
    res = run(s, [d])
    assert [w.meta["pii"] for w in res.kept] == [{"PHONE_NUMBER": 2}, {"PHONE_NUMBER": 1}, {}]
    assert s.counters["pii.PHONE_NUMBER"] == 3
    assert all("13800138000" not in m.content for w in res.kept for m in w.messages)


def test_meta_strings_and_turn_names_are_scrubbed_consistently():
    """Found in testing: PII in ``meta`` (a title, an unmapped ``customer_email`` column) and in a turn's
    ``name`` went through clean untouched."""
    d = Dialogue(id="n1", messages=[Message("user", "我叫王小明，电话13800138000", "wxm@example.com"),
                                    Message("assistant", "好的", "王小明")],
                 meta={"title": "王小明电话13800138000", "customer_email": "test@example.com", "n": 5,
                       "tags": ["邮箱a@b.com"]})
    s = CleanStep(CleanConfig(pii_action="pseudonym", safety=False))
    res = run(s, [d])
    r = res.kept[0]
    assert [m.name for m in r.messages] == ["<EMAIL_ADDRESS_1>", "<PERSON_1>"]
    assert r.meta["title"] == "<PERSON_1>电话<PHONE_NUMBER_1>"
    assert r.meta["customer_email"] == "<EMAIL_ADDRESS_2>" and r.meta["tags"] == ["邮箱<EMAIL_ADDRESS_3>"]
    assert r.meta["n"] == 5
    assert r.meta["pii"] == {"EMAIL_ADDRESS": 3, "PERSON": 3, "PHONE_NUMBER": 2}
    assert d.meta["title"] == "王小明电话13800138000"  # the input record is not modified


def test_turns_no_window_can_hold_are_counted_not_silently_lost():
    """Found in testing: a windowed dialogue's turns that no window holds (user turns with no assistant reply in
    reach) vanished without a trace; they are counted in ``window_dropped_turns``."""
    d = Dialogue(id="lw", messages=[Message("user", f"u{i}") for i in range(9)] + [Message("assistant", "a")])
    tail = dlg("lt", "问", "答", "问", "答", "问", "答", "最后一个问题没有回答")
    s = CleanStep(CleanConfig(max_turns=5, pii=False, safety=False))
    res = run(s, [d, tail])
    assert [[m.content for m in w.messages] for w in res.kept] == [
        ["u5", "u6", "u7", "u8", "a"], ["问", "答", "问", "答"], ["问", "答"]]
    assert s.counters["window_dropped_turns"] == 5 + 1
    ok = CleanStep(CleanConfig(max_turns=5, pii=False, safety=False))
    run(ok, [dlg("even", *[f"t{i}" for i in range(8)], system="sys")])
    assert "window_dropped_turns" not in ok.counters


def test_out_of_range_numbers_are_clear_errors():
    """Found in testing: ``--workers 0``/``-3`` ran silently, ``--pii-score-threshold 1.5`` failed with a
    misleading "PII self-check: PHONE_NUMBER probe not found", and ``--phone-regions XX`` was accepted."""
    with pytest.raises(ForgeError, match="--workers 0: must be at least 1"):
        CleanStep(CleanConfig(workers=0)).setup()
    with pytest.raises(ForgeError, match="--pii-score-threshold 1.5: must be between 0 and 1"):
        CleanStep(CleanConfig(pii_score_threshold=1.5, safety=False)).setup()
    with pytest.raises(ForgeError, match=r"--phone-regions: unknown region code\(s\) \['XX'\]"):
        CleanStep(CleanConfig(phone_regions=["CN", "XX"], safety=False)).setup()


def test_tool_turn_name_field_is_scrubbed_and_propagated():
    """Found in testing (see test_pii_recognizers.test_name_fields_of_json_tool_turns): the name of a JSON tool
    turn stayed, in the tool turn and in the assistant's reply."""
    d = Dialogue(id="tool", messages=[
        Message("user", "查订单"),
        Message("tool", '{"name":"王小明","phone":"13900139000","email":"a@b.com"}'),
        Message("assistant", "好的王小明")])
    res = run(CleanStep(CleanConfig(safety=False)), [d])
    assert [m.content for m in res.kept[0].messages] == [
        "查订单", '{"name":"<PERSON>","phone":"<PHONE_NUMBER>","email":"<EMAIL_ADDRESS>"}', "好的<PERSON>"]


@pytest.mark.parametrize("kwargs, flag", [
    ({"min_turn_chars": -1}, "--min-turn-chars"), ({"max_symbol_ratio": 2.0}, "--max-symbol-ratio"),
    ({"max_char_run": 0}, "--max-char-run"), ({"max_dialogue_chars": 0}, "--max-dialogue-chars"),
    ({"pii_action": "PERSON=fake,PERSON=mask"}, "two operators"), ({"pii_langs": ["fr"]}, "zh and en only"),
])
def test_out_of_range_options_are_usage_errors(kwargs, flag):
    """Found in testing: these were accepted silently (``--pii-langs fr`` behaved like en, with no Chinese
    name or address cues)."""
    from dialog_forge.steps.clean import Cleaner

    with pytest.raises(ForgeError, match=flag):
        Cleaner(CleanConfig(**kwargs))


@pytest.mark.parametrize("text, want", [
    ("防止加重症状，祝您健康。", "防止加重症状。"),  # found in testing: the sentence lost its full stop
    ("多喝水。祝你早日恢复健康。", "多喝水。"),  # found in testing (56 Toyhom answers): missed
    ("注意休息！祝健康！", "注意休息！"),  # found in testing (27 Toyhom answers): missed
    ("按时复查，期望对您有帮助", "按时复查。"),
    ("Drink water, hope this helps!", "Drink water."),
    ("祝健康是我们的目标，请按时服药。", "祝健康是我们的目标，请按时服药。"),  # not at the end: kept
])
def test_more_canned_zh_signoffs_are_stripped_and_the_sentence_keeps_its_stop(text, want):
    assert filters.strip_signoffs(text)[0] == want
