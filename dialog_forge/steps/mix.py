"""``forge mix``: temperature sampling across tasks (or domains) to a target size, plus a general set.

A global step. With ``n_i`` records in group ``i`` (``--by task`` or ``domain``; records without a
label form the group ``(none)``), each group's share of the task-specific part is

    P(i) = n_i^alpha / sum_j n_j^alpha        (alpha = --alpha, default 0.6; the chapter's 0.5-0.7)

(temperature sampling as in multilingual/multi-task mixing: alpha = 1 keeps the natural proportions,
alpha = 0 gives every group the same share). With ``--total T`` and a general-dialogue set
(``--general FILE`` at ``--general-ratio g``, default 0.15 -- the chapter's 10-20 % against forgetting),
``round(g T)`` general records are drawn and the rest ``T - round(g T)`` is split as ``T_task * P(i)``,
rounded by largest remainder so that the quotas add up exactly. Without replacement at most every general
record once is drawn; the part of ``round(g T)`` the general set cannot fill goes to the tasks
(``general_short_by`` in the stats says how many).

* **without replacement** (default): a quota above ``n_i`` is capped at ``n_i`` and the surplus is given
  to the other groups in proportion to ``P`` (repeated until it fits; if all groups are exhausted the
  output is smaller than ``T`` and ``short_by`` says by how much);
* **with replacement** (``--replacement``): a group with quota ``q`` repeats each record ``q // n_i``
  times and adds ``q mod n_i`` records drawn without replacement (the low-variance form of sampling with
  replacement); repeats are new records derived from the original (lineage op ``mix_repeat``).

Unselected records go to the rejects (``not_sampled``); general records and repeats count as generated.
The output is shuffled (``--seed``), or with ``--curriculum`` ordered by difficulty (turns, then
characters) and tagged ``meta.curriculum_stage`` 1..``--stages`` for staged training.
"""

from __future__ import annotations

import logging

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ForgeError
from ..pipeline.lineage import add_op, derive
from ..pipeline.registry import register_step
from ..pipeline.step import BatchResult, Step, StepConfig, cfg_field
from ..schema import Dialogue, Message

NONE_GROUP = "(none)"
GENERAL_GROUP = "(general)"


log = logging.getLogger("dialog_forge.mix")

@dataclass
class MixConfig(StepConfig):
    """Options of ``forge mix``."""

    by: Literal["task", "domain"] = cfg_field("task", help="Group records by task or domain.")
    alpha: float = cfg_field(0.6, help="Temperature exponent: P(i) = n_i^alpha / sum_j n_j^alpha (1 keeps "
                             "proportions, 0 equalises; the chapter uses 0.5-0.7).")
    total: int | None = cfg_field(None, help="Target number of output records (default: the number of input "
                                  "records).")
    replacement: bool = cfg_field(False, help="Sample with replacement, so small groups can be repeated up "
                                  "to their quota.")
    general: str | None = cfg_field(None, help="A general-dialogue set (canonical JSONL/Parquet) mixed in "
                                    "against forgetting.")
    general_ratio: float = cfg_field(0.15, help="Share of --total taken from --general (the chapter: "
                                     "0.10-0.20).")
    curriculum: bool = cfg_field(False, help="Order the output by difficulty (turns, then length) instead of "
                                 "shuffling, and tag meta.curriculum_stage.")
    stages: int = cfg_field(3, help="Number of curriculum stages with --curriculum.")
    seed: int = cfg_field(42, help="Random seed: the same seed and input give the same mix.")


def temperature_probs(counts: dict[str, int], alpha: float) -> dict[str, float]:
    """``P(i) = n_i^alpha / sum_j n_j^alpha`` over the groups with ``n_i > 0``."""
    w = {k: float(n) ** alpha for k, n in counts.items() if n > 0}
    z = sum(w.values())
    return {k: v / z for k, v in w.items()} if z else {}


def quotas(counts: dict[str, int], probs: dict[str, float], total: int, replacement: bool) -> dict[str, int]:
    """Integer quotas adding up to ``total`` (or to ``sum(counts)`` when that is smaller and sampling is
    without replacement), by largest remainder of ``total * P``; without replacement capped at ``n_i`` with
    the surplus redistributed in proportion to ``P`` (see the module docstring)."""
    q = {k: 0 for k in probs}
    open_ = set(probs)
    remaining = total if replacement else min(total, sum(counts[k] for k in probs))
    while remaining > 0 and open_:
        z = sum(probs[k] for k in open_)
        exact = {k: remaining * probs[k] / z for k in open_}
        add = {k: int(e) for k, e in exact.items()}
        left = remaining - sum(add.values())
        for k in sorted(open_, key=lambda k: (-(exact[k] - add[k]), -counts[k], k))[:left]:
            add[k] += 1
        remaining = 0
        for k in sorted(open_):
            q[k] += add[k]
            if not replacement and q[k] >= counts[k]:
                remaining += q[k] - counts[k]
                q[k] = counts[k]
                open_.discard(k)
    return q


def difficulty(record: Dialogue) -> tuple[int, int]:
    """``(user + assistant turns, characters over those turns)``: the curriculum's sort key."""
    turns = [m.content for m in record.messages if m.role in ("user", "assistant")]
    return len(turns), sum(len(t) for t in turns)


