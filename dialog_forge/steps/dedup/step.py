"""``forge dedup``: exact, MinHash-LSH and semantic deduplication, and decontamination against other sets.

A global step (it must see every record before it can decide), in passes:

``process`` (streaming, per batch)
    1. view text of each record (``--on``, :mod:`.views`); user turns for decontamination;
    2. with ``--against``: records whose user turns overlap an against-set are rejected at once as
       ``contaminated`` (:mod:`.decontam`) and take no further part;
    3. an empty view (no turns, or only blanks/punctuation) is never hashed or sketched: the record is
       kept untouched (default, ``--empty-view keep``; removing empty records is the job of ingest/clean)
       or rejected as ``empty_text`` (``--empty-view reject``);
    4. exact key (:func:`.normalize.exact_key`); the first record of each key is its group's
       representative, and only representatives are shingled and MinHashed (:mod:`.minhash`), in one
       vectorised call per batch (in ``--workers`` processes when asked).
``finish``
    5. exact groups are merged (union-find, :mod:`.clusters`);
    6. near duplicates: LSH candidate pairs among representatives; candidates whose MinHash estimate is
       far below the threshold are ruled out (``--prefilter``), every other one is verified by exact
       Jaccard on the shingle sets (or ``--verify ratio``) before it is merged; ``--threshold 1.0`` means
       the exact path only (MinHash is skipped: equal normalised texts are the only Jaccard-1.0 pairs we
       remove);
    7. ``--semantic``: one representative per cluster so far is embedded, pairs with cosine >=
       ``--semantic-threshold`` are merged (:mod:`.semantic`);
    8. one record per cluster is kept (``--keep``); every other member is rejected as
       ``exact_duplicate`` (same normalised view as the kept record), ``near_duplicate`` (joined through
       verified MinHash pairs) or ``semantic_duplicate``, with the kept id and their direct similarity
       in the detail. ``--clusters PATH`` writes every cluster of two or more records to Parquet.

Memory: the step holds the records themselves until ``finish`` (the executor takes the kept records as
one list), plus per record a few numbers (exact-group id, keep-policy fields) and per representative
its band keys and a 16-bit signature (``8 * bands + 2 * num_perm`` bytes: 424 B at the defaults; the
signature serves ``--prefilter``). Shingle sets are rebuilt from the held texts for candidate pairs only,
one chunk of pairs at a time. ``benchmarks/bench_dedup.py`` measures all of it. Deterministic for a given
``--seed`` and input, whatever the batch size or ``--workers``.
"""

from __future__ import annotations

import logging
from array import array
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np

from ...errors import ForgeError
from ...models.embedding import DEFAULT_EMBEDDING_MODEL
from ...pipeline.lineage import add_op
from ...pipeline.registry import register_step
from ...pipeline.step import BatchResult, Step, StepConfig, cfg_field
from ...schema import Dialogue
from .clusters import UnionFind, keepers, rank
from .decontam import AgainstIndex
from .minhash import (
    band_keys,
    candidate_pairs,
    estimate_floor,
    estimate_jaccard,
    lsh_params,
    permutations,
    short_signatures,
    signatures,
)
from .normalize import exact_key, shingle_form
from .semantic import cosine_pairs, embed
from .shingles import DEFAULT_CHAR_NGRAM, DEFAULT_WORD_NGRAM, batch_shingle_hashes
from .verify import verify_pairs
from .views import VIEWS, view_text, view_turns

log = logging.getLogger("dialog_forge")

_NO_TIME = int(np.iinfo(np.int64).min)


