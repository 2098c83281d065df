"""``forge augment``: more training dialogues from the ones you have, every variant checked and traced.

Operators (--op, repeatable): noise (seeded zh/en typos, pinyin homophones, fillers, punctuation and
number-format noise; names, numbers and placeholders such as <PHONE_NUMBER> are never corrupted),
paraphrase (model rewrites as a JSON list of --n variants; with --backend rules a --synonyms table),
backtranslate (source -> --pivot -> source through a translation backend) and context (single-turn
records become multi-turn: same-domain, close-topic records chained offline, or generated follow-ups).
Backends: rules (offline), openai (any OpenAI-compatible endpoint: --base-url, --model, key from
--api-key-env, --concurrency, retries with backoff, on-disk cache in --cache-dir), hf (a local
transformers model). Every variant gets a new id, lineage.parent_id/root_id and the op with its params,
and must pass the variant check (not identical, not a near copy, no drift in meaning, same language, no
new PII); failures go to the rejects with their reason. --report prints the before/after table.

Example: forge augment data.jsonl --op noise --op context --n 2 --seed 1 --report -o augmented.jsonl
"""

from __future__ import annotations

import typer

from ..steps.augment import AugmentStep
from .common import data_command


def register(app: typer.Typer) -> None:
    data_command(app, AugmentStep, help=__doc__)
