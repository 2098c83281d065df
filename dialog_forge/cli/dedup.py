"""``forge dedup``: remove exact, near and semantic duplicates, and decontaminate against evaluation sets.

Compares one view of each dialogue (--on: dialogue, user, first-user, assistant). Exact duplicates share
the normalised text (case-folded, full/half-width unified, punctuation and whitespace dropped). Near
duplicates are found by MinHash-LSH over CJK character n-grams and word n-grams (mixed scripts in one
pass) and every LSH candidate is verified by exact Jaccard (--threshold, default 0.8) before anything is
removed; --threshold 1.0 removes exact duplicates only. Clusters are formed by union-find and one record
each is kept (--keep). --semantic also removes pairs whose sentence embeddings have cosine >=
--semantic-threshold. --against EVAL.jsonl (repeatable) removes training records whose user turns share
a 13-token n-gram with the evaluation set, contain one of its shorter questions (8+ tokens) verbatim, or
are a verified MinHash match. Records whose view is empty are
never compared: kept as they are (--empty-view keep, the default) or rejected as empty_text. Every
removed record names the kept one and their similarity; the stats count LSH candidate pairs and
verified pairs separately. --clusters PATH writes the clusters to Parquet. Deterministic for a --seed.

Example: forge dedup data.jsonl --on user --keep best --against eval.jsonl --clusters clusters.parquet -o deduped/
"""

from __future__ import annotations

import typer

from ..steps.dedup import DedupStep
from .common import data_command


def register(app: typer.Typer) -> None:
    data_command(app, DedupStep, help=__doc__)
