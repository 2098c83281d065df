"""Unit tests of the dedup building blocks: normalisation, shingles, MinHash/LSH, verification, clusters."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.dedup import minhash as mh
from dialog_forge.steps.dedup.clusters import UnionFind, keepers, rank
from dialog_forge.steps.dedup.normalize import exact_key, hash_form, shingle_form
from dialog_forge.steps.dedup.semantic import cosine_pairs
from dialog_forge.steps.dedup.shingles import (
    batch_shingle_hashes,
    shingle_hashes,
    shingle_set,
    shingles,
    token_ngram_hashes,
    tokens,
)
from dialog_forge.steps.dedup.verify import jaccard, ratio, verify_pairs
from dialog_forge.steps.dedup.views import view_text, view_turns

Q = "我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？"


# -- normalisation -----------------------------------------------------------------------------------
def test_hash_form_folds_case_width_punctuation_and_spaces():
    assert hash_form("Ｈｅｌｌｏ， World！") == "helloworld"
    assert hash_form("好的！") == hash_form("好的") == hash_form("好 的。") == "好的"
    assert hash_form("ＡＢＣ１２３") == "abc123"
    assert hash_form("a\u200bb") == "ab"  # zero-width space (Cf) dropped
    assert hash_form("   ") == hash_form("？？！") == ""
    assert hash_form("😀+1") == "😀+1"  # symbols are kept


def test_shingle_form_turns_punctuation_into_word_breaks():
    assert shingle_form("hello,world") .split() == ["hello", "world"]
    assert shingle_form("⑴好").split() == ["1", "好"]  # punctuation produced by NFKC is replaced too


def test_exact_key_keeps_turn_boundaries_and_ignores_empty_turns():
    assert exact_key(["ab", "c"]) != exact_key(["a", "bc"])
    assert exact_key(["你好！", "  "]) == exact_key(["你好"])
    assert exact_key([]) is None and exact_key(["", " 。"]) is None


# -- views ---------------------------------------------------------------------------------------------
def test_views_select_turns_and_leave_the_system_prompt_out():
    d = Dialogue(id="x", messages=[Message("system", "你是客服"), Message("user", "问一"), Message("assistant", "答一"),
                                   Message("user", "问二"), Message("assistant", "答二")])
    assert view_turns(d, "dialogue") == ["问一", "答一", "问二", "答二"]
    assert view_turns(d, "user") == ["问一", "问二"]
    assert view_turns(d, "first-user") == ["问一"]
    assert view_turns(d, "assistant") == ["答一", "答二"]
    assert view_text(d, "user") == "问一\n问二"
    assert view_turns(Dialogue(id="y", messages=[Message("assistant", "hi")]), "first-user") == []
    with pytest.raises(ValueError):
        view_turns(d, "tool")


# -- shingles --------------------------------------------------------------------------------------------
def test_cjk_character_ngrams_ignore_punctuation_between_characters():
    assert shingles("请问退货要几天", 3) == ["请问退", "问退货", "退货要", "货要几", "要几天"]
    assert shingles("你好，世界") == shingles("你好 世界") == ["你好世", "好世界"]


def test_word_ngrams_and_mixed_scripts_in_one_pass():
    assert shingles("How do I reset my password?", word_ngram=2) == [
        "how do", "do i", "i reset", "reset my", "my password"]
    assert shingles("我的iPhone手机坏了", char_ngram=3, word_ngram=2) == ["我的", "iphone", "手机坏", "机坏了"]
    assert shingles("Windows update failed", word_ngram=2) == ["windows update", "update failed"]


def test_digits_are_character_tokens_so_changed_figures_count():
    assert shingles("定投500元", 3) == ["定投5", "投50", "500", "00元"]
    assert shingles("in 2020 we sold", word_ngram=2) == ["in", "202", "020", "we sold"]
    a = "每个月定投500元，假设年化收益率6.0%，20年后大概能有多少钱？"
    b = "每个月定投2000元，假设年化收益率4.0%，10年后大概能有多少钱？"
    assert jaccard(shingle_set(a), shingle_set(b)) < 0.6


def test_fallback_shingle_keeps_distinct_short_texts_apart():
    assert shingles("好的", 5, 5) == ["好的"]
    assert shingles("ok", 5, 5) == ["ok"]
    assert shingles("😀😀") == ["😀😀"]
    assert shingles("") == [] and shingles("  ！") == []
    assert shingle_set("好的") & shingle_set("谢谢") == frozenset()
    assert shingle_set("好的") == shingle_set("好的！")


@pytest.mark.parametrize("text", [Q, "好的", "", "😀", "a b c d e", "iPhone 15坏了, ok 好的好的好的", "Привет мир как дела",
                                  "ｆｕｌｌ　ｗｉｄｔｈ 全角", Q + " mixed words " + Q])
@pytest.mark.parametrize("n", [(3, 2), (1, 1), (5, 5)])
def test_vectorised_hashes_have_the_structure_of_the_string_shingles(text, n):
    """One hash per shingle, equal shingles <-> equal hashes: same count, same number of distinct values and
    the same multiplicities (the vectorised form lists a text's CJK shingles before its word shingles)."""
    from collections import Counter

    strings = shingles(text, *n)
    hashes = shingle_hashes(text, *n).tolist()
    assert len(hashes) == len(strings)
    assert len(set(hashes)) == len(set(strings))
    assert sorted(Counter(hashes).values()) == sorted(Counter(strings).values())


def test_batch_hashes_equal_single_hashes():
    texts = [Q, "", "好的", "hello world again", "😀"]
    hashes, lengths = batch_shingle_hashes(texts)
    assert lengths.tolist() == [len(shingles(t)) for t in texts]
    parts = np.split(hashes, np.cumsum(lengths)[:-1])
    for t, p in zip(texts, parts):
        assert p.tolist() == shingle_hashes(t).tolist()


def test_tokens_and_long_ngrams_for_decontamination():
    assert tokens("我的iPhone坏了") == ["我", "的", "iphone", "坏", "了"]
    assert tokens("共20年") == ["共", "2", "0", "年"]
    assert token_ngram_hashes("短句", 13).shape == (0,)
    g1 = token_ngram_hashes("前缀不同" + Q, 13)
    g2 = token_ngram_hashes(Q + "后缀也不同", 13)
    assert len(set(g1.tolist()) & set(g2.tolist())) == len(tokens(Q)) - 13 + 1


# -- MinHash / LSH -----------------------------------------------------------------------------------------
def test_signatures_equal_datasketch_minhash_with_the_same_seed():
    texts = [Q, "请问退货需要几天才能到账？", "hello world foo bar", "好的"]
    hashes, lengths = batch_shingle_hashes(texts)
    arrays = np.split(hashes, np.cumsum(lengths)[:-1])
    for seed in (1, 42):
        sig = mh.signatures(arrays, mh.permutations(128, seed))
        for row, arr in zip(sig, arrays):
            m = MinHash(num_perm=128, seed=seed, hashfunc=lambda x: x)
            for h in arr.tolist():
                m.update(h & 0xFFFFFFFF)
            assert np.array_equal(m.hashvalues.astype(np.uint32), row)


def test_signatures_are_chunk_independent(monkeypatch):
    arrays = [shingle_hashes(Q * k) for k in range(1, 30)]
    perms = mh.permutations(64, 3)
    full = mh.signatures(arrays, perms)
    monkeypatch.setattr(mh, "CHUNK_ELEMENTS", 64 * 5)  # forces one record per chunk, and oversize records
    assert np.array_equal(full, mh.signatures(arrays, perms))


def test_empty_text_never_reaches_minhash():
    with pytest.raises(ValueError, match="no shingles"):
        mh.signatures([shingle_hashes("x"), shingle_hashes("")], mh.permutations(16, 1))


def test_lsh_params_come_from_datasketch_and_check_given_values():
    from datasketch.lsh import _optimal_param

    assert mh.lsh_params(0.55, 128) == _optimal_param(0.55, 128, 0.5, 0.5)
    assert mh.lsh_params(0.55, 128, 16, 8) == (16, 8)
    with pytest.raises(ValueError):
        mh.lsh_params(0.5, 128, 20, 8)
    with pytest.raises(ValueError):
        mh.lsh_params(0.5, 128, 20, None)
    b, r = mh.lsh_params(0.55, 128)
    assert mh.candidate_probability(0.8, b, r) > 0.99


def _corpus(n=300, seed=0):
    rng = np.random.default_rng(seed)
    base = [Q[i:] + Q[:i] for i in range(len(Q))]
    out = []
    for k in range(n):
        t = list(base[k % len(base)] + str(k // len(base)))
        for _ in range(int(rng.integers(0, 6))):  # a few random substitutions
            t[int(rng.integers(0, len(t)))] = "的了吗呢啊"[int(rng.integers(0, 5))]
        out.append("".join(t))
    return out


def test_band_key_candidates_equal_datasketch_minhashlsh_candidates(monkeypatch):
    texts = _corpus()
    hashes, lengths = batch_shingle_hashes(texts)
    arrays = np.split(hashes, np.cumsum(lengths)[:-1])
    b, r = 10, 6
    sigs = mh.signatures(arrays, mh.permutations(64, 5))
    keys = mh.band_keys(sigs, b, r)
    capped = {tuple(p) for p in mh.candidate_pairs(keys).tolist()}
    monkeypatch.setattr(mh, "MAX_BUCKET_PAIRS", 10**6)
    mine = {tuple(p) for p in mh.candidate_pairs(keys).tolist()}
    lsh = MinHashLSH(num_perm=64, params=(b, r))
    objs = [LeanMinHash(seed=5, hashvalues=s.astype(np.uint64), scheme="affine32") for s in sigs]
    for i, m in enumerate(objs):
        lsh.insert(i, m)
    theirs = {(min(i, j), max(i, j)) for i, m in enumerate(objs) for j in lsh.query(m) if j != i}
    assert theirs  # the corpus does have candidates
    assert mine == theirs
    assert capped < theirs  # this corpus has buckets over the cap: a subset (star + chain) is paired


def test_signature_estimate_tracks_jaccard_and_the_floor_keeps_true_pairs():
    texts = _corpus(120)
    hashes, lengths = batch_shingle_hashes(texts)
    arrays = np.split(hashes, np.cumsum(lengths)[:-1])
    sig = mh.short_signatures(mh.signatures(arrays, mh.permutations(128, 1)))
    assert sig.dtype == np.uint16
    i, j = np.triu_indices(len(texts), 1)
    est = mh.estimate_jaccard(sig[i], sig[j])
    true = np.array([jaccard(frozenset(arrays[a].tolist()), frozenset(arrays[b].tolist())) for a, b in zip(i, j)])
    assert np.abs(est - true).mean() < 0.05  # ~0.8 standard errors (sd <= 0.044 at 128 perms)
    # unbiased: pairs share one set of permutations, so average the error over several seeds
    errs = [(mh.estimate_jaccard(s[i], s[j]) - true).mean()
            for s in (mh.signatures(arrays, mh.permutations(128, seed)) for seed in range(2, 7))]
    assert abs(np.mean(errs + [(est - true).mean()])) < 0.015
    floor = mh.estimate_floor(0.8, 128)
    assert 0.6 < floor < 0.7
    assert (est[true >= 0.8] >= floor).all()  # no true pair would be ruled out
    assert (est[true < 0.3] < floor).all()


def test_large_buckets_stay_linear_but_connected():
    keys = np.zeros((200, 1), dtype=np.uint64)  # 200 records in one bucket
    counters: dict = {}
    pairs = mh.candidate_pairs(keys, counters)
    assert counters["lsh_large_buckets"] == 1
    assert len(pairs) < 400  # not 19900
    uf = UnionFind(200)
    for i, j in pairs.tolist():
        uf.union(i, j)
    assert len(set(uf.labels().tolist())) == 1


# -- verification ----------------------------------------------------------------------------------------
def test_u14_verification_rejects_a_low_jaccard_candidate():
    """U14: doc_b is never removed as a duplicate of doc_a: their Jaccard is 0.4 < 0.5."""
    doc_a = {"退货", "流程"}
    doc_b = {"退货", "流程", "需要", "几天", "到账"}
    assert jaccard(doc_a, doc_b) == pytest.approx(0.4)
    assert not jaccard(doc_a, doc_b) >= 0.5


def test_jaccard_and_ratio_values():
    assert jaccard(frozenset(), frozenset()) == 0.0
    assert jaccard({1, 2, 3}, {2, 3, 4}) == pytest.approx(0.5)
    assert ratio("好的！", "好的") == 1.0
    assert ratio("abcd", "abce") == pytest.approx(0.75)


def test_verify_pairs_skips_and_scores():
    texts = ["退货流程", "退货流程需要几天到账", "退货流程"]
    pairs = np.array([[0, 1], [0, 2], [1, 2]])
    out = list(verify_pairs(pairs, texts.__getitem__, char_ngram=2, word_ngram=2, skip=lambda i, j: j == 2 and i == 1))
    assert out[0][2] == pytest.approx(3 / 9)
    assert out[1][2] == 1.0
    assert out[2] == (1, 2, None)


# -- clusters ----------------------------------------------------------------------------------------------
def test_union_find_roots_are_smallest_index_whatever_the_order():
    a, b = UnionFind(6), UnionFind(6)
    for i, j in [(4, 5), (2, 4), (0, 3)]:
        a.union(i, j)
    for i, j in [(0, 3), (5, 2), (4, 2)]:
        b.union(i, j)
    assert a.labels().tolist() == b.labels().tolist() == [0, 1, 2, 0, 2, 2]
    assert not a.union(5, 2)


def test_keep_policies_pick_the_documented_record():
    labels = np.array([0, 0, 0, 3])
    kw = {"score": np.array([np.nan, 0.9, 0.9, np.nan]), "assistant_chars": np.array([50, 10, 20, 1]),
          "total_chars": np.array([60, 100, 30, 2]), "created": np.array([3, 9, np.iinfo(np.int64).min, 1])}
    pick = {p: keepers(labels, rank(p, **kw)).tolist() for p in ("best", "longest", "first", "latest")}
    assert pick["best"] == [2, 2, 2, 3]      # score ties -> more assistant characters
    assert pick["longest"] == [1, 1, 1, 3]
    assert pick["first"] == [0, 0, 0, 3]
    assert pick["latest"] == [1, 1, 1, 3]
    # ties go to the earliest record
    flat = {"score": np.full(3, np.nan), "assistant_chars": np.full(3, 5), "total_chars": np.full(3, 5),
            "created": np.full(3, 7)}
    for p in ("best", "longest", "latest"):
        assert keepers(np.zeros(3, dtype=np.int64), rank(p, **flat)).tolist() == [0, 0, 0]
    with pytest.raises(ValueError):
        rank("random", **kw)


# -- semantic ----------------------------------------------------------------------------------------------
def test_cosine_pairs_blockwise_equals_full_matrix():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(37, 8)).astype(np.float32)
    e[5] = e[20] + 0.01
    e[30] = e[2]
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    full = e @ e.T
    want = sorted((i, j) for i in range(37) for j in range(i + 1, 37) if full[i, j] >= 0.9)
    for block in (4, 7, 64):
        pairs, sims = cosine_pairs(e, 0.9, block=block)
        assert [tuple(p) for p in pairs.tolist()] == want
        assert np.allclose(sims, [full[i, j] for i, j in want], atol=1e-5)
    assert (5, 20) in want and (2, 30) in want


def test_bulk_jaccard_equals_set_jaccard():
    from dialog_forge.steps.dedup.verify import jaccard_pairs

    texts = _corpus(40) + ["", "好的", "hello world again and again", "hello world again"]
    rng = np.random.default_rng(1)
    pairs = rng.integers(0, len(texts), size=(300, 2))
    got = jaccard_pairs(pairs, texts, 3, 2)
    want = [jaccard(shingle_set(texts[i]), shingle_set(texts[j])) for i, j in pairs.tolist()]
    assert np.allclose(got, want)
    assert got[(pairs[:, 0] == pairs[:, 1]) & (pairs[:, 0] != 40)].min() == 1.0  # self pairs, except ''
