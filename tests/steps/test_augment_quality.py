"""The variant check and the before/after report on known inputs."""

from __future__ import annotations

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.augment.quality import (
    VariantChecker,
    char_jaccard,
    detect_lang,
    normalize,
    pii_values,
)
from dialog_forge.steps.augment.report import DiversityTracker, format_table, tokens


def test_normalize_jaccard_and_language():
    assert normalize("Ｈｅｌｌｏ， World！") == "helloworld"
    assert char_jaccard("abcd", "abcd") == 1.0
    assert char_jaccard("abcd", "abce") == 2 / 4  # bigrams {ab,bc,cd} vs {ab,bc,ce}
    assert char_jaccard("好", "好") == 1.0 and char_jaccard("", "") == 1.0
    assert detect_lang("请帮我重置密码") == "zh" and detect_lang("reset my password") == "en"
    assert detect_lang("我的email是多少") == "zh" and detect_lang("12345 !!") is None


def test_rule_op_checks():
    c = VariantChecker()
    pairs = [
        ("请拨打<PHONE_NUMBER>", "请拨打电话", "noise"),             # placeholder lost
        ("血压140/90", "血压14090", "noise"),                       # digits kept in order: fine
        ("血压140/90", "血压140/9", "noise"),                       # a digit lost
        ("你好吗？", "你好吗？？", "noise"),                          # punctuation noise is a change
        ("你好吗？", "你好吗？", "noise"),                            # identical
        ("你好", "   ", "noise"),                                  # empty
        ("call me", "call me at test@example.com", "noise"),        # new PII
    ]
    assert c.check(pairs) == ["protected_lost", None, "protected_lost", None, "identical", "empty", "new_pii"]


def test_model_op_checks_use_normalisation_and_numbers_may_move():
    c = VariantChecker()
    assert c.check([("How are you?", "how are you!!", "paraphrase")]) == ["identical"]
    # a paraphrase may reorder numbers; only placeholders are strict
    assert c.check([("I paid 30 on day 2", "On day 2, I paid 30", "paraphrase")]) == [None]
    assert pii_values("mail a.b@example.com") and not pii_values("<EMAIL_ADDRESS>")


def test_report_tokens_and_figures():
    assert tokens("Hello 世界 42!") == ["hello", "世", "界", "42"]
    t = DiversityTracker()
    t.add([Dialogue(id="x", messages=[Message("user", "a b a"), Message("assistant", "c")], task="t1"),
           Dialogue(id="y", messages=[Message("user", "a b")], meta={"intent": "t2"})])
    f = t.figures()
    assert f == {"records": 2, "tasks": 2, "avg_turns": 1.5, "ttr": round(3 / 6, 4), "distinct_2": round(2 / 3, 4)}
    table = format_table({"before": f, "after": f})
    assert "distinct tasks" in table and "+0" in table


def test_topic_terms_are_han_1_2_grams_and_words_without_template_pieces():
    from dialog_forge.steps.augment.topic import topic_terms

    terms = topic_terms("请帮我重置密码")
    assert {"密码", "重置", "密", "码"} <= set(terms) and "怎么" not in topic_terms("怎么办")
    assert topic_terms("How do I reset my PASSWORD?") == ["reset", "password"]  # "how", 1-2 letter words dropped
    assert topic_terms("１２３ ok") == []
