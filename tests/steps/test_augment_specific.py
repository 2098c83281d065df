"""Rule-based ``context`` chains need a shared *specific* term, not a sum of generic ones (issue #5, round 2):
encyclopedic questions that share only a modifier ("原发性…", "老年…", "…障碍") or a two-slot frame
("X忘记吃了怎么办？我在吃X") are not chained; two questions on the same disease are. Also: a Chinese question
that is mostly Latin letters is no language change for a context chain, and the step's stats counters are
numbers only."""

from __future__ import annotations

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.augment import AugmentConfig, AugmentStep
from dialog_forge.steps.augment.quality import VariantChecker, detect_lang
from dialog_forge.steps.augment.topic import TopicIndex, differing_slots, slot_pair, specific_terms

#: MedicalGPT-style encyclopedic questions: pairs sharing only a generic modifier (原发性, 老年, 障碍), one
#: pair on the same disease (荨麻疹), one pair about the same drug (阿莫西林).
MED = [("m1", "原发性UPJO的手术治疗有些什么？", "原发性UPJO可行离断性肾盂成形术，腹腔镜或机器人辅助手术效果较好。"),
       ("m2", "原发性醛固酮增多症的筛查有些什么？", "原发性醛固酮增多症筛查常用血浆醛固酮与肾素活性比值，阳性者再做确诊试验。"),
       ("m3", "老年心血管病的并发症是什么？", "老年心血管病常见并发症有心力衰竭、心律失常和脑卒中。"),
       ("m4", "老年手术的病因是什么？", "老年人手术风险与多器官功能减退有关，术前需全面评估心肺功能。"),
       ("m5", "射精障碍的发病年龄是多少？", "射精障碍多见于青壮年男性，与心理因素和神经损伤有关。"),
       ("m6", "学习障碍的预防措施有些什么？", "学习障碍的预防包括孕期保健、早期发现和家庭学校的共同干预。"),
       ("m7", "过敏性荨麻疹有什么症状？", "过敏性荨麻疹表现为皮肤突然出现风团，瘙痒明显，数小时内消退又反复出现。"),
       ("m8", "人工性荨麻疹可以根治吗？", "人工性荨麻疹又叫皮肤划痕症，多数可以控制，避免搔抓，口服抗组胺药。")]


def _recs(rows, lang="zh", domain="medical"):
    return [Dialogue(id=i, messages=[Message("user", u), Message("assistant", a)], lang=lang, domain=domain)
            for i, u, a in rows]


def _run(config, batch):
    step = AugmentStep(config)
    res = step.process(batch)
    assert len(batch) + res.generated == len(res.kept) + len(res.rejects)
    return step, res


def _chains(res):
    return {r.lineage.parent_id: r.lineage.ops[-1]["params"]["partner_id"] for r in res.kept if r.lineage.parent_id}


def test_specific_terms_drop_generic_modifiers_and_function_pairs():
    assert specific_terms("原发性醛固酮增多症") == {"醛固", "固酮", "酮增", "增多", "多症"}
    assert specific_terms("性功能障碍") == set()  # 功能, 障碍 generic; no pair straddles them
    assert "原发" not in specific_terms("原发性UPJO") and "upjo" in specific_terms("原发性UPJO")
    assert "也不" not in specific_terms("试了很多方法也不能恢复")
    assert specific_terms("How do I reset my password?") == {"reset", "password"}


#: Permissive bounds: in a batch of eight the IDF is weak and the English-centred MiniLM rates Chinese pairs
#: at random, so the specific-term and slot tests alone must keep the unrelated pairs apart.
LOW = {"context_min_topic": {"zh": 0.05}, "context_min_sim": 0.0}


def test_questions_sharing_only_a_generic_modifier_are_not_chained_same_disease_is():
    step, res = _run(AugmentConfig(op=["context"], seed=1, **LOW), _recs(MED))
    assert _chains(res) == {"m7": "m8", "m8": "m7"}
    assert step.counters["context_partner_no_specific_term"] >= 3  # 原发性, 老年, 障碍 pairs at least
    idx = TopicIndex([u for _, u, _ in MED], [a for *_, a in MED])
    assert idx.shared_specific(0, 1) == [] and idx.shared_specific(2, 3) == [] and idx.shared_specific(4, 5) == []
    assert "荨麻" in idx.shared_specific(6, 7)


