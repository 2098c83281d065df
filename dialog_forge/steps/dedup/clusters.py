"""Duplicate clusters: union-find over verified pairs, and the keep policy that picks one record each.

Union-find with path halving; the root of a set is always its smallest index, so clusters do not depend
on the order in which pairs are merged. Clusters are transitive: if A~B and B~C are verified, A, B and C
form one cluster even when A and C are less similar than the threshold (each removed record's reject
names the kept record and their direct similarity).

Keep policies (one record kept per cluster; ties go to the earliest record in input order):

* ``best`` -- highest ``quality.score`` (records without a score rank below any scored one), then the
  most assistant characters;
* ``longest`` -- the most characters over all turns;
* ``first`` -- the earliest in input order;
* ``latest`` -- the newest ``created_at`` (records without one rank oldest).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

KeepPolicy = Literal["best", "longest", "first", "latest"]
KEEP_POLICIES: tuple[str, ...] = ("best", "longest", "first", "latest")


class UnionFind:
    """Disjoint sets over ``0..n-1`` (grows with :meth:`grow`). ``find`` uses path halving."""

    def __init__(self, n: int = 0):
        self.parent: list[int] = list(range(n))

    def grow(self, n: int) -> None:
        """Make room for indices up to ``n - 1``."""
        self.parent.extend(range(len(self.parent), n))

    def find(self, i: int) -> int:
        p = self.parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def union(self, i: int, j: int) -> bool:
        """Merge the sets of ``i`` and ``j``; ``False`` when they were already one set."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return False
        if ri < rj:
            self.parent[rj] = ri
        else:
            self.parent[ri] = rj
        return True

    def labels(self) -> np.ndarray:
        """Root of every index: ``int64`` ``(n,)``."""
        return np.fromiter((self.find(i) for i in range(len(self.parent))), dtype=np.int64,
                           count=len(self.parent))


def rank(policy: str, *, score: np.ndarray, assistant_chars: np.ndarray, total_chars: np.ndarray,
         created: np.ndarray) -> np.ndarray:
    """Rank of each record under ``policy``: ``int64`` ``(n,)``, a permutation of ``0..n-1`` where the
    highest rank is the record to keep. Inputs are per-record arrays: ``score`` (float, NaN = none),
    ``assistant_chars`` / ``total_chars`` (int), ``created`` (int microseconds since the epoch,
    ``INT64_MIN`` = none). Raises ``ValueError`` for an unknown policy."""
    n = score.shape[0]
    later_is_worse = -np.arange(n)  # ties: earliest input wins
    if policy == "best":
        s = np.where(np.isnan(score), -np.inf, score)
        order = np.lexsort((later_is_worse, assistant_chars, s))
    elif policy == "longest":
        order = np.lexsort((later_is_worse, total_chars))
    elif policy == "first":
        order = np.lexsort((later_is_worse,))
    elif policy == "latest":
        order = np.lexsort((later_is_worse, created))
    else:
        raise ValueError(f"unknown keep policy {policy!r}; expected one of {KEEP_POLICIES}")
    r = np.empty(n, dtype=np.int64)
    r[order] = np.arange(n)
    return r


def keepers(labels: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """For each index, the index of its cluster's kept record (the member of highest rank):
    ``int64`` ``(n,)``; a record that is alone keeps itself."""
    n = labels.shape[0]
    best = np.full(n, -1, dtype=np.int64)
    np.maximum.at(best, labels, ranks)
    by_rank = np.empty(n, dtype=np.int64)
    by_rank[ranks] = np.arange(n)
    return by_rank[best[labels]]
