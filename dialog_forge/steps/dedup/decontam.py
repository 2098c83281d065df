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

Two ways to ask, one answer: :meth:`AgainstIndex.match` checks one record (the reference: each n-gram's
string hashed on its own), :meth:`AgainstIndex.match_many` a whole batch in a few numpy passes (what
``forge dedup`` uses). For ``match_many`` every token gets a 64-bit id (a CJK character its code point, a
word its xxHash3-64 with the top bit set, so the two never meet) and every window of ``L`` tokens the
polynomial hash ``fmix64(sum_j K_j * id_j)`` (seeded odd 64-bit ``K_j``; the windows of every length of
every turn of the batch in ``L`` numpy passes), looked up in a second copy of the n-gram and short-turn
tables hashed the same way. Both hashes are equal exactly when the token sequences are, but for a ~2^-63
chance per compared pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...schema import Dialogue
from .minhash import band_keys, fmix64, signatures, signatures_flat
from .normalize import shingle_form
from .shingles import _h64, _xxh3_64, batch_shingle_hashes, runs, sorted_sets, token_ngram_hashes, tokens
from .verify import _ranges, jaccard, jaccard_sets

#: Shortest against user turn (in tokens) whose verbatim occurrence in a training prompt contaminates it;
#: shorter ones (你好, "What is 2+2?") occur in unrelated prompts.
MIN_CONTAINED_TOKENS = 8

