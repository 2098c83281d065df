"""Bounded-memory dedup: spill files (records, shingle sets), lazily read kept records and rejects, set-based
exact Jaccard, and identical results whatever the batch size or --workers."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.dedup import DedupConfig, DedupStep
from dialog_forge.steps.dedup.minhash import permutations, signatures, signatures_flat
from dialog_forge.steps.dedup.shingles import batch_shingle_hashes, batch_shingle_sets, shingle_set
from dialog_forge.steps.dedup.spill import RecordSpill, SetSpill
from dialog_forge.steps.dedup.verify import jaccard, jaccard_sets

BASE = [
    "我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？",
    "最近总是头晕，尤其是早上起床的时候，量了血压有点偏高，需要吃药吗？",
    "信用卡逾期了三天，会不会影响征信？我应该怎么补救比较好",
    "我的快递显示已签收，但是我没有收到，请问怎么处理？",
    "How do I reset the password of my online banking account if I forgot the security question?",
    "孩子发烧三十八度五，精神还可以，需要马上去医院吗？还是先在家观察",
]


def corpus(n: int = 240) -> list[Dialogue]:
    """Distinct dialogues with planted exact (every 7th) and near duplicates (every 5th: one particle added)."""
    rng = np.random.default_rng(4)
    out = []
    for i in range(n):
        base = BASE[i % len(BASE)] + "".join(rng.choice(list("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉"), 12))
        if i % 7 == 6:
            text = out[i - 1].messages[0].content
        elif i % 5 == 4:
            text = out[i - 1].messages[0].content + "呢"
        else:
            text = base
        out.append(Dialogue(id=f"r{i:03d}", messages=[Message("user", text), Message("assistant", f"答复{i % 3}")]))
    return out


def run(records, batch_size=16, **cfg):
    step = DedupStep(DedupConfig(**cfg))
    step.setup()
    kept, rejects = [], []
    for k in range(0, len(records), batch_size):
        res = step.process([Dialogue.from_dict(r.to_dict()) for r in records[k:k + batch_size]])
        kept += res.kept
        rejects += res.rejects
    res = step.finish()
    kept += res.kept
    rejects += res.rejects
    return ([r.to_json() for r in kept], [(r.id, r.reason, r.detail, r.record.to_json()) for r in rejects], step)


def test_planted_duplicates_found_and_results_identical_whatever_batch_size_or_workers(tmp_path):
    recs = corpus()
    base_kept, base_rej, step = run(recs, batch_size=16, on="user", clusters=str(tmp_path / "a.parquet"))
    reasons = {rid: reason for rid, reason, _d, _r in base_rej}
    assert reasons["r006"] == "exact_duplicate" and reasons["r004"] == "near_duplicate"
    assert step.counters["exact_removed"] > 0 and step.counters["near_removed"] > 0
    assert len(base_kept) + len(base_rej) == len(recs)
    for bs, workers in ((1, 1), (7, 1), (1000, 1), (16, 2), (50, 2)):
        kept, rej, _ = run(recs, batch_size=bs, workers=workers, on="user", clusters=str(tmp_path / "b.parquet"))
        assert kept == base_kept and rej == base_rej, (bs, workers)
        assert (tmp_path / "b.parquet").read_bytes() == (tmp_path / "a.parquet").read_bytes()


def test_spill_files_never_left_behind_after_a_run_or_an_error(tmp_path):
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    recs = corpus(60)
    step = DedupStep(DedupConfig(on="user", spill_dir=str(spill_dir)))
    step.setup()
    step.process(recs[:30])
    assert os.listdir(spill_dir) == []  # anonymous files: unlinked as they are made
    res = step.finish()
    assert len(list(res.kept)) + len(list(res.rejects)) == 30
    assert os.listdir(spill_dir) == []
    # an error half-way (a record that cannot be serialised) leaves nothing either
    bad = DedupStep(DedupConfig(on="user", spill_dir=str(spill_dir)))
    broken = Dialogue(id="x", messages=[Message("user", "你好呀朋友们")], meta={"obj": object()})
    with pytest.raises(TypeError):  # orjson cannot serialise object()
        bad.process([recs[0], broken])
    del bad
    gc.collect()
    assert os.listdir(spill_dir) == []


def test_spill_dir_that_is_not_a_folder_is_a_clear_error(tmp_path):
    step = DedupStep(DedupConfig(spill_dir=str(tmp_path / "missing")))
    with pytest.raises(ForgeError, match="--spill-dir"):
        step.setup()


def test_step_holds_no_parsed_records_between_batches():
    """Memory is bounded by signatures, not texts: after process() the step keeps no Dialogue objects."""
    step = DedupStep(DedupConfig(on="user"))
    step.setup()
    gc.collect()
    before = sum(type(o) is Dialogue for o in gc.get_objects())
    for k in range(0, 240, 40):
        step.process(corpus(240)[k:k + 40])
    gc.collect()
    assert sum(type(o) is Dialogue for o in gc.get_objects()) == before
    res = step.finish()
    assert len(res.kept) + len(res.rejects) == 240


def test_spilled_kept_records_read_back_lazily_with_lineage():
    recs = corpus(40)
    step = DedupStep(DedupConfig(on="user", seed=5))
    step.process(recs)
    res = step.finish()
    kept = res.kept
    ids = [r.id for r in kept]
    assert ids == kept.ids() and len(kept) == len(ids) < 40
    assert kept[0].id == ids[0] and kept[-1].id == ids[-1] and [r.id for r in kept[1:3]] == ids[1:3]
    first, again = [r.to_json() for r in kept], [r.to_json() for r in kept]
    assert first == again
    assert kept[0].lineage.ops[-1]["op"] == "dedup" and len(kept[0].lineage.ops) == 1
    originals = {r.id: r for r in recs}
    assert kept[0].messages == originals[ids[0]].messages
    assert [r.id for r in res.rejects[:2]] == [r.id for r in list(res.rejects)[:2]]


def test_record_and_set_spills_round_trip(tmp_path):
    rs = RecordSpill(str(tmp_path))
    recs = corpus(10)
    for r in recs:
        rs.append(r)
    assert len(rs) == 10 and rs.id(3) == "r003"
    assert rs.load(7).to_json() == recs[7].to_json()
    assert [r.id for r in rs.iter_load(np.array([0, 4, 9]))] == ["r000", "r004", "r009"]
    ss = SetSpill(str(tmp_path))
    ss.append(np.array([1, 5, 9, 2, 3], dtype=np.uint64), np.array([3, 0, 2]))
    ss.append(np.array([7], dtype=np.uint64), np.array([1]))
    vals, sizes = ss.gather(np.array([3, 0, 2]))
    assert vals.tolist() == [7, 1, 5, 9, 2, 3] and sizes.tolist() == [1, 3, 2]
    rs.close()
    ss.close()


def test_shingle_sets_are_sorted_distinct_and_minhash_equals_the_bag():
    texts = [d.messages[0].content for d in corpus(30)] + ["好的", "哈哈哈哈哈哈哈哈", "a b a b a b"]
    values, sizes = batch_shingle_sets(texts)
    parts = np.split(values, np.cumsum(sizes)[:-1])
    for t, p in zip(texts, parts):
        assert p.tolist() == sorted(shingle_set(t))
    hashes, lengths = batch_shingle_hashes(texts)
    perms = permutations(64, 3)
    bag = signatures(np.split(hashes, np.cumsum(lengths)[:-1]), perms)
    assert np.array_equal(signatures_flat(values, sizes, perms), bag)
    assert sizes[-2] == 1 and sizes[-1] == 2  # repeats collapse: one 3-gram of 哈, two word 2-grams


def test_jaccard_sets_exact_even_when_values_share_their_high_bits():
    """The searchsorted keys drop a pair's low bits; values equal in the kept bits must still count only
    when they are equal in full."""
    rng = np.random.default_rng(0)
    sets = []
    for _ in range(200):
        hi = rng.integers(0, 40, size=int(rng.integers(0, 30))).astype(np.uint64) << np.uint64(58)
        sets.append(np.unique(hi | rng.integers(0, 6, size=hi.size).astype(np.uint64)))
    values, sizes = np.concatenate(sets), np.array([s.size for s in sets])
    pairs = rng.integers(0, 200, size=(1500, 2))
    got = jaccard_sets(pairs, values, sizes)
    want = [jaccard(frozenset(sets[i].tolist()), frozenset(sets[j].tolist())) for i, j in pairs.tolist()]
    assert np.allclose(got, want)
    assert got[pairs[:, 0] == pairs[:, 1]][sizes[pairs[pairs[:, 0] == pairs[:, 1], 0]] > 0].min() == 1.0


def test_verify_pairs_in_threads_gives_the_same_similarities_and_skips():
    """``threads`` only changes how many chunks are computed at once: the values and which pairs are skipped
    (asked SKIP_LAG chunks ahead) are the same."""
    from dialog_forge.steps.dedup.clusters import UnionFind
    from dialog_forge.steps.dedup.verify import PAIR_CHUNK, verify_pairs

    texts = [d.messages[0].content for d in corpus(200)]
    values, sizes = batch_shingle_sets(texts)
    starts = np.cumsum(sizes) - sizes

    def sets_of(ids):
        parts = [values[starts[i]:starts[i] + sizes[i]] for i in ids.tolist()]
        return np.concatenate(parts), sizes[ids]

    rng = np.random.default_rng(2)
    pairs = np.sort(rng.integers(0, 200, size=(3 * PAIR_CHUNK + 17, 2)), axis=1)
    pairs[::5, 1] = np.minimum(pairs[::5, 0] + 1, 199)  # neighbours: many near duplicates (corpus plants them)

    def run_with(threads):
        uf = UnionFind(200)
        out = []
        for i, j, s in verify_pairs(pairs, texts.__getitem__, char_ngram=3, word_ngram=2, sets_of=sets_of,
                                    skip=lambda a, b: uf.find(a) == uf.find(b), threads=threads):
            out.append((i, j, s))
            if s is not None and s >= 0.8:
                uf.union(i, j)
        return out

    one, two = run_with(1), run_with(2)
    assert one == two
    assert any(s is None for _i, _j, s in one) and any(s is not None and s >= 0.8 for _i, _j, s in one)
    direct = {(i, j): s for i, j, s in verify_pairs(pairs, texts.__getitem__, char_ngram=3, word_ngram=2)}
    assert all(s == direct[(i, j)] for i, j, s in one if s is not None)  # sets_of == shingling the texts


# -- adversarial findings (tester of issue 4) -------------------------------------------------------------------
_REAL_TEMPORARY_FILE = __import__("tempfile").TemporaryFile


class _FullDisk:
    """A spill file on a full disk: every write fails with ENOSPC (as a small tmpfs does)."""

    def __init__(self, *a, **kw):
        self._fh = _REAL_TEMPORARY_FILE(*a, **kw)

    def write(self, data):
        import errno

        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._fh, name)


@pytest.mark.parametrize("threshold", [0.8, 1.0])  # 1.0: the record spill alone (no shingle sets)
def test_spill_dir_full_disk_is_a_clear_error_naming_the_flag(monkeypatch, tmp_path, threshold):
    from dialog_forge.steps.dedup import spill

    monkeypatch.setattr(spill.tempfile, "TemporaryFile", _FullDisk)
    monkeypatch.setattr(spill, "_FLUSH_BYTES", 1)  # flush every record
    with pytest.raises(ForgeError) as e:
        run(corpus(20), threshold=threshold, spill_dir=str(tmp_path))
    msg = str(e.value)
    assert msg.startswith(f"forge dedup --spill-dir {tmp_path}: cannot write the temporary ")
    assert "the disk is full" in msg and "name a folder with more free space" in msg


def test_signatures_of_a_record_longer_than_a_chunk_match_and_stay_bounded():
    """One 2M-character question made a (shingles x num_perm) matrix at once (2.4 GB peak RSS for two such
    records); now a long record is reduced chunk by chunk: same signature, memory of one chunk."""
    import tracemalloc

    from dialog_forge.steps.dedup import minhash

    perms = permutations(128, 1)
    rng = np.random.default_rng(0)
    rows = minhash.CHUNK_ELEMENTS // 128
    lengths = np.array([3, 400_000, 7, rows + 1, 1], dtype=np.int64)
    hashes = rng.integers(0, 2 ** 63, int(lengths.sum()), dtype=np.uint64)
    tracemalloc.start()
    got = signatures_flat(hashes, lengths, perms)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20  # was 400k x 128 x 4 B = 205 MB for the long record
    pos = np.concatenate([[0], np.cumsum(lengths)])
    a, b = perms
    for i in range(len(lengths)):  # brute force: min over shingles of a * fmix32(h) + b (uint32)
        h = minhash.fmix32((hashes[pos[i]:pos[i + 1]] & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        want = np.min(np.multiply.outer(h, a) + b, axis=0)
        assert np.array_equal(got[i], want)
