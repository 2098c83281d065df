"""Benchmark of `forge dedup`: accuracy on planted near duplicates, speed against a plain datasketch loop,
and an extrapolation to 1M dialogues.

Run: ``python benchmarks/bench_dedup.py`` (about 1-3 minutes on 2 cores; ``--against``: section 4 alone,
under a minute). Figures, all measured in this run:

1. **Accuracy** -- real patient questions from ``../shared/datasets/toyhom_internal_medicine_gbk.csv``
   (GBK CSV: department,title,ask,answer) plus perturbed copies at known edit rates (particle swaps,
   punctuation changes, inserted clauses, character substitutions). Truth: *every* pair whose exact
   Jaccard on the shingle sets is >= 0.8 (computed for all pairs with a sparse matrix product). Predicted:
   LSH candidate pairs that pass exact-Jaccard verification. Pair precision and recall are printed
   (goal >= 0.99 / >= 0.95). Also printed: how many truth pairs end in one cluster of the full step, and
   whether any record the step removes lacks a >= 0.8 partner.
2. **Speed** -- the same dialogues (question + answer, ``--on dialogue``) through (a) a plain datasketch
   loop: one ``MinHash`` per record, ``update`` per shingle, ``MinHashLSH.insert`` and ``query``; and
   (b) the whole ``DedupStep`` (normalise, exact keys, vectorised MinHash, LSH, verification, clusters).
   Records/s and their ratio (goal >= 10x). The plain loop runs on a subset (it is slow); both rates
   are per record on the same kind of record.
3. **Scale** -- ``forge dedup IN.jsonl --out DIR/`` through the real CLI path (streaming reader, executor,
   Parquet shards, rejects file) in fresh processes on N and 2N dialogues written to a temporary JSONL file,
   with ``--workers 1`` and ``2``: wall time, user+sys CPU of the main process and of the workers, and peak
   RSS of the process (``ru_maxrss``: everything it held, not a copy the benchmark keeps). Time and
   peak-RSS growth between N and 2N are extrapolated linearly to 1M (goal <= 5 min on 2 cores, <= 4 GB).
   The issue names 100k dialogues; N defaults lower and the script says so (``BENCH_DEDUP_N``).
4. **--against** (decontamination; ``python benchmarks/bench_dedup.py --against`` runs this section
   alone) -- training side: toyhom dialogues (and the medicalgpt questions when present); against-set: a
   few hundred of their questions, perturbed (edits, short prefixes, tails). Records/s of
   ``AgainstIndex.match_many`` (the batched path ``forge dedup`` uses, batches of 1000) against the
   one-by-one ``AgainstIndex.match`` loop on the same records in the same run (their answers are checked
   equal), the ratio, and both extrapolated to 1M records; then the whole step with and without
   ``--against`` on the same dialogues.

Without ``../shared/datasets`` the script says so and uses synthetic Chinese text (figures then say
little about real data).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.dedup import DedupConfig, DedupStep
from dialog_forge.steps.dedup.minhash import candidate_pairs, lsh_params, permutations
from dialog_forge.steps.dedup.shingles import batch_shingle_hashes, shingles
from dialog_forge.steps.dedup.step import sketch
from dialog_forge.steps.dedup.verify import verify_pairs

DATA = ROOT.parent / "shared" / "datasets" / "toyhom_internal_medicine_gbk.csv"
THRESHOLD = 0.8
N_SCALE = int(os.environ.get("BENCH_DEDUP_N", "20000"))
N_PLAIN = int(os.environ.get("BENCH_DEDUP_N_PLAIN", "1500"))
N_AGAINST = int(os.environ.get("BENCH_DEDUP_N_AGAINST", "5000"))
PARTICLES = "吗呢吧啊了的呀哦"
CLAUSES = ["请问医生，", "谢谢！", "我今年四十五岁，", "麻烦帮我看看，", "急！", "在线等，"]
PUNCT = "，。？！、；："


def load_pairs() -> tuple[list[tuple[str, str]], str]:
    """(question, answer) pairs and a description of where they came from."""
    if DATA.is_file():
        import pandas as pd

        df = pd.read_csv(DATA, encoding="gb18030")
        df = df.dropna(subset=["ask", "answer"]).drop_duplicates(subset=["ask"])
        return list(zip(df["ask"].astype(str), df["answer"].astype(str))), f"{len(df)} real Q/A rows from {DATA.name}"
    rng = np.random.default_rng(0)
    chars = np.array(list("高血压患者能吃党参吗我有这两天来的时候给拿了些泡水喝您好可以请问医生头晕早上起床量偏需要药"))
    pairs = [("".join(rng.choice(chars, int(rng.integers(20, 60)))), "".join(rng.choice(chars, 120)))
             for _ in range(8000)]
    return pairs, f"SYNTHETIC text ({DATA} is absent: figures say little about real data)"


def perturb(text: str, rate: float, rng: np.random.Generator) -> str:
    """Apply about ``rate * len(text)`` edits: particle swaps, punctuation changes, substitutions, and
    sometimes an inserted clause."""
    t = list(text)
    for _ in range(max(1, round(rate * len(t)))):
        op = rng.integers(0, 4)
        pos = int(rng.integers(0, len(t)))
        if op == 0:
            t[pos] = PARTICLES[int(rng.integers(0, len(PARTICLES)))]
        elif op == 1:
            t.insert(pos, PUNCT[int(rng.integers(0, len(PUNCT)))])
        elif op == 2:
            t[pos] = chr(0x4E00 + int(rng.integers(0, 20000)))
        else:
            t.insert(pos, CLAUSES[int(rng.integers(0, len(CLAUSES)))])
    return "".join(t)


def exact_truth(texts: list[str], threshold: float) -> set[tuple[int, int]]:
    """All pairs (i < j) with exact Jaccard >= threshold on the shingle sets, via a sparse product."""
    from scipy import sparse

    hashes, lengths = batch_shingle_hashes(texts)
    rows = np.repeat(np.arange(len(texts)), lengths)
    uniq, cols = np.unique(hashes, return_inverse=True)
    x = sparse.csr_matrix((np.ones_like(cols, dtype=np.float32), (rows, cols)), shape=(len(texts), len(uniq)))
    x.data[:] = 1.0
    x.sum_duplicates()
    x.data[:] = 1.0  # sets, not bags
    size = np.asarray(x.sum(axis=1)).ravel()
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    jac = inter.data / (size[inter.row] + size[inter.col] - inter.data)
    keep = jac >= threshold - 1e-9
    return set(zip(inter.row[keep].tolist(), inter.col[keep].tolist()))


def accuracy(qa: list[tuple[str, str]], rng: np.random.Generator) -> None:
    asks = [q for q, _ in qa if len(q) >= 15][:2500]
    texts, origin = list(asks), list(range(len(asks)))
    for i, q in enumerate(asks[:1500]):
        for rate in rng.choice([0.0, 0.02, 0.05, 0.1, 0.15, 0.25], size=int(rng.integers(1, 4))):
            texts.append(perturb(q, float(rate), rng) if rate else q.replace("，", ","))
            origin.append(i)
    t0 = time.perf_counter()
    truth = exact_truth(texts, THRESHOLD)
    t_truth = time.perf_counter() - t0
    cfg = DedupConfig(threshold=THRESHOLD)
    b, r = lsh_params(cfg.effective_lsh_threshold, cfg.num_perm)
    t0 = time.perf_counter()
    keys = sketch(texts, permutations(cfg.num_perm, cfg.seed), b, r, cfg.seed, cfg.char_ngram, cfg.word_ngram)
    cands = candidate_pairs(keys)
    pred = {(i, j) for i, j, s in verify_pairs(cands, texts.__getitem__, char_ngram=cfg.char_ngram,
                                               word_ngram=cfg.word_ngram) if s >= THRESHOLD}
    t_pred = time.perf_counter() - t0
    tp = len(pred & truth)
    precision = tp / len(pred) if pred else 1.0
    recall = tp / len(truth) if truth else 1.0
    print(f"accuracy: {len(texts)} questions ({len(asks)} real + {len(texts) - len(asks)} perturbed copies at edit "
          f"rates 0-25%), {len(truth)} pairs with exact Jaccard >= {THRESHOLD} (all-pairs truth in {t_truth:.1f} s)")
    print(f"  LSH bands x rows = {b} x {r} (tuned for Jaccard {cfg.effective_lsh_threshold:.2f}); "
          f"{len(cands)} candidate pairs, {len(pred)} verified, in {t_pred:.1f} s")
    print(f"  pair precision {precision:.4f} (goal >= 0.99; verification is exact, so this is 1 by construction)")
    print(f"  pair recall    {recall:.4f} (goal >= 0.95; misses are pairs LSH never proposed)")
    # the full step: clusters and removals
    recs = [Dialogue(id=f"r{i}", messages=[Message("user", t), Message("assistant", "-")]) for i, t in enumerate(texts)]
    step = DedupStep(DedupConfig(threshold=THRESHOLD, on="user", keep="first"))
    step.setup()
    step.process(recs)
    res = step.finish()
    kept_ids = {r.id for r in res.kept}
    partner = {i for p in truth for i in p}
    removed = [int(r.id[1:]) for r in res.rejects]
    lonely = [i for i in removed if i not in partner and not any(texts[i] == texts[j] for j in range(0))]
    # exact duplicates (identical normalised text) are in truth too, so a removed record must have a partner
    label = {}
    for rej in res.rejects:
        kept = rej.detail.split(" of ", 1)[1].split(" ", 1)[0]
        label[int(rej.id[1:])] = int(kept[1:])
    for rid in kept_ids:
        label.setdefault(int(rid[1:]), int(rid[1:]))
    together = sum(1 for i, j in truth if label[i] == label[j])
    print(f"  full step (--on user): {len(res.rejects)} removed; truth pairs ending in one cluster "
          f"{together / max(1, len(truth)):.4f}; removed records without any >= {THRESHOLD} partner: {len(lonely)}")


def dialogues(qa: list[tuple[str, str]], n: int, seed: int = 0) -> list[Dialogue]:
    """``n`` dialogues: real Q/A rows, about 1 in 4 followed by a perturbed copy (5% edits) of its question.
    Past the end of the data, questions are paired with other rows' answers, so later passes are new
    dialogues rather than copies."""
    rng = np.random.default_rng(seed)
    out: list[Dialogue] = []
    k = 0
    while len(out) < n:
        q = qa[k % len(qa)][0]
        a = qa[(k + 7919 * (k // len(qa))) % len(qa)][1]
        out.append(Dialogue(id=f"d{len(out)}", messages=[Message("user", q), Message("assistant", a)]))
        if rng.random() < 0.25 and len(out) < n:
            out.append(Dialogue(id=f"d{len(out)}", messages=[Message("user", perturb(q, 0.05, rng)),
                                                            Message("assistant", a)]))
        k += 1
    return out


def plain_loop(recs: list[Dialogue], b: int, r: int) -> tuple[float, float]:
    """(wall s, CPU s) of the plain datasketch loop over ``recs`` (the same shingles as forge)."""
    from datasketch import MinHash, MinHashLSH

    w0, c0 = time.perf_counter(), time.process_time()
    lsh = MinHashLSH(num_perm=128, params=(b, r))
    for rec in recs:
        m = MinHash(num_perm=128, seed=1)
        for s in shingles("\n".join(x.content for x in rec.messages if x.role != "system")):
            m.update(s.encode("utf-8"))
        lsh.query(m)
        lsh.insert(rec.id, m)
    return time.perf_counter() - w0, time.process_time() - c0


def run_step(recs: list[Dialogue], workers: int = 1) -> tuple[float, float, int]:
    """(wall s, CPU s of this process, rejects) of the full step in batches of 1000, as the executor
    drives it."""
    step = DedupStep(DedupConfig(threshold=THRESHOLD, workers=workers))
    step.setup()
    w0, c0 = time.perf_counter(), time.process_time()
    n_rej = 0
    for k in range(0, len(recs), 1000):
        n_rej += len(step.process(recs[k:k + 1000]).rejects)
    n_rej += len(step.finish().rejects)
    return time.perf_counter() - w0, time.process_time() - c0, n_rej


def write_input(path: Path, recs: list[Dialogue]) -> None:
    """Canonical JSONL, as ``forge ingest`` writes it."""
    with open(path, "wb") as fh:
        for r in recs:
            fh.write(r.to_json() + b"\n")


def _hwm_mb() -> float:
    """Peak resident memory of this process so far (Linux ``/proc/self/status`` ``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found: this benchmark measures peak memory on Linux only")


def scale_child(path: str, out_dir: str, workers: int, queue) -> None:
    """In a fresh process: ``forge dedup IN.jsonl --out DIR/`` through the real CLI path (streaming reader,
    the local executor, Parquet shards, rejects file). Reports wall time, user+sys CPU of this process and
    of its worker processes, and peak RSS of this process (``VmHWM``: ``ru_maxrss`` would carry the spawning
    parent's peak across ``exec``) after imports and after the run (the workers' largest peak separately)."""
    import resource

    from dialog_forge.cli.common import run_steps

    step = DedupStep(DedupConfig(threshold=THRESHOLD, workers=workers))
    base_mb = _hwm_mb()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.perf_counter()
    res = run_steps([step], [path], out=str(Path(out_dir) / "kept"), rejects=str(Path(out_dir) / "rejects.jsonl"),
                    stats_json=None, shard_rows=50_000, batch_size=1000, quiet=True)
    wall = time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    rc = resource.getrusage(resource.RUSAGE_CHILDREN)
    st = res.stats[0]
    queue.put({"wall": wall, "cpu": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
               "cpu_workers": rc.ru_utime + rc.ru_stime, "peak_mb": _hwm_mb(), "base_mb": base_mb,
               "workers_peak_mb": rc.ru_maxrss / 1024, "rejects": st.n_rejected, "n": st.n_in,
               "candidates": st.counters.get("lsh_candidate_pairs", 0)})


def scale(path: Path, workers: int) -> dict:
    import multiprocessing as mp
    import tempfile

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    with tempfile.TemporaryDirectory(prefix="bench-dedup-out-") as out_dir:
        p = ctx.Process(target=scale_child, args=(str(path), out_dir, workers, q))
        p.start()
        out = q.get()
        p.join()
    return out


def against_set(questions: list[str], n: int, rng: np.random.Generator) -> list[Dialogue]:
    """``n`` evaluation records made from training questions: edited copies (2-25% edits), short
    prefixes (8-12 characters: the contained check), tails (the n-gram check) and exact copies."""
    out = []
    for k, q in enumerate(questions[:: max(1, len(questions) // n)][:n]):
        kind = k % 4
        if kind == 0:
            q = perturb(q, float(rng.choice([0.02, 0.05, 0.1, 0.25])), rng)
        elif kind == 1:
            q = q[: 8 + k % 5]
        elif kind == 2:
            q = q[len(q) // 2:]
        out.append(Dialogue(id=f"ev{k}", messages=[Message("user", q), Message("assistant", "-")]))
    return out


def against_speed(name: str, train: list[list[str]], ev: list[Dialogue]) -> None:
    """One line pair: ``match`` one by one against ``match_many`` in batches of 1000 on ``train`` (user
    turns per record), best of three CPU timings each; the answers must be equal."""
    from dialog_forge.steps.dedup.decontam import AgainstIndex

    cfg = DedupConfig(threshold=THRESHOLD)
    b, r = lsh_params(cfg.effective_lsh_threshold, cfg.num_perm)
    t0 = time.process_time()
    idx = AgainstIndex([("eval.jsonl", d) for d in ev], ngram=cfg.against_ngram, threshold=THRESHOLD,
                       perms=permutations(cfg.num_perm, cfg.seed), bands=b, rows=r, seed=cfg.seed,
                       char_ngram=cfg.char_ngram, word_ngram=cfg.word_ngram)
    t_index = time.process_time() - t0

    def one_by_one() -> list:
        return [idx.match(x) for x in train]

    def batched() -> list:
        out: list = []
        for k in range(0, len(train), 1000):
            out += idx.match_many(train[k:k + 1000])
        return out

    times = {}
    for label, fn in (("one", one_by_one), ("many", batched)):
        best = float("inf")
        for _ in range(3):
            c0 = time.process_time()
            res = fn()
            best = min(best, time.process_time() - c0)
        times[label] = (best, res)
    (t_one, ref), (t_many, got) = times["one"], times["many"]
    if got != ref:
        raise SystemExit(f"--against {name}: match_many differs from match on "
                         f"{sum(a != b for a, b in zip(ref, got))} records")
    kinds = {k: sum(1 for x in ref if x is not None and x.kind == k) for k in ("ngram", "contained", "minhash")}
    n = len(train)
    print(f"  {name}: {n} training records against {len(ev)} perturbed ones (index built in {t_index:.2f} s; "
          f"contaminated: {kinds}; both paths give the same answer for every record)")
    print(f"    one by one (match):   {n / t_one:9,.0f} records/s -> 1M in ~{1e6 * t_one / n / 60:.1f} min of CPU")
    print(f"    batched (match_many): {n / t_many:9,.0f} records/s -> 1M in ~{1e6 * t_many / n / 60:.1f} min of CPU"
          f"   ratio {t_one / t_many:.1f}x")


def run_step_against(recs: list[Dialogue], ev_path: str | None, one_by_one: bool = False) -> float:
    """CPU s of the full step (``--on dialogue``) over ``recs`` in batches of 1000, with ``--against
    ev_path`` when given; ``one_by_one``: the step asks ``match`` record by record (the path before
    ``match_many``)."""
    step = DedupStep(DedupConfig(threshold=THRESHOLD, against=[ev_path] if ev_path else []))
    step.setup()
    if one_by_one:
        idx = step.against
        idx.match_many = lambda xs: [idx.match(x) for x in xs]  # type: ignore[method-assign,union-attr]
    c0 = time.process_time()
    for k in range(0, len(recs), 1000):
        step.process(recs[k:k + 1000])
    step.finish()
    return time.process_time() - c0


def against_section(qa: list[tuple[str, str]], where: str) -> None:
    import json
    import tempfile

    rng = np.random.default_rng(1)
    print(f"--against: decontamination speed, CPU seconds of this process (data: {where})")
    recs = dialogues(qa, N_AGAINST)
    ev = against_set([q for q, _ in qa], 300, rng)
    against_speed("toyhom dialogues", [d.turns("user") for d in recs], ev)
    med = ROOT.parent / "shared" / "datasets" / "medicalgpt_medical_sft_1k.jsonl"
    if med.is_file():
        mq = [[c["value"] for c in json.loads(line)["conversations"] if c["from"] == "human"]
              for line in med.read_text(encoding="utf-8").splitlines() if line.strip()]
        against_speed("medicalgpt questions (the 1000, three times)", mq * 3, against_set([x[0] for x in mq if x], 200, rng))
    with tempfile.TemporaryDirectory(prefix="bench-dedup-against-") as tmp:
        path = Path(tmp) / "eval.jsonl"
        write_input(path, ev)
        plain = min(run_step_against(recs, None) for _ in range(2))
        with_ev = min(run_step_against(recs, str(path)) for _ in range(2))
        before = min(run_step_against(recs, str(path), one_by_one=True) for _ in range(2))
    n = len(recs)
    print(f"  whole step (--on dialogue) on the {n} toyhom dialogues, records/s and 1M extrapolated (min of CPU):")
    print(f"    without --against:           {n / plain:9,.0f}   ~{1e6 * plain / n / 60:.1f} min")
    print(f"    --against, match one by one: {n / before:9,.0f}   ~{1e6 * before / n / 60:.1f} min "
          f"({before / plain:.2f}x the time of plain dedup)")
    print(f"    --against, match_many:       {n / with_ev:9,.0f}   ~{1e6 * with_ev / n / 60:.1f} min "
          f"({with_ev / plain:.2f}x; {before / with_ev:.1f}x faster than one by one)")


def main() -> None:
    rng = np.random.default_rng(0)
    qa, where = load_pairs()
    if "--against" in sys.argv[1:]:
        against_section(qa, where)
        return
    print(f"bench_dedup: data = {where}; times are CPU seconds of this process (the machine is shared), "
          "wall seconds in brackets")
    accuracy(qa, rng)

    cfg = DedupConfig(threshold=THRESHOLD)
    b, r = lsh_params(cfg.effective_lsh_threshold, cfg.num_perm)
    recs = dialogues(qa, N_PLAIN)
    mean_chars = np.mean([sum(len(m.content) for m in d.messages) for d in recs])
    p_wall, p_cpu = plain_loop(recs, b, r)
    f_wall, f_cpu, _ = run_step(recs)
    plain_rate, forge_rate = N_PLAIN / p_cpu, N_PLAIN / f_cpu
    print(f"speed on the same {N_PLAIN} dialogues of {mean_chars:.0f} characters on average (question + answer, "
          "--on dialogue):")
    print(f"  plain datasketch loop (MinHash per record, update per shingle, MinHashLSH query+insert): "
          f"{plain_rate:,.0f} records/s [{N_PLAIN / p_wall:,.0f}]")
    print(f"  forge dedup step (normalise, exact keys, vectorised MinHash, LSH, verification, clusters): "
          f"{forge_rate:,.0f} records/s [{N_PLAIN / f_wall:,.0f}]")
    print(f"  ratio: {forge_rate / plain_rate:.1f}x CPU [{p_wall / f_wall:.1f}x wall] (goal >= 10x; one process)")
    more = dialogues(qa, N_SCALE)
    w1, _, _ = run_step(more, workers=1)
    w2, _, _ = run_step(more, workers=2)
    print(f"  --workers 2 on {N_SCALE} dialogues: {w2:.1f} s wall against {w1:.1f} s with one process "
          f"({w1 / w2:.2f}x; includes starting two processes; wall time on a shared machine is noisy)")
    del more
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-dedup-in-") as tmp:
        paths = {}
        for n in (N_SCALE, 2 * N_SCALE):
            paths[n] = Path(tmp) / f"in_{n}.jsonl"
            write_input(paths[n], dialogues(qa, n))
        print(f"scale: `forge dedup IN.jsonl --out DIR/` (real reader, executor, Parquet shards, rejects file) in "
              f"fresh processes on N = {N_SCALE} and {2 * N_SCALE} dialogues; 1M is extrapolated linearly from the "
              "marginal cost between the two (the issue names 100k and 1M; set BENCH_DEDUP_N to change N)")
        for workers in (1, 2):
            r1, r2 = scale(paths[N_SCALE], workers), scale(paths[2 * N_SCALE], workers)
            for res in (r1, r2):
                print(f"  --workers {workers}, N = {res['n']}: {res['wall']:.1f} s wall, CPU user+sys {res['cpu']:.1f} s "
                      f"main + {res['cpu_workers']:.1f} s workers; {res['rejects']} removed, {res['candidates']} LSH "
                      f"candidates; peak RSS {res['peak_mb']:.0f} MB (after imports {res['base_mb']:.0f} MB)"
                      + (f", workers' peak {res['workers_peak_mb']:.0f} MB each" if workers > 1 else ""))
            d = N_SCALE
            cpu_rec = ((r2["cpu"] + r2["cpu_workers"]) - (r1["cpu"] + r1["cpu_workers"])) / d
            main_rec = (r2["cpu"] - r1["cpu"]) / d
            wall_rec = (r2["wall"] - r1["wall"]) / d
            mb_rec = (r2["peak_mb"] - r1["peak_mb"]) / d
            gb_1m = (r2["peak_mb"] + mb_rec * (1e6 - 2 * d)) / 1024
            # on 2 cores the run takes at least the busier of: the main process's CPU, half the total CPU
            two_core = max(main_rec, cpu_rec / 2) * 1e6 / 60
            print(f"  --workers {workers} -> 1M: ~{1e6 * cpu_rec / 60:.1f} min of CPU in all "
                  f"(~{1e6 * main_rec / 60:.1f} min in the main process), so ~{two_core:.1f} min on 2 free cores "
                  f"(measured wall here: ~{1e6 * wall_rec / 60:.1f} min, shared machine); peak RSS ~{gb_1m:.2f} GB of the main process "
                  f"({mb_rec * 1024:.2f} KB a dialogue) (goal <= 5 min on 2 cores, <= 4 GB)"
                  + (f"; N = {N_SCALE} is too small for this extrapolation (fixed costs such as the first "
                     "batches' buffers look like per-dialogue growth and inflate it: BENCH_DEDUP_N=5000 gives ~6 GB, "
                     "100000 ~1.3 GB); use N >= 20000" if N_SCALE < 20000 else ""))
    against_section(qa, where)

if __name__ == "__main__":
    main()
