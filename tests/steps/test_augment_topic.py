"""Rule-based ``context`` chaining stays on topic: question templates shared by unrelated records (Chinese
"医生您好，请问……怎么办", English "How do I ...?") do not make them partners, two questions on the same
complaint do (issue #5: "Records only become longer dialogues when the result stays coherent")."""

from __future__ import annotations

import numpy as np
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.augment import AugmentConfig, AugmentStep
from dialog_forge.steps.augment.topic import min_topic_for, pair_topic_similarity, tfidf_cosines

#: One template, eight complaints; only the first two are about the same thing (stomach ache after meals).
ZH = [("z1", "医生您好，请问胃痛怎么办？", "胃痛可以先吃些清淡温和的食物，按时吃饭，持续胃痛请去消化科做胃镜检查。"),
      ("z2", "医生您好，我最近饭后总是胃痛，还反酸，请问怎么办？",
       "饭后胃痛伴反酸多见于胃炎，少吃辛辣油腻，规律饮食，可以去消化科做胃镜检查。"),
      ("z3", "医生您好，请问皮肤过敏怎么办？", "皮肤过敏要先远离过敏原，可以外用炉甘石洗剂止痒，严重时口服抗过敏药。"),
      ("z4", "医生您好，请问孩子发烧怎么办？", "孩子发烧先物理降温，多喝水，体温超过38.5度可以用儿童退烧药。"),
      ("z5", "医生您好，请问晚上失眠怎么办？", "失眠要规律作息，睡前不看手机，不喝浓茶咖啡，必要时在医生指导下用助眠药物。"),
      ("z6", "医生您好，请问血压高怎么办？", "血压高要低盐饮食，控制体重，按医嘱服用降压药，每天测量血压。"),
      ("z7", "医生您好，请问腰疼怎么办？", "腰疼多与久坐和腰肌劳损有关，注意休息，适当做腰背肌锻炼，必要时拍片检查。"),
      ("z8", "医生您好，请问牙龈出血怎么办？", "牙龈出血常见于牙龈炎，要认真刷牙，定期洗牙，多吃新鲜蔬菜水果。")]
EN = [("e1", "How do I reset my password?", "Click 'Forgot password' on the login page and follow the reset link."),
      ("e2", "I forgot my password, how can I reset it?", "Use the password reset link we email you."),
      ("e3", "How do I change my shipping address?", "Open Orders, choose the order and edit the shipping address."),
      ("e4", "How do I cancel my subscription?", "Go to Account, then Subscription, and press Cancel."),
      ("e5", "How do I get a refund for a damaged item?", "Send us a photo of the damage and we refund it in 5 days."),
      ("e6", "How do I update my credit card?", "Open Billing and add the new card.")]


def _recs(rows, lang, domain):
    return [Dialogue(id=i, messages=[Message("user", u), Message("assistant", a)], lang=lang, domain=domain)
            for i, u, a in rows]


def _chains(res):
    """{child's parent id: partner id} of the kept context variants."""
    return {r.lineage.parent_id: r.lineage.ops[-1]["params"]["partner_id"] for r in res.kept if r.lineage.parent_id}


def _run(config, batch):
    step = AugmentStep(config)
    res = step.process(batch)
    assert len(batch) + res.generated == len(res.kept) + len(res.rejects)
    return step, res


def test_template_sharing_unrelated_chinese_questions_are_not_chained():
    step, res = _run(AugmentConfig(op=["context"], seed=1), _recs(ZH, "zh", "medical"))
    assert _chains(res) == {"z1": "z2", "z2": "z1"}
    made = next(r for r in res.kept if r.lineage.parent_id == "z2")
    assert [m.content for m in made.messages] == [ZH[0][1], ZH[0][2], ZH[1][1], ZH[1][2]]
    assert made.lineage.ops[-1]["params"]["topic"] >= min_topic_for("zh")
    assert step.counters["context_no_partner"] == 6


def test_chinese_template_weighs_little_against_the_complaint():
    s = pair_topic_similarity([u for _, u, _ in ZH], [a for *_, a in ZH])
    assert s.shape == (8, 8) and np.allclose(s, s.T)
    off = s[np.triu_indices(8, 1)]
    assert s[0, 1] == off.max() and s[0, 1] > 2 * np.sort(off)[-2]  # same complaint >> any shared template
    assert s[0, 1] >= min_topic_for("zh") > np.sort(off)[-2]


def test_template_sharing_unrelated_english_questions_are_not_chained():
    step, res = _run(AugmentConfig(op=["context"], seed=1), _recs(EN, "en", "account"))
    assert _chains(res) == {"e1": "e2", "e2": "e1"}
    assert step.counters["context_no_partner"] == 4


def test_mixed_batch_keeps_languages_and_domains_apart_and_is_deterministic():
    batch = _recs(ZH, "zh", "medical") + _recs(EN, "en", "account")
    _, a = _run(AugmentConfig(op=["context"], seed=1), batch)
    _, b = _run(AugmentConfig(op=["context"], seed=1), batch)
    assert _chains(a) == {"z1": "z2", "z2": "z1", "e1": "e2", "e2": "e1"}
    assert [r.to_dict() for r in a.kept] == [r.to_dict() for r in b.kept]


