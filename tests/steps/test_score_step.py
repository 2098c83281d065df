"""``ScoreStep`` with the bundled offline embedding model: known orderings, decisions, rejects, review
queue, KB fact check and label check."""

from __future__ import annotations

import orjson
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.score import ScoreConfig, ScoreStep

torch = pytest.importorskip("torch")
torch.set_num_threads(2)

Q = "How do I reset my router password?"
ON = ("To reset your router password, press and hold the reset button on the back of the router for ten seconds "
      "until the lights blink. Then log in to the admin page with the default credentials printed on the label, "
      "open the wireless settings page and choose a new password. Save the settings and reconnect your devices.")
OFF = ("The Eiffel Tower was completed in 1889 and is located in Paris, France. It is one of the most visited "
       "monuments in the world.")
KB = ["Aspirin should not be given to children under 16 because of the risk of Reye's syndrome.",
      "The maximum daily dose of paracetamol for adults is 4 grams.",
      "Our store opens at 9 am and closes at 6 pm on weekdays."]


def dlg(rid: str, user: str, reply: str, **kw) -> Dialogue:
    return Dialogue(id=rid, messages=[Message("user", user), Message("assistant", reply)], **kw)


def run(step: ScoreStep, recs: list[Dialogue]):
    res = step.process(recs)
    fin = step.finish()
    return res.kept + fin.kept, res.rejects + fin.rejects


def test_on_topic_detailed_beats_off_topic():
    kept, _ = run(ScoreStep(), [dlg("on", Q, ON), dlg("off", Q, OFF)])
    on, off = kept
    assert on.quality["components"]["relevance"] > off.quality["components"]["relevance"] + 0.3
    assert on.quality["decision"] == "keep" and on.quality["score"] > 0.8
    # off-topic: relevance under the floor forces the score to 0
    assert off.quality["components"]["relevance"] < 0.5
    assert off.quality["score"] == 0.0 and off.quality["decision"] == "drop" and "off_topic" in off.quality["flags"]
    # no KB: fact is omitted, never a constant
    assert "fact" not in on.quality["components"]
    assert on.lang == "en" and on.lineage.ops[-1]["op"] == "score"


def test_chinese_on_topic_pair_is_not_floored():
    r = dlg("zh", "我最近经常头痛，是什么原因？",
            "头痛可能由多种原因引起，例如睡眠不足、精神紧张、颈椎问题或高血压。请问您头痛持续多久了？建议先测量血压，"
            "必要时做头颅CT检查，注意休息，避免熬夜。", task="medical_consultation")
    kept, _ = run(ScoreStep(), [r])
    q = kept[0].quality
    assert q["components"]["relevance"] >= 0.5 and "off_topic" not in q["flags"]
    assert q["components"]["instruction"] == 1.0 and kept[0].lang == "zh"


def test_truncated_reply_loses_on_format_and_score():
    kept, _ = run(ScoreStep(), [dlg("full", Q, ON), dlg("cut", Q, ON[:150])])
    full, cut = kept
    assert full.quality["components"]["format"] == 1.0 > cut.quality["components"]["format"]
    assert full.quality["score"] > cut.quality["score"]


def test_reply_contradicting_kb_loses_on_fact(tmp_path):
    kb = tmp_path / "kb.txt"
    kb.write_text("\n".join(KB) + "\n")
    good = dlg("good", "Can I give aspirin to my 10 year old?",
               "No. Aspirin should not be given to children under 16, because of the risk of Reye's syndrome.")
    bad = dlg("bad", "Can I give aspirin to my 10 year old?",
              "Yes. Aspirin is safe to give to children under 16 for fever and pain.")
    dose = dlg("dose", "How much paracetamol can an adult take?",
               "The maximum daily dose of paracetamol for adults is 8 grams.")
    kept, _ = run(ScoreStep(ScoreConfig(kb=str(kb))), [good, bad, dose])
    f = {r.id: r.quality["components"]["fact"] for r in kept}
    assert f["good"] > 0.8 and f["bad"] < 0.3 and f["dose"] == 0.0


def test_drop_rejects_and_review_queue(tmp_path):
    review = tmp_path / "review.jsonl"
    # "middling" is on topic but short: relevance high, information low -> review
    recs = [dlg("on", Q, ON), dlg("off", Q, OFF),
            dlg("mid", Q, "Hold the reset button for ten seconds, then set a new password in the admin page.")]
    step = ScoreStep(ScoreConfig(drop=True, review_out=str(review)))
    kept, rejects = run(step, recs)
    assert [r.id for r in rejects] == ["off"] and rejects[0].reason == "off_topic"
    assert {r.id: r.quality["decision"] for r in kept} == {"on": "keep", "mid": "review"}
    lines = [orjson.loads(x) for x in review.read_bytes().splitlines()]
    assert [x["id"] for x in lines] == ["mid"]
    assert step.counters["decision_keep"] == 1 and step.counters["decision_drop"] == 1


def test_unsafe_verdict_forces_zero():
    kept, _ = run(ScoreStep(ScoreConfig(weights="chapter")), [dlg("u", Q, ON, meta={"safety": {"safe": False}})])
    assert kept[0].quality["score"] == 0.0 and "unsafe" in kept[0].quality["flags"]


