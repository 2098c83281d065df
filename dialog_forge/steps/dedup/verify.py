"""Verification of LSH candidates: nothing is removed on the strength of a MinHash estimate alone.

* ``jaccard`` (default): exact Jaccard similarity ``|A & B| / |A | B|`` of the two texts' shingle sets
  (:func:`~.shingles.shingle_set`, 64-bit shingle hashes).
* ``ratio``: rapidfuzz's normalised Indel similarity ``fuzz.ratio / 100`` of the two
  :func:`~.normalize.hash_form` texts, i.e. ``1 - (insertions + deletions) / (len(a) + len(b))`` -- an
  edit-distance view for texts where shingle sets are too coarse (very short turns).

Jaccard is computed in bulk for a chunk of pairs (:data:`PAIR_CHUNK`, :func:`jaccard_sets`) from each
record's sorted set of 64-bit shingle hashes -- given by the caller (the step keeps the sets it built for
MinHash in a spill file) or built from the texts -- so memory is bounded by one chunk's shingles (a few MB),
not by the corpus.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np

from .normalize import hash_form
from .shingles import batch_shingle_hashes, batch_shingle_sets

VerifyMethod = Literal["jaccard", "ratio"]
PAIR_CHUNK = 1000
#: Chunks of pairs computed ahead of the one being yielded (so up to SKIP_LAG + 1 run at once in threads).
SKIP_LAG = 2


def jaccard(a: frozenset | set, b: frozenset | set) -> float:
    """Exact Jaccard similarity of two sets; 0.0 when both are empty."""
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def ratio(a: str, b: str) -> float:
    """rapidfuzz ``fuzz.ratio(hash_form(a), hash_form(b)) / 100`` (normalised Indel similarity, 0..1)."""
    from rapidfuzz import fuzz

    return fuzz.ratio(hash_form(a), hash_form(b)) / 100.0


def shingle_sets(texts: list[str], char_ngram: int, word_ngram: int) -> list[frozenset]:
    """Shingle-hash sets of many texts (one bulk :func:`~.shingles.batch_shingle_hashes` call)."""
    hashes, lengths = batch_shingle_hashes(texts, char_ngram, word_ngram)
    out, pos = [], 0
    for n in lengths.tolist():
        out.append(frozenset(hashes[pos:pos + n].tolist()))
        pos += n
    return out


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` for a 1-D integer array by sort + neighbour mask (NumPy 2's ``np.unique`` is ~20x
    slower on large int64 arrays)."""
    s = np.sort(a)
    if s.shape[0] < 2:
        return s
    keep = np.empty(s.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each (s, n), vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total)


def jaccard_pairs(pairs: np.ndarray, texts: list[str], char_ngram: int, word_ngram: int) -> np.ndarray:
    """Exact Jaccard of the shingle sets for many pairs at once: ``float64`` ``(k,)``.

    ``pairs`` ``(k, 2)`` index into ``texts``: one bulk shingle pass
    (:func:`~.shingles.batch_shingle_sets`), then :func:`jaccard_sets`."""
    values, sizes = batch_shingle_sets(texts, char_ngram, word_ngram)
    return jaccard_sets(pairs, values, sizes)


