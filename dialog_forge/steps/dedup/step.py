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

Memory: bounded by signatures, not texts. The held records go to a spill file as JSON and the
representatives' shingle sets (built once, for MinHash) to another (:mod:`.spill`, in ``--spill-dir``;
anonymous files that never outlive the run). In memory stay, per record, its spill offset and id and a
few numbers (exact-group id, keep-policy fields), and per representative its band keys and a 16-bit
signature (``8 * bands + 2 * num_perm`` bytes: 424 B at the defaults; the signature serves
``--prefilter``). Candidate pairs are verified one chunk at a time from the spilled sets, and the kept
records are read back lazily (:class:`~.spill.SpilledRecords`) as the executor writes them.
``benchmarks/bench_dedup.py`` measures all of it. Deterministic for a given ``--seed`` and input, whatever
the batch size or ``--workers``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from array import array
from collections import deque
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
    signatures_flat,
)
from .normalize import exact_key, shingle_form
from .semantic import cosine_pairs, embed, english_model_warning
from .shingles import DEFAULT_CHAR_NGRAM, DEFAULT_WORD_NGRAM, batch_shingle_sets
from .spill import RecordSpill, SetSpill, SpilledRecords, SpilledRejects
from .verify import verify_pairs
from .views import VIEWS, view_text, view_turns

log = logging.getLogger("dialog_forge")

_NO_TIME = int(np.iinfo(np.int64).min)
_ESTIMATE_CHUNK = 1 << 15  # candidate pairs whose MinHash estimates are computed at once (--prefilter)


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
    workers: int = cfg_field(1, help="Processes that shingle and MinHash batches while the input is read, and "
                             "threads that verify candidate pairs (1 = all in this process). The result does not "
                             "depend on it.")
    spill_dir: str | None = cfg_field(None, help="Folder for the step's temporary spill files (held records as "
                                      "JSON and shingle sets: about 1 KB + 2 KB a dialogue; never left behind). "
                                      "Default: the system temp folder ($TMPDIR).")

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
        if not 0 <= self.seed < 2 ** 32:
            raise bad("--seed", f"{self.seed} must be between 0 and 4294967295 (2**32 - 1).")
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


