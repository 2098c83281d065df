"""``fact``: consistency of the assistant replies with a knowledge base (KB) of passages.

Only computed when a KB is given (``forge score --kb FILE``); without one the component is omitted and
the weights renormalise over the others (never a made-up constant).

Each reply, and each KB passage, is cut into sentences (:func:`sentences`; fragments under 4 tokens such
as greetings are skipped), so that one KB fact is compared with one reply sentence. For a reply sentence
``s`` with embedding ``e_s`` and the KB sentences ``p`` with embeddings ``e_p``::

    p*        = argmax_p  e_s . e_p                   (best-matching KB sentence, cosine)
    support   = rel(e_s . e_p*)                       (relevance.rescale: the same [0, 1] scale, per script)
    covered   = support >= COVERED (0.75)             (the KB says something about this sentence)
    conflict  = 1 if negation parity differs or numbers differ between s and p*, else 0
    fact(s)   = support * (1 - conflict)              (covered sentences only)

    fact(dialogue) = mean of fact(s) over the covered sentences of all replies

``None`` (component omitted, weights renormalise) when no sentence is covered: a KB cannot vouch for or
against what it does not talk about, so a finance answer is not marked down by a medical KB.

"Negation parity differs": the sentence and the passage disagree on whether an odd number of negation
markers (English ``not, no, never, n't, cannot, without``; Chinese ``不 没 无 未 别 勿 非``, with common
non-negating words such as ``不适`` removed first) occurs. "Numbers differ": both mention numbers and
the sentence has one the passage lacks. This lexical contradiction test catches the frequent cases
("should not be given" vs "is safe to give", "4 g" vs "8 g") that embeddings alone miss, since a
sentence and its negation embed almost identically; an NLI model would catch more and is not wired in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from ...schema import Dialogue
from .language import cjk_share, tokenize
from .relevance import rescale

#: Support (on the relevance scale) from which a sentence counts as covered by the KB.
COVERED = 0.75

_SENT_SPLIT = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+|\n+")
_EN_NEG = re.compile(r"\b(?:not|no|never|cannot|without|none|nor)\b|n't\b", re.IGNORECASE)
_ZH_NON_NEG = re.compile(r"不适|不良|不错|不少|不断|不同|不仅|不过|无论|无需担心|非常|未来|别人|不用担心|毫无疑问|并非常")
_ZH_NEG = re.compile(r"[不没无未别勿非]")
_NUM = re.compile(r"\d+(?:\.\d+)?")


def sentences(text: str) -> list[str]:
    """Sentences of ``text`` with at least 4 tokens (see :func:`~.language.tokenize`), stripped."""
    out = []
    for s in _SENT_SPLIT.split(text):
        s = s.strip()
        if len(tokenize(s)) >= 4:
            out.append(s)
    return out


def negation_parity(text: str) -> int:
    """1 when ``text`` holds an odd number of negation markers (list in the module docstring), else 0."""
    n = len(_EN_NEG.findall(text))
    n += len(_ZH_NEG.findall(_ZH_NON_NEG.sub("", text)))
    return n % 2


def numbers_differ(sentence: str, passage: str) -> bool:
    """True when both mention numbers and ``sentence`` has a number that ``passage`` lacks."""
    a, b = set(_NUM.findall(sentence)), set(_NUM.findall(passage))
    return bool(a and b and (a - b))


def fact(dialogue: Dialogue, embeddings: Mapping[str, np.ndarray], kb_passages: Sequence[str],
         kb_matrix: np.ndarray) -> float | None:
    """The ``fact`` component of ``dialogue`` (formula in the module docstring).

    ``embeddings`` maps each reply sentence (as cut by :func:`sentences`) to its L2-normalised vector;
    ``kb_matrix`` is the ``(len(kb_passages), dim)`` matrix of the passages' normalised embeddings.
    Returns ``None`` when no reply sentence is covered by the KB, or the KB is empty.
    """
    if len(kb_passages) == 0:
        return None
    vals = []
    for reply in dialogue.turns("assistant"):
        for s in sentences(reply):
            sims = kb_matrix @ embeddings[s]
            j = int(np.argmax(sims))
            support = rescale(float(sims[j]), cjk_share(s))
            if support < COVERED:
                continue
            p = kb_passages[j]
            conflict = negation_parity(s) != negation_parity(p) or numbers_differ(s, p)
            vals.append(0.0 if conflict else support)
    return sum(vals) / len(vals) if vals else None
