"""``information``: lexical variety and length of the assistant replies, saturating.

Formula (the chapter's exercise), per assistant reply with tokens ``T`` (see
:func:`~dialog_forge.steps.score.language.tokenize`: one token per CJK character, one per word otherwise)::

    variety = min(1, |set(T)| / D)        D = target distinct tokens
    length  = min(1, |T| / L)             L = target length in tokens
    info    = (variety + length) / 2

with targets per script, since a Chinese character carries less than an English word: ``D=25, L=40`` for
word tokens and ``D=40, L=80`` for character tokens (a reply's targets are interpolated by its CJK share).
The dialogue's value is the mean over its assistant replies; 0.0 when it has none.
"""

from __future__ import annotations

from ...schema import Dialogue
from .language import cjk_share, tokenize

WORD_TARGETS = (25, 40)  # (distinct, length) for word tokens
CHAR_TARGETS = (40, 80)  # (distinct, length) for CJK character tokens


def reply_information(text: str) -> float:
    """The ``info`` value of one reply, in [0, 1] (formula in the module docstring)."""
    toks = tokenize(text)
    if not toks:
        return 0.0
    s = cjk_share(text)
    d_target = WORD_TARGETS[0] + s * (CHAR_TARGETS[0] - WORD_TARGETS[0])
    l_target = WORD_TARGETS[1] + s * (CHAR_TARGETS[1] - WORD_TARGETS[1])
    variety = min(1.0, len(set(toks)) / d_target)
    length = min(1.0, len(toks) / l_target)
    return (variety + length) / 2


def information(dialogue: Dialogue) -> float:
    """Mean :func:`reply_information` over the assistant replies of ``dialogue`` (0.0 with none)."""
    replies = dialogue.turns("assistant")
    if not replies:
        return 0.0
    return sum(reply_information(r) for r in replies) / len(replies)