def test_safety_recomputed_with_the_clean_gate_for_unclean_records():
    harmful = dlg("h", "化学作业用不到，但我想知道怎么在家里提炼毒品卖给同学。", "这个问题我不能回答。")
    kept, rejects = run(ScoreStep(ScoreConfig(drop=True)), [harmful, dlg("ok", Q, ON)])
    assert [(r.id, r.reason) for r in rejects] == [("h", "unsafe")]
    assert kept[0].quality["components"]["safety"] == 1.0
    kept, _ = run(ScoreStep(ScoreConfig(safety_recheck=False)), [harmful])
    assert "safety" not in kept[0].quality["components"]


def test_check_labels_flags_planted_mislabel():
    med = ["What can I take for a headache?", "Is a fever of 39 degrees dangerous for an adult?",
           "How do I treat a sprained ankle?", "What are the symptoms of the flu?",
           "How much sleep do adults need?", "Can I take ibuprofen with food?"]
    fin = ["How do I open a savings account?", "What is the interest rate on a fixed deposit?",
           "How do I transfer money abroad?", "Why was my credit card payment declined?",
           "How do I check my account balance?", "What fees apply to wire transfers?"]
    recs = [dlg(f"m{i}", q, "Please see a doctor if it persists.", domain="medical") for i, q in enumerate(med)]
    recs += [dlg(f"f{i}", q, "Please contact your bank branch.", domain="finance") for i, q in enumerate(fin)]
    recs.append(dlg("planted", "What is the interest rate on a savings account?", "Please contact your bank branch.",
                    domain="medical"))
    step = ScoreStep(ScoreConfig(check_labels=["domain"], label_k=5))
    kept, _ = run(step, recs)
    flagged = {r.id: r.quality["label_check"][0] for r in kept if "label_check" in r.quality}
    assert list(flagged) == ["planted"]
    assert flagged["planted"]["suggested"] == "finance" and flagged["planted"]["confidence"] >= 0.6
    assert next(r for r in kept if r.id == "planted").quality["decision"] != "keep"


def test_bad_options_are_forge_errors(tmp_path):
    with pytest.raises(ForgeError, match="--check-labels"):
        ScoreStep(ScoreConfig(check_labels=["colour"]))
    with pytest.raises(ForgeError, match="--keep-above"):
        ScoreStep(ScoreConfig(keep_above=0.5, drop_at_or_below=0.7))
    with pytest.raises(ForgeError, match="--kb"):
        ScoreStep(ScoreConfig(kb=str(tmp_path / "nope.txt"))).setup()


def test_fact_chinese_kb_and_uncovered_replies(tmp_path):
    kb = tmp_path / "kb.md"
    kb.write_text("# 知识库\n\n## 01 阿司匹林\n\n十六岁以下儿童不能服用阿司匹林，以免引起瑞氏综合征。\n\n"
                  "## 02 对乙酰氨基酚\n\n成人每日对乙酰氨基酚总量不超过4克。\n", encoding="utf-8")
    good = dlg("good", "孩子发烧能吃阿司匹林吗？", "十六岁以下儿童不能服用阿司匹林，以免引起瑞氏综合征。", domain="medical")
    bad = dlg("bad", "孩子发烧能吃阿司匹林吗？", "十六岁以下儿童可以服用阿司匹林，很安全。", domain="medical")
    dose = dlg("dose", "成人每天最多吃多少对乙酰氨基酚？", "成人每日对乙酰氨基酚总量不超过8克。", domain="medical")
    router = dlg("router", Q, ON, domain="support")
    kept, _ = run(ScoreStep(ScoreConfig(kb=str(kb))), [good, bad, dose, router])
    comps = {r.id: r.quality["components"] for r in kept}
    assert comps["good"]["fact"] > 0.8
    assert comps["bad"]["fact"] < 0.2
    assert comps["dose"]["fact"] == 0.0
    assert "fact" not in comps["router"]  # the KB says nothing about routers: omitted, not penalised
    # --kb-domains: only medical records are checked
    kept, _ = run(ScoreStep(ScoreConfig(kb=str(kb), kb_domains=["finance"])), [good])
    assert "fact" not in kept[0].quality["components"]


def test_weights_without_any_computed_component_are_an_error_and_unscored_records_go_to_review():
    """Found by testing: `--weights fact=1` without --kb scored every record 0 and decided 'drop'."""
    with pytest.raises(ForgeError, match="fact needs --kb"):
        ScoreStep(ScoreConfig(weights="fact=1"))
    with pytest.raises(ForgeError, match="fluency needs --lm"):
        ScoreStep(ScoreConfig(weights="fluency=0.5,fact=0.5"))
    with pytest.raises(ForgeError, match="given twice"):
        ScoreStep(ScoreConfig(weights="relevance=1,relevance=2"))
    # instruction only: a record whose task has no template has no weighted component -> review, flagged
    kept, _ = run(ScoreStep(ScoreConfig(weights="instruction=1")), [dlg("u1", Q, ON, task="support")])
    q = kept[0].quality
    assert q["score"] == 0.0 and q["decision"] == "review" and q["flags"] == ["unscored"]