#: One two-slot frame with two drugs (not to be chained), and two questions on the same drug (chained).
DRUGS = [("d1", "阿莫西林忘记吃了怎么办？我在吃阿莫西林，今天早上忘了吃，晚上补吃可以吗？",
          "阿莫西林漏服后想起来尽快补服，若接近下次服药时间就不要补，不要一次吃双倍剂量。"),
         ("d2", "阿托伐他汀忘记吃了怎么办？我在吃阿托伐他汀，今天早上忘了吃，晚上补吃可以吗？",
          "阿托伐他汀漏服一次影响不大，想起时补服，若已接近下次服药时间则跳过，不要加倍。"),
         ("d3", "阿莫西林吃了以后拉肚子是正常的吗？", "阿莫西林会扰乱肠道菌群，引起腹泻，可以同时吃益生菌，严重腹泻要停药就医。"),
         ("d4", "对青霉素过敏的人能吃阿莫西林吗？", "阿莫西林属于青霉素类抗生素，青霉素过敏者禁用阿莫西林，可改用其他抗生素。")]


def test_two_slot_drug_frame_is_a_template_pair():
    a, b = DRUGS[0][1], DRUGS[1][1]
    sa, sb = differing_slots(a, b)
    assert "阿莫西林" in sa and "阿托伐他汀" in sb and "忘记吃了" not in sa
    assert slot_pair(a, b)
    assert not slot_pair(DRUGS[0][1], DRUGS[2][1])  # no common frame
    assert not slot_pair("胃痛怎么办", "我饭后胃痛怎么办")  # one question holds the other: a slot is empty


def test_two_slot_drug_frame_is_not_chained_questions_on_one_drug_are():
    step, res = _run(AugmentConfig(op=["context"], seed=1, **LOW), _recs(DRUGS))
    chains = _chains(res)
    assert step.counters["context_partner_template_only"] >= 2  # d1 -> d2 and d2 -> d1 were tried first
    assert chains.get("d1") != "d2" and chains.get("d2") != "d1"
    assert chains.get("d3") in {"d1", "d4"} and chains.get("d4") in {"d1", "d3"}


def test_english_pairs_sharing_only_generic_words_are_not_chained():
    rows = [("e1", "How do I get a receipt for my order?", "Open Orders, choose the order and download the receipt PDF."),
            ("e2", "How do I change the delivery address of my order?", "Open Orders and edit the delivery address before it ships."),
            ("e3", "Can I pick up my order in a store?", "Yes, choose store pickup at checkout and bring your order number."),
            ("e4", "Where can I download the receipt for last month's payment?", "Receipts for every payment are under Billing, Receipts."),
            ("e5", "How do I reset my password?", "Click 'Forgot password' on the login page and follow the reset link."),
            ("e6", "I forgot my password, how can I reset it?", "Use the password reset link we email you.")]
    step, res = _run(AugmentConfig(op=["context"], seed=1), _recs(rows, "en", "customer_service"))
    chains = _chains(res)
    assert all({a, b} not in ({"e1", "e2"}, {"e2", "e3"}, {"e1", "e3"}) for a, b in chains.items()), chains
    assert chains.get("e5") == "e6" and chains.get("e6") == "e5"


def test_mostly_latin_chinese_question_is_no_language_change_for_context():
    src, var = "乙肝两对半是什么意思，严重吗？", "HBsAg+ HBsAb- HBeAg- HBeAb+ HBcAb+ 正常吗"
    assert detect_lang(var) == "en" and detect_lang(src) == "zh"  # the single turn alone looks English
    checker = VariantChecker()
    assert checker._cheap(src, var, "context_rules") is None
    assert checker._cheap(src, "Is hepatitis B serious?", "context_rules") == "lang_changed"  # no Han at all
    assert checker._cheap(src, var, "paraphrase") == "lang_changed"  # a rewrite must keep the language


def test_mostly_latin_chinese_question_is_chained_with_its_chinese_partner():
    rows = [("h1", "乙肝两对半HBsAg阳性是什么意思，需要治疗吗？", "HBsAg阳性说明感染了乙肝病毒，需要查肝功能和HBV-DNA决定是否抗病毒治疗。"),
            ("h2", "HBsAg+ HBsAb- HBeAg- HBeAb+ HBcAb+ 乙肝严重吗",
             "这是乙肝小三阳，HBsAg阳性，需要复查肝功能、HBV-DNA和肝脏B超，决定是否抗病毒治疗。")]
    step, res = _run(AugmentConfig(op=["context"], seed=1, context_min_sim=0.0), _recs(rows))
    assert [r.reason for r in res.rejects] == []  # no lang_changed
    assert set(_chains(res)) == {"h1", "h2"}


