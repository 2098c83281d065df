"""Normalise text, drop structurally bad or unsafe dialogues, and scrub PII (Chinese and English).

Normalisation (ftfy, zero-width/control characters, NFC; --nfkc, --to-simplified/--to-traditional,
--strip-html optional) -> structure filters (turn/dialogue length, symbol ratio, repeated characters or
lines, AI-identity boilerplate, canned sign-offs) -> safety lexicons (violence, self_harm, sexual, minors,
drugs, weapons, hate; --safety-action flag keeps them for review) -> PII: e-mail, phone (CN mobile/landline,
+86, international), CN resident ID (GB 11643 check digit), credit/bank card (Luhn), IBAN, IP, US SSN, CN
passport, CN licence plate, person and address (Chinese/English context cues, or --ner-model); replaced by
<ENTITY> placeholders (--pii-action mask|hash|pseudonym|fake, or per entity PERSON=pseudonym). Over-long
dialogues are split into windows of --max-turns (--long reject to drop them). Turn names and string
fields of meta are scrubbed too; per-record PII counts go to meta.pii; raw values never reach the output,
the rejects (unreadable input lines included), the stats or the manifest.

Example: forge clean ingested.jsonl --pii-action PERSON=pseudonym --strip-signoffs --out clean/
"""

from __future__ import annotations

import typer

from ..steps.clean import CleanStep
from .common import data_command


def register(app: typer.Typer) -> None:
    data_command(app, CleanStep, help=__doc__)
