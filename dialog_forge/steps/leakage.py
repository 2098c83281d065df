"""Train/val/test leakage: exact and near-duplicate matches of user turns, shared by ``forge split``
(grouping before the split, assertion after it) and ``forge gate --max-leakage``.

Two records *match* when

* **exact**: their user turns have the same normalised-text hash (NFKC, case-fold, punctuation and
  whitespace removed: :func:`dialog_forge.steps.dedup.normalize.exact_key`), or
* **near**: the exact Jaccard similarity of their user-turn shingle sets
  (:func:`dialog_forge.steps.dedup.shingles.shingle_set`: character 3-grams for CJK, word 2-grams
  otherwise) is >= ``threshold`` (default 0.5).

Near pairs are found with MinHash + LSH (:mod:`dialog_forge.steps.dedup.minhash`, 128 permutations,
banding tuned for ``threshold - 0.1`` so that pairs just above the threshold are very likely candidates)
and every candidate is verified with the exact Jaccard, so no pair is reported on an estimate alone.
A leak is a match, or a shared ``id``, between records of different splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..schema import Dialogue
from .dedup.minhash import band_keys, candidate_pairs, lsh_params, permutations, signatures
from .dedup.normalize import exact_key
from .dedup.shingles import shingle_hashes, shingle_set

DEFAULT_NUM_PERM = 128


def user_turns(record: Dialogue) -> list[str]:
    """The user turns of ``record`` (all non-system turns when it has no user turn)."""
    turns = record.turns("user")
    return turns or [m.content for m in record.messages if m.role != "system"]


def text_key(record: Dialogue) -> bytes | None:
    """The exact-match key of ``record``'s user turns (``None`` when they normalise to nothing)."""
    return exact_key(user_turns(record))


def near_pairs(texts: Sequence[str], threshold: float = 0.5, num_perm: int = DEFAULT_NUM_PERM,
               seed: int = 1) -> list[tuple[int, int, float]]:
    """Verified near-duplicate pairs ``(i, j, jaccard)`` with ``i < j`` and exact Jaccard >= ``threshold``
    among ``texts`` (empty texts are never paired). Deterministic for a given ``seed``."""
    idx = [i for i, t in enumerate(texts) if t.strip()]
    hashes = [shingle_hashes(texts[i]) for i in idx]
    keep = [k for k, h in enumerate(hashes) if len(h)]
    idx = [idx[k] for k in keep]
    hashes = [hashes[k] for k in keep]
    if len(idx) < 2:
        return []
    sigs = signatures(hashes, permutations(num_perm, seed))
    # bands tuned well below the threshold, so a pair at the threshold is a candidate with probability
    # >= 0.99 whatever the seed (split and gate must agree); every candidate is verified exactly
    bands, rows = lsh_params(max(0.05, threshold - 0.25), num_perm)
    cands = candidate_pairs(band_keys(sigs, bands, rows, seed))
    sets: dict[int, frozenset] = {}
    out = []
    for a, b in cands.tolist():
        i, j = idx[a], idx[b]
        sa = sets.get(i) or sets.setdefault(i, shingle_set(texts[i]))
        sb = sets.get(j) or sets.setdefault(j, shingle_set(texts[j]))
        u = len(sa | sb)
        jac = len(sa & sb) / u if u else 0.0
        if jac >= threshold:
            out.append((min(i, j), max(i, j), jac))
    return sorted(out)


@dataclass(frozen=True)
class Leak:
    """Records ``a`` (in ``split_a``) and ``b`` (in ``split_b``) match by ``kind`` (``id``, ``exact`` or
    ``near``); ``jaccard`` of their user-turn shingles for ``near`` (1.0 otherwise)."""

    a: str
    split_a: str
    b: str
    split_b: str
    kind: str
    jaccard: float = 1.0

    def line(self) -> str:
        """``a (train) ~ b (test): near, Jaccard 0.62``"""
        j = f", Jaccard {self.jaccard:.2f}" if self.kind == "near" else ""
        return f"{self.a} ({self.split_a}) ~ {self.b} ({self.split_b}): {self.kind}{j}"


def find_leaks(records: Sequence[Dialogue], threshold: float = 0.5, num_perm: int = DEFAULT_NUM_PERM,
               seed: int = 1, near: list[tuple[int, int, float]] | None = None) -> list[Leak]:
    """Every cross-split match among ``records`` (records with ``split`` ``None`` are ignored).

    ``near`` may pass precomputed :func:`near_pairs` of the records' user texts (same order) to avoid
    recomputing them. One leak per record pair (the strongest kind: id, then exact, then near).
    """
    recs = [r for r in records if r.split]
    pos = {id(r): k for k, r in enumerate(records)}
    found: dict[tuple[int, int], Leak] = {}

    def add(i: int, j: int, kind: str, jac: float = 1.0) -> None:
        ri, rj = records[i], records[j]
        if not ri.split or not rj.split or ri.split == rj.split:
            return
        key = (min(i, j), max(i, j))
        if key not in found:
            a, b = (ri, rj) if i < j else (rj, ri)
            found[key] = Leak(a.id, a.split, b.id, b.split, kind, round(jac, 4))

    for attr, kind in (("id", "id"), ("key", "exact")):
        first: dict = {}
        for r in recs:
            k = r.id if attr == "id" else text_key(r)
            if k is None:
                continue
            i = pos[id(r)]
            for j in first.setdefault(k, []):
                add(j, i, kind)
            if len(first[k]) < 8:  # enough witnesses per key without quadratic blow-up
                first[k].append(i)
    if near is None:
        near = near_pairs(["\n".join(user_turns(r)) for r in records], threshold, num_perm, seed)
    for i, j, jac in near:
        add(i, j, "near", jac)
    return sorted(found.values(), key=lambda lk: (lk.a, lk.b))
