"""Decontamination: remove training records that overlap an evaluation or benchmark set.

A training record is *contaminated* when its user turns

1. share a long n-gram with a user turn of any record of the against-sets: ``n`` tokens of the unified
   token stream (:func:`~.shingles.tokens`: each CJK character or word is one token; default 13, the
   window GPT-3 and later reports use for benchmark contamination, Brown et al. 2020, appendix C), or
2. match one by MinHash: LSH candidate, then exact Jaccard of the user-view shingle sets >= the
   threshold (this catches short prompts that have no 13-gram).

The against-sets are only read, never modified or emitted. Their size is held in memory: sorted 64-bit
n-gram hashes, band keys and shingle sets of their user views (evaluation sets are small).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...schema import Dialogue
from .minhash import band_keys, signatures
from .shingles import batch_shingle_hashes, token_ngram_hashes
from .verify import jaccard


@dataclass(frozen=True)
class Contamination:
    """Why a record is contaminated: ``kind`` (``ngram`` or ``minhash``), the against-record's ``id`` and
    ``file``, and ``similarity`` (Jaccard for ``minhash``, ``None`` for ``ngram``)."""

    kind: str
    against_id: str
    against_file: str
    similarity: float | None = None


class AgainstIndex:
    """Index of the user turns of the against-sets.

    ``records``: ``(file, Dialogue)`` pairs. The MinHash parameters must be the training side's
    (``perms``, ``bands``, ``rows``, ``seed``, shingle sizes) so signatures are comparable.
    """

    def __init__(self, records: list[tuple[str, Dialogue]], *, ngram: int, threshold: float, perms,
                 bands: int, rows: int, seed: int, char_ngram: int, word_ngram: int):
        self.ngram, self.threshold = ngram, threshold
        self.perms, self.bands, self.rows, self.seed = perms, bands, rows, seed
        self.char_ngram, self.word_ngram = char_ngram, word_ngram
        self.ids = [r.id for _, r in records]
        self.files = [f for f, _ in records]
        grams, owners = [], []
        texts = []
        for k, (_, rec) in enumerate(records):
            users = rec.turns("user")
            for t in users:
                g = token_ngram_hashes(t, ngram)
                grams.append(g)
                owners.append(np.full(g.shape[0], k, dtype=np.int64))
            texts.append("\n".join(users))
        g = np.concatenate(grams) if grams else np.zeros(0, dtype=np.uint64)
        o = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
        order = np.argsort(g, kind="stable")
        self.gram_hashes, self.gram_owner = g[order], o[order]
        hashes, lengths = batch_shingle_hashes(texts, char_ngram, word_ngram)
        self.sets: list[frozenset] = []
        arrays, pos = [], 0
        for n in lengths.tolist():
            arrays.append(hashes[pos:pos + n])
            self.sets.append(frozenset(hashes[pos:pos + n].tolist()))
            pos += n
        nonempty = [k for k, a in enumerate(arrays) if a.shape[0]]
        self.sketched = np.asarray(nonempty, dtype=np.int64)
        keys = band_keys(signatures([arrays[k] for k in nonempty], perms), bands, rows, seed)
        # per band: sorted keys and the against-record each belongs to
        self.band_sorted = []
        for b in range(bands):
            order = np.argsort(keys[:, b], kind="stable")
            self.band_sorted.append((keys[order, b], self.sketched[order]))

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, user_turns: list[str]) -> Contamination | None:
        """The first reason the user turns of one training record are contaminated, or ``None``.

        Checks the n-gram overlap first (cheap), then MinHash candidates verified by exact Jaccard."""
        if self.gram_hashes.shape[0]:
            for t in user_turns:
                g = token_ngram_hashes(t, self.ngram)
                if not g.shape[0]:
                    continue
                pos = np.searchsorted(self.gram_hashes, g)
                pos = np.minimum(pos, self.gram_hashes.shape[0] - 1)
                hit = np.flatnonzero(self.gram_hashes[pos] == g)
                if hit.size:
                    k = int(self.gram_owner[pos[hit[0]]])
                    return Contamination("ngram", self.ids[k], self.files[k])
        if not self.sketched.shape[0]:
            return None
        hashes, _ = batch_shingle_hashes(["\n".join(user_turns)], self.char_ngram, self.word_ngram)
        if not hashes.shape[0]:
            return None
        keys = band_keys(signatures([hashes], self.perms), self.bands, self.rows, self.seed)[0]
        cands: set[int] = set()
        for b, (sk, owner) in enumerate(self.band_sorted):
            lo, hi = np.searchsorted(sk, keys[b], "left"), np.searchsorted(sk, keys[b], "right")
            cands.update(owner[lo:hi].tolist())
        if not cands:
            return None
        mine = frozenset(hashes.tolist())
        best_k, best_j = -1, -1.0
        for k in sorted(cands):
            j = jaccard(mine, self.sets[k])
            if j > best_j:
                best_k, best_j = k, j
        if best_j >= self.threshold:
            return Contamination("minhash", self.ids[best_k], self.files[best_k], best_j)
        return None