@dataclass
class DedupConfig(StepConfig):
    """Options of ``forge dedup``."""

    on: Literal["dialogue", "user", "first-user", "assistant"] = cfg_field(
        "dialogue", help="Which text is compared: 'dialogue' (all user/assistant turns, system prompt left out), "
        "'user' (user turns), 'first-user' (the opening question) or 'assistant' (assistant turns).")
    threshold: float = cfg_field(0.8, help="Near-duplicate threshold: exact Jaccard similarity of the shingle "
                                 "sets (0 < t <= 1). 1.0 removes exact duplicates only (MinHash is skipped).")
    keep: Literal["best", "longest", "first", "latest"] = cfg_field(
        "best", help="Which record of a duplicate cluster is kept: 'best' (highest quality.score, then most "
        "assistant characters), 'longest' (most characters), 'first' (input order), 'latest' (newest "
        "created_at). Ties go to the earliest record.")
    char_ngram: int = cfg_field(DEFAULT_CHAR_NGRAM, help="Shingle size in characters for CJK text (Han, kana).")
    word_ngram: int = cfg_field(DEFAULT_WORD_NGRAM, help="Shingle size in words for space-delimited scripts.")
    num_perm: int = cfg_field(128, help="MinHash permutations (signature length).")
    lsh_threshold: float | None = cfg_field(
        None, help="Jaccard level the LSH bands are tuned for (default: threshold - 0.25, so that pairs at "
        "the threshold become candidates with probability >= 0.99; candidates are verified anyway).")
    bands: int | None = cfg_field(None, help="LSH bands (give with --rows; default: datasketch's optimal "
                                  "parameters for --lsh-threshold and --num-perm).")
    rows: int | None = cfg_field(None, help="LSH rows per band (give with --bands).")
    prefilter: bool = cfg_field(True, help="Skip the exact check of LSH candidates whose MinHash estimate is "
                                "more than 4.5 standard errors below --threshold (they cannot be duplicates but "
                                "for a <4e-6 chance); an estimate never removes anything. Applies to --verify jaccard.")
    verify: Literal["jaccard", "ratio"] = cfg_field(
        "jaccard", help="How LSH candidates are verified before removal: exact Jaccard of the shingle sets, "
        "or rapidfuzz's normalised Indel ratio of the normalised texts; either is compared with --threshold.")
    semantic: bool = cfg_field(False, help="Also remove semantic duplicates (sentence-embedding cosine).")
    semantic_threshold: float = cfg_field(0.95, help="Cosine similarity at or above which --semantic removes a pair.")
    embedding_model: str = cfg_field(DEFAULT_EMBEDDING_MODEL, help="Sentence-embedding model for --semantic "
                                     "(hub name or local path); 'minilm' is the bundled offline "
                                     "all-MiniLM-L6-v2 (English-centred: name a multilingual model for Chinese).")
    against: list[str] = cfg_field([], help="Evaluation/benchmark set (canonical JSONL/Parquet): training "
                                   "records whose user turns overlap it are removed as 'contaminated'. The "
                                   "set itself is never modified.")
    against_ngram: int = cfg_field(13, help="Decontamination n-gram length in tokens (a CJK character or a word "
                                   "is one token): sharing one such n-gram with an --against record contaminates.")
    empty_view: Literal["keep", "reject"] = cfg_field(
        "keep", help="Records whose view is empty after normalisation (no such turns, or only blanks and "
        "punctuation) are never compared: 'keep' passes them through untouched, 'reject' drops them as "
        "'empty_text'.")
    clusters: str | None = cfg_field(None, help="Write the duplicate clusters to this Parquet file (one row per "
                                     "member: cluster, kept_id, id, kept, reason, similarity).")
    seed: int = cfg_field(1, help="Seed of the MinHash permutations (same seed and input, same output).")
    workers: int = cfg_field(1, help="Processes that shingle and MinHash batches while the input is read "
                             "(1 = in this process). The result does not depend on it.")

    def __post_init__(self) -> None:
        def bad(flag: str, msg: str) -> ForgeError:
            return ForgeError(f"forge dedup {flag}: {msg}")

        if self.on not in VIEWS:
            raise bad("--on", f"{self.on!r} is not one of {', '.join(VIEWS)}.")
        if not 0.0 < self.threshold <= 1.0:
            raise bad("--threshold", f"{self.threshold} must be a Jaccard similarity in (0, 1]; use 1.0 for "
                      "exact duplicates only.")
        if self.lsh_threshold is not None and not 0.0 < self.lsh_threshold <= 1.0:
            raise bad("--lsh-threshold", f"{self.lsh_threshold} must be in (0, 1].")
        if not 0.0 < self.semantic_threshold <= 1.0:
            raise bad("--semantic-threshold", f"{self.semantic_threshold} must be a cosine in (0, 1].")
        if not 2 <= self.num_perm <= 4096:
            raise bad("--num-perm", f"{self.num_perm} must be between 2 and 4096 (128 is usual).")
        if not 1 <= self.workers <= 256:
            raise bad("--workers", f"{self.workers} must be between 1 and 256.")
        for flag, v in (("--char-ngram", self.char_ngram), ("--word-ngram", self.word_ngram),
                        ("--against-ngram", self.against_ngram)):
            if not 1 <= v <= 64:
                raise bad(flag, f"{v} must be between 1 and 64.")
        try:
            lsh_params(self.effective_lsh_threshold, self.num_perm, self.bands, self.rows)
        except ValueError as e:
            raise bad("--bands/--rows", f"{e}.") from None

    @property
    def effective_lsh_threshold(self) -> float:
        """``lsh_threshold``, else ``max(0.05, threshold - 0.25)``."""
        return self.lsh_threshold if self.lsh_threshold is not None else max(0.05, self.threshold - 0.25)


