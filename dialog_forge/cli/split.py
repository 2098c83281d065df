"""Split records into train/val/test (random, stratified or by time) so that augmented variants and
near-duplicates never straddle splits, then check for leakage across the splits (exit 1 with the list of
pairs when anything leaks). With --out DIR: DIR/train/, DIR/val/, DIR/test/ Parquet shards and a manifest
with each split's distribution."""

from __future__ import annotations

import typer

from ..steps.split import SplitStep
from .common import data_command

EPILOG = ("Example: forge split scored.jsonl --by stratified --stratify domain,task --val 0.05 --test 0.05 "
          "--seed 42 -o data/splits")


def register(app: typer.Typer) -> None:
    """Add ``forge split``."""
    data_command(app, SplitStep, help=__doc__, epilog=EPILOG, partition_by="split")
