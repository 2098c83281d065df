"""Label check: flag records whose label disagrees with the majority of their k nearest neighbours.

The chapter's annotation-error detection by cross-validation and confidence, in its k-nearest-neighbour
form: each labelled record is predicted from the other records only (leave-one-out), and a disagreement
is reported with the vote's confidence::

    N_k(i)       = the k labelled records j != i with the largest cosine e_i . e_j
    m(i)         = the most frequent label in N_k(i)      (ties: the one whose voters are nearest)
    confidence   = |{j in N_k(i) : label_j = m(i)}| / |N_k(i)|
    flag i       if m(i) != label_i and confidence >= min_confidence

The vectors are first centred (the mean vector of the labelled records subtracted, then re-normalised;
the first step of "all-but-the-top", Mu & Viswanath 2018): an English-centred model puts every Chinese
text in one narrow cone, and without centring the neighbours of a Chinese record are chosen by language
more than by topic.

Exact search, one ``(chunk, n)`` block of similarities at a time: O(n^2 d) time, O(chunk * n) memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelIssue:
    """Record ``index`` is labelled ``label`` but its neighbours say ``suggested`` with ``confidence``."""

    index: int
    label: str
    suggested: str
    confidence: float


def knn_label_issues(vectors: np.ndarray, labels: Sequence[str | None], k: int = 10,
                     min_confidence: float = 0.6, chunk: int = 1024, center: bool = True) -> list[LabelIssue]:
    """Disagreeing records (formula in the module docstring).

    ``vectors``: L2-normalised, shape ``(n, d)``; ``labels``: ``n`` labels, ``None`` for unlabelled records
    (they neither vote nor get checked). Fewer than 2 distinct labels, or ``k < 1``: no issue.
    """
    idx = np.array([i for i, lab in enumerate(labels) if lab is not None], dtype=np.int64)
    if k < 1 or len(idx) < 2 or len({labels[i] for i in idx}) < 2:
        return []
    X = np.asarray(vectors[idx], dtype=np.float32)
    if center:
        X = X - X.mean(axis=0, keepdims=True)
        X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    lab = [labels[i] for i in idx]
    kk = min(k, len(idx) - 1)
    out: list[LabelIssue] = []
    for start in range(0, len(idx), chunk):
        sims = X[start:start + chunk] @ X.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf  # leave-one-out
        nn = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        for r in range(sims.shape[0]):
            order = nn[r][np.argsort(-sims[r, nn[r]])]
            votes = Counter(lab[j] for j in order)
            best = max(votes.values())
            # ties broken by the nearest voter
            m = next(lab[j] for j in order if votes[lab[j]] == best)
            conf = best / kk
            own = lab[start + r]
            if m != own and conf >= min_confidence:
                out.append(LabelIssue(int(idx[start + r]), own, m, round(conf, 4)))
    return out
