"""``forge score``: pure quality scorers (one module each) and the step that weighs them.

Scorers are plain functions ``(dialogue[, precomputed embeddings]) -> float in [0, 1]`` with their formula
in the docstring: :mod:`.relevance`, :mod:`.information`, :mod:`.format`, :mod:`.fact`,
:mod:`.instruction`, :mod:`.fluency`, :mod:`.safety`; :mod:`.language` detects the language and
tokenises per script; :mod:`.labels` is the kNN label check; :mod:`.weights` parses weights and computes
the renormalised score; :mod:`.step` wraps them all as :class:`ScoreStep`.
"""

from .step import ScoreConfig, ScoreStep

__all__ = ["ScoreConfig", "ScoreStep"]
