"""The ``backtranslate`` operator: each chosen turn goes source language -> pivot -> source language
through the backend's ``translate`` (``--pivot zh=en,en=zh`` maps a source language to its pivot). One
variant per record. A record whose language has no pivot, or whose pivot is its own language, is skipped
(counted ``backtranslate_no_pivot``). Needs a model backend."""

from __future__ import annotations

from ...backends.base import GenParams
from ...errors import ForgeError
from ...schema import Dialogue
from .base import OpContext, Variant, joined, record_lang, replace_turns, turn_indices


def backtranslate_variants(items: list[tuple[int, Dialogue]], ctx: OpContext) -> list[Variant]:
    """Back-translated variants of ``items``; texts are grouped by (source, pivot) into batched calls."""
    if ctx.backend is None:
        raise ForgeError("--op backtranslate needs a translation backend: --backend hf --model "
                         "'Helsinki-NLP/opus-mt-{src}-{tgt}' or --backend openai --base-url ... --model ...")
    cfg = ctx.config
    groups: dict[tuple[str, str], list[tuple[int, Dialogue, int]]] = {}
    for idx, rec in items:
        lang = record_lang(rec)
        pivot = cfg.pivot.get(lang or "")
        if not pivot or pivot == lang:
            ctx.count("backtranslate_no_pivot", 1)
            continue
        for t in turn_indices(rec, cfg.roles):
            groups.setdefault((lang, pivot), []).append((idx, rec, t))
    new: dict[int, dict[int, str]] = {}
    recs: dict[int, tuple[Dialogue, str]] = {}
    for (src, pivot), jobs in groups.items():
        texts = [rec.messages[t].content for _, rec, t in jobs]
        greedy = GenParams(temperature=0.0, max_new_tokens=ctx.params.max_new_tokens, seed=ctx.params.seed)
        there = ctx.backend.translate(texts, src, pivot, greedy)
        back = ctx.backend.translate(there, pivot, src, greedy)
        for (idx, rec, t), b in zip(jobs, back, strict=True):
            new.setdefault(idx, {})[t] = b
            recs[idx] = (rec, pivot)
    out = []
    for idx, turns in new.items():
        rec, pivot = recs[idx]
        idxs = sorted(turns)
        msgs = replace_turns(rec, turns)
        out.append(Variant(idx, msgs, "backtranslate", {"backend": ctx.backend.name, "pivot": pivot},
                           joined(rec, idxs), joined(msgs, idxs)))
    return out
