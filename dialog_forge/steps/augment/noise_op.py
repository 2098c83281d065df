"""The ``noise`` operator: :func:`~dialog_forge.steps.augment.noise.add_noise` on the chosen turns,
``--n`` variants per record, one seeded generator per (record id, variant, turn)."""

from __future__ import annotations

from collections import Counter

from ...schema import Dialogue
from .base import OpContext, Variant, joined, replace_turns, turn_indices
from .noise import add_noise


def noise_variants(items: list[tuple[int, Dialogue]], ctx: OpContext) -> list[Variant]:
    """Up to ``n`` noised variants per record (one per variant number whose text changed)."""
    cfg = ctx.config
    out = []
    for idx, rec in items:
        turns = turn_indices(rec, cfg.roles)
        if not turns:
            continue
        for v in range(cfg.n):
            new, edits = {}, Counter()
            for t in turns:
                res = add_noise(rec.messages[t].content, rng=ctx.rng(rec.id, "noise", v, t), rate=cfg.rate,
                                kinds=tuple(cfg.noise_kinds), protect=tuple(cfg.protect))
                new[t] = res.text
                edits.update(res.edits)
            for k, c in edits.items():
                ctx.count(f"noise_edits.{k}", c)
            msgs = replace_turns(rec, new)
            out.append(Variant(idx, msgs, "noise", {"rate": cfg.rate, "seed": cfg.seed, "variant": v,
                                                    "edits": dict(sorted(edits.items()))},
                               joined(rec, turns), joined(msgs, turns)))
    return out
