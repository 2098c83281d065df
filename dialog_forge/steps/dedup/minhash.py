"""Vectorised MinHash signatures and LSH banding over numpy.

**Signatures.** The permutations are datasketch's (>= 2.0) default ``affine32`` scheme, rebuilt here from
the same seeded generator so that a signature equals ``datasketch.MinHash(num_perm, seed,
hashfunc=lambda h: h)`` updated with each shingle's 32-bit hash (a test checks it):

    h' = fmix32(h)                      (MurmurHash3 finaliser, a bijection on 32 bits)
    sig[k] = min over shingles of (a_k * h' + b_k) mod 2^32,   a_k odd, b_k uniform  (k < num_perm)

(Broder 1997, "On the resemblance and containment of documents"; P[sig_x[k] == sig_y[k]] ~= Jaccard(x, y)).
Instead of one numpy call per shingle and permutation (datasketch's ``update``), all shingles of a chunk
of records form one ``(n_shingles, num_perm)`` uint32 matrix, reduced per record with
``np.minimum.reduceat``; chunks are capped at :data:`CHUNK_ELEMENTS` cells (512 KiB: the tile stays in the CPU cache, which is 3-5x
faster than large tiles, and memory stays flat).

**LSH.** A signature is cut into ``bands`` bands of ``rows`` rows (Leskovec, Rajaraman, Ullman, *Mining of
Massive Datasets*, ch. 3.4); two records are candidates when any band is equal, which happens with
probability ``1 - (1 - J^rows)^bands``. ``bands``/``rows`` come from datasketch's own optimiser
``datasketch.lsh._optimal_param`` (the routine behind ``MinHashLSH``) unless given. Each band is reduced to
one 64-bit key; candidate pairs are found by sorting each band's keys, which gives exactly the pairs that
``MinHashLSH.insert``/``query`` would return (a test checks it) while holding ``8 * bands`` bytes per
record instead of datasketch's per-record byte strings and Python dicts. Nothing is pickled or stored
outside memory (datasketch's Redis storage, which unpickles, is never used).
"""

from __future__ import annotations

import functools

import numpy as np

#: Largest number of matrix cells (shingles x permutations) built at once.
CHUNK_ELEMENTS = 1 << 17
#: Buckets (records sharing one band key) larger than this give a star + chain of candidate pairs
#: instead of all pairs, so that one template text shared by thousands of records stays linear.
MAX_BUCKET_PAIRS = 64