_WORD_BIT = 1 << 63  # set in a word's token id (match_many), never in a code point
_K_SEED = 20233  # seed of the window-hash multipliers of match_many


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
        self._batch_tables(records)
        hashes, lengths = batch_shingle_hashes(texts, char_ngram, word_ngram)
        self._set_values, self._set_sizes = sorted_sets(hashes, lengths)  # the sets again, for match_many
        self._set_starts = np.cumsum(self._set_sizes) - self._set_sizes
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
        # per band, for match_many: the end (exclusive) of the run of equal keys each position is in
        self._band_ends = []
        for sk, _ in self.band_sorted:
            brk = np.flatnonzero(sk[1:] != sk[:-1]) + 1
            bounds = np.concatenate(([0], brk, [sk.shape[0]]))
            self._band_ends.append(np.repeat(bounds[1:], np.diff(bounds)))

    def _batch_tables(self, records: list[tuple[str, Dialogue]]) -> None:
        """The n-gram and short-turn tables of :meth:`match_many`: :attr:`gram_hashes` and :attr:`short`
        with the polynomial window hashes of :func:`_poly_windows` (same entries, same owners)."""
        self._K = (np.random.RandomState(_K_SEED).randint(0, 1 << 62, max(1, self.ngram), dtype=np.uint64)
                   * np.uint64(2) + np.uint64(1))
        forms, owner = [], []
        for k, (_, rec) in enumerate(records):
            for t in rec.turns("user"):
                forms.append(shingle_form(t))
                owner.append(k)
        ids, lens = _token_ids(forms)
        tok_owner = np.repeat(np.asarray(owner, dtype=np.int64), lens)
        win = _poly_windows(ids, lens, sorted({self.ngram} | set(self.short)), self._K)
        h, st = win[self.ngram]
        order = np.argsort(h, kind="stable")  # ties: the smallest against index first, as in gram_hashes
        self._gram_poly, self._gram_poly_owner = h[order], tok_owner[st][order]
        self._gram_filter = _filter(self._gram_poly)
        self._short_poly: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        turn_start = np.cumsum(lens) - lens
        for size in self.short:
            whole = turn_start[lens == size]  # turns of exactly this length: their one window
            hs, st = win[size]
            h = hs[np.searchsorted(st, whole)]
            o = tok_owner[whole]
            order = np.argsort(h, kind="stable")
            h, o = h[order], o[order]
            first = _firsts(h)
            self._short_poly[size] = (h[first], o[first], _filter(h[first]))  # smallest against index a turn

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

    def match_many(self, user_turn_lists: list[list[str]]) -> list[Contamination | None]:
        """:meth:`match` for a whole batch: ``[self.match(x) for x in user_turn_lists]`` (same kind,
        against id and file, and similarity), computed with a few numpy passes for the batch.

        ``user_turn_lists``: one list of user turns per training record (may be empty, turns may be blank).
        Returns one entry per record, in order. The checks and their precedence are :meth:`match`'s:

        1. n-gram: every window of ``ngram`` tokens of every turn of the batch (token ids and polynomial
           window hashes, see the module docstring) is looked up at once (a membership filter, then
           one ``searchsorted`` for what passes it); a record's answer is its first hit in (turn,
           position) order, the against-record the smallest index that holds that n-gram;
        2. contained: likewise for each short length ``L`` of :attr:`short`, over the records that 1. left
           open; first hit in (turn, ``L`` ascending, position) order;
        3. MinHash, only for the records still open: one :func:`~.shingles.batch_shingle_hashes`,
           :func:`~.minhash.signatures_flat` and :func:`~.minhash.band_keys` call for all of them, one
           ``searchsorted`` per band for all of them, then exact Jaccard (:func:`~.verify.jaccard_sets`)
           of every (record, candidate) pair at once; the best candidate wins, ties to the smallest
           against index, if its Jaccard is >= ``threshold``.

        The shingles of step 3 are taken from the turns' :func:`~.normalize.shingle_form` joined by a
        space (normalised once for both checks); that gives the same tokens as normalising the turns
        joined by a newline, as :meth:`match` does (``tests/steps/test_dedup_against_batch.py``)."""
        n = len(user_turn_lists)
        out: list[Contamination | None] = [None] * n
        if n == 0:
            return out
        forms: list[str] = []
        first_turn = [0] * (n + 1)  # the turns of record i are forms[first_turn[i]:first_turn[i + 1]]
        for i, turns in enumerate(user_turn_lists):
            forms.extend(shingle_form(t) for t in turns)
            first_turn[i + 1] = len(forms)
        settled = np.zeros(n, dtype=bool)
        lengths = sorted(({self.ngram} if self._gram_poly.shape[0] else set()) | set(self._short_poly))
        if lengths and forms:
            ids, lens = _token_ids(forms)
            turn_rec = np.repeat(np.arange(n, dtype=np.int64), np.diff(np.asarray(first_turn, dtype=np.int64)))
            tok_turn = np.repeat(np.arange(len(forms), dtype=np.int64), lens)
            win = _poly_windows(ids, lens, lengths, self._K)
            if self._gram_poly.shape[0]:
                h, st = win[self.ngram]
                hit, pos = _find(self._gram_poly, self._gram_filter, h)
                if hit.size:
                    # windows come in (record, turn, position) order: a record's first hit is its answer
                    recs = turn_rec[tok_turn[st[hit]]]
                    first = _firsts(recs)
                    owners = self._gram_poly_owner[pos[first]]
                    for i, k in zip(recs[first].tolist(), owners.tolist()):
                        out[i] = Contamination("ngram", self.ids[k], self.files[k])
                    settled[recs[first]] = True
            if self._short_poly:
                turn_p, len_p, start_p, owner_p = [], [], [], []
                for size, (hs, owner, filt) in self._short_poly.items():
                    h, st = win[size]
                    hit, pos = _find(hs, filt, h)
                    live = ~settled[turn_rec[tok_turn[st[hit]]]]
                    hit, pos = hit[live], pos[live]
                    if hit.size:
                        turn_p.append(tok_turn[st[hit]])
                        len_p.append(np.full(hit.size, size, dtype=np.int64))
                        start_p.append(st[hit])
                        owner_p.append(owner[pos])
                if turn_p:
                    t_all, l_all, s_all = np.concatenate(turn_p), np.concatenate(len_p), np.concatenate(start_p)
                    order = np.lexsort((s_all, l_all, t_all))  # turn, then length, then position
                    recs = turn_rec[t_all[order]]
                    first = _firsts(recs)
                    owners = np.concatenate(owner_p)[order[first]]
                    for i, k in zip(recs[first].tolist(), owners.tolist()):
                        out[i] = Contamination("contained", self.ids[k], self.files[k])
                    settled[recs[first]] = True
        if not self.sketched.shape[0]:
            return out
        todo = np.flatnonzero(~settled)
        if not todo.size:
            return out
        texts = [" ".join(forms[first_turn[i]:first_turn[i + 1]]) for i in todo.tolist()]
        hashes, counts = batch_shingle_hashes(texts, self.char_ngram, self.word_ngram, normalized=True)
        values, sizes = sorted_sets(hashes, counts)
        rows = np.flatnonzero(sizes > 0)  # a record without shingles matches nothing
        if not rows.size:
            return out
        sizes = sizes[rows]  # values hold exactly these records' sets, in order
        keys = band_keys(signatures_flat(values, sizes, self.perms), self.bands, self.rows, self.seed)
        q_parts, k_parts = [], []
        for b, ((sk, owner), ends) in enumerate(zip(self.band_sorted, self._band_ends)):
            lo = np.minimum(np.searchsorted(sk, keys[:, b]), sk.shape[0] - 1)
            nz = np.flatnonzero(sk[lo] == keys[:, b])  # records whose key is in this band's bucket table
            if nz.size:
                lo = lo[nz]
                cnt = ends[lo] - lo  # the whole bucket: every against-record with this key
                q_parts.append(np.repeat(nz, cnt))
                k_parts.append(owner[_ranges(lo, cnt)])
        if not q_parts:
            return out
        n_against = len(self.ids)
        code = np.unique(np.concatenate(q_parts) * n_against + np.concatenate(k_parts))
        q, k = code // n_against, code % n_against
        cand = np.unique(k)
        cand_vals = self._set_values[_ranges(self._set_starts[cand], self._set_sizes[cand])]
        pairs = np.stack((q, rows.shape[0] + np.searchsorted(cand, k)), axis=1)
        sim = jaccard_sets(pairs, np.concatenate((values, cand_vals)),
                           np.concatenate((sizes, self._set_sizes[cand])))
        order = np.lexsort((k, -sim, q))  # per record: highest Jaccard, ties to the smallest against index
        first = order[_firsts(q[order])]
        for r, kk, j in zip(q[first].tolist(), k[first].tolist(), sim[first].tolist()):
            if j >= self.threshold:
                out[int(todo[rows[r]])] = Contamination("minhash", self.ids[kk], self.files[kk], j)
        return out