@contextlib.contextmanager
def _sigint_blocked():
    """Block SIGINT while worker processes are started, so that they inherit it blocked (the signal mask
    is kept through the exec of the spawn start method): Ctrl-C, sent to the whole process group, then
    stops the main process alone -- it gets the signal as soon as it is unblocked, so none is lost -- which
    exits with 130 and no traceback, instead of every worker printing a KeyboardInterrupt traceback of its
    own. The workers end when the main process does. Only in the main thread (elsewhere a no-op)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


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
                word_ngram: int, normalized: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(band keys, 16-bit signatures, set values, set sizes)`` of non-empty texts: :func:`sketch` plus
    the shingle sets (:func:`~.shingles.batch_shingle_sets`) that verification compares."""
    values, sizes = batch_shingle_sets(texts, char_ngram, word_ngram, normalized=normalized)
    sigs = signatures_flat(values, sizes, perms)
    return band_keys(sigs, bands, rows, seed), short_signatures(sigs), values, sizes


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
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        sets = getattr(self, "_sets", None)
        if sets is not None:
            sets.close()
        self._spill: RecordSpill | None = None  # held records (handed to SpilledRecords by finish)
        self._sets: SetSpill | None = None      # shingle sets of the representatives
        self._group = array("q")             # exact group per record, -1 for an empty view
        self._group_of_key: dict[bytes, int] = {}
        self._reps = array("q")              # representative record of each exact group
        # per batch: band keys and 16-bit signatures of its new representatives; Futures not yet stored
        self._keys: list[np.ndarray] = []
        self._sigs: list[np.ndarray] = []
        self._pending: deque = deque()
        self._pool = None
        self._score = array("d")
        self._asst = array("q")
        self._total = array("q")
        self._created = array("q")

    # -- set-up: the against-sets ----------------------------------------------------------------
    def setup(self) -> None:
        c: DedupConfig = self.config  # type: ignore[assignment]
        if c.spill_dir is not None and not os.path.isdir(c.spill_dir):
            raise ForgeError(f"forge dedup --spill-dir {c.spill_dir}: not a folder; create it or name another.")
        if c.clusters:
            from pathlib import Path

            if Path(c.clusters).expanduser().is_dir():
                raise ForgeError(f"forge dedup --clusters {c.clusters}: is a folder; name a file, e.g. "
                                 f"{Path(c.clusters) / 'clusters.parquet'}.")
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
        if self._spill is None:
            try:
                self._spill = RecordSpill(c.spill_dir)
                if c.threshold < 1.0:
                    self._sets = SetSpill(c.spill_dir)
            except OSError as e:
                raise ForgeError(f"forge dedup --spill-dir {c.spill_dir or '(system temp folder)'}: cannot create "
                                 f"a temporary file there ({e.strerror}); name a writable folder.") from None
        spill = self._spill
        # the whole batch's decontamination at once (equal to match() per record, in order)
        hits = self.against.match_many([rec.turns("user") for rec in batch]) if self.against is not None else None
        for i, rec in enumerate(batch):
            if hits is not None:
                hit = hits[i]
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
                    self._reps.append(len(spill))
                    new_texts.append("\n".join(forms))
            spill.append(rec)
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
                with _sigint_blocked():  # a submit may start a worker process
                    self._pending.append(self._pool.submit(sketch_full, *args))
                self._drain(2 * c.workers)
            else:
                self._store(sketch_full(*args))
        return res

    def _store(self, sketched: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
        keys, sigs, values, sizes = sketched
        self._keys.append(keys)
        self._sigs.append(sigs)
        self._sets.append(values, sizes)  # type: ignore[union-attr]

    def _drain(self, max_pending: int) -> None:
        """Store finished worker results in submission order, waiting while more than ``max_pending``
        batches are in flight (so the results held in memory stay bounded)."""
        while self._pending and (len(self._pending) > max_pending or self._pending[0].done()):
            self._store(self._pending.popleft().result())

    # -- pass 2: decide -------------------------------------------------------------------------------
    def finish(self) -> BatchResult:
        """Cluster, pick keepers, emit kept records in input order and the rejects."""
        c: DedupConfig = self.config  # type: ignore[assignment]
        if self._spill is None:  # no batch at all
            self.process([])
        spill = self._spill
        assert spill is not None
        spill.flush()  # before any read (verification may read from several threads)
        n = len(spill)
        group = np.frombuffer(self._group, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        reps = np.frombuffer(self._reps, dtype=np.int64) if len(self._reps) else np.zeros(0, dtype=np.int64)
        uf = UnionFind(n)

        def text_of(i: int) -> str:
            return view_text(spill.load(i), c.on)

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
            sem_texts = [text_of(int(r)) for r in roots]
            warning = english_model_warning(sem_texts, c.embedding_model)
            if warning:
                log.warning("%s", warning)
            emb = embed(sem_texts, c.embedding_model)
            del sem_texts
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
        removed = nonempty[keep_of[nonempty] != nonempty].tolist()
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
                                        word_ngram=c.word_ngram,
                                        sets_of=lambda ids: self._record_sets(ids, group, reps, text_of)):
                sim[i] = float(s)
        if emb is not None:
            for i, kind in kinds.items():
                if kind == "semantic":
                    a, b = emb_rows[int(near_labels[i])], emb_rows[int(near_labels[keep_of[i]])]
                    sim[i] = float(emb[a] @ emb[b])
        res = BatchResult()
        metric = "Jaccard" if c.verify == "jaccard" else "ratio"
        reasons: list[str] = []
        details: list[str] = []
        for i in removed:
            kept_id = spill.id(int(keep_of[i]))
            kind = kinds[i]
            if kind == "exact":
                reasons.append("exact_duplicate")
                details.append(f"exact duplicate of {kept_id} (normalised '{c.on}' text identical, similarity 1.000)")
            elif kind == "near":
                note = "" if sim[i] >= c.threshold else f"; below {c.threshold} directly, joined through other members"
                reasons.append("near_duplicate")
                details.append(f"near duplicate of {kept_id} ({metric} {sim[i]:.3f} on '{c.on}' shingles{note})")
            else:
                reasons.append("semantic_duplicate")
                details.append(f"semantic duplicate of {kept_id} (cosine {sim[i]:.3f} on '{c.on}' embeddings)")
            self.count(f"{kind}_removed")
        res.rejects = SpilledRejects(spill, removed, reasons, details, self.reject)  # type: ignore[assignment]
        params = c.changed_params()
        for k in ("clusters", "workers", "spill_dir"):  # where files go, how many processes: not what changed
            params.pop(k, None)
        keep_mask = np.ones(n, dtype=bool)
        keep_mask[np.asarray(removed, dtype=np.int64)] = False
        spill.flush()
        res.kept = SpilledRecords(spill, np.flatnonzero(keep_mask),  # type: ignore[assignment]
                                  lambda rec: add_op(rec, "dedup", params))
        if c.clusters:
            self._write_clusters(c.clusters, labels, keep_of, kinds, sim)
        self.count("clusters", len({int(labels[i]) for i in removed}))
        self._reset()  # the record spill now belongs to res.kept; the set spill is closed
        return res

    def _record_sets(self, ids: np.ndarray, group: np.ndarray, reps: np.ndarray,
                     text_of) -> tuple[np.ndarray, np.ndarray]:
        """Shingle sets ``(values, sizes)`` of records ``ids``: a representative's from the set spill, any
        other record's built from its text (its normalised text equals its representative's only up to
        spaces, which can change word shingles)."""
        g = group[ids]
        is_rep = reps[g] == ids
        if is_rep.all():
            return self._sets.gather(g)  # type: ignore[union-attr]
        parts: list[np.ndarray] = [np.zeros(0, dtype=np.uint64)] * len(ids)
        sizes = np.zeros(len(ids), dtype=np.int64)
        for sel, (vals, sz) in ((np.flatnonzero(is_rep), self._sets.gather(g[is_rep])),  # type: ignore[union-attr]
                                (np.flatnonzero(~is_rep),
                                 batch_shingle_sets([text_of(int(i)) for i in ids[~is_rep].tolist()],
                                                    self.config.char_ngram, self.config.word_ngram))):
            for k, arr in zip(sel.tolist(), np.split(vals, np.cumsum(sz)[:-1]) if len(sz) else []):
                parts[k] = arr
            sizes[sel] = sz
        return np.concatenate(parts), sizes

    def _collect_sketches(self) -> tuple[np.ndarray, np.ndarray]:
        """Band keys ``(n_reps, bands)`` and 16-bit signatures ``(n_reps, num_perm)``, in input order
        (waiting for the worker processes with ``--workers``)."""
        self._drain(0)
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if not self._keys:
            return (np.zeros((0, self.bands), dtype=np.uint64),
                    np.zeros((0, self.config.num_perm), dtype=np.uint16))  # type: ignore[attr-defined]
        keys, sigs = np.concatenate(self._keys), np.concatenate(self._sigs)
        self._keys, self._sigs = [], []
        return keys, sigs

    def _near(self, uf: UnionFind, reps: np.ndarray, text_of) -> None:
        """LSH candidates among representatives, verified, merged into ``uf``."""
        c: DedupConfig = self.config  # type: ignore[assignment]
        keys, sigs = self._collect_sketches()
        pairs_local = candidate_pairs(keys, self.counters)
        del keys
        self.count("lsh_candidate_pairs", len(pairs_local))
        if c.prefilter and len(pairs_local) and c.verify == "jaccard":
            floor = estimate_floor(c.threshold, c.num_perm)
            low = np.zeros(len(pairs_local), dtype=bool)
            for s0 in range(0, len(pairs_local), _ESTIMATE_CHUNK):  # (chunk, num_perm) gathers, not (k, num_perm)
                p = pairs_local[s0:s0 + _ESTIMATE_CHUNK]
                low[s0:s0 + _ESTIMATE_CHUNK] = estimate_jaccard(sigs[p[:, 0]], sigs[p[:, 1]]) < floor
            self.count("candidate_pairs_ruled_out_by_estimate", int(low.sum()))
            pairs_local = pairs_local[~low]
        del sigs
        rep_of = reps.tolist()
        find = uf.find
        checked = verified = skipped = 0
        # pairs of representatives by group number: their sets are the spilled ones, in group order
        for a, b, s in verify_pairs(pairs_local, lambda g: text_of(rep_of[g]), method=c.verify,
                                    char_ngram=c.char_ngram, word_ngram=c.word_ngram,
                                    skip=lambda a, b: find(rep_of[a]) == find(rep_of[b]),
                                    sets_of=self._sets.gather, threads=c.workers):  # type: ignore[union-attr]
            if s is None:
                skipped += 1
                continue
            checked += 1
            if s >= c.threshold:
                verified += 1
                uf.union(rep_of[a], rep_of[b])
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
                rows["kept_id"].append(self._spill.id(k))  # type: ignore[union-attr]
                rows["id"].append(self._spill.id(i))  # type: ignore[union-attr]
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
