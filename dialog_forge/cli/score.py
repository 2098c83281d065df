"""Score every record: relevance, information, format, fact (--kb), instruction, fluency (--lm) and safety
components, weighed into quality = {score, components, decision}; keep > 0.8, review (0.6, 0.8],
drop <= 0.6. Also detects the language and, with --check-labels, flags labels that disagree with their
nearest neighbours."""

from __future__ import annotations

import typer

from ..steps.score import ScoreStep
from .common import data_command

EPILOG = ("Example: forge score cleaned.jsonl --kb kb.txt --weights chapter --review-out review.jsonl "
          "--drop -o scored.jsonl")


def register(app: typer.Typer) -> None:
    """Add ``forge score``."""
    data_command(app, ScoreStep, help=__doc__, epilog=EPILOG)