def _filter(sorted_hashes: np.ndarray) -> np.ndarray:
    """A one-sided membership filter of ``sorted_hashes`` for :func:`_find`: ``bool`` array of ``2^b``
    entries (``2^10 <= 2^b <= 2^22``: 16 to 32 per hash, at most 4 MB), ``True`` at every hash's low ``b``
    bits. A value not in ``sorted_hashes`` passes with probability (hashes / ``2^b``), under 1/16 until
    the table is full-size."""
    bits = min(22, max(10, (16 * sorted_hashes.shape[0]).bit_length()))
    filt = np.zeros(1 << bits, dtype=bool)
    filt[(sorted_hashes & np.uint64((1 << bits) - 1)).astype(np.intp)] = True
    return filt


def _find(sorted_hashes: np.ndarray, filt: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(hit, pos)``: the indices ``hit`` (ascending) of the values of ``h`` that occur in
    ``sorted_hashes``, and for each the position of its first occurrence there (``searchsorted``, left).
    ``filt`` (:func:`_filter` of ``sorted_hashes``) rules most misses out with one gather; only what
    passes it is searched."""
    cand = np.flatnonzero(filt[(h & np.uint64(filt.shape[0] - 1)).astype(np.intp)])
    if not cand.size:
        return cand, cand
    pos = np.minimum(np.searchsorted(sorted_hashes, h[cand]), sorted_hashes.shape[0] - 1)
    ok = sorted_hashes[pos] == h[cand]
    return cand[ok], pos[ok]


def _firsts(sorted_keys: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values in ``sorted_keys`` (non-empty, grouped)."""
    keep = np.empty(sorted_keys.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=keep[1:])
    return np.flatnonzero(keep)


def _token_ids(forms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of turns given in :func:`~.normalize.shingle_form`: ``(ids, lens)``, ``ids`` ``uint64``
    holding every turn's :func:`~.shingles.tokens` one turn after another (a CJK character: its code point;
    a word: its xxHash3-64 with the top bit set), ``lens`` ``int64`` ``(len(forms),)`` the token counts.
    Equal tokens get equal ids; unequal ones collide with probability ~2^-63 (words only)."""
    ids: list[int] = []
    lens = [0] * len(forms)
    for i, form in enumerate(forms):
        start = len(ids)
        for kind, run in runs(form, normalized=True):
            if kind == "cjk":
                ids.extend(map(ord, run))  # type: ignore[arg-type]
            else:
                ids.extend([_xxh3_64(w.encode("utf-8", "surrogatepass")) | _WORD_BIT for w in run])
        lens[i] = len(ids) - start
    return np.array(ids, dtype=np.uint64), np.array(lens, dtype=np.int64)


def _poly_windows(ids: np.ndarray, lens: np.ndarray, lengths: list[int],
                  k: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Hashes of every window of ``L`` tokens that lies inside one turn, for each ``L`` in ``lengths``.

    ``ids``/``lens`` as :func:`_token_ids` returns them. Returns ``{L: (hashes, starts)}``: ``hashes``
    ``uint64`` ``fmix64(sum_{j < L} k[j] * ids[s + j])`` (wrapping) and ``starts`` ``int64`` the position
    ``s`` in ``ids`` of each window, ascending (so in turn, then position order). One pass per token
    position ``j < max(lengths)`` serves every length."""
    total = ids.shape[0]
    empty = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
    out = dict.fromkeys(lengths, empty)
    longest = int(lens.max()) if lens.shape[0] else 0
    want = [m for m in lengths if m <= longest]
    if not want:
        return out
    room = np.repeat(np.cumsum(lens), lens) - np.arange(total)  # tokens from each position to its turn's end
    acc = np.zeros(total, dtype=np.uint64)
    for j in range(want[-1]):
        acc[:total - j] += ids[j:] * k[j]
        if j + 1 in out and j + 1 <= longest:
            starts = np.flatnonzero(room >= j + 1)
            out[j + 1] = (fmix64(acc[starts]), starts)
    return out
