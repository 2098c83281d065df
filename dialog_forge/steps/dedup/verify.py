"""Verification of LSH candidates: nothing is removed on the strength of a MinHash estimate alone.

* ``jaccard`` (default): exact Jaccard similarity ``|A & B| / |A | B|`` of the two texts' shingle sets
  (:func:`~.shingles.shingle_set`, 64-bit shingle hashes).
* ``ratio``: rapidfuzz's normalised Indel similarity ``fuzz.ratio / 100`` of the two
  :func:`~.normalize.hash_form` texts, i.e. ``1 - (insertions + deletions) / (len(a) + len(b))`` -- an
  edit-distance view for texts where shingle sets are too coarse (very short turns).

Jaccard is computed in bulk for a chunk of pairs (:data:`PAIR_CHUNK`, :func:`jaccard_pairs`), so memory is
bounded by one chunk's shingles (a few MB), not by the corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np

from .normalize import hash_form
from .shingles import batch_shingle_hashes

VerifyMethod = Literal["jaccard", "ratio"]
PAIR_CHUNK = 1000


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

    ``pairs`` ``(k, 2)`` index into ``texts``. One bulk shingle pass; shingle hashes get dense ids, each
    record's set is its sorted unique ids, and for all pairs together one sort of ``pair * U + id``
    items puts every shared shingle next to its twin (no Python loop over pairs or shingles)."""
    hashes, lengths = batch_shingle_hashes(texts, char_ngram, word_ngram)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    order = np.argsort(hashes)  # shingle hash -> dense id (np.unique is several times slower here)
    sh = hashes[order]
    dense = np.empty(hashes.shape[0], dtype=np.int64)
    if sh.shape[0]:
        dense[order] = np.concatenate(([0], np.cumsum(sh[1:] != sh[:-1])))
    u = int(dense.max()) + 1 if sh.shape[0] else 1
    sets = sorted_unique(owner * u + dense)  # one item per (record, shingle): sorted by record
    o, sid = sets // u, sets % u
    size = np.bincount(o, minlength=len(texts))
    start = np.cumsum(size) - size
    a, b = pairs[:, 0], pairs[:, 1]
    pid = np.arange(pairs.shape[0], dtype=np.int64)
    items = np.concatenate((np.repeat(pid, size[a]) * u + sid[_ranges(start[a], size[a])],
                            np.repeat(pid, size[b]) * u + sid[_ranges(start[b], size[b])]))
    items.sort()
    dup = items[1:] == items[:-1]
    inter = np.bincount(items[1:][dup] // u, minlength=pairs.shape[0]).astype(np.float64)
    union = size[a] + size[b] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def verify_pairs(pairs: np.ndarray, text_of: Callable[[int], str], *, method: VerifyMethod = "jaccard",
                 char_ngram: int, word_ngram: int,
                 skip: Callable[[int, int], bool] | None = None) -> Iterator[tuple[int, int, float | None]]:
    """Similarity of each candidate pair, in the order given.

    ``pairs``: ``int64`` ``(k, 2)``; ``text_of(i)`` gives record ``i``'s view text. Yields
    ``(i, j, similarity)``, or ``(i, j, None)`` when ``skip(i, j)`` says the pair need not be checked
    (already in one cluster; asked when its chunk of :data:`PAIR_CHUNK` pairs starts). The caller compares
    the similarity with its threshold.
    """
    for start in range(0, len(pairs), PAIR_CHUNK):
        chunk = pairs[start:start + PAIR_CHUNK]
        todo = np.ones(len(chunk), dtype=bool)
        if skip is not None:
            todo = np.fromiter((not skip(i, j) for i, j in chunk.tolist()), dtype=bool, count=len(chunk))
        sims: list[float | None] = [None] * len(chunk)
        live = chunk[todo]
        if method == "ratio":
            vals = [ratio(text_of(i), text_of(j)) for i, j in live.tolist()]
        elif len(live):
            ids = sorted_unique(live.ravel())
            local = np.searchsorted(ids, live)
            vals = jaccard_pairs(local, [text_of(i) for i in ids.tolist()], char_ngram, word_ngram).tolist()
        else:
            vals = []
        for k, v in zip(np.flatnonzero(todo).tolist(), vals):
            sims[k] = v
        for (i, j), v in zip(chunk.tolist(), sims):
            yield i, j, v
