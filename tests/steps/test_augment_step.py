"""AugmentStep over batches: U15 alignment, lineage, counting, --ratio, --keep-original, operators with
a scripted backend and with the real openai backend against a local chat-completions server."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from dialog_forge.backends.base import BackendStats
from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.augment import AugmentConfig, AugmentStep

_spec = importlib.util.spec_from_file_location("chat_server", Path(__file__).with_name("chat_server.py"))
chat_server = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("chat_server", chat_server)
_spec.loader.exec_module(chat_server)


class ScriptedBackend:
    """A Backend whose answers are looked up by the text quoted in the prompt (a test double of the
    protocol; the real HTTP path is tested below and in test_backends_openai.py)."""

    name = "scripted"

    def __init__(self, answers: dict[str, str], translations: dict[tuple[str, str, str], str] | None = None):
        self.answers, self.translations = answers, translations or {}
        self.stats = BackendStats()
        self.prompts: list[str] = []

    def generate(self, prompts, params=None):
        self.prompts += prompts
        out = []
        for p in prompts:
            hit = [v for k, v in self.answers.items() if f"Message: {k}\n" in p or f'"content": "{k}"' in p]
            out.append(hit[0] if hit else "I cannot help with that.")
        return out

    def translate(self, texts, src, tgt, params=None):
        return [self.translations.get((t, src, tgt), t) for t in texts]


def rec(rid, user, assistant="好的。", **kw):
    return Dialogue(id=rid, messages=[Message("user", user), Message("assistant", assistant)], **kw)


def run(step, batch):
    step.setup()
    res = step.process(batch)
    assert len(batch) + res.generated == len(res.kept) + len(res.rejects)  # the executor's invariant
    return res


# -- U15 ----------------------------------------------------------------------------------------------
def test_u15_some_records_yield_no_variant_others_several():
    # the case's batch, as records: a3's text is a list (not a string)
    case = {"aug_num": 2, "keep_original": True,
            "batch": [{"id": "a1", "text": "请帮我重置密码", "meta": {"src": "faq"}},
                      {"id": "a2", "text": "好", "meta": {"src": "chat"}},
                      {"id": "a3", "text": ["第一段", "第二段"], "meta": {"src": "web"}}],
            "augmenter_returns": {"a1": ["麻烦帮我把密码重置一下", "请协助我重设密码"], "a2": []}}
    batch = [Dialogue(id=r["id"], messages=[Message("user", r["text"])], meta=r["meta"]) for r in case["batch"]]
    texts = {r["id"]: r["text"] for r in case["batch"]}
    backend = ScriptedBackend({texts[k]: json.dumps(v, ensure_ascii=False) for k, v in case["augmenter_returns"].items()})
    # the case is about alignment, not meaning: the drift bound is off (MiniLM is English-centred)
    step = AugmentStep(AugmentConfig(op=["paraphrase"], n=case["aug_num"], keep_original=True, min_cosine=-1.0,
                                     backend="openai"), backend=backend)
    res = run(step, batch)
    ids = [r.id for r in res.kept]
    assert ids[0] == "a1" and ids[3] == "a2" and len(ids) == 4
    variants = res.kept[1:3]
    assert [v.messages[0].content for v in variants] == case["augmenter_returns"]["a1"]
    assert len({v.id for v in variants} | {"a1", "a2"}) == 4  # each variant has its own id
    for v in variants:
        assert v.lineage.parent_id == "a1" and v.lineage.root_id == "a1"
        assert v.meta == {"src": "faq"}
        assert v.lineage.ops[-1]["op"] == "paraphrase"
    assert res.kept[3].messages[0].content == "好" and res.kept[3].lineage.parent_id is None
    assert [(r.id, r.reason) for r in res.rejects] == [("a3", "invalid_content")]
    assert "must be a string" in res.rejects[0].detail
    assert res.generated == 2
    assert step.counters["records_without_variant"] == 1
    # nothing was matched by position: the backend was asked about a1 and a2 only
    assert len(backend.prompts) == 2


def test_variants_stay_with_their_parent_when_answers_come_in_any_shape():
    batch = [rec(f"r{i}", f"question number {i} about refunds") for i in range(5)]
    answers = {"question number 0 about refunds": '["a first rewrite of question zero about refunds"]',
               "question number 2 about refunds": "```json\n[\"question two rewritten about refunds\", "
                                                   "\"another take on question two about refunds\"]\n```",
               "question number 3 about refunds": "not json at all",
               "question number 4 about refunds": '[1, 2]'}
    step = AugmentStep(AugmentConfig(op=["paraphrase"], n=2, min_cosine=-1.0, max_jaccard=1.0, backend="openai"),
                       backend=ScriptedBackend(answers))
    res = run(step, batch)
    parents = [(r.id if r.lineage.parent_id is None else "~" + r.lineage.parent_id) for r in res.kept]
    assert parents == ["r0", "~r0", "r1", "r2", "~r2", "~r2", "r3", "r4"]
    assert step.counters["parse_failures"] == 3  # r1 (refusal), r3 (prose), r4 (not strings)
    assert step.counters["records_without_variant"] == 3


# -- lineage, ratio, keep-original, determinism ------------------------------------------------------------
def test_noise_variants_carry_lineage_and_are_deterministic():
    batch = [rec("n1", "请帮我查一下订单什么时候发货？", domain="ecommerce", task="order_status", lang="zh",
                 meta={"channel": "app"}),
             rec("n2", "How do I reset my password please?", lang="en")]
    a = run(AugmentStep(AugmentConfig(op=["noise"], n=2, seed=7)), batch)
    b = run(AugmentStep(AugmentConfig(op=["noise"], n=2, seed=7)), batch)
    assert [r.to_dict() for r in a.kept] == [r.to_dict() for r in b.kept]
    kids = [r for r in a.kept if r.lineage.parent_id == "n1"]
    assert kids and all(k.domain == "ecommerce" and k.task == "order_status" and k.meta == {"channel": "app"}
                        for k in kids)
    op = kids[0].lineage.ops[-1]
    assert op["op"] == "noise" and op["params"]["seed"] == 7 and op["params"]["rate"] == 0.1
    assert all(k.messages[1].content == "好的。" for k in kids)  # assistant turns untouched by default
    c = run(AugmentStep(AugmentConfig(op=["noise"], n=2, seed=8)), batch)
    assert [r.id for r in c.kept] != [r.id for r in a.kept]


def test_ratio_picks_a_stable_share_independent_of_batching():
    batch = [rec(f"q{i}", f"我想问一下第{i}个订单的物流信息") for i in range(40)]
    whole = run(AugmentStep(AugmentConfig(op=["noise"], ratio=0.25, seed=1)), batch)
    parents = {r.lineage.parent_id for r in whole.kept if r.lineage.parent_id}
    assert 4 <= len(parents) <= 18
    step = AugmentStep(AugmentConfig(op=["noise"], ratio=0.25, seed=1))
    halves = run(step, batch[:13]).kept + step.process(batch[13:]).kept
    assert [r.id for r in halves] == [r.id for r in whole.kept]


def test_no_keep_original_rejects_replaced_originals_and_keeps_the_rest():
    batch = [rec("k1", "请问退款多久到账？"), rec("k2", "")]
    res = run(AugmentStep(AugmentConfig(op=["noise"], keep_original=False)), batch)
    assert [r.lineage.parent_id for r in res.kept] == ["k1", None]  # k2 had nothing to noise: kept as is
    assert [(r.id, r.reason) for r in res.rejects] == [("k1", "replaced")]


def test_failed_variants_are_rejected_with_their_reason_and_counted():
    answers = {"How can I get a refund for my order?": json.dumps([
        "How can I get a refund for my order?",            # identical
        "How can I get a refund for my order??!",          # identical after normalisation
        "如何为我的订单申请退款？",                            # lang_changed
        "How can I get a refund for my order? Mail me at x@y.com",  # new_pii
        "Could you tell me how to obtain a refund for the order I placed?",  # kept
        "Could you tell me how to obtain a refund for the order I placed?",  # a duplicate: not a candidate
    ])}
    step = AugmentStep(AugmentConfig(op=["paraphrase"], n=6, backend="openai", min_cosine=0.5),
                       backend=ScriptedBackend(answers))
    res = run(step, [rec("p1", "How can I get a refund for my order?")])
    assert sorted(r.reason for r in res.rejects) == ["identical", "identical", "lang_changed", "new_pii"]
    assert [r.messages[0].content for r in res.kept[1:]] == [
        "Could you tell me how to obtain a refund for the order I placed?"]
    assert res.generated == 5  # the repeated rewrite collapses into one candidate
    assert step.counters["duplicate_variants"] == 1
    assert all(r.record.lineage.parent_id == "p1" for r in res.rejects)


def test_drift_and_near_copy():
    answers = {"How do I reset my password?": json.dumps([
        "What is the capital of France?",                 # drift
        "How do I reset my password now?",                # near copy
        "What steps should I follow to change a forgotten password?",
    ])}
    step = AugmentStep(AugmentConfig(op=["paraphrase"], n=3, backend="openai", max_jaccard=0.8),
                       backend=ScriptedBackend(answers))
    res = run(step, [rec("d1", "How do I reset my password?")])
    reasons = {r.record.messages[0].content: (r.reason, r.detail) for r in res.rejects}
    assert reasons["What is the capital of France?"][0] == "drift"
    assert "cosine" in reasons["What is the capital of France?"][1]
    assert reasons["How do I reset my password now?"][0] == "near_copy"
    assert [r.messages[0].content for r in res.kept[1:]] == ["What steps should I follow to change a forgotten password?"]


def test_backtranslate_uses_the_pivot_and_skips_languages_without_one():
    tr = {("请帮我重置密码", "zh", "en"): "Please help me reset the password",
          ("Please help me reset the password", "en", "zh"): "请协助我重设密码"}
    step = AugmentStep(AugmentConfig(op=["backtranslate"], backend="openai", min_cosine=-1.0, pivot={"zh": "en"}),
                       backend=ScriptedBackend({}, tr))
    res = run(step, [rec("b1", "请帮我重置密码", lang="zh"), rec("b2", "Reset my password", lang="en")])
    v = [r for r in res.kept if r.lineage.parent_id == "b1"]
    assert [x.messages[0].content for x in v] == ["请协助我重设密码"]
    assert v[0].lineage.ops[-1] == {"op": "backtranslate", "params": {"backend": "scripted", "pivot": "en"}}
    assert step.counters["backtranslate_no_pivot"] == 1


def test_context_rules_chains_same_domain_close_topic_only():
    batch = [rec("c1", "How do I reset my password?", "Click 'Forgot password' on the login page.", domain="account"),
             rec("c2", "I forgot my password, how can I recover it?", "Use the reset link we email you.",
                 domain="account"),
             rec("c3", "How do I reset my password?", "Go to settings.", domain="billing"),
             rec("c4", "What is your refund policy for damaged goods?", "Full refund within 30 days.",
                 domain="account"),
             Dialogue(id="c5", messages=[Message("user", "hi"), Message("assistant", "hello"),
                                         Message("user", "bye"), Message("assistant", "bye")], domain="account")]
    step = AugmentStep(AugmentConfig(op=["context"], context_min_sim=0.5))
    res = run(step, batch)
    made = {r.lineage.parent_id: r for r in res.kept if r.lineage.parent_id}
    assert set(made) == {"c1", "c2"}  # c3: other domain; c4: off topic; c5: already multi-turn
    assert [m.content for m in made["c1"].messages] == [
        "I forgot my password, how can I recover it?", "Use the reset link we email you.",
        "How do I reset my password?", "Click 'Forgot password' on the login page."]
    assert made["c1"].lineage.ops[-1]["params"]["partner_id"] == "c2"
    assert step.counters["context_not_single_turn"] == 1


def test_context_generate_keeps_coherent_followups_only():
    answers = {"How do I reset my password?": json.dumps([
        {"user": "What if I do not receive the password reset email?", "assistant": "Check your spam folder."},
        {"user": "Who won the football world cup in 1998?", "assistant": "France."}])}
    step = AugmentStep(AugmentConfig(op=["context"], n=2, backend="openai", context_min_sim=0.3),
                       backend=ScriptedBackend(answers))
    res = run(step, [rec("g1", "How do I reset my password?", "Use the reset link.")])
    kept = [r for r in res.kept if r.lineage.parent_id == "g1"]
    assert len(kept) == 1 and [m.role for m in kept[0].messages] == ["user", "assistant", "user", "assistant"]
    assert kept[0].messages[2].content == "What if I do not receive the password reset email?"
    assert [r.reason for r in res.rejects] == ["incoherent"]


def test_rules_paraphrase_with_a_synonym_table(tmp_path):
    table = tmp_path / "syn.tsv"
    table.write_text("重置\t重设\t重新设置\n密码,口令\n", encoding="utf-8")
    step = AugmentStep(AugmentConfig(op=["paraphrase"], synonyms=str(table), n=2, rate=1.0, seed=3))
    res = run(step, [rec("s1", "请帮我重置密码，我叫张伟")])
    outs = [r.messages[0].content for r in res.kept[1:]]
    assert outs and all(o != "请帮我重置密码，我叫张伟" and o.endswith("我叫张伟") for o in outs)
    assert all(("重设" in o or "重新设置" in o) and "口令" in o for o in outs)


def test_report_table_counts_before_and_after(capsys):
    batch = [rec("t1", "请问怎么退货？", task="return"), rec("t2", "How do I track my order?", task="tracking")]
    step = AugmentStep(AugmentConfig(op=["noise"], n=2, report=True))
    res = run(step, batch)
    step.finish()
    table = step.report_table()
    flat = step.summary()
    assert flat["report.before.records"] == 2 and flat["report.after.records"] == len(res.kept)
    assert all(isinstance(v, (int, float)) for v in flat.values())  # counters are numbers only
    assert table["before"]["records"] == 2 and table["after"]["records"] == len(res.kept)
    assert table["before"]["tasks"] == table["after"]["tasks"] == 2
    assert table["before"]["avg_turns"] == 2.0
    assert 0 < table["after"]["ttr"] < table["before"]["ttr"] <= 1
    assert "distinct-2" in capsys.readouterr().err


@pytest.mark.parametrize("cfg,match", [
    ({"op": ["shuffle"]}, "--op"), ({"op": ["backtranslate"]}, "translation backend"),
    ({"op": ["paraphrase"]}, "--synonyms"), ({"ratio": 1.5}, "--ratio"), ({"rate": 0.0}, "--rate"),
    ({"noise_kinds": ["typo"]}, "--noise-kinds"), ({"n": 0}, "--n"),
    ({"op": ["paraphrase"], "backend": "openai"}, "--base-url"),
    ({"roles": ["bot"]}, "--roles bot"),  # found by testing: an unknown role silently gave no variant
])
def test_bad_flags_are_forge_errors(cfg, match):
    with pytest.raises(ForgeError, match=match):
        AugmentStep(AugmentConfig(**cfg)).setup()


# -- the real openai backend through the step --------------------------------------------------------------
def test_paraphrase_through_a_real_chat_completions_server(tmp_path):
    def answer(prompt):
        if "请帮我重置密码" in prompt:
            return '["麻烦帮我把密码重置一下", "请协助我重设密码"]'
        return "sorry"

    cfg = {"op": ["paraphrase"], "n": 2, "backend": "openai", "model": "tiny", "cache_dir": str(tmp_path / "c"),
               "min_cosine": -1.0, "backoff": 0.01}
    with chat_server.ScriptedChatServer(default=answer) as srv:
        res = run(AugmentStep(AugmentConfig(base_url=srv.base_url, **cfg)), [rec("h1", "请帮我重置密码")])
        assert [r.messages[0].content for r in res.kept] == ["请帮我重置密码", "麻烦帮我把密码重置一下", "请协助我重设密码"]
        step = AugmentStep(AugmentConfig(base_url=srv.base_url, **cfg))
        again = run(step, [rec("h1", "请帮我重置密码")])  # a rerun is served from the cache
        assert [r.id for r in again.kept] == [r.id for r in res.kept]
        assert len(srv.requests) == 1 and step.summary()["backend"]["cache_hits"] == 1
    assert "请帮我重置密码" in srv.requests[0]["messages"][0]["content"]
    assert "JSON list" in srv.requests[0]["messages"][0]["content"]


def test_dialogue_scope_keeps_roles_and_counts_misshapen_answers():
    good = [[{"role": "user", "content": "Could you help me reset my password?"},
             {"role": "assistant", "content": "Sure, please give me your account name."}]]
    bad = [[{"role": "user", "content": "only one turn"}]]
    answers = {"How do I reset my password?": json.dumps(good), "Where is my parcel right now?": json.dumps(bad)}
    step = AugmentStep(AugmentConfig(op=["paraphrase"], scope="dialogue", backend="openai", min_cosine=-1.0),
                       backend=ScriptedBackend(answers))
    batch = [rec("w1", "How do I reset my password?", "Tell me your account."),
             rec("w2", "Where is my parcel right now?", "It is on its way.")]
    res = run(step, batch)
    v = [r for r in res.kept if r.lineage.parent_id == "w1"]
    assert [(m.role, m.content) for m in v[0].messages] == [(m["role"], m["content"]) for m in good[0]]
    assert v[0].lineage.ops[-1]["params"]["scope"] == "dialogue"
    assert step.counters["parse_failures"] == 1 and not [r for r in res.kept if r.lineage.parent_id == "w2"]


def test_prompt_file_overrides_the_template(tmp_path):
    tpl = tmp_path / "mine.jinja"
    tpl.write_text("Give {{ n }} rewrites of: {{ text }} ({{ lang }})", encoding="utf-8")
    backend = ScriptedBackend({})
    step = AugmentStep(AugmentConfig(op=["paraphrase"], n=3, backend="openai", prompt_file={"paraphrase": str(tpl)}),
                       backend=backend)
    run(step, [rec("o1", "请帮我重置密码")])
    assert backend.prompts == ["Give 3 rewrites of: 请帮我重置密码 (zh)"]
    with pytest.raises(ForgeError, match="--prompt-file"):
        AugmentStep(AugmentConfig(op=["paraphrase"], backend="openai", prompt_file={"paraphrase": str(tmp_path / "x")}),
                    backend=backend).process([rec("o2", "hello there")])


def test_parse_json_list_shapes():
    from dialog_forge.steps.augment.prompting import parse_json_list, string_items

    assert parse_json_list('["a", "b"]') == ["a", "b"]
    assert parse_json_list('Sure! Here you go:\n```json\n["a"]\n```\nHope it helps') == ["a"]
    assert parse_json_list('Variants: ["x", "y"] -- done') == ["x", "y"]
    assert parse_json_list('{"a": 1}') is None and parse_json_list("") is None and parse_json_list("[oops") is None
    assert string_items(["  a ", "", "b"]) == ["a", "b"] and string_items(["a", 1]) is None