def test_stats_counters_are_numbers_only():
    step, _ = _run(AugmentConfig(op=["noise", "context"], seed=1, report=False), _recs(MED))
    flat = step.summary()
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat.values()), flat
    assert flat["report.before.records"] == len(MED) and flat["report.after.records"] > len(MED)
    assert sum(v for k, v in flat.items() if k.startswith("pii_detector.")) == 1


def test_lang_matches_keeps_mostly_latin_chinese_and_tells_japanese_apart():
    from dialog_forge.steps.augment.quality import lang_matches

    assert lang_matches("HBsAg+ HBsAb- HBeAb+ 是什么意思", "zh")
    assert not lang_matches("What does HBsAg mean?", "zh")
    assert not lang_matches("薬を飲み忘れたらどうすればいいですか", "zh")  # Japanese is not Chinese
    assert lang_matches("薬を飲み忘れたらどうすればいいですか", "ja")
    assert lang_matches("12345", "en") and lang_matches("anything", None)


#: Lab-report questions that share a mid-question frame ("…，NN岁，男，单位体检报告显示…，其他项目基本正常…") around
#: different lab values, plus two questions on one drug inside another frame (tester pass on the demo data).
LABS = [("l1", "体检发现白细胞高，60岁，女，单位体检报告显示白细胞12.5×10^9/L，其他项目基本正常，请问严重吗？需要吃药吗？",
         "白细胞轻度升高多与感染、炎症或应激有关，建议复查血常规，必要时查感染指标。"),
        ("l2", "体检发现TSH偏高，45岁，男，单位体检报告显示促甲状腺激素TSH 8.2 mIU/L，其他项目基本正常，请问严重吗？需要吃药吗？",
         "TSH偏高提示甲状腺功能可能减退，需复查甲功五项和甲状腺抗体，再决定是否补充左甲状腺素。"),
        ("l3", "体检发现肌酐高，33岁，女，单位体检报告显示肌酐135 μmol/L，其他项目基本正常，请问严重吗？需要吃药吗？",
         "肌酐升高提示肾功能可能受损，建议复查肾功能、尿常规和肾脏超声。"),
        ("l4", "阿托伐他汀能和红曲一起用吗？医生给我开了阿托伐他汀，我家里还有红曲，想问一下能不能同时用？",
         "红曲含有洛伐他汀类成分，与阿托伐他汀同用会增加肌肉损伤风险，不建议同时服用。"),
        ("l5", "阿托伐他汀忘记吃了怎么办？我在吃阿托伐他汀，今天早上忘记吃了，现在要不要补？",
         "阿托伐他汀漏服一次影响不大，想起时补服，若已接近下次服药时间则跳过，不要加倍。")]


def test_t_final_terms_shared_only_in_a_common_frame_are_no_topic():
    idx = TopicIndex([u for _, u, _ in LABS], [a for *_, a in LABS])
    assert idx.shared_specific(0, 1) == [] and idx.shared_specific(0, 2) == [] and idx.shared_specific(1, 2) == []
    assert "阿托" in idx.shared_specific(3, 4)  # the drug: in the frame, but held by only two questions


def test_t_final_lab_frame_pairs_are_not_chained_drug_pair_is():
    step, res = _run(AugmentConfig(op=["context"], seed=1, **LOW), _recs(LABS))
    chains = _chains(res)
    assert not {"l1", "l2", "l3"} & (set(chains) | set(chains.values())), chains
    assert chains == {"l4": "l5", "l5": "l4"}
    assert step.counters["context_partner_no_specific_term"] >= 6


def test_t_final_empty_similarity_window_is_a_usage_error():
    import pytest

    from dialog_forge.errors import ForgeError

    for kw, text in (({"context_min_sim": 0.9, "context_max_sim": 0.5}, "is not below --context-max-sim"),
                     ({"context_min_sim": 2.0}, "--context-min-sim 2.0"),
                     ({"min_cosine": -3.0}, "--min-cosine -3.0")):
        with pytest.raises(ForgeError, match=text):
            AugmentStep(AugmentConfig(op=["context"], seed=1, **kw)).setup()
    AugmentStep(AugmentConfig(op=["noise"], seed=1, context_min_sim=0.9, context_max_sim=0.5)).setup()  # no context op