def _take(pool: list[Dialogue], q: int, rng: random.Random, op: str) -> tuple[list[Dialogue], int]:
    """``q`` records from ``pool`` (repeats derived when ``q > len(pool)``); returns them and the number
    of repeats created."""
    n = len(pool)
    reps, rest = divmod(q, n) if n else (0, 0)
    chosen = []
    made = 0
    picks = [(r, k) for k in range(reps) for r in pool] + [(r, reps) for r in rng.sample(pool, rest)]
    for r, k in picks:
        if k == 0:
            chosen.append(r)
        else:
            chosen.append(derive(r, [Message(m.role, m.content, m.name) for m in r.messages], op,
                                 {"copy": k}, suffix=f"#{k}"))
            made += 1
    return chosen, made


@register_step
class MixStep(Step):
    """Temperature-sample records across groups; see the module docstring."""

    name = "mix"
    reasons = {"not_sampled": "not drawn by the temperature sampling (its group is over its quota)"}
    config_class = MixConfig
    global_step = True

    def __init__(self, config: MixConfig | None = None):
        super().__init__(config)
        c: MixConfig = self.config
        if c.alpha < 0:
            raise ForgeError(f"--alpha {c.alpha}: must be >= 0 (the chapter uses 0.5-0.7).")
        if c.total is not None and c.total < 1:
            raise ForgeError(f"--total {c.total}: must be at least 1.")
        if not 0 <= c.general_ratio < 1:
            raise ForgeError(f"--general-ratio {c.general_ratio}: must be in [0, 1).")
        if c.stages < 1:
            raise ForgeError(f"--stages {c.stages}: must be at least 1.")
        self._held: list[Dialogue] = []
        self.report: dict[str, Any] = {}

    def _general(self) -> list[Dialogue]:
        from ..io.records import load_records

        recs = load_records([self.config.general])
        if not recs:
            raise ForgeError(f"--general {self.config.general}: holds no record.")
        return recs

    def process(self, batch: list[Dialogue]) -> BatchResult:
        self._held.extend(batch)
        return BatchResult()

    def finish(self) -> BatchResult:
        c: MixConfig = self.config
        records, self._held = self._held, []
        if not records:
            return BatchResult()
        rng = random.Random(c.seed)
        groups: dict[str, list[Dialogue]] = defaultdict(list)
        for r in records:
            groups[getattr(r, c.by) or NONE_GROUP].append(r)
        counts = {k: len(v) for k, v in sorted(groups.items())}
        total = c.total if c.total is not None else len(records)
        general = self._general() if c.general else []
        n_general = round(total * c.general_ratio) if general else 0
        general_short = 0
        if not c.replacement and n_general > len(general):
            # without replacement a general record is used once; the rest of its share goes to the tasks
            general_short, n_general = n_general - len(general), len(general)
        probs = temperature_probs(counts, c.alpha)
        q = quotas(counts, probs, total - n_general, c.replacement)
        res = BatchResult()
        out: list[Dialogue] = []
        for k in sorted(groups):
            pool = sorted(groups[k], key=lambda r: r.id)
            if c.replacement or q[k] >= len(pool):
                chosen, made = _take(pool, q[k], rng, "mix_repeat")
            else:
                chosen, made = rng.sample(pool, q[k]), 0
            res.generated += made
            picked = {id(r) for r in chosen}
            for r in pool:
                if id(r) not in picked:
                    res.rejects.append(self.reject(r, "not_sampled", f"group {k!r}: quota {q[k]} of {len(pool)}"))
            out.extend(chosen)
        if n_general:
            pool = sorted(general, key=lambda r: r.id)
            if c.replacement:
                chosen, made = _take(pool, n_general, rng, "mix_repeat")
            else:
                chosen = rng.sample(pool, n_general)
            res.generated += len(chosen)  # every general record is new to this stream
            for r in chosen:
                r.meta = {**r.meta, "mix_group": GENERAL_GROUP}
            out.extend(chosen)
        for r in out:
            add_op(r, "mix", {"by": c.by, "alpha": c.alpha, "seed": c.seed})
        if c.curriculum:
            out.sort(key=lambda r: (*difficulty(r), r.id))
            for i, r in enumerate(out):
                r.meta = {**r.meta, "curriculum_stage": 1 + i * c.stages // len(out)}
        else:
            rng.shuffle(out)
        after = Counter(GENERAL_GROUP if (r.meta or {}).get("mix_group") == GENERAL_GROUP else
                        (getattr(r, c.by) or NONE_GROUP) for r in out)
        self.report = {
            "by": c.by,
            "alpha": c.alpha,
            "before": counts,
            "probabilities": {k: round(v, 6) for k, v in probs.items()},
            "after": {k: after.get(k, 0) for k in [*counts, *([GENERAL_GROUP] if n_general else [])]},
            "total": len(out),
        }
        if len(out) < total:
            self.report["short_by"] = total - len(out)
            log.warning("mix: --total %d not reached: %d records (without --replacement a group gives each "
                        "record at most once; pass --replacement to repeat records up to their quota)",
                        total, len(out))
        if general_short:
            self.report["general_short_by"] = general_short
            log.warning("mix: the --general set is %d records short of --general-ratio %.2f (each general "
                        "record is used at most once without --replacement)", general_short, c.general_ratio)
        res.kept = out
        return res

    def summary(self) -> dict[str, Any]:
        return {**self.counters, **self.report}