def jaccard_sets(pairs: np.ndarray, values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Exact Jaccard ``|A & B| / |A | B|`` for many pairs of sorted sets: ``float64`` ``(k,)``.

    ``values`` ``uint64`` holds set ``i`` (``sizes[i]`` distinct values, ascending) after set ``i - 1``;
    ``pairs`` ``(k, 2)`` index the sets. No sort: every pair's B values, keyed ``pair << (64 - p) |
    value >> p`` (``p`` bits number the pairs), are in ascending order all together, so one
    ``searchsorted`` finds, for every A value of every pair, where it would sit among its own pair's B
    values; a hit is then confirmed on the full 64-bit value (values sharing their top ``64 - p`` bits are
    stepped through), so the count is exact. 0.0 when both sets are empty."""
    k = pairs.shape[0]
    if k == 0:
        return np.zeros(0, dtype=np.float64)
    starts = np.cumsum(sizes) - sizes
    a, b = pairs[:, 0], pairs[:, 1]
    sa, sb = sizes[a], sizes[b]
    bits = max(1, (k - 1).bit_length())
    low, top = np.uint64(bits), np.uint64(64 - bits)
    va = values[_ranges(starts[a], sa)]
    vb = values[_ranges(starts[b], sb)]
    pair_a = np.repeat(np.arange(k, dtype=np.int64), sa)
    kb = (np.repeat(np.arange(k, dtype=np.uint64), sb) << top) | (vb >> low)
    ka = (pair_a.astype(np.uint64) << top) | (va >> low)
    pos = np.searchsorted(kb, ka)
    hit = np.zeros(ka.shape[0], dtype=bool)
    live = np.flatnonzero(pos < kb.shape[0])
    while live.size:
        p = pos[live]
        same = kb[p] == ka[live]
        live, p = live[same], p[same]
        eq = vb[p] == va[live]
        hit[live[eq]] = True
        live = live[~eq]  # same key, other value: look at the next B value of the pair
        pos[live] += 1
        live = live[pos[live] < kb.shape[0]]
    inter = np.bincount(pair_a[hit], minlength=k).astype(np.float64)
    union = sa + sb - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


SetsOf = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def verify_pairs(pairs: np.ndarray, text_of: Callable[[int], str], *, method: VerifyMethod = "jaccard",
                 char_ngram: int, word_ngram: int,
                 skip: Callable[[int, int], bool] | None = None,
                 sets_of: SetsOf | None = None, threads: int = 1) -> Iterator[tuple[int, int, float | None]]:
    """Similarity of each candidate pair, in the order given.

    ``pairs``: ``int64`` ``(k, 2)``; ``text_of(i)`` gives record ``i``'s view text. Yields
    ``(i, j, similarity)``, or ``(i, j, None)`` when ``skip(i, j)`` says the pair need not be checked
    (already in one cluster). ``skip`` is asked for a chunk of :data:`PAIR_CHUNK` pairs when the chunks
    more than :data:`SKIP_LAG` before it have been yielded, whatever ``threads`` is, so what is skipped
    does not depend on it. The caller compares the similarity with its threshold. ``sets_of(ids)``, when
    given, returns the shingle sets ``(values, sizes)`` of records ``ids`` (ascending) as
    :func:`~.shingles.batch_shingle_sets` builds them, so ``jaccard`` need not shingle the texts again
    (``text_of`` is then used by ``ratio`` only). ``threads > 1`` computes up to ``SKIP_LAG + 1`` chunks
    at once in threads (NumPy releases the GIL in the sorts and gathers); ``sets_of``/``text_of`` must then
    be safe to call from several threads.
    """
    def compute(chunk: np.ndarray, todo: np.ndarray) -> list[float]:
        live = chunk[todo]
        if method == "ratio":
            return [ratio(text_of(i), text_of(j)) for i, j in live.tolist()]
        if not len(live):
            return []
        ids = sorted_unique(live.ravel())
        local = np.searchsorted(ids, live)
        if sets_of is not None:
            return jaccard_sets(local, *sets_of(ids)).tolist()
        return jaccard_pairs(local, [text_of(i) for i in ids.tolist()], char_ngram, word_ngram).tolist()

    def emit(chunk: np.ndarray, todo: np.ndarray, vals) -> Iterator[tuple[int, int, float | None]]:
        sims: list[float | None] = [None] * len(chunk)
        for k, v in zip(np.flatnonzero(todo).tolist(), vals.result() if hasattr(vals, "result") else vals):
            sims[k] = v
        for (i, j), v in zip(chunk.tolist(), sims):
            yield i, j, v

    pool = None
    if threads > 1 and len(pairs) > PAIR_CHUNK:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(threads)
    inflight: deque = deque()
    try:
        for start in range(0, len(pairs), PAIR_CHUNK):
            chunk = pairs[start:start + PAIR_CHUNK]
            todo = np.ones(len(chunk), dtype=bool)
            if skip is not None:
                todo = np.fromiter((not skip(i, j) for i, j in chunk.tolist()), dtype=bool, count=len(chunk))
            inflight.append((chunk, todo, pool.submit(compute, chunk, todo) if pool else compute(chunk, todo)))
            if len(inflight) > SKIP_LAG:
                yield from emit(*inflight.popleft())
        while inflight:
            yield from emit(*inflight.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
