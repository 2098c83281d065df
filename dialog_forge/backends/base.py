"""The generation/translation backend protocol shared by ``forge augment``, ``forge synth`` and eval's judge.

A backend turns a list of prompts into a list of completions of the same length and order, and a list of
texts into their translations. Everything else (prompt templates, parsing, quality checks) lives in the
callers, so one backend serves every operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class GenParams:
    """Decoding parameters of one call: ``temperature`` (0 = greedy), ``max_new_tokens``, ``top_p``,
    ``seed`` (passed to the endpoint / torch so reruns repeat). Part of every cache key."""

    temperature: float = 0.7
    max_new_tokens: int = 256
    top_p: float = 1.0
    seed: int | None = 0

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_new_tokens": self.max_new_tokens, "top_p": self.top_p,
                "seed": self.seed}


@dataclass
class BackendStats:
    """Counts a backend keeps: ``requests`` sent, ``cache_hits``, ``retries`` (429/5xx/timeouts retried),
    ``failures`` (prompts that got no answer after all retries: their completion is ``""``)."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "cache_hits": self.cache_hits, "retries": self.retries,
                "failures": self.failures, **self.extra}


@runtime_checkable
class Backend(Protocol):
    """What a generation backend offers.

    * ``generate(prompts, params)`` -> one completion string per prompt, same order; a prompt that failed
      for good yields ``""`` (counted in ``stats.failures``), never an exception mid-batch.
    * ``translate(texts, src, tgt, params)`` -> one translation per text (ISO 639-1 codes, e.g. ``zh``,
      ``en``), same order and the same failure rule.
    * ``stats``: a :class:`BackendStats`. ``name``: a short label for lineage params.
    """

    name: str
    stats: BackendStats

    def generate(self, prompts: list[str], params: GenParams | None = None) -> list[str]: ...

    def translate(self, texts: list[str], src: str, tgt: str, params: GenParams | None = None) -> list[str]: ...


LANGUAGE_NAMES = {"zh": "Chinese (Simplified)", "en": "English", "ja": "Japanese", "ko": "Korean",
                  "fr": "French", "de": "German", "es": "Spanish", "ru": "Russian"}


def translation_prompt(text: str, src: str, tgt: str) -> str:
    """The instruction a chat model gets to translate ``text`` from ``src`` to ``tgt`` (answer: the
    translation only)."""
    s, t = LANGUAGE_NAMES.get(src, src), LANGUAGE_NAMES.get(tgt, tgt)
    return (f"Translate the following {s} text into {t}. Keep names, numbers and placeholders such as "
            f"<PHONE_NUMBER> unchanged. Answer with the translation only.\n\n{text}")
