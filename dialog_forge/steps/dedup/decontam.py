"""Decontamination: remove training records that overlap an evaluation or benchmark set.

A training record is *contaminated* when its user turns

1. share a long n-gram with a user turn of any record of the against-sets: ``n`` tokens of the unified
   token stream (:func:`~.shingles.tokens`: each CJK character or word is one token; default 13, the
   window GPT-3 and later reports use for benchmark contamination, Brown et al. 2020, appendix C), or
2. contain the whole of a *short* against user turn (fewer than ``n`` but at least
   :data:`MIN_CONTAINED_TOKENS` tokens) verbatim, tokens-wise: ``请帮我回答：中国的首都是哪座城市？`` holds
   the 10-token evaluation question ``中国的首都是哪座城市？``, which has no 13-gram and whose MinHash
   Jaccard with the longer prompt is only ~0.6; or
3. match one by MinHash: LSH candidate, then exact Jaccard of the user-view shingle sets >= the
   threshold.

The against-sets are only read, never modified or emitted. Their size is held in memory: sorted 64-bit
n-gram hashes, band keys and shingle sets of their user views (evaluation sets are small).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...schema import Dialogue
from .minhash import band_keys, signatures
from .shingles import _h64, batch_shingle_hashes, token_ngram_hashes, tokens
from .verify import jaccard

#: Shortest against user turn (in tokens) whose verbatim occurrence in a training prompt contaminates it;
#: shorter ones (你好, "What is 2+2?") occur in unrelated prompts.
MIN_CONTAINED_TOKENS = 8


def _window_hashes(toks: list[str], n: int) -> np.ndarray:
    """xxHash3-64 of every window of ``n`` tokens (joined as :func:`.shingles.token_ngram_hashes` does)."""
    if len(toks) < n:
        return np.zeros(0, dtype=np.uint64)
    return np.fromiter((_h64("\x1f".join(toks[i:i + n])) for i in range(len(toks) - n + 1)), dtype=np.uint64,
                       count=len(toks) - n + 1)


@dataclass(frozen=True)
class Contamination:
    """Why a record is contaminated: ``kind`` (``ngram`` or ``minhash``), the against-record's ``id`` and
    ``file``, and ``similarity`` (Jaccard for ``minhash``, ``None`` for ``ngram``)."""

    kind: str  # "ngram", "contained" or "minhash"
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
        short: dict[int, dict[int, int]] = {}  # token length -> {hash of the whole turn: against record}
        for k, (_, rec) in enumerate(records):
            users = rec.turns("user")
            for t in users:
                toks = tokens(t)
                if MIN_CONTAINED_TOKENS <= len(toks) < ngram:
                    short.setdefault(len(toks), {}).setdefault(_h64("\x1f".join(toks)), k)
                g = token_ngram_hashes(t, ngram)
                grams.append(g)
                owners.append(np.full(g.shape[0], k, dtype=np.int64))
            texts.append("\n".join(users))
        self.short = {n: (np.array(sorted(d), dtype=np.uint64), np.array([d[h] for h in sorted(d)], dtype=np.int64))
                      for n, d in sorted(short.items())}
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
        if self.short:
            for t in user_turns:
                toks = tokens(t)
                for n, (hs, owner) in self.short.items():
                    g = _window_hashes(toks, n)
                    if not g.shape[0]:
                        break  # lengths ascend: longer ones cannot fit either
                    pos = np.minimum(np.searchsorted(hs, g), hs.shape[0] - 1)
                    hit = np.flatnonzero(hs[pos] == g)
                    if hit.size:
                        k = int(owner[pos[hit[0]]])
                        return Contamination("contained", self.ids[k], self.files[k])
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