def _created_us(value: str | None) -> int:
    if not value:
        return _NO_TIME
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1_000_000)
    except ValueError:
        return _NO_TIME


def sketch(texts: list[str], perms, bands: int, rows: int, seed: int, char_ngram: int,
           word_ngram: int, normalized: bool = False) -> np.ndarray:
    """Band keys ``uint64`` ``(len(texts), bands)`` of non-empty texts: shingles -> MinHash -> LSH keys,
    all vectorised over the batch (``normalized``: the texts are already ``shingle_form``)."""
    return sketch_full(texts, perms, bands, rows, seed, char_ngram, word_ngram, normalized)[0]


def sketch_full(texts: list[str], perms, bands: int, rows: int, seed: int, char_ngram: int,
                word_ngram: int, normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(band keys, 16-bit signatures)`` of non-empty texts (see :func:`sketch`)."""
    hashes, lengths = batch_shingle_hashes(texts, char_ngram, word_ngram, normalized=normalized)
    arrays = np.split(hashes, np.cumsum(lengths)[:-1]) if len(texts) else []
    sigs = signatures(arrays, perms)
    return band_keys(sigs, bands, rows, seed), short_signatures(sigs)


@register_step
class DedupStep(Step):
    """Remove exact, near (MinHash-LSH, verified) and semantic duplicates; decontaminate with --against."""

    name = "dedup"
    global_step = True
    config_class = DedupConfig
    reasons = {
        "exact_duplicate": "same normalised text (case, width, punctuation and spaces ignored) as the kept record "
                           "named in the detail",
        "near_duplicate": "verified near duplicate (exact Jaccard >= --threshold, or linked through such pairs) of "
                          "the kept record named in the detail, with their similarity",
        "semantic_duplicate": "embedding cosine >= --semantic-threshold with the kept record named in the detail",
        "contaminated": "user turns share an --against-ngram n-gram, contain a whole shorter user turn (8+ tokens), "
                        "or are a verified MinHash match of a record of an --against set (named in the detail)",
        "empty_text": "the compared view is empty after normalisation (only with --empty-view reject)",
    }

    def __init__(self, config: DedupConfig | None = None):
        super().__init__(config)
        c: DedupConfig = self.config  # type: ignore[assignment]
        self.bands, self.rows = lsh_params(c.effective_lsh_threshold, c.num_perm, c.bands, c.rows)
        self.perms = permutations(c.num_perm, c.seed)
        self.against: AgainstIndex | None = None
        self._reset()

    def _reset(self) -> None:
        # per record: compact typed arrays (8 bytes a value), not lists of Python numbers
        self._records: list[Dialogue] = []
        self._group = array("q")             # exact group per record, -1 for an empty view
        self._group_of_key: dict[bytes, int] = {}
        self._reps = array("q")              # representative record of each exact group
        # per batch: (band keys, 16-bit signatures) of its new representatives, or a Future of them
        self._sketches: list[Any] = []
        self._pool = None
        self._score = array("d")
        self._asst = array("q")
        self._total = array("q")
        self._created = array("q")

    # -- set-up: the against-sets ----------------------------------------------------------------
    def setup(self) -> None:
        c: DedupConfig = self.config  # type: ignore[assignment]
        if c.clusters:
            from pathlib import Path

            parent = Path(c.clusters).expanduser().resolve().parent
            if not parent.is_dir():
                raise ForgeError(f"forge dedup --clusters {c.clusters}: folder {parent} does not exist; create it "
                                 "or name another path.")
        if not c.against:
            return
        from ...io.records import load_records

        recs: list[tuple[str, Dialogue]] = []
        for path in c.against:
            try:
                loaded = load_records([path])
            except ForgeError as e:
                raise ForgeError(f"forge dedup --against {path}: {e}") from None
            if not loaded:
                raise ForgeError(f"forge dedup --against {path}: no records in it; give a canonical JSONL/Parquet "
                                 "evaluation set (run raw files through `forge ingest` first).")
            recs.extend((path, r) for r in loaded)
        self.against = AgainstIndex(recs, ngram=c.against_ngram, threshold=c.threshold, perms=self.perms,
                                    bands=self.bands, rows=self.rows, seed=c.seed, char_ngram=c.char_ngram,
                                    word_ngram=c.word_ngram)
        self.count("against_records", len(recs))

    # -- pass 1: streaming --------------------------------------------------------------------------
    def process(self, batch: list[Dialogue]) -> BatchResult:
        """Hold the batch's records and sketch its new exact-group representatives; reject contaminated
        records (and empty views with ``--empty-view reject``) at once."""
        c: DedupConfig = self.config  # type: ignore[assignment]
        res = BatchResult()
        new_texts: list[str] = []
        for rec in batch:
            if self.against is not None:
                hit = self.against.match(rec.turns("user"))
                if hit is not None:
                    self.count(f"contaminated_{hit.kind}")
                    how = (f"share a {c.against_ngram}-token n-gram with" if hit.kind == "ngram"
                           else "contain the whole (short) user turn of" if hit.kind == "contained"
                           else f"match (Jaccard {hit.similarity:.3f}) the user turns of")
                    res.rejects.append(self.reject(rec, "contaminated",
                                                   f"user turns {how} {hit.against_id} in {hit.against_file}"))
                    continue
            forms = [shingle_form(t) for t in view_turns(rec, c.on)]
            key = exact_key(forms, normalized=True)
            if key is None:
                self.count("empty_view")
                if c.empty_view == "reject":
                    res.rejects.append(self.reject(rec, "empty_text",
                                                   f"the '{c.on}' view is empty after normalisation"))
                    continue
                group = -1
            else:
                group = self._group_of_key.get(key, -1)
                if group < 0:
                    group = len(self._reps)
                    self._group_of_key[key] = group
                    self._reps.append(len(self._records))
                    new_texts.append("\n".join(forms))
            self._records.append(rec)
            self._group.append(group)
            q = rec.quality.get("score") if isinstance(rec.quality, dict) else None
            self._score.append(float(q) if isinstance(q, (int, float)) and not isinstance(q, bool) else np.nan)
            self._asst.append(sum(len(m.content) for m in rec.messages if m.role == "assistant"))
            self._total.append(sum(len(m.content) for m in rec.messages))
            self._created.append(_created_us(rec.created_at))
        if new_texts and c.threshold < 1.0:
            args = (new_texts, self.perms, self.bands, self.rows, c.seed, c.char_ngram, c.word_ngram, True)
            if c.workers > 1:
                if self._pool is None:
                    import concurrent.futures
                    import multiprocessing

                    self._pool = concurrent.futures.ProcessPoolExecutor(
                        c.workers, mp_context=multiprocessing.get_context("spawn"))
                self._sketches.append(self._pool.submit(sketch_full, *args))
            else:
                self._sketches.append(sketch_full(*args))
        return res

    # -- pass 2: decide -------------------------------------------------------------------------------
    def finish(self) -> BatchResult:
        """Cluster, pick keepers, emit kept records in input order and the rejects."""
        c: DedupConfig = self.config  # type: ignore[assignment]
        n = len(self._records)
        group = np.frombuffer(self._group, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        reps = np.frombuffer(self._reps, dtype=np.int64) if len(self._reps) else np.zeros(0, dtype=np.int64)
        uf = UnionFind(n)

        def text_of(i: int) -> str:
            return view_text(self._records[i], c.on)

        # 5. exact groups
        nonempty = np.flatnonzero(group >= 0)
        for i in nonempty.tolist():
            r = int(reps[group[i]])
            if r != i:
                uf.union(r, i)
        self.count("exact_duplicates", int(nonempty.size - reps.size))
        # 6. near duplicates among representatives
        if c.threshold < 1.0 and reps.size >= 2:
            self._near(uf, reps, text_of)
        near_labels = uf.labels()
        # 7. semantic
        emb_rows: dict[int, int] = {}
        emb = None
        if c.semantic and nonempty.size >= 2:
            roots = np.unique(near_labels[nonempty])
            emb = embed([text_of(int(r)) for r in roots], c.embedding_model)
            emb_rows = {int(r): k for k, r in enumerate(roots)}
            pairs, _ = cosine_pairs(emb, c.semantic_threshold)
            self.count("semantic_pairs", len(pairs))
            for a, b in pairs.tolist():
                uf.union(int(roots[a]), int(roots[b]))
        # 8. keep one per cluster
        labels = uf.labels()
        ranks = rank(c.keep, score=np.array(self._score, dtype=np.float64),
                     assistant_chars=np.array(self._asst, dtype=np.int64),
                     total_chars=np.array(self._total, dtype=np.int64),
                     created=np.array(self._created, dtype=np.int64))
        keep_of = keepers(labels, ranks)
        removed = [i for i in nonempty.tolist() if keep_of[i] != i]
        kinds: dict[int, str] = {}
        near_pairs = []
        for i in removed:
            k = int(keep_of[i])
            if group[i] == group[k]:
                kinds[i] = "exact"
            elif near_labels[i] == near_labels[k]:
                kinds[i] = "near"
                near_pairs.append((i, k))
            else:
                kinds[i] = "semantic"
        sim: dict[int, float] = {i: 1.0 for i, kind in kinds.items() if kind == "exact"}
        if near_pairs:
            arr = np.asarray(near_pairs, dtype=np.int64)
            for i, _k, s in verify_pairs(arr, text_of, method=c.verify, char_ngram=c.char_ngram,
                                        word_ngram=c.word_ngram):
                sim[i] = float(s)
        if emb is not None:
            for i, kind in kinds.items():
                if kind == "semantic":
                    a, b = emb_rows[int(near_labels[i])], emb_rows[int(near_labels[keep_of[i]])]
                    sim[i] = float(emb[a] @ emb[b])
        res = BatchResult()
        metric = "Jaccard" if c.verify == "jaccard" else "ratio"
        for i in removed:
            rec, kept_id = self._records[i], self._records[keep_of[i]].id
            kind = kinds[i]
            if kind == "exact":
                res.rejects.append(self.reject(rec, "exact_duplicate", f"exact duplicate of {kept_id} (normalised "
                                               f"'{c.on}' text identical, similarity 1.000)"))
            elif kind == "near":
                note = "" if sim[i] >= c.threshold else f"; below {c.threshold} directly, joined through other members"
                res.rejects.append(self.reject(rec, "near_duplicate", f"near duplicate of {kept_id} ({metric} "
                                               f"{sim[i]:.3f} on '{c.on}' shingles{note})"))
            else:
                res.rejects.append(self.reject(rec, "semantic_duplicate", f"semantic duplicate of {kept_id} "
                                               f"(cosine {sim[i]:.3f} on '{c.on}' embeddings)"))
            self.count(f"{kind}_removed")
        removed_set = set(removed)
        params = c.changed_params()
        for k in ("clusters", "workers"):  # where the clusters go and how many processes: not what changed
            params.pop(k, None)
        for i, rec in enumerate(self._records):
            if i not in removed_set:
                add_op(rec, "dedup", params)
                res.kept.append(rec)
        if c.clusters:
            self._write_clusters(c.clusters, labels, keep_of, kinds, sim)
        self.count("clusters", len({int(labels[i]) for i in removed}))
        if self._pool is not None:  # sketches never collected (fewer than two representatives)
            self._pool.shutdown(cancel_futures=True)
        self._reset()
        return res

    def _collect_sketches(self) -> tuple[np.ndarray, np.ndarray]:
        """Band keys ``(n_reps, bands)`` and 16-bit signatures ``(n_reps, num_perm)``, in input order
        (waiting for the worker processes with ``--workers``)."""
        parts = [s.result() if hasattr(s, "result") else s for s in self._sketches]
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if not parts:
            return (np.zeros((0, self.bands), dtype=np.uint64),
                    np.zeros((0, self.config.num_perm), dtype=np.uint16))  # type: ignore[attr-defined]
        return np.concatenate([k for k, _ in parts]), np.concatenate([s for _, s in parts])

    def _near(self, uf: UnionFind, reps: np.ndarray, text_of) -> None:
        """LSH candidates among representatives, verified, merged into ``uf``."""
        c: DedupConfig = self.config  # type: ignore[assignment]
        keys, sigs = self._collect_sketches()
        pairs_local = candidate_pairs(keys, self.counters)
        self.count("lsh_candidate_pairs", len(pairs_local))
        if c.prefilter and len(pairs_local) and c.verify == "jaccard":
            est = estimate_jaccard(sigs[pairs_local[:, 0]], sigs[pairs_local[:, 1]])
            low = est < estimate_floor(c.threshold, c.num_perm)
            self.count("candidate_pairs_ruled_out_by_estimate", int(low.sum()))
            pairs_local = pairs_local[~low]
        pairs = reps[pairs_local] if len(pairs_local) else np.zeros((0, 2), dtype=np.int64)
        checked = verified = skipped = 0
        for i, j, s in verify_pairs(pairs, text_of, method=c.verify, char_ngram=c.char_ngram,
                                    word_ngram=c.word_ngram, skip=lambda a, b: uf.find(a) == uf.find(b)):
            if s is None:
                skipped += 1
                continue
            checked += 1
            if s >= c.threshold:
                verified += 1
                uf.union(i, j)
        self.count("candidate_pairs_checked", checked)
        self.count("verified_pairs", verified)
        self.count("candidate_pairs_below_threshold", checked - verified)
        self.count("candidate_pairs_already_clustered", skipped)

    def _write_clusters(self, path: str, labels: np.ndarray, keep_of: np.ndarray, kinds: dict[int, str],
                        sim: dict[int, float]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        members: dict[int, list[int]] = {}
        for i in kinds:
            members.setdefault(int(labels[i]), []).append(i)
        rows: dict[str, list[Any]] = {k: [] for k in ("cluster", "kept_id", "id", "kept", "reason", "similarity")}
        for cid, (_label, ms) in enumerate(sorted(members.items())):
            k = int(keep_of[ms[0]])
            for i in sorted([k, *ms]):
                rows["cluster"].append(cid)
                rows["kept_id"].append(self._records[k].id)
                rows["id"].append(self._records[i].id)
                rows["kept"].append(i == k)
                rows["reason"].append("kept" if i == k else f"{kinds[i]}_duplicate")
                rows["similarity"].append(1.0 if i == k else sim.get(i))
        table = pa.table({
            "cluster": pa.array(rows["cluster"], pa.int64()), "kept_id": pa.array(rows["kept_id"], pa.string()),
            "id": pa.array(rows["id"], pa.string()), "kept": pa.array(rows["kept"], pa.bool_()),
            "reason": pa.array(rows["reason"], pa.string()), "similarity": pa.array(rows["similarity"], pa.float64()),
        })
        try:
            pq.write_table(table, path)
        except OSError as e:
            raise ForgeError(f"forge dedup --clusters {path}: cannot write it ({e}).") from None

    def summary(self) -> dict[str, Any]:
        out = dict(self.counters)
        out["lsh_bands"], out["lsh_rows"] = self.bands, self.rows
        return out
