"""What every augmentation operator shares: the :class:`Variant` it returns and the :class:`OpContext`
it gets (config, backend, counters, seeded generators).

An operator is a function ``op(items, ctx) -> list[Variant]`` over ``items``: ``(index, record)`` pairs of
the batch. Each variant names its parent by ``index``, so a batch where some records yield no variant and
others several never misaligns (case U15): nothing is matched by position.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...backends.base import Backend, GenParams
from ...schema import Dialogue, Message
from .quality import detect_lang


@dataclass
class Variant:
    """One candidate record: ``parent`` (index in the batch), the new ``messages``, the lineage ``op`` and
    ``params``, and the texts the quality check compares (``source_text`` vs ``variant_text``), checked as
    ``check_as`` (an op name; rule ops get the rule-op checks)."""

    parent: int
    messages: list[Message]
    op: str
    params: dict[str, Any]
    source_text: str
    variant_text: str
    check_as: str = ""

    def __post_init__(self) -> None:
        self.check_as = self.check_as or self.op


@dataclass
class OpContext:
    """Everything an operator may use: ``config`` (the AugmentConfig), ``backend`` (``None`` for rules),
    ``params`` (decoding parameters), ``count(key, n)`` (counters into the stats), ``templates`` (prompt
    overrides: op -> file)."""

    config: Any
    backend: Backend | None
    params: GenParams
    count: Callable[[str, int], None]
    cache: dict[str, Any] = field(default_factory=dict)

    def rng(self, *parts: Any) -> random.Random:
        """A generator seeded by ``config.seed`` and ``parts`` (record id, variant number...), stable across
        runs, processes and batch layouts (BLAKE2b of the parts, not Python's salted ``hash``)."""
        h = hashlib.blake2b(repr((self.config.seed, *parts)).encode(), digest_size=8)
        return random.Random(int.from_bytes(h.digest(), "big"))


def record_lang(record: Dialogue) -> str | None:
    """``record.lang`` (its primary subtag: ``zh-CN`` -> ``zh``) or the detected language of its text."""
    if record.lang:
        return record.lang.split("-")[0].split("_")[0].lower()
    return detect_lang(record.text())


LANG_NAMES = {"zh": "Chinese (Simplified)", "en": "English", "ja": "Japanese", "ko": "Korean"}


def lang_name(lang: str | None) -> str:
    return LANG_NAMES.get(lang or "", lang or "the same language as the text")


def turn_indices(record: Dialogue, roles: list[str]) -> list[int]:
    """Indices of the non-empty turns whose role is in ``roles``."""
    return [i for i, m in enumerate(record.messages) if m.role in roles and m.content.strip()]


def replace_turns(record: Dialogue, new: dict[int, str]) -> list[Message]:
    """A copy of the messages with turn ``i`` replaced by ``new[i]``."""
    return [Message(m.role, new.get(i, m.content), m.name) for i, m in enumerate(record.messages)]


def joined(record_or_msgs, idx: list[int]) -> str:
    """The contents of turns ``idx`` joined by newlines (what the quality check compares)."""
    msgs = record_or_msgs.messages if isinstance(record_or_msgs, Dialogue) else record_or_msgs
    return "\n".join(msgs[i].content for i in idx)


def render_dialogue_prompt(template, record: Dialogue, n: int) -> str:
    """Render a whole-dialogue prompt (paraphrase of a dialogue, context follow-ups) for ``record``: the
    template gets ``messages`` (list of role/content dicts), ``messages_json``, ``n`` (variants asked
    for), ``lang_name`` and ``domain``."""
    import json

    from .prompting import render

    msgs = [{"role": m.role, "content": m.content} for m in record.messages]
    return render(template, messages=msgs, messages_json=json.dumps(msgs, ensure_ascii=False), n=n,
                  lang_name=lang_name(record_lang(record)), domain=record.domain)
