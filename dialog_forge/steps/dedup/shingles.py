"""Shingles that work for every script, in one pass over mixed text.

The :func:`~.normalize.shingle_form` of a text is split into *runs*:

* a **CJK run** -- consecutive Han, Hiragana or Katakana characters and decimal digits. Punctuation and
  whitespace do not break a run (``"你好，世界"`` is one run ``你好世界``), so adding or changing
  punctuation moves no shingle. A CJK run yields **character n-grams** (``char_ngram``, default 3).
  Digits count as characters in every script, so a changed figure changes several shingles: two
  answers from one template with different amounts (``定投500元`` / ``定投2000元``) state different facts
  and should not look like one text with a typo.
* a **word run** -- consecutive words of space-delimited scripts (letters, digits and marks of Latin,
  Cyrillic, Greek, Arabic, Hangul, ...; split on whitespace, punctuation and ``_``). A word run yields
  **word n-grams** (``word_ngram``, default 2), words joined by one space.

A change of script starts a new run: ``"我的iPhone手机坏了"`` has runs ``我的`` / ``iphone`` / ``手机坏了``.

Defaults, chosen for dialogue-length text (a turn is typically 10-100 characters or 5-60 words): a
shingle spans about two words in either script (a Chinese word averages 1.5 characters, so 3 characters
~ 2 words). Short enough that one changed particle in a 30-character question changes at most 3 of
~28 shingles (Jaccard ~0.8-0.9, so it is still caught at the default threshold 0.8); long enough to keep
local word order, so that two different questions built from the same words do not collide.

**Fallback shingle**: a run shorter than its n yields the whole run as one shingle, and a text with no
word or CJK character at all (emoji, symbols) yields its :func:`~.normalize.hash_form` as its only
shingle. So every non-empty text has at least one shingle, and distinct short texts (``"好的"``,
``"谢谢"``) have disjoint shingle sets -- they never share a signature. An empty text has no shingles and
must never reach MinHash (the step filters empty views first).

Shingles are hashed to 64 bits in bulk (:func:`batch_shingle_hashes`); the low 32 bits feed MinHash, the
full 64 bits form the sets that :mod:`.verify` compares (a false collision needs ~2^32 shingles).
"""

from __future__ import annotations

import numpy as np
import regex
import xxhash

from .minhash import fmix64
from .normalize import hash_form, shingle_form

DEFAULT_CHAR_NGRAM = 3
DEFAULT_WORD_NGRAM = 2

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Nd}"
_TOKEN = regex.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_xxh3_64 = xxhash.xxh3_64_intdigest


def _h64(s: str) -> int:
    return _xxh3_64(s.encode("utf-8", "surrogatepass"))


def runs(text: str, normalized: bool = False) -> list[tuple[str, str | list[str]]]:
    """The runs of ``text`` in order: ``("cjk", "你好世界")`` or ``("word", ["hello", "world"])``.
    ``normalized=True``: ``text`` is already :func:`~.normalize.shingle_form`."""
    out: list[tuple[str, str | list[str]]] = []
    cjk_parts: list[str] = []
    words: list[str] = []
    for c, w in _TOKEN.findall(text if normalized else shingle_form(text)):
        if c:
            if words:
                out.append(("word", words))
                words = []
            cjk_parts.append(c)
        else:
            if cjk_parts:
                out.append(("cjk", "".join(cjk_parts)))
                cjk_parts = []
            words.append(w)
    if cjk_parts:
        out.append(("cjk", "".join(cjk_parts)))
    if words:
        out.append(("word", words))
    return out


def shingles(text: str, char_ngram: int = DEFAULT_CHAR_NGRAM, word_ngram: int = DEFAULT_WORD_NGRAM) -> list[str]:
    """The shingles of ``text`` (with repeats, in order of appearance); see the module docstring.

    ``shingles("请问退货要几天", 3)`` -> ``["请问退", "问退货", "退货要", "货要几", "要几天"]``;
    ``shingles("好的")`` -> ``["好的"]`` (fallback); ``shingles("")`` -> ``[]``.
    """
    out: list[str] = []
    for kind, run in runs(text):
        if kind == "cjk":
            n = char_ngram
            if len(run) <= n:
                out.append(run)  # type: ignore[arg-type]
            else:
                out.extend(run[i:i + n] for i in range(len(run) - n + 1))
        else:
            n = word_ngram
            if len(run) <= n:
                out.append(" ".join(run))
            else:
                out.extend(" ".join(run[i:i + n]) for i in range(len(run) - n + 1))
    if not out:
        form = hash_form(text)
        if form:
            out.append(form)
    return out


