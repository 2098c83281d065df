"""``AgainstIndex.match_many`` (the batched ``forge dedup --against`` path) equals ``match`` record by record
(kind, against id and file, similarity) on tricky batches, random mixed-script text and real data; and
``DedupStep`` output with it is identical to the one-by-one path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.dedup import DedupConfig, DedupStep
from dialog_forge.steps.dedup.decontam import MIN_CONTAINED_TOKENS, AgainstIndex
from dialog_forge.steps.dedup.minhash import lsh_params, permutations
from dialog_forge.steps.dedup.normalize import shingle_form
from dialog_forge.steps.dedup.shingles import batch_shingle_hashes, tokens

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

# a long English and a long Chinese evaluation question, and near copies that share no 13-gram with them
# (a token changed every 6 or 10 tokens)
EN = ("the quick brown fox jumps over the lazy dog while the farmer watches from the old red barn near "
      "the river bank at dawn")
EN_NEAR = " ".join("x" if i % 6 == 5 else w for i, w in enumerate(EN.split()))
ZH = "我有高血压这两天女婿来的时候给我拿了些党参泡水喝您好高血压可以吃党参吗平时还需要注意什么饮食"
ZH_NEAR = "".join("某" if i % 10 == 9 else c for i, c in enumerate(ZH))
SHORT_ZH = "中国的首都是哪座城市？"  # 10 tokens: below 13, at least 8
SHORT_EN = "What is the capital city of the French Republic?"  # 9 tokens


def rec(rid: str, *user: str) -> Dialogue:
    msgs: list[Message] = []
    for u in user:
        msgs += [Message("user", u), Message("assistant", "好的")]
    return Dialogue(id=rid, messages=msgs or [Message("assistant", "只有回答")])


def index(against: list[tuple[str, Dialogue]], *, ngram: int = 13, threshold: float = 0.5,
          num_perm: int = 128, seed: int = 1) -> AgainstIndex:
    bands, rows = lsh_params(max(0.05, threshold - 0.25), num_perm)
    return AgainstIndex(against, ngram=ngram, threshold=threshold, perms=permutations(num_perm, seed), bands=bands,
                        rows=rows, seed=seed, char_ngram=3, word_ngram=2)


def same(idx: AgainstIndex, batch: list[list[str]], sizes: tuple[int, ...] = (1, 3, 1000)) -> list:
    """Assert match_many == [match(x)] for the whole batch and for it cut into pieces; return the answers."""
    ref = [idx.match(x) for x in batch]
    assert idx.match_many(batch) == ref
    for size in sizes:
        got = []
        for k in range(0, len(batch), size):
            got += idx.match_many(batch[k:k + size])
        assert got == ref, size
    return ref


AGAINST = [
    ("eval_a.jsonl", rec("e0", EN)),
    ("eval_a.jsonl", rec("e1", ZH)),
    ("eval_a.jsonl", rec("e2", SHORT_ZH)),
    ("eval_b.jsonl", rec("e3", "好的", SHORT_EN)),
    ("eval_b.jsonl", rec("e4")),                       # no user turn
    ("eval_b.jsonl", rec("e5", "！！！", "")),           # user turns with no shingles
    ("eval_b.jsonl", rec("e6", ZH)),                   # a copy of e1 in another file: ties go to e1
    ("eval_b.jsonl", rec("e7", "一年有多少天？")),         # 6 tokens: too short to be contained
]

TRICKY = [
    [],                                                   # a record without user turns
    [""],                                                 # an empty turn
    ["", "   ", "？！"],                                   # blanks and punctuation only
    ["😀😀"],                                              # no token at all: a fallback shingle
    [EN],                                                 # exact copy: n-gram
    ["Please answer: " + EN.upper() + " thanks"],         # n-gram inside a longer English turn, case folded
    ["你好", "请帮我看看" + ZH[5:30] + "谢谢"],              # n-gram in the second turn
    ["请帮我回答：" + SHORT_ZH + "谢谢"],                    # contained short Chinese turn
    ["Quiz! " + SHORT_EN + " Be brief."],                 # contained short English turn
    [SHORT_ZH, EN],                                       # contained in turn 1, n-gram in turn 2: n-gram wins
    ["请问一年有多少天？闰年呢？"],                           # shares a 6-token turn only: clean
    [EN_NEAR],                                            # MinHash only
    [ZH_NEAR],                                            # MinHash only, tie between e1 and e6
    [ZH_NEAR[:20], ZH_NEAR[20:]],                         # the same text cut into two turns
    ["完全无关的一句话，讲的是天气和旅行。"],                   # clean
    ["the weather is nice today and we go hiking in the hills"],
]


def test_tricky_batch_equals_match_one_by_one():
    idx = index(AGAINST)
    ref = same(idx, TRICKY)
    kinds = [r.kind if r else None for r in ref]
    assert kinds[:4] == [None, None, None, None]
    assert kinds[4:7] == ["ngram"] * 3 and kinds[7:9] == ["contained"] * 2
    assert kinds[9] == "ngram" and kinds[10] is None
    assert kinds[11] == kinds[12] == "minhash"
    assert (ref[12].against_id, ref[12].against_file) == ("e1", "eval_a.jsonl")  # tie: the first record
    assert ref[11].similarity is not None and 0.5 <= ref[11].similarity < 1.0


def test_a_batch_of_one_and_an_empty_batch():
    idx = index(AGAINST)
    assert idx.match_many([]) == []
    for x in TRICKY:
        assert idx.match_many([x]) == [idx.match(x)]


def test_ngram_owner_is_the_smallest_against_index():
    # the same 13-gram in three against records: every path names the first
    against = [("a.jsonl", rec("x0", "完全不同的开头" + ZH)), ("b.jsonl", rec("x1", ZH)), ("c.jsonl", rec("x2", ZH))]
    idx = index(against)
    ref = same(idx, [[ZH[3:20]], [ZH]])
    assert [r.against_id for r in ref] == ["x0", "x0"]


def test_contained_precedence_turn_then_length_then_position():
    # short against turns of 8, 9 and 10 tokens; the record's answer is its first turn with a hit, then
    # the shortest length, then the earliest position -- as match() looks for them
    s8, s9, s10 = "甲乙丙丁戊己庚辛", "子丑寅卯辰巳午未申", "一二三四五六七八九十"
    against = [("a.jsonl", rec("t10", s10)), ("a.jsonl", rec("t9", s9)), ("a.jsonl", rec("t8", s8)),
               ("a.jsonl", rec("t8b", s8))]
    idx = index(against)
    batch = [[s10 + "，" + s8], ["无关", s9 + s8], [s9 + "和" + s10], ["前面" + s10, s8]]
    ref = same(idx, batch)
    assert [r.against_id for r in ref] == ["t8", "t8", "t9", "t10"]
    assert {r.kind for r in ref} == {"contained"}


def test_jaccard_ties_between_different_texts_go_to_the_first():
    # two against texts at the same Jaccard with the probe (each differs from it in one word)
    base = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    a, b = list(base), list(base)
    a[4], b[5] = "omega", "sigma"
    against = [("a.jsonl", rec("a", " ".join(a))), ("a.jsonl", rec("b", " ".join(b)))]
    idx = index(against, threshold=0.3)
    ref = same(idx, [[" ".join(base)]])
    assert ref[0].kind == "minhash" and ref[0].against_id == "a"
    from dialog_forge.steps.dedup.verify import jaccard, shingle_sets

    sa, sb, sp = shingle_sets([" ".join(a), " ".join(b), " ".join(base)], 3, 2)
    assert jaccard(sp, sa) == jaccard(sp, sb) == ref[0].similarity


def test_against_set_without_ngrams_or_without_sketches():
    shorts = [("s.jsonl", rec("s0", SHORT_ZH)), ("s.jsonl", rec("s1", SHORT_EN))]  # no 13-gram at all
    idx = index(shorts)
    assert idx.gram_hashes.shape[0] == 0
    ref = same(idx, [*TRICKY, [SHORT_EN.replace("capital", "main")]])
    assert {r.kind for r in ref if r} == {"contained", "minhash"}
    bare = [("n.jsonl", rec("n0")), ("n.jsonl", rec("n1", "", "？"))]  # nothing to sketch or n-gram
    idx = index(bare)
    assert idx.sketched.shape[0] == 0 and not idx.short
    assert same(idx, TRICKY) == [None] * len(TRICKY)
    # a long n-gram length: every against turn is "short", nothing is an n-gram
    idx = index(AGAINST, ngram=50)
    assert idx.gram_hashes.shape[0] == 0 and max(idx.short) >= 20
    same(idx, TRICKY)
    # an n-gram length below the contained minimum: no short table
    idx = index(AGAINST, ngram=MIN_CONTAINED_TOKENS - 3)
    assert not idx.short
    same(idx, TRICKY)


# -- random mixed-script text -----------------------------------------------------------------------------
PIECES = ["高血压", "党参", "可以", "吃", "吗", "医生", "你好", "请问", "的", "了", "2024", "12", "ｱｲｳ", "ｶﾞ",
          "ﾞ", "e\u0301", "\u0301x", "ﬁle", "⑴", "Ｈｅｌｌｏ", "hello", "world", "the", "cat", "is", "on", "mat",
          "かな", "カタカナ", "한국어", "\u1100\u1161", "привет", "мир", "😀", "+", "%", "\u200b", "\ufeff",
          "_", "-", "，", "。", "？", " ", "\n", "\t", "!", "İ", "ß", "Σ", "ς", "x\u0338"]


def random_text(rng: np.random.Generator, lo: int, hi: int) -> str:
    return "".join(PIECES[int(i)] for i in rng.integers(0, len(PIECES), int(rng.integers(lo, hi))))


def mutate(text: str, rng: np.random.Generator) -> str:
    """A copy with a few pieces changed, cut or wrapped, so n-gram, contained and MinHash hits all occur."""
    op = int(rng.integers(0, 5))
    if op == 0:
        return text
    if op == 1 and len(text) > 4:
        a = int(rng.integers(0, len(text) // 2))
        return random_text(rng, 0, 4) + text[a:a + int(rng.integers(4, 40))] + random_text(rng, 0, 4)
    t = list(text)
    if op == 2:  # one character in every 5-8 changed: no long n-gram is left, a MinHash match may be
        step = int(rng.integers(5, 9))
        return "".join("某" if i % step == step - 1 else c for i, c in enumerate(t))
    for _ in range(int(rng.integers(1, 4))):
        if t:
            t[int(rng.integers(0, len(t)))] = PIECES[int(rng.integers(0, len(PIECES)))]
    return "".join(t)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_mixed_script_batches(seed):
    rng = np.random.default_rng(seed)
    against = []
    for k in range(40):
        turns = [random_text(rng, 3, 30) for _ in range(int(rng.integers(0, 3)))]
        against.append((f"e{k % 3}.jsonl", rec(f"e{k}", *turns)))
    pool = [t for _, r in against for t in r.turns("user")]
    batch = []
    for _ in range(300):
        turns = []
        for _ in range(int(rng.integers(0, 4))):
            if pool and rng.random() < 0.6:
                turns.append(mutate(pool[int(rng.integers(0, len(pool)))], rng))
            else:
                turns.append(random_text(rng, 0, 25))
        batch.append(turns)
    for ngram in (13, 9):
        idx = index(against, ngram=ngram, threshold=0.35)
        ref = same(idx, batch, sizes=(1, 7, 64))
        kinds = {r.kind for r in ref if r}
        assert {"ngram", "minhash"} <= kinds, kinds


@pytest.mark.parametrize("seed", [0, 1])
def test_turn_forms_joined_by_a_space_shingle_like_turns_joined_by_a_newline(seed):
    """match_many shingles ``" ".join(shingle_form(t))`` where match shingles ``"\\n".join(t)``: the
    same shingle hashes (as sets) and the same tokens, whatever the scripts at the turn boundaries."""
    rng = np.random.default_rng(seed)
    for _ in range(400):
        turns = [random_text(rng, 0, 8) for _ in range(int(rng.integers(0, 4)))]
        h1, n1 = batch_shingle_hashes(["\n".join(turns)], 3, 2)
        h2, n2 = batch_shingle_hashes([" ".join(shingle_form(t) for t in turns)], 3, 2, normalized=True)
        assert set(h1.tolist()) == set(h2.tolist()) and (n1 > 0) == (n2 > 0), turns
        assert tokens("\n".join(turns)) == [x for t in turns for x in tokens(t)], turns


# -- real data ----------------------------------------------------------------------------------------
def _medicalgpt() -> list[str]:
    import json

    path = DATASETS / "medicalgpt_medical_sft_1k.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is absent (real-data fixture)")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        conv = json.loads(line)["conversations"]
        out.append([c["value"] for c in conv if c["from"] == "human"])
    return out


def test_real_medical_questions_against_perturbed_copies():
    train = _medicalgpt()
    rng = np.random.default_rng(0)
    against = []
    for k, turns in enumerate(train[::5][:200]):
        q = turns[0] if turns else ""
        r = k % 4
        if r == 0:
            q = q[: 8 + k % 5]  # a short prefix: contained
        elif r == 1 and len(q) > 10:
            t = list(q)
            for p in rng.integers(0, len(t), max(1, len(t) // 10)):
                t[int(p)] = "某"  # one character in ten changed: mostly MinHash
            q = "".join(t)
        elif r == 2:
            q = q[len(q) // 3:]  # a tail: n-gram
        against.append(("eval.jsonl", rec(f"m{k}", q)))
    idx = index(against, threshold=0.7)
    ref = same(idx, train, sizes=(1000, 97))
    kinds = {r.kind for r in ref if r}
    assert kinds == {"ngram", "contained", "minhash"}, kinds


# -- the step ------------------------------------------------------------------------------------------
def _run(records: list[Dialogue], ev: Path, batch_size: int, **cfg):
    step = DedupStep(DedupConfig(against=[str(ev)], **cfg))
    step.setup()
    kept, rejects = [], []
    for k in range(0, len(records), batch_size):
        res = step.process(records[k:k + batch_size])
        kept += res.kept
        rejects += res.rejects
    res = step.finish()
    return ([r.to_json() for r in [*kept, *res.kept]], [(r.id, r.reason, r.detail) for r in [*rejects, *res.rejects]],
            dict(step.counters))


def test_step_output_is_identical_to_the_one_by_one_path(tmp_path, monkeypatch):
    ev = tmp_path / "eval.jsonl"
    ev.write_bytes(b"".join(r.to_json() + b"\n" for _, r in AGAINST))
    records = [rec(f"t{i}", *turns) for i, turns in enumerate(TRICKY * 2)]
    records += [rec("dup1", "完全无关的一句话，讲的是天气和旅行！"), rec("dup2", "the weather is nice today")]
    for bs in (1, 4, 100):
        batched = _run(records, ev, bs, threshold=0.5)
        with monkeypatch.context() as m:
            m.setattr(AgainstIndex, "match_many", lambda self, xs: [self.match(x) for x in xs])
            one_by_one = _run(records, ev, bs, threshold=0.5)
        assert batched == one_by_one
        assert {"contaminated_ngram", "contaminated_contained", "contaminated_minhash"} <= set(batched[2])
