"""``relevance``: does each assistant reply answer the user turn before it?

For each ``(user, assistant)`` pair (:meth:`Dialogue.pairs`) the embedding cosine ``c`` (L2-normalised
sentence embeddings, so ``c`` is a dot product) is rescaled to the chapter's [0, 1] scale::

    rel(c) = clip((c - lo) / (hi - lo), 0, 1)

with anchors ``(lo, hi)`` interpolated linearly by the pair's CJK share ``s`` (Han, kana, Hangul among its letter
tokens) between ``EN_ANCHORS`` (``s = 0``) and ``ZH_ANCHORS`` (``s = 1``). The dialogue's component is the
mean over pairs; the minimum is recorded too (``relevance_min``). A pair's value below the floor (default
0.5 on this scale) is the signal for off-topic replies: the step then sets the whole score to 0.

Why per-script anchors (measured with the default model, all-MiniLM-L6-v2, on 300 pairs each of
``fastchat_alpaca_cleaned_1000.json`` (English) and ``medicalgpt_medical_sft_1k.jsonl`` (Chinese), true
pairs against the same replies rolled onto other questions):

=========  =====================  =====================  ==========
           true pairs p10/p50/p90  shuffled p10/p50/p90   ROC AUC
=========  =====================  =====================  ==========
English    0.47 / 0.72 / 0.85     -0.05 / 0.03 / 0.17    0.99
Chinese    0.29 / 0.49 / 0.68      0.27 / 0.43 / 0.59    0.61
=========  =====================  =====================  ==========

The model is English-centred: every Chinese text looks alike to it (unrelated Chinese pairs score about
0.43), so one English-calibrated scale would call typical Chinese answers irrelevant or every Chinese
answer relevant. The anchors put the floor 0.5 at ``c ~= 0.25`` for both: above 95 % of unrelated
English pairs and below 95 % of related ones; for Chinese it only catches the clearly off-topic tail
(about 7 % of real pairs fall under it, about 10 % of shuffled ones). For real Chinese relevance
filtering, name a multilingual model (``--embedding-model``) and set anchors for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ...schema import Dialogue
from .language import cjk_share

#: ``(lo, hi)`` cosine anchors for Latin-script pairs (rel = 0 at lo, 1 at hi).
EN_ANCHORS = (-0.3, 0.8)
#: ``(lo, hi)`` cosine anchors for Chinese pairs with the default, English-centred model.
ZH_ANCHORS = (-0.25, 0.75)


def rescale(cosine: float, cjk: float = 0.0, en: tuple[float, float] = EN_ANCHORS,
            zh: tuple[float, float] = ZH_ANCHORS) -> float:
    """The chapter-scale value ``rel(c)`` of one cosine for a pair with CJK share ``cjk`` in [0, 1]."""
    lo = en[0] + cjk * (zh[0] - en[0])
    hi = en[1] + cjk * (zh[1] - en[1])
    return float(min(1.0, max(0.0, (cosine - lo) / (hi - lo))))


@dataclass(frozen=True)
class Relevance:
    """``mean`` and ``min`` of the rescaled per-pair values (``None`` when the dialogue has no pair)."""

    mean: float | None
    min: float | None


def relevance(dialogue: Dialogue, embeddings: Mapping[str, np.ndarray]) -> Relevance:
    """Per-pair rescaled cosines of ``dialogue`` aggregated by mean and min.

    ``embeddings`` maps each turn text to its L2-normalised vector (shape ``(dim,)``); a missing text
    raises ``KeyError`` (the step encodes every turn first).
    """
    vals = []
    for user, reply in dialogue.pairs():
        c = float(np.dot(embeddings[user], embeddings[reply]))
        vals.append(rescale(c, cjk_share(user + reply)))
    if not vals:
        return Relevance(None, None)
    return Relevance(sum(vals) / len(vals), min(vals))