def batch_shingle_hashes(texts: list[str], char_ngram: int = DEFAULT_CHAR_NGRAM,
                         word_ngram: int = DEFAULT_WORD_NGRAM, *,
                         normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the shingles of many texts at once (the vectorised form of :func:`shingles`).

    Returns ``(hashes, lengths)``: ``hashes`` ``uint64``, every text's shingle hashes one after another
    (repeats kept), ``lengths`` ``int64`` of shape ``(len(texts),)`` (0 for an empty text). Within a text
    the CJK shingles come before the word shingles (order is irrelevant to MinHash and to sets).

    An n-gram's hash is ``fmix64(sum_j K_j * t_j)`` over its tokens ``t_j`` (a CJK character's code
    point, or a word's xxHash3-64), with seeded odd 64-bit ``K_j`` per script, computed for all windows
    with ``n`` numpy passes instead of one Python call per shingle. A run shorter than n is padded with
    zero tokens, which no real token has, so its one shingle is the whole run (the fallback).
    ``normalized=True`` says the texts are already :func:`~.normalize.shingle_form`.
    """
    cjk_runs: list[str] = []
    cjk_owner: list[int] = []
    word_ids: list[int] = []
    word_run_len: list[int] = []
    word_owner: list[int] = []
    fb_hash: list[int] = []
    fb_owner: list[int] = []
    for idx, text in enumerate(texts):
        rs = runs(text, normalized)
        if not rs:
            form = text.replace(" ", "") if normalized else hash_form(text)
            if form:
                fb_hash.append(_h64(form))
                fb_owner.append(idx)
            continue
        for kind, run in rs:
            if kind == "cjk":
                if len(run) < char_ngram:
                    run = run + "\x00" * (char_ngram - len(run))  # type: ignore[operator]
                cjk_runs.append(run)  # type: ignore[arg-type]
                cjk_owner.append(idx)
            else:
                ids = [_h64(w) for w in run]
                if len(ids) < word_ngram:
                    ids.extend([0] * (word_ngram - len(ids)))
                word_ids.extend(ids)
                word_run_len.append(len(ids))
                word_owner.append(idx)
    parts: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    if cjk_runs:
        cps = np.frombuffer("".join(cjk_runs).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lens = np.fromiter(map(len, cjk_runs), dtype=np.int64, count=len(cjk_runs))
        h, o = _window_hashes(cps, lens, np.asarray(cjk_owner, dtype=np.int64), char_ngram, _K_CJK)
        parts.append(h)
        owners.append(o)
    if word_ids:
        ids = np.asarray(word_ids, dtype=np.uint64)
        h, o = _window_hashes(ids, np.asarray(word_run_len, dtype=np.int64),
                              np.asarray(word_owner, dtype=np.int64), word_ngram, _K_WORD)
        parts.append(h)
        owners.append(o)
    if fb_hash:
        parts.append(np.asarray(fb_hash, dtype=np.uint64))
        owners.append(np.asarray(fb_owner, dtype=np.int64))
    if not parts:
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts), dtype=np.int64)
    hashes = np.concatenate(parts)
    owner = np.concatenate(owners)
    if len(parts) > 1:
        order = np.argsort(owner, kind="stable")
        hashes, owner = hashes[order], owner[order]
    return hashes, np.bincount(owner, minlength=len(texts)).astype(np.int64)


def batch_shingle_sets(texts: list[str], char_ngram: int = DEFAULT_CHAR_NGRAM,
                       word_ngram: int = DEFAULT_WORD_NGRAM, *,
                       normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The shingle *sets* of many texts: ``(values, sizes)``, ``values`` ``uint64`` holding each text's
    distinct 64-bit shingle hashes in ascending order, one text after another, ``sizes`` ``int64``
    ``(len(texts),)`` (0 for an empty text). What exact Jaccard compares (:mod:`.verify`) and what
    MinHash reads (the minimum over a set equals the minimum over its bag of repeats)."""
    return sorted_sets(*batch_shingle_hashes(texts, char_ngram, word_ngram, normalized=normalized))


def sorted_sets(hashes: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-record sorted distinct values of grouped ``hashes`` (``lengths[i]`` values of record ``i`` one
    after another): ``(values, sizes)`` as :func:`batch_shingle_sets` returns them.

    Two sorts and no Python loop: one argsort of the hashes, then a stable sort by owner (a radix sort
    when the owners fit 16 bits), which keeps every record's hashes ascending."""
    n = lengths.shape[0]
    if hashes.shape[0] == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(n, dtype=np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    order = np.argsort(hashes)
    small = owner[order].astype(np.uint16 if n <= 0xFFFF else np.uint32)
    order = order[np.argsort(small, kind="stable")]
    h, o = hashes[order], owner[order]
    keep = np.empty(h.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(h[1:], h[:-1], out=keep[1:])
    keep[1:] |= o[1:] != o[:-1]
    return h[keep], np.bincount(o[keep], minlength=n).astype(np.int64)


def _seeded_odd(seed: int, n: int) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 1 << 62, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


_K_CJK = _seeded_odd(20231, 64)
_K_WORD = _seeded_odd(20232, 64)


def _window_hashes(tok: np.ndarray, run_lens: np.ndarray, run_owner: np.ndarray, n: int,
                   k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every window of ``n`` tokens that lies inside one run, and the owner of each window.

    ``tok``: ``uint64`` tokens of all runs back to back; every run has length >= n."""
    if n > k.shape[0]:
        raise ValueError(f"n-gram size {n} is larger than the supported {k.shape[0]}")
    total = tok.shape[0]
    m = total - n + 1
    acc = tok[:m] * k[0]
    for j in range(1, n):
        acc += tok[j:j + m] * k[j]
    # a window starting at position p is valid when p + n <= end of p's run
    run_id = np.repeat(np.arange(run_lens.shape[0]), run_lens)
    ends = np.cumsum(run_lens)
    valid = np.arange(m) + n <= ends[run_id[:m]]


    return fmix64(acc[valid]), run_owner[run_id[:m][valid]]


def shingle_hashes(text: str, char_ngram: int = DEFAULT_CHAR_NGRAM,
                   word_ngram: int = DEFAULT_WORD_NGRAM) -> np.ndarray:
    """The 64-bit shingle hashes of one text (``uint64``, repeats kept); see :func:`batch_shingle_hashes`."""
    return batch_shingle_hashes([text], char_ngram, word_ngram)[0]


def shingle_set(text: str, char_ngram: int = DEFAULT_CHAR_NGRAM, word_ngram: int = DEFAULT_WORD_NGRAM) -> frozenset:
    """The set of 64-bit shingle hashes of ``text`` (what exact Jaccard is computed on)."""
    return frozenset(shingle_hashes(text, char_ngram, word_ngram).tolist())


def tokens(text: str) -> list[str]:
    """One token stream for every script: each CJK character is a token, each word is a token.

    Used for long n-gram overlap (decontamination), where n counts tokens or characters alike.
    """
    out: list[str] = []
    for _kind, run in runs(text):
        out.extend(run)  # a CJK run string extends by characters, a word run by words
    return out


def token_ngram_hashes(text: str, n: int) -> np.ndarray:
    """xxHash3-64 of every window of ``n`` consecutive :func:`tokens` of ``text``: ``uint64``, shape
    ``(max(0, n_tokens - n + 1),)``. A text shorter than ``n`` tokens has none."""
    toks = tokens(text)
    if len(toks) < n:
        return np.zeros(0, dtype=np.uint64)
    grams = ("\x1f".join(toks[i:i + n]) for i in range(len(toks) - n + 1))
    return np.fromiter(map(_h64, grams), dtype=np.uint64, count=len(toks) - n + 1)
