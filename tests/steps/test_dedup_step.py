"""DedupStep on known inputs: user cases U12/U14, planted duplicates, keep policies, decontamination,
semantic duplicates, clusters output, config errors, and planted duplicates in real questions."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.dedup import DedupConfig, DedupStep
from dialog_forge.steps.dedup.step import sketch


def D(rid: str, user: str, assistant: str = "收到。", **kw) -> Dialogue:
    return Dialogue(id=rid, messages=[Message("user", user), Message("assistant", assistant)], **kw)


def run(records: list[Dialogue], batch_size: int = 3, **cfg):
    """Drive the step like the executor: batches through process(), then finish(). Returns
    (kept ids, {id: (reason, detail)}, step)."""
    step = DedupStep(DedupConfig(**cfg))
    step.setup()
    kept, rejects = [], []
    for k in range(0, len(records), batch_size):
        res = step.process(records[k:k + batch_size])
        kept += res.kept
        rejects += res.rejects
    res = step.finish()
    kept += res.kept
    rejects += res.rejects
    assert len(kept) + len(rejects) == len(records)  # nothing lost, nothing invented
    return [r.id for r in kept], {r.id: (r.reason, r.detail) for r in rejects}, step


QUESTIONS = [
    "我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？",
    "我是一位中学教师，平时身体健康，最近学校组织健康检查，结果发觉我是高血压，去年还没有这种情况，我很担心",
    "最近总是头晕，尤其是早上起床的时候，量了血压有点偏高，需要吃药吗？",
    "信用卡逾期了三天，会不会影响征信？我应该怎么补救比较好",
    "我的快递显示已签收，但是我没有收到，请问怎么处理？",
    "How do I reset the password of my online banking account if I forgot the security question?",
]


# -- user cases ---------------------------------------------------------------------------------------
U12_TEXTS = ["好的", "谢谢", "不客气", "好的", "", "   ", "请问退货需要几天才能到账？"]


def test_u12_short_texts_exact_duplicate_and_empty_texts():
    """U12: one '好的' goes as an exact duplicate; '谢谢', '不客气' and the question stay; '' and '   ' are
    handled by the empty-view rule, never by MinHash; nothing crashes (shingles of n=5)."""
    recs = [D(f"u{i}", t) for i, t in enumerate(U12_TEXTS)]
    kept, rej, step = run(recs, on="first-user", char_ngram=5, word_ngram=5, threshold=0.8)
    assert rej == {"u3": ("exact_duplicate", rej["u3"][1])}
    assert "of u0" in rej["u3"][1] and "1.000" in rej["u3"][1]
    assert kept == ["u0", "u1", "u2", "u4", "u5", "u6"]
    assert step.counters["empty_view"] == 2
    # with --empty-view reject the two blanks are dropped with their own reason, the rest is unchanged
    kept, rej, _ = run(recs, on="first-user", char_ngram=5, word_ngram=5, empty_view="reject")
    assert {k: v[0] for k, v in rej.items()} == {"u3": "exact_duplicate", "u4": "empty_text", "u5": "empty_text"}
    assert kept == ["u0", "u1", "u2", "u6"]


def test_u12_distinct_short_texts_never_share_a_signature():
    step = DedupStep(DedupConfig(char_ngram=5, word_ngram=5))
    keys = sketch(["好的", "谢谢", "不客气"], step.perms, step.bands, step.rows, 1, 5, 5)
    for a in range(3):
        for b in range(a + 1, 3):
            assert not (keys[a] == keys[b]).any()  # not one band in common


def test_u14_lsh_candidate_below_threshold_is_kept():
    """U14: doc_b is never removed as a duplicate of doc_a whatever LSH returns: 128 bands of 1 row make
    the pair a candidate for sure, and exact verification finds Jaccard 1/3 < 0.5."""
    recs = [D("doc_a", "退货流程"), D("doc_b", "退货流程需要几天到账")]
    outcomes = []
    for _ in range(2):
        kept, rej, step = run(recs, on="user", threshold=0.5, num_perm=128, bands=128, rows=1, seed=1, char_ngram=2,
                              prefilter=False)
        assert kept == ["doc_a", "doc_b"] and rej == {}
        assert step.counters["lsh_candidate_pairs"] == 1
        assert step.counters["candidate_pairs_checked"] == 1
        assert step.counters["verified_pairs"] == 0
        assert step.counters["candidate_pairs_below_threshold"] == 1
        outcomes.append((kept, rej, dict(step.counters)))
    assert outcomes[0] == outcomes[1]  # deterministic for a fixed seed
    # with the estimate prefilter (default) the pair is ruled out or checked, never removed
    kept, rej, step = run(recs, on="user", threshold=0.5, num_perm=128, bands=128, rows=1, seed=1, char_ngram=2)
    assert kept == ["doc_a", "doc_b"] and step.counters["verified_pairs"] == 0
    assert step.counters["candidate_pairs_checked"] + step.counters["candidate_pairs_ruled_out_by_estimate"] == 1


# -- planted near duplicates ----------------------------------------------------------------------------
def test_threshold_one_is_the_exact_hash_path():
    q = QUESTIONS[0]
    recs = [D("a", q), D("b", q.replace("，", ",") + "！"), D("c", q.replace("党参吗", "党参呢"))]
    kept, rej, step = run(recs, threshold=1.0)
    assert kept == ["a", "c"] and rej["b"][0] == "exact_duplicate"
    assert "lsh_candidate_pairs" not in step.counters
    kept, rej, _ = run(recs, threshold=0.8)
    assert kept == ["a"] and rej["c"][0] == "near_duplicate"




def test_planted_particle_and_punctuation_variants_are_found_and_distinct_questions_kept():
    recs = [D(f"q{i}", q, "请遵医嘱。") for i, q in enumerate(QUESTIONS)]
    recs += [
        D("q0_particle", QUESTIONS[0].replace("可以吃党参吗", "可以吃党参呢"), "请遵医嘱。"),
        D("q1_punct", QUESTIONS[1].replace("，", "。") + "！", "请遵医嘱。"),
        D("q3_particle", QUESTIONS[3].replace("比较好", "比较好呢"), "请遵医嘱。"),
        D("q5_case", QUESTIONS[5].upper(), "请遵医嘱。"),
        D("q5_word", QUESTIONS[5] + " Thanks", "请遵医嘱。"),
    ]
    kept, rej, step = run(recs, on="user", keep="first")
    assert kept == [f"q{i}" for i in range(len(QUESTIONS))]
    assert rej["q1_punct"][0] == rej["q5_case"][0] == "exact_duplicate"
    for rid, of in (("q0_particle", "q0"), ("q3_particle", "q3"), ("q5_word", "q5")):
        reason, detail = rej[rid]
        assert reason == "near_duplicate" and f"near duplicate of {of} " in detail
        assert float(re.search(r"Jaccard (\d\.\d+)", detail).group(1)) >= 0.8
    assert step.counters["verified_pairs"] == 3
    assert step.counters["lsh_candidate_pairs"] >= 3


def test_output_order_and_determinism_across_batch_sizes_and_seeds():
    recs = [D(f"r{i}", QUESTIONS[i % 4] + ("呢" if i >= 4 else "")) for i in range(12)]
    results = [run(recs, batch_size=b, seed=s)[:2] for b, s in ((1, 1), (5, 1), (100, 1), (5, 7))]
    assert all(r == results[0] for r in results)
    assert results[0][0] == ["r0", "r1", "r2", "r3"]


def test_workers_give_the_same_result():
    recs = [D(f"r{i}", QUESTIONS[i % 5] + ("呢" * (i // 5))) for i in range(30)]
    one = run(recs, batch_size=7, on="user")
    two = run(recs, batch_size=7, on="user", workers=2)
    assert one[:2] == two[:2]
    assert one[2].counters == two[2].counters
    assert len(one[1]) > 0


def test_transitive_cluster_member_names_the_kept_record_and_the_chain():
    from dialog_forge.steps.dedup.shingles import shingle_set
    from dialog_forge.steps.dedup.verify import jaccard

    a = "请问一下这个药物的副作用大不大，长期服用会不会对肝脏和肾脏造成损害，需要定期检查哪些指标"
    b = a[:10] + "吗" + a[11:]
    c = b[:30] + "呢" + b[31:]
    sa, sb, sc = (shingle_set(t) for t in (a, b, c))
    assert jaccard(sa, sb) >= 0.8 and jaccard(sb, sc) >= 0.8 and jaccard(sa, sc) < 0.8  # a chain
    kept, rej, _ = run([D("a", a), D("b", b), D("c", c)], on="user", keep="first", threshold=0.8)
    assert kept == ["a"]
    assert rej["b"][0] == rej["c"][0] == "near_duplicate"
    assert f"near duplicate of a (Jaccard {jaccard(sa, sb):.3f}" in rej["b"][1]
    assert f"near duplicate of a (Jaccard {jaccard(sa, sc):.3f}" in rej["c"][1]
    assert "joined through other members" in rej["c"][1] and "joined through" not in rej["b"][1]


# -- keep policies -------------------------------------------------------------------------------------
def test_keep_best_uses_quality_score_then_assistant_characters():
    q = QUESTIONS[0]
    recs = [D("short", q, "可以。"), D("long", q, "可以适量饮用党参水，但请监测血压。"),
            D("scored", q, "可以。", quality={"score": 0.9}), D("low", q, "可以的。", quality={"score": 0.2})]
    kept, _, _ = run(recs, keep="best", on="user")
    assert kept == ["scored"]
    kept, _, _ = run([recs[0], recs[1]], keep="best", on="user")
    assert kept == ["long"]


def test_keep_latest_longest_first():
    q = QUESTIONS[2]
    recs = [D("old", q, "多休息。", created_at="2024-01-01T00:00:00Z"),
            D("new", q, "建议多休息，必要时就医。", created_at="2024-03-01T00:00:00.500000Z"),
            D("mid", q, "多喝水。", created_at="2024-03-01T00:00:00Z"), D("none", q, "注意饮食。")]
    assert run(recs, keep="latest", on="user")[0] == ["new"]
    assert run(recs, keep="longest", on="user")[0] == ["new"]
    assert run(recs, keep="first", on="user")[0] == ["old"]


def test_views_change_what_is_a_duplicate():
    recs = [D("a", QUESTIONS[0], "回答甲：可以少量饮用。"), D("b", QUESTIONS[0], "完全不同的另一个回答，请咨询医生。")]
    assert run(recs, on="dialogue")[0] == ["a", "b"]
    assert run(recs, on="user", keep="first")[0] == ["a"]
    recs2 = [D("a", "问题一", "模板回答：感谢您的咨询，祝您身体健康，生活愉快！"),
             D("b", "问题二", "模板回答：感谢您的咨询，祝您身体健康，生活愉快！")]
    assert run(recs2, on="assistant", keep="first")[0] == ["a"]
    assert run(recs2, on="first-user")[0] == ["a", "b"]


# -- decontamination -------------------------------------------------------------------------------------
def test_against_set_removes_contaminated_records_and_is_not_modified(tmp_path):
    eval_q = "请问长期服用降压药会不会对肾脏功能造成影响，需要多久复查一次肾功能"
    ev = tmp_path / "eval.jsonl"
    ev.write_bytes(D("e1", eval_q, "x").to_json() + b"\n" + D("e2", "血糖高怎么办", "y").to_json() + b"\n")
    before = ev.read_bytes()
    recs = [
        D("t_ngram", "我想知道" + eval_q[3:20] + "还有别的吗"),  # shares a 17-character run
        D("t_short", "血糖高怎么办？"),  # short prompt: no 13-gram, caught by MinHash + exact Jaccard
        D("t_clean", QUESTIONS[3]),
        D("t_assistant_only", "无关的问题", eval_q),  # only user turns count
    ]
    kept, rej, step = run(recs, against=[str(ev)])
    assert kept == ["t_clean", "t_assistant_only"]
    assert rej["t_ngram"][0] == "contaminated" and "13-token n-gram with e1 in " + str(ev) in rej["t_ngram"][1]
    assert rej["t_short"][0] == "contaminated" and "e2" in rej["t_short"][1] and "Jaccard 1.000" in rej["t_short"][1]
    assert step.counters["contaminated_ngram"] == 1 and step.counters["contaminated_minhash"] == 1
    assert ev.read_bytes() == before
    # a shorter n-gram window catches smaller overlaps; a longer one does not
    probe = [D("p", "我想知道" + eval_q[3:12] + "还有别的吗")]  # 9 shared characters
    assert run(probe, against=[str(ev)])[0] == ["p"]
    assert run(probe, against=[str(ev)], against_ngram=8)[1]["p"][0] == "contaminated"


def test_against_errors_name_the_file(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ForgeError, match="empty.jsonl"):
        run([D("a", "x")], against=[str(empty)])
    with pytest.raises(ForgeError, match="--against .*missing.jsonl"):
        run([D("a", "x")], against=[str(tmp_path / "missing.jsonl")])


# -- semantic ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_semantic_duplicates_with_the_offline_minilm():
    from dialog_forge.models.embedding import encode

    a, b, c = ("What is the capital city of France?", "Which city is the capital of France?",
               "How long should I bake a loaf of bread?")
    e = encode([a, b, c])
    cos_ab, cos_ac = float(e[0] @ e[1]), float(e[0] @ e[2])
    assert cos_ab > cos_ac + 0.3
    thr = round((cos_ab + cos_ac) / 2, 3)
    recs = [D("a", a), D("b", b), D("c", c)]
    kept, rej, step = run(recs, on="user", keep="first", semantic=True, semantic_threshold=thr)
    assert kept == ["a", "c"]
    assert rej["b"][0] == "semantic_duplicate" and f"cosine {cos_ab:.3f}" in rej["b"][1]
    assert step.counters["semantic_pairs"] == 1
    assert run(recs, on="user")[0] == ["a", "b", "c"]  # not near duplicates by shingles


# -- clusters output -------------------------------------------------------------------------------------------
def test_clusters_parquet_lists_members_and_similarities(tmp_path):
    import pyarrow.parquet as pq

    recs = [D("a", QUESTIONS[0]), D("b", QUESTIONS[0] + "！"), D("c", QUESTIONS[0].replace("吗", "呢")),
            D("d", QUESTIONS[3])]
    out = tmp_path / "clusters.parquet"
    run(recs, on="user", keep="first", clusters=str(out))
    t = pq.read_table(out).to_pylist()
    assert [(r["id"], r["kept"], r["reason"], r["kept_id"]) for r in t] == [
        ("a", True, "kept", "a"), ("b", False, "exact_duplicate", "a"), ("c", False, "near_duplicate", "a")]
    assert {r["cluster"] for r in t} == {0}
    assert t[1]["similarity"] == 1.0 and 0.8 <= t[2]["similarity"] < 1.0
    with pytest.raises(ForgeError, match="--clusters"):
        run(recs, clusters=str(tmp_path / "no" / "such" / "dir" / "c.parquet"))


# -- config errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, flag", [
    ({"threshold": 0.0}, "--threshold"), ({"threshold": 1.5}, "--threshold"), ({"num_perm": 1}, "--num-perm"),
    ({"bands": 8}, "--bands"), ({"bands": 20, "rows": 8}, "--bands"), ({"char_ngram": 0}, "--char-ngram"),
    ({"semantic_threshold": 0}, "--semantic-threshold"), ({"on": "system"}, "--on"), ({"workers": 0}, "--workers"),
])
def test_bad_options_raise_forge_error_naming_the_flag(kw, flag):
    with pytest.raises(ForgeError, match=re.escape(flag)):
        DedupConfig(**kw)


# -- real data ---------------------------------------------------------------------------------------------------
def test_planted_duplicates_in_real_questions_are_all_found(datasets_dir):
    import pandas as pd

    df = pd.read_csv(datasets_dir / "toyhom_internal_medicine_gbk.csv", encoding="gb18030")
    asks = [a for a in df["ask"].astype(str).drop_duplicates().tolist() if len(a) >= 30][:400]
    rng = np.random.default_rng(0)
    recs = [D(f"o{i}", a) for i, a in enumerate(asks)]
    planted = {}
    for i in rng.choice(len(asks), 60, replace=False).tolist():
        t = asks[i]
        pos = int(rng.integers(0, len(t)))
        t = t[:pos] + "呢" + t[pos + 1:] if i % 2 else t.replace("，", "。") + "？"
        recs.append(D(f"p{i}", t))
        planted[f"p{i}"] = f"o{i}"
    _, rej, step = run(recs, batch_size=128, on="user", keep="first", threshold=0.7)
    for p, o in planted.items():
        assert p in rej, f"planted copy {p} of {o} was not found"
        assert rej[p][0] in ("exact_duplicate", "near_duplicate")
    for reason, detail in rej.values():
        if reason == "near_duplicate" and "joined through" not in detail:
            assert float(re.search(r"Jaccard (\d\.\d+)", detail).group(1)) >= 0.7
    assert step.counters["verified_pairs"] + step.counters["exact_duplicates"] >= len(planted)


def test_against_short_eval_question_contained_verbatim(tmp_path):
    """Found in testing: an evaluation question shorter than 13 tokens ("中国的首都是哪座城市？", 10) inside a
    longer training prompt has no 13-gram and a MinHash Jaccard of ~0.6, so it slipped through."""
    ev = tmp_path / "eval.jsonl"
    ev.write_bytes(D("e1", "中国的首都是哪座城市？", "北京").to_json() + b"\n"
                   + D("e2", "What is the capital city of the French Republic?", "Paris").to_json() + b"\n"
                   + D("e3", "一年有多少天？", "365").to_json() + b"\n")
    before = ev.read_bytes()
    recs = [
        D("t_zh", "请帮我回答：中国的首都是哪座城市？谢谢"),
        D("t_en", "Quiz time! What is the capital city of the French Republic? Answer briefly."),
        D("t_part", "中国的首都有哪些名胜古迹？"),  # shares a few characters only
        D("t_tiny", "请问一年有多少天？闰年呢？"),  # e3 has 6 tokens: below the 8-token minimum
    ]
    kept, rej, step = run(recs, against=[str(ev)])
    assert kept == ["t_part", "t_tiny"]
    assert rej["t_zh"] == ("contaminated", f"user turns contain the whole (short) user turn of e1 in {ev}")
    assert rej["t_en"][0] == "contaminated" and "e2" in rej["t_en"][1]
    assert step.counters["contaminated_contained"] == 2
    assert ev.read_bytes() == before


def test_workers_do_not_change_the_output_records_lineage_included():
    """Found in testing: ``--workers 2`` was written into each kept record's lineage op, so the output bytes
    depended on an execution knob."""
    recs = [D(f"r{i}", QUESTIONS[i % 5] + ("呢" * (i // 5))) for i in range(12)]

    def out(**cfg):
        step = DedupStep(DedupConfig(on="user", seed=3, **cfg))
        step.setup()
        kept = list(step.process([Dialogue.from_dict(r.to_dict()) for r in recs]).kept) + list(step.finish().kept)
        return [r.to_json() for r in kept]

    one, two = out(), out(workers=2)
    assert one == two
    assert b'"op":"dedup","params":{"on":"user","seed":3}' in one[0]


# -- adversarial findings (tester of issue 4) --------------------------------------------------------------------
@pytest.mark.parametrize("seed", [-1, 2 ** 32])
def test_seed_out_of_range_is_a_forge_error_naming_the_flag(seed):
    with pytest.raises(ForgeError, match=r"--seed: .* must be between 0 and 4294967295"):
        DedupConfig(seed=seed)


def test_largest_seed_runs():
    """--seed 4294967295 crashed with numpy's ValueError (the band keys' seed + 7919 overflowed 2**32)."""
    recs = [D("a", QUESTIONS[0]), D("b", QUESTIONS[0].replace("党参吗", "党参呢"))]
    kept, rejects, _ = run(recs, seed=2 ** 32 - 1)
    assert kept == ["a"] and list(rejects) == ["b"] and rejects["b"][0] == "near_duplicate"


def test_clusters_path_that_is_a_folder_fails_before_the_run(tmp_path):
    step = DedupStep(DedupConfig(clusters=str(tmp_path)))
    with pytest.raises(ForgeError, match=r"--clusters .*: is a folder; name a file, e\.g\. .*clusters\.parquet"):
        step.setup()


def test_semantic_default_model_on_chinese_text_warns():
    """--semantic with the English-centred MiniLM merged the sample data's planted *distinct* pair
    fin-zh-018 / fin-zh-035 (same loan template, other amounts; cosine 0.98): the user is warned."""
    from dialog_forge.steps.dedup.semantic import english_model_warning

    zh = ["我打算贷款5万元装修，年利率6.0%，期限3年，等额本息每月要还多少？",
          "我打算贷款80万元改善型住房，年利率3.5%，期限30年，等额本息每月要还多少？"]
    msg = english_model_warning(zh, "minilm")
    assert msg is not None and "--embedding-model" in msg and "English-centred" in msg
    assert english_model_warning(zh, None) == msg
    assert english_model_warning(zh, "paraphrase-multilingual-MiniLM-L12-v2") is None
    assert english_model_warning(["How do I reset my password?", "Where is my order?"], "minilm") is None
