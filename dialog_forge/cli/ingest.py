"""``forge ingest``: read raw dialogue files of any common format into canonical records.

Formats (detected per record, or --format): ShareGPT (conversations of from/value), OpenAI chat
(messages of role/content, content may be a list of text parts), Alpaca (instruction/input/output,
system, history), canonical dialog-forge records, and CSV/TSV/Parquet tables mapped with --map.
Files: .json (array), .jsonl, .csv, .tsv, .parquet, optionally .gz/.zst; directories and globs; '-' for
standard input. Encoding: BOM, else UTF-8, else detected among GB18030/GBK, Big5, Shift_JIS, cp1252
(--encoding overrides; --verbose logs the choice). Structure policies, in order: empty turns are dropped;
consecutive same-role turns are merged with a newline (--same-role merge) or the record rejected; trailing
user turns are trimmed; a record needs one user and one assistant turn with text; an opening assistant
turn is kept and flagged in meta.opening_assistant.

Example: forge ingest data.csv --map user=ask,assistant=answer,domain=department --out shards/
"""

from __future__ import annotations

import typer

from ..steps.ingest import IngestStep
from .common import data_command


def register(app: typer.Typer) -> None:
    data_command(app, IngestStep, help=__doc__)