_M32 = np.uint64(0xFFFFFFFF)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)``: two ``uint32`` arrays of shape ``(num_perm,)``, ``a`` odd -- datasketch's ``affine32``
    parameters for ``seed`` (``numpy.random.RandomState(seed)``, ``a = 2 * randint(0, 2^31) + 1``,
    ``b = randint(0, 2^32)``)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (Appleby 2011), element-wise on a ``uint32`` array (wrapping)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, element-wise on a ``uint64`` array (wrapping)."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def signatures(hash_arrays: list[np.ndarray], perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """MinHash signatures of many records at once.

    ``hash_arrays``: one non-empty ``uint64`` shingle-hash array per record (only the low 32 bits are
    used). Returns ``uint32`` of shape ``(len(hash_arrays), num_perm)``. Raises ``ValueError`` if a record
    has no shingle (an empty text must never reach MinHash).
    """
    n = len(hash_arrays)
    if n == 0:
        return np.empty((0, perms[0].shape[0]), dtype=np.uint32)
    lengths = np.fromiter((len(h) for h in hash_arrays), dtype=np.int64, count=n)
    return signatures_flat(np.concatenate(hash_arrays), lengths, perms)


def signatures_flat(hashes: np.ndarray, lengths: np.ndarray, perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """:func:`signatures` of records given back to back: ``hashes`` ``uint64`` (``lengths[i]`` values of
    record ``i`` one after another, e.g. the sets of :func:`~.shingles.batch_shingle_sets`).
    Returns ``uint32`` ``(len(lengths), num_perm)``; raises ``ValueError`` if a record has no shingle."""
    a, b = perms
    n = lengths.shape[0]
    out = np.empty((n, a.shape[0]), dtype=np.uint32)
    if n == 0:
        return out
    if (lengths == 0).any():
        raise ValueError(f"record {int(np.argmin(lengths))} has no shingles; empty texts must not reach MinHash")
    max_rows = max(1, CHUNK_ELEMENTS // a.shape[0])
    ends = np.cumsum(lengths)
    h_all = fmix32((hashes & _M32).astype(np.uint32))
    start = 0
    while start < n:
        # as many records as fit max_rows shingles (always at least one)
        base = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + max_rows, side="right")))
        if int(ends[start]) - base > max_rows:  # one record longer than a chunk: its minimum chunk by chunk
            sig = np.full(a.shape[0], np.iinfo(np.uint32).max, dtype=np.uint32)
            for lo in range(base, int(ends[start]), max_rows):
                m = np.multiply.outer(h_all[lo:min(lo + max_rows, int(ends[start]))], a)
                m += b
                np.minimum(sig, m.min(axis=0), out=sig)
            out[start] = sig
            start += 1
            continue
        m = np.multiply.outer(h_all[base:int(ends[stop - 1])], a)
        m += b
        offsets = np.zeros(stop - start, dtype=np.int64)
        np.cumsum(lengths[start:stop - 1], out=offsets[1:])
        out[start:stop] = np.minimum.reduceat(m, offsets, axis=0)
        start = stop
    return out


def lsh_params(lsh_threshold: float, num_perm: int, bands: int | None = None,
               rows: int | None = None) -> tuple[int, int]:
    """``(bands, rows)``: the given pair, else datasketch's ``_optimal_param(lsh_threshold, num_perm,
    0.5, 0.5)`` (minimises the equal-weighted false-positive + false-negative probability mass around
    ``lsh_threshold``). Raises ``ValueError`` when only one is given or ``bands * rows > num_perm``."""
    if (bands is None) != (rows is None):
        raise ValueError("give both bands and rows, or neither")
    if bands is not None:
        if bands < 1 or rows < 1 or bands * rows > num_perm:
            raise ValueError(f"bands * rows = {bands} * {rows} must be between 1 and num_perm ({num_perm})")
        return int(bands), int(rows)
    from datasketch.lsh import _optimal_param

    b, r = _optimal_param(lsh_threshold, num_perm, 0.5, 0.5)
    return int(b), int(r)


def candidate_probability(j: float, bands: int, rows: int) -> float:
    """P(two records with Jaccard ``j`` share at least one band) = ``1 - (1 - j^rows)^bands``."""
    return 1.0 - (1.0 - j ** rows) ** bands


def band_keys(sigs: np.ndarray, bands: int, rows: int, seed: int = 1) -> np.ndarray:
    """One 64-bit key per band: ``uint64`` of shape ``(n, bands)``.

    Key = fmix64(sum_j c_j * sig[band rows j]) mod 2^64 with seeded odd 64-bit ``c_j``; equal bands give
    equal keys, and unequal bands collide with probability ~2^-64 (a collision only adds a candidate
    that verification then rejects)."""
    n = sigs.shape[0]
    c = np.random.RandomState((seed + 7919) % (1 << 32)).randint(0, 1 << 62, rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    x = sigs[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    x *= c
    return fmix64(x.sum(axis=2, dtype=np.uint64))


def short_signatures(sigs: np.ndarray) -> np.ndarray:
    """The low 16 bits of each signature value (``uint16``, half the memory of full signatures; two
    different values agree by chance with probability 2^-16, which only raises an estimate)."""
    return (sigs & np.uint32(0xFFFF)).astype(np.uint16)


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """MinHash Jaccard estimate of each row pair: the fraction of equal signature positions, ``(k,)``."""
    return (sig_a == sig_b).mean(axis=1)


def estimate_floor(threshold: float, num_perm: int) -> float:
    """The estimate below which a pair is ruled out without exact verification: ``threshold`` minus 4.5
    standard errors of the estimate at the threshold, ``4.5 * sqrt(t (1 - t) / num_perm)``. A pair whose
    true Jaccard is >= t falls below it with probability < 4e-6 (normal tail), and the 16-bit truncation
    only raises estimates. Nothing is ever *removed* on an estimate."""
    return threshold - 4.5 * float(np.sqrt(threshold * (1.0 - threshold) / num_perm))


@functools.lru_cache(maxsize=MAX_BUCKET_PAIRS + 1)
def _triu(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(size, 1)``, cached (buckets of one size recur thousands of times)."""
    return np.triu_indices(size, 1)


def candidate_pairs(keys: np.ndarray, counters: dict | None = None) -> np.ndarray:
    """Candidate pairs from band keys ``(n, bands)``: ``int64`` array ``(k, 2)`` with ``i < j``, sorted,
    unique. Records in one bucket are paired all-with-all up to :data:`MAX_BUCKET_PAIRS` members; a larger
    bucket is paired as a star from its first member plus a chain of neighbours (counted in
    ``counters["lsh_large_buckets"]``)."""
    n = keys.shape[0]
    codes: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        k = keys[:, band]
        order = np.argsort(k, kind="stable")
        sk = k[order]
        brk = np.flatnonzero(sk[1:] != sk[:-1]) + 1
        starts = np.concatenate(([0], brk))
        sizes = np.diff(np.concatenate((starts, [n])))
        two = starts[sizes == 2]
        if two.size:
            i, j = order[two], order[two + 1]
            codes.append(np.minimum(i, j) * n + np.maximum(i, j))
        for s, size in zip(starts[sizes > 2], sizes[sizes > 2]):
            members = np.sort(order[s:s + size])
            if size <= MAX_BUCKET_PAIRS:
                ii, jj = _triu(int(size))
            else:
                if counters is not None:
                    counters["lsh_large_buckets"] = counters.get("lsh_large_buckets", 0) + 1
                ii = np.concatenate((np.zeros(size - 1, dtype=np.int64), np.arange(1, size - 1)))
                jj = np.concatenate((np.arange(1, size), np.arange(2, size)))
            codes.append(members[ii] * n + members[jj])
    if not codes:
        return np.zeros((0, 2), dtype=np.int64)
    # sort + mask, in place where possible (np.unique is slow on large int64 and copies more): the peak is
    # about twice the 8-byte codes of all bands, which matters when a corpus yields tens of millions
    u = np.concatenate(codes).astype(np.int64, copy=False)
    del codes
    u.sort()
    if u.shape[0] > 1:
        keep = np.empty(u.shape[0], dtype=bool)
        keep[0] = True
        np.not_equal(u[1:], u[:-1], out=keep[1:])
        u = u[keep]
        del keep
    out = np.empty((u.shape[0], 2), dtype=np.int64)
    np.floor_divide(u, n, out=out[:, 0])
    np.remainder(u, n, out=out[:, 1])
    return out
