"""forge synth: knowledge-base chunking, BM25 retrieval, grounded generation with checks, multi-turn
assembly, FAQ conversion, and the command against a real chat-completions server."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import orjson
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.synth import BM25Index, SynthConfig, faq_to_dialogues, load_kb, synthesize

_spec = importlib.util.spec_from_file_location("chat_server", Path(__file__).with_name("chat_server.py"))
chat_server = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("chat_server", chat_server)
_spec.loader.exec_module(chat_server)

KB_MD = """# 医学知识库

说明文字。

## 01 紧张型头痛

紧张型头痛多表现为双侧、紧箍样头痛，与长期伏案、睡眠不足和精神压力有关。每月服用止痛药不宜超过十天。

## 02 感染后咳嗽

感冒后持续两到八周的干咳多为感染后咳嗽。咳嗽超过八周称为慢性咳嗽，需要做肺功能检查。

## 03 高血压

血压140/90 mmHg及以上为高血压，应低盐饮食并定期监测。
"""
FAQ_CSV = "id,question,answer,category\n7,如何申请退款？,在订单页点击申请退款，3个工作日内到账。,refund\n8,发票怎么开？,,invoice\n" \
          "9,How do I change my address?,Go to Settings > Address before the order ships.,shipping\n"


@pytest.fixture
def kb(tmp_path):
    d = tmp_path / "kb"
    d.mkdir()
    (d / "medical_kb.md").write_text(KB_MD, encoding="utf-8")
    (d / "faq.csv").write_text(FAQ_CSV, encoding="utf-8-sig")
    (d / "extra.jsonl").write_text(json.dumps({"id": "p9", "title": "退货", "text": "退货需在签收后7天内申请。"},
                                              ensure_ascii=False) + "\n", encoding="utf-8")
    (d / "notes.txt").write_text("第一段关于会员积分。\n\n第二段关于积分过期。", encoding="utf-8")
    return d


def test_kb_loading_chunks_every_format_with_stable_ids(kb):
    ps = load_kb([str(kb)])
    ids = [p.id for p in ps]
    assert ids == ["extra#p9", "faq#7", "faq#9", "medical_kb#1", "medical_kb#2", "medical_kb#3", "medical_kb#4",
                   "notes#1"]
    by = {p.id: p for p in ps}
    assert by["medical_kb#2"].title == "01 紧张型头痛" and by["medical_kb#2"].text.startswith("紧张型头痛")
    assert by["faq#7"].question == "如何申请退款？" and by["faq#7"].task == "refund"
    assert by["notes#1"].text == "第一段关于会员积分。\n第二段关于积分过期。"
    small = load_kb([str(kb / "notes.txt")], max_chars=12)
    assert [p.text for p in small] == ["第一段关于会员积分。", "第二段关于积分过期。"]
    assert [p.id for p in small] == ["notes#1", "notes#2"]


def test_kb_errors_name_the_flag(tmp_path):
    with pytest.raises(ForgeError, match="--kb"):
        load_kb([str(tmp_path / "missing")])
    bad = tmp_path / "faq.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(ForgeError, match="question column"):
        load_kb([str(bad)])


def test_bm25_finds_the_right_passage_in_chinese_and_english(kb):
    idx = BM25Index(load_kb([str(kb)]))
    assert idx.search("头痛吃止痛药要注意什么？", 1)[0][0].id == "medical_kb#2"
    assert idx.search("咳嗽两个月了", 1)[0][0].id == "medical_kb#3"
    assert idx.search("血压140/90算高吗", 1)[0][0].id == "medical_kb#4"
    assert idx.search("how can I change the delivery address", 1)[0][0].id == "faq#9"
    assert idx.search("zzzz qqqq", 3) == []


class SynthBackend:
    """Scripted answers per template (a protocol test double; the HTTP path is tested below)."""

    name = "scripted"

    def __init__(self):
        from dialog_forge.backends.base import BackendStats
        self.stats = BackendStats()

    def generate(self, prompts, params=None):
        out = []
        for p in prompts:
            if "further intents" in p:
                out.append('["cough"]')
            elif 'for the intent "headache"' in p:
                out.append(json.dumps(["头痛时止痛药每月能吃几天？", "长期伏案头痛是什么原因？",
                                       "头痛吃什么药好？我的电话13912345678",   # PII in a question
                                       "What causes tension headaches?",        # wrong language
                                       "我经常头痛怎么办呢"], ensure_ascii=False))  # near copy of the seed
            elif 'for the intent "cough"' in p:
                out.append('["感冒后一直干咳正常吗？", "咳嗽很久需要做什么检查？"]')
            elif 'for the intent "hypertension"' in p:
                out.append("I am not able to answer that.")  # parse failure
            elif "Question: 头痛时止痛药每月能吃几天？" in p:
                out.append('[{"answer": "每月服用止痛药不宜超过十天。", "passage_ids": ["medical_kb#2"]}]')
            elif "Question: 长期伏案头痛是什么原因？" in p:
                out.append('[{"answer": "与长期伏案、睡眠不足和精神压力有关。", "passage_ids": ["medical_kb#2", "x#1"]}]')
            elif "Question: 感冒后一直干咳正常吗？" in p:
                out.append('[{"answer": "两到八周的干咳多为感染后咳嗽。", "passage_ids": ["nope#1"]}]')  # ungrounded
            elif "Question: 咳嗽很久需要做什么检查？" in p:
                out.append('[{"answer": "超过八周需要做肺功能检查，可致电13912345678预约。", '
                           '"passage_ids": ["medical_kb#3"]}]')  # new PII
            else:
                out.append("[]")
        return out

    def translate(self, texts, src, tgt, params=None):
        return texts


SEEDS = [Dialogue(id="s1", messages=[Message("user", "我经常头痛怎么办？"), Message("assistant", "...")],
                  domain="medical", task="headache", lang="zh"),
         Dialogue(id="s2", messages=[Message("user", "血压高要注意什么"), Message("assistant", "...")],
                  domain="medical", task="hypertension", lang="zh")]


def test_synthesize_grounds_answers_checks_and_counts(kb):
    counters = {}
    cfg = SynthConfig(kb=[str(kb)], expand_intents=1, multi_turn_ratio=0.0, model="m", max_jaccard=0.8)
    out = synthesize(SEEDS, load_kb([str(kb)]), SynthBackend(), cfg,
                     lambda k, n=1: counters.__setitem__(k, counters.get(k, 0) + n))
    assert [d.messages[0].content for d in out] == ["头痛时止痛药每月能吃几天？", "长期伏案头痛是什么原因？"]
    assert out[0].meta["kb_passage_ids"] == [["medical_kb#2"]]
    assert out[1].meta["kb_passage_ids"] == [["medical_kb#2"]]  # the made-up id x#1 is dropped
    assert all(d.task == "headache" and d.domain == "medical" and d.lang == "zh" for d in out)
    assert out[0].lineage.ops == [{"op": "synth", "params": {"backend": "scripted", "model": "m", "top_k": 3,
                                                             "seed": 0}}]
    assert out[0].id.startswith("synth-") and out[0].lineage.root_id == out[0].id
    assert counters["intents_expanded"] == 1
    for reason, n in {"new_pii": 2, "lang_changed": 1, "near_copy": 1, "parse_failure": 1, "ungrounded": 1}.items():
        assert counters[f"rejected.{reason}"] == n, reason


def test_multi_turn_assembly_keeps_every_pair_once(kb):
    cfg = SynthConfig(kb=[str(kb)], expand_intents=1, multi_turn_ratio=1.0, max_turns=3)
    out = synthesize(SEEDS, load_kb([str(kb)]), SynthBackend(), cfg, lambda k, n=1: None)
    assert len(out) == 1 and [m.role for m in out[0].messages] == ["user", "assistant"] * 2
    assert out[0].meta["kb_passage_ids"] == [["medical_kb#2"], ["medical_kb#2"]]


def test_from_faq_turns_rows_into_dialogues(tmp_path):
    f = tmp_path / "faq.csv"
    f.write_text(FAQ_CSV, encoding="utf-8-sig")
    counters = {}
    out = faq_to_dialogues(str(f), domain="customer_service",
                           count=lambda k, n=1: counters.__setitem__(k, counters.get(k, 0) + n))
    assert [(d.messages[0].content, d.task, d.lang) for d in out] == [
        ("如何申请退款？", "refund", "zh"), ("How do I change my address?", "shipping", "en")]
    assert out[0].messages[1].content == "在订单页点击申请退款，3个工作日内到账。"
    assert out[0].meta["kb_passage_ids"] == [["faq#7"]] and out[0].source == {"file": str(f), "row": 1}
    assert counters == {"faq_rows": 3, "faq_row_skipped": 1}


def test_cli_from_faq(forge, tmp_path):
    f = tmp_path / "faq.csv"
    f.write_text(FAQ_CSV, encoding="utf-8-sig")
    p = forge("synth", "--from-faq", f, "--domain", "customer_service")
    assert p.returncode == 0, p.stderr.decode()
    recs = [orjson.loads(line) for line in p.stdout.splitlines()]
    assert [r["task"] for r in recs] == ["refund", "shipping"] and recs[0]["domain"] == "customer_service"
    assert "1 FAQ rows skipped" in p.stderr.decode()
    bad = forge("synth", "--seeds", f)
    assert bad.returncode == 2 and "--kb" in bad.stderr.decode()


def test_cli_against_a_real_chat_completions_server(forge, tmp_path, kb):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_bytes(b"\n".join(d.to_json() for d in SEEDS[:1]) + b"\n")

    def answer(prompt):
        if "further intents" in prompt:
            return "[]"
        if "questions a real user could ask" in prompt:
            return '["头痛时止痛药每月能吃几天？"]'
        m = re.search(r"\[(medical_kb#\d+)\] 紧张型头痛", prompt)
        return json.dumps([{"answer": "每月服用止痛药不宜超过十天。", "passage_ids": [m.group(1) if m else "none"]}],
                          ensure_ascii=False)

    with chat_server.ScriptedChatServer(default=answer) as srv:
        out = tmp_path / "synth.jsonl"
        p = forge("synth", "--seeds", seeds, "--kb", kb, "--backend", "openai", "--base-url", srv.base_url,
                  "--model", "tiny", "--cache-dir", tmp_path / "cache", "--stats-json", tmp_path / "s.json",
                  "-o", out)
        assert p.returncode == 0, p.stderr.decode()
    recs = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(recs) == 1 and recs[0]["meta"]["kb_passage_ids"] == [["medical_kb#2"]]
    assert recs[0]["messages"][1]["content"] == "每月服用止痛药不宜超过十天。"
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["counters"]["backend.requests"] == 2 and stats["counters"]["pairs"] == 1


def test_sparse_bm25_scores_equal_rank_bm25(kb):
    import numpy as np

    from dialog_forge.steps.synth.retrieve import bm25_tokens

    idx = BM25Index(load_kb([str(kb)]))
    for q in ["头痛吃止痛药要注意什么？头痛", "how can I change the delivery address", "退货 积分 咳嗽"]:
        assert np.allclose(idx.scores(q), idx._bm25.get_scores(bm25_tokens(q)))


def test_faq_with_only_a_header_says_so(tmp_path):
    """Found by testing: a FAQ CSV with a q,a header and no row was reported as having no columns (found [])."""
    from dialog_forge.kb import read_faq

    f = tmp_path / "faq.csv"
    f.write_text("question,answer\n", encoding="utf-8")
    with pytest.raises(ForgeError, match="holds no FAQ row"):
        read_faq(f)


def test_lang_flag_with_a_region_subtag_means_the_language(kb):
    # found by testing: --lang zh-CN compared "zh" (detected) with "zh-CN" and rejected every question
    counters = {}
    cfg = SynthConfig(kb=[str(kb)], expand_intents=1, multi_turn_ratio=0.0, model="m", max_jaccard=0.8, lang="zh-CN")
    out = synthesize(SEEDS, load_kb([str(kb)]), SynthBackend(), cfg,
                     lambda k, n=1: counters.__setitem__(k, counters.get(k, 0) + n))
    assert [d.messages[0].content for d in out] == ["头痛时止痛药每月能吃几天？", "长期伏案头痛是什么原因？"]
    assert all(d.lang == "zh" for d in out) and counters["rejected.lang_changed"] == 1  # the English one only