def test_min_topic_flag_overrides_one_language_only():
    batch = _recs(ZH, "zh", "medical") + _recs(EN, "en", "account")
    _, res = _run(AugmentConfig(op=["context"], context_min_topic={"zh": 0.9}), batch)
    assert _chains(res) == {"e1": "e2", "e2": "e1"}  # zh bound raised; en keeps its default
    assert min_topic_for("en", {"zh": 0.9}) == min_topic_for("en") and min_topic_for("fr") == min_topic_for("*")
    with pytest.raises(ForgeError, match="--context-min-topic"):
        AugmentStep(AugmentConfig(op=["context"], context_min_topic={"zh": 1.5})).setup()


def test_short_answers_are_left_out_and_no_topic_terms_score_zero():
    # "好的。" says nothing about the topic: the user turns alone decide (U15's pair stays chainable)
    s = pair_topic_similarity(["请帮我重置密码", "我忘记密码了，怎么重置？"], ["好的。", "点击忘记密码。"])
    assert s[0, 1] == pytest.approx(tfidf_cosines(["请帮我重置密码", "我忘记密码了，怎么重置？"])[0, 1])
    assert s[0, 1] >= min_topic_for("zh")
    assert np.array_equal(tfidf_cosines(["??", "123"]), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        pair_topic_similarity(["a"], [])


# -- found by adversarial use (tester of issue #5) ----------------------------------------------------------
def test_topic_index_rows_equal_the_dense_matrix_in_any_blocks():
    users, answers = [u for _, u, _ in ZH], [a for *_, a in ZH]
    from dialog_forge.steps.augment.topic import TopicIndex

    dense = pair_topic_similarity(users, answers)
    idx = TopicIndex(users, answers)
    assert np.allclose(np.vstack([idx.rows([k]) for k in range(8)]), dense)
    assert np.allclose(idx.rows([7, 0]), dense[[7, 0]])
    assert pair_topic_similarity([], []).shape == (0, 0)


def test_context_blocks_give_the_same_chains_as_one_block(monkeypatch):
    from dialog_forge.steps.augment import context

    batch = _recs(ZH, "zh", "medical") + _recs(EN, "en", "account")
    _, one = _run(AugmentConfig(op=["context"], seed=1), batch)
    monkeypatch.setattr(context, "BLOCK", 3)  # rows are scored a few items at a time (memory ~ BLOCK x batch)
    _, three = _run(AugmentConfig(op=["context"], seed=1), batch)
    assert [r.to_dict() for r in one.kept] == [r.to_dict() for r in three.kept]
    assert _chains(three) == {"z1": "z2", "z2": "z1", "e1": "e2", "e2": "e1"}


def test_exchanges_without_letters_are_never_chained():
    # "胃痛怎么办" / "。" would otherwise be put in front of every stomach question (its topic is pure 胃痛)
    batch = _recs([("p1", "胃痛怎么办", "。"), ("p2", "请问胃痛怎么办？", "胃痛可以先吃些清淡的食物。"),
                   ("p3", "我胃痛，怎么办？", "胃痛请去消化科做胃镜检查，少吃辛辣。"), ("p4", "？？", "胃痛")],
                  "zh", "medical")
    step, res = _run(AugmentConfig(op=["context"], seed=1), batch)
    made = [r for r in res.kept if r.lineage.parent_id]
    assert all("p1" not in (r.lineage.parent_id, r.lineage.ops[-1]["params"]["partner_id"]) for r in made)
    assert all(m.content not in ("。", "？？") for r in made for m in r.messages)
    assert step.counters["context_no_content"] == 2  # p1, p4


def test_traditional_and_simplified_chinese_are_not_chained_together():
    from dialog_forge.steps.augment.context import chain_lang

    simp = _recs(ZH[:1], None, "medical")
    trad = _recs([("t2", "醫生您好，我最近飯後總是胃痛，還反酸，請問怎麼辦？",
                   "飯後胃痛伴反酸多見於胃炎，少吃辛辣油膩，規律飲食，可以去消化科做胃鏡檢查。"),
                  ("t3", "醫生您好，請問胃痛怎麼辦？", "胃痛可以先吃些清淡溫和的食物，按時吃飯，持續胃痛請去消化科做胃鏡檢查。")],
                 None, "medical")
    assert [chain_lang(r) for r in simp + trad] == ["zh", "zh-hant", "zh-hant"]
    _, res = _run(AugmentConfig(op=["context"], seed=1, context_min_sim=0.0), simp + trad)
    assert _chains(res) == {"t2": "t3", "t3": "t2"}  # z1 is as close as t3 is, but in the other script


def test_japanese_is_not_chained_with_chinese():
    from dialog_forge.steps.augment.quality import detect_lang

    assert detect_lang("食後にいつも胃痛があります。胃炎でしょうか？") == "ja"
    assert detect_lang("我の家很好") == "zh" and detect_lang("안녕하세요 비밀번호") == "ko"
    batch = _recs(ZH[:2], None, "medical") + _recs(
        [("j2", "食後にいつも胃痛があります。胃炎でしょうか？", "食後の胃痛は胃炎のことが多いです。消化科で胃鏡検査を受けてください。")],
        None, "medical")
    _, res = _run(AugmentConfig(op=["context"], seed=1, context_min_sim=0.0, context_min_topic={"zh": 0.05}), batch)
    assert _chains(res) == {"z1": "z2", "z2": "z1"}


def test_partner_whose_answer_holds_pii_is_skipped_for_the_next_partner():
    batch = _recs([("q1", "医生您好，请问饭后胃痛怎么办？", "饭后胃痛多见于胃炎，请去消化科做胃镜检查。"),
                   ("q2", "医生您好，饭后胃痛，请问怎么办？", "饭后胃痛多见于胃炎，请去消化科做胃镜检查，预约电话13812345678。"),
                   ("q3", "医生您好，饭后胃痛还反酸，请问怎么办？", "饭后胃痛反酸多见于胃炎，少吃辛辣，去消化科做胃镜检查。"),
                   ("q4", "医生您好，请问皮肤过敏怎么办？", "皮肤过敏要先远离过敏原，可以外用炉甘石洗剂止痒。")],
                  "zh", "medical")
    step, res = _run(AugmentConfig(op=["context"], seed=1, context_min_sim=0.0, context_max_sim=1.01), batch)
    chains = _chains(res)
    # q2 is the closest partner of q1 and q3, but its answer holds a phone number they lack
    assert chains == {"q1": "q3", "q3": "q1", "q2": "q1"}
    made = [r for r in res.kept if r.lineage.parent_id]
    assert all("13812345678" not in m.content for r in made if r.lineage.parent_id != "q2" for m in r.messages)
    assert step.counters["context_partner_pii"] == 2


@pytest.mark.parametrize("given,key", [("ZH", "zh"), ("zh-CN", "zh"), ("zh_Hant", "zh"), (" en ", "en"), ("*", "*")])
def test_min_topic_flag_keys_are_language_codes(given, key):
    step = AugmentStep(AugmentConfig(op=["context"], context_min_topic={given: 0.5}))
    step.setup()
    assert step.config.context_min_topic == {key: 0.5}


@pytest.mark.parametrize("given", ["", "zh=", "chinese", "1"])
def test_min_topic_flag_rejects_what_is_not_a_language(given):
    with pytest.raises(ForgeError, match="not a language code"):
        AugmentStep(AugmentConfig(op=["context"], context_min_topic={given: 0.3})).setup()


#: MedicalGPT-style knowledge-graph questions: one frame, different diseases (medicalgpt_medical_sft_1k.jsonl)
KG = [("k1", "雷特综合征的发病性别倾向是啥？", "男性"), ("k2", "贲门失弛缓症的发病性别倾向是啥？", "无明显差异"),
      ("k3", "慢性动脉血栓的影像学检查有些什么？", "彩色多普勒超声"), ("k4", "BCS 下腔静脉阻塞的影像学检查有些什么？", "超声"),
      ("k5", "实验性脑梗死的影像学检查有些什么？", "弥散磁共振成像"), ("k6", "肾结石的推荐药有哪些？", "排石颗粒"),
      ("k7", "非小细胞癌的辅助治疗有些什么？", "化疗；放疗"), ("k8", "早期非小细胞癌的手术治疗有些什么？", "肺叶切除术")]


def test_strip_templates_keeps_the_complaint_only():
    from dialog_forge.steps.augment.topic import strip_templates

    got = strip_templates([u for _, u, _ in KG[2:5]] + ["医生您好，请问胃痛怎么办？"])
    assert got == ["慢性动脉血栓", "bcs 下腔静脉阻塞", "实验性脑梗死", "医生您好,请问胃痛怎么办"]  # frame shared by 3
    assert strip_templates(["胃痛怎么办", "胃痛怎么办", "胃痛怎么办"]) == ["胃痛怎么办"] * 3  # duplicates: no frame


def test_template_only_pairs():
    from dialog_forge.steps.augment.topic import template_only

    assert template_only(KG[0][1], KG[1][1]) and template_only("肾结石的推荐药有哪些？", "血色病的推荐药有哪些？")
    assert not template_only(KG[6][1], KG[7][1])  # both keep 非小细胞癌
    assert not template_only("胃痛怎么办", "我饭后胃痛怎么办")  # one inside the other
    assert not template_only(ZH[0][1], ZH[1][1])
    assert template_only("How do I reset my password?", "How do I change my shipping address?")


def test_knowledge_graph_frames_do_not_chain_different_diseases():
    step, res = _run(AugmentConfig(op=["context"], seed=1), _recs(KG, "zh", "medical"))
    chains = _chains(res)
    assert chains == {"k7": "k8", "k8": "k7"}, chains
    assert step.counters.get("context_partner_template_only", 0) >= 1
