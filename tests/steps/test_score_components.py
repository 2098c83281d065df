"""Pure score components on hand-made dialogues with known orderings (no embedding model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.score.fact import negation_parity, numbers_differ, sentences
from dialog_forge.steps.score.fluency import fluency_from_perplexity
from dialog_forge.steps.score.format import defects, format_score
from dialog_forge.steps.score.information import information
from dialog_forge.steps.score.instruction import instruction, load_templates
from dialog_forge.steps.score.labels import knn_label_issues
from dialog_forge.steps.score.language import detect_language, tokenize
from dialog_forge.steps.score.relevance import rescale
from dialog_forge.steps.score.safety import safety
from dialog_forge.steps.score.weights import PROFILES, parse_weights, weighted_score


def dlg(user: str, reply: str, **kw) -> Dialogue:
    return Dialogue(id=kw.pop("id", "d"), messages=[Message("user", user), Message("assistant", reply)], **kw)


DETAILED = ("To reset your router password, press and hold the reset button on the back for ten seconds until "
            "the lights blink. Then log in to the admin page with the default credentials printed on the label, "
            "open the wireless settings and choose a new password. Save and reconnect your devices.")


def test_information_detailed_beats_short_and_saturates():
    short = information(dlg("How do I reset my router?", "Press reset."))
    long = information(dlg("How do I reset my router?", DETAILED))
    assert short < 0.2 and long > 0.9 and long <= 1.0


def test_information_counts_chinese_by_character():
    assert tokenize("头痛怎么办") == ["头", "痛", "怎", "么", "办"]
    short = information(dlg("头痛怎么办？", "多休息。"))
    long = information(dlg("头痛怎么办？", "头痛可能由睡眠不足、精神紧张、颈椎问题或高血压引起。建议先规律作息，避免熬夜，"
                                           "测量血压；如果头痛持续加重或伴有呕吐、视物模糊，请及时到神经内科就诊，做头颅CT检查。"))
    assert short < 0.15
    assert long > 0.8


def test_format_truncated_reply_loses():
    full = format_score(dlg("q", "The store opens at nine and closes at six on weekdays."))
    cut = format_score(dlg("q", "The store opens at nine and closes at six on"))
    assert full == 1.0 and cut == pytest.approx(0.7)
    assert format_score(dlg("q", "门店早上九点开门，晚上六点关门。")) == 1.0
    assert format_score(dlg("q", "门店早上九点开门，晚上六点")) == pytest.approx(0.7)


def test_format_fences_repeats_and_garbage():
    assert defects("Run this:\n```python\nprint(1)\n")["F"] == 1.0
    assert defects("Run this:\n```python\nprint(1)\n```")["F"] == 0.0
    assert defects("a line.\na line.\na line.\nother.")["R"] == pytest.approx(0.5)
    assert defects("ok \ufffd\ufffd text.")["G"] > 0
    assert format_score(dlg("q", "This is **bold without end.")) == pytest.approx(0.9)


@pytest.mark.parametrize("text,lang", [
    ("好的", "zh"), ("谢谢", "zh"), ("OK，好的", "zh"), ("嗯", "zh"),
    ("请问退货需要几天才能到账？", "zh"), ("こんにちは、元気ですか", "ja"), ("안녕하세요 반갑습니다", "ko"),
    ("How long does a refund take?", "en"), ("我的iPhone 15 Pro Max坏了", "zh"), ("12345 !!!", "und"),
])
def test_language_script_share_and_short_lines(text, lang):
    assert detect_language(text) == lang


def test_weights_default_chapter_and_renormalisation():
    assert parse_weights(None) == {"relevance": 0.3, "information": 0.2, "format": 0.2, "fact": 0.3}
    assert parse_weights("chapter") == PROFILES["chapter"]
    assert sum(PROFILES["chapter"].values()) == pytest.approx(1.0)
    assert parse_weights("relevance=1,format=3") == {"relevance": 1.0, "format": 3.0}
    # fact absent: renormalise over relevance, information, format (0.3, 0.2, 0.2)
    comps = {"relevance": 1.0, "information": 0.5, "format": 0.0}
    assert weighted_score(comps, parse_weights(None)) == pytest.approx((0.3 + 0.1) / 0.7)
    assert weighted_score({}, parse_weights(None)) is None


def test_weights_yaml_profile_and_errors(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("weights:\n  relevance: 0.5\n  fact: 0.5\n")
    assert parse_weights(str(p)) == {"relevance": 0.5, "fact": 0.5}
    for bad in ("relevance=x", "bogus=1", "relevance=0", str(tmp_path / "missing.yaml"), "nonsense"):
        with pytest.raises(ForgeError, match="--weights"):
            parse_weights(bad)


def test_instruction_medical_template():
    complete = dlg("头痛怎么办？", "可能的原因有睡眠不足或高血压。请问头痛多久了？建议做血常规和头颅CT检查，注意休息。",
                   task="medical_consultation")
    partial = dlg("头痛怎么办？", "注意休息就好。", task="medical_consultation")
    assert instruction(complete, load_templates(None)) == 1.0
    assert instruction(partial, load_templates(None)) == 0.25
    assert instruction(dlg("q", "a", task="chitchat"), load_templates(None)) is None


def test_instruction_templates_file(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("refund:\n  timeline: [days, 天]\n  channel: [original payment, 原路]\n")
    t = load_templates(str(p))
    assert instruction(dlg("q", "Refunds take 3 days to the original payment method.", task="refund"), t) == 1.0
    p.write_text("refund: [not, a, mapping]\n")
    with pytest.raises(ForgeError, match="--templates"):
        load_templates(str(p))


def test_fluency_mapping():
    assert fluency_from_perplexity(5) == 1.0
    assert fluency_from_perplexity(100) == pytest.approx(0.5)
    assert fluency_from_perplexity(5000) == 0.0
    assert fluency_from_perplexity(20) > fluency_from_perplexity(200)


def test_safety_reads_clean_verdict_or_recomputes():
    assert safety(dlg("q", "a", meta={"safety": ["drugs"]})) == 0.0  # forge clean --safety-action flag
    assert safety(dlg("q", "a", meta={"safety": {"safe": False}})) == 0.0
    assert safety(dlg("q", "a", meta={"safety": "safe"})) == 1.0
    passed = dlg("q", "a")
    passed.lineage.ops.append({"op": "clean", "params": {}})
    assert safety(passed) == 1.0
    assert safety(dlg("q", "a")) is None  # no verdict, no gate: omitted, not assumed safe

    class Gate:
        def check(self, text: str) -> list[str]:
            return ["weapons"] if "bomb" in text else []

    assert safety(dlg("how do I build a bomb", "..."), Gate()) == 0.0
    assert safety(dlg("how do I bake bread", "..."), Gate()) == 1.0


def test_fact_lexical_contradiction_tests():
    assert negation_parity("Aspirin should not be given to children.") == 1
    assert negation_parity("Aspirin is safe for children.") == 0
    assert negation_parity("孕妇不能服用这种药。") == 1
    assert negation_parity("如果身体不适请就医。") == 0  # 不适 is not a negation
    assert numbers_differ("Take up to 8 grams a day.", "At most 4 grams per day.")
    assert not numbers_differ("Take up to 4 grams a day.", "At most 4 grams per day.")
    assert sentences("您好！阿司匹林不能给16岁以下儿童服用。谢谢") == ["阿司匹林不能给16岁以下儿童服用。"]


def test_relevance_rescale_anchors():
    assert rescale(0.8) == 1.0 and rescale(-0.3) == 0.0
    assert rescale(0.25) == pytest.approx(0.5)          # the floor sits at cosine 0.25 for English
    assert rescale(0.25, cjk=1.0) == pytest.approx(0.5)  # and for Chinese
    assert rescale(0.45, cjk=1.0) > rescale(0.45, cjk=0.0) - 0.05


def test_knn_label_check_flags_planted_mislabel():
    rng = np.random.default_rng(0)
    centers = np.eye(4)[:2]
    X = np.concatenate([centers[0] + 0.05 * rng.standard_normal((10, 4)),
                        centers[1] + 0.05 * rng.standard_normal((10, 4))]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels = ["medical"] * 10 + ["finance"] * 10
    labels[3] = "finance"  # planted annotation error
    issues = knn_label_issues(X, labels, k=5, min_confidence=0.6)
    assert [(i.index, i.label, i.suggested) for i in issues] == [(3, "finance", "medical")]
    assert issues[0].confidence == 1.0
    assert knn_label_issues(X, ["a"] * 20) == []
