"""The ``paraphrase`` operator.

* With a model backend: each chosen turn (``--scope turn``, default: user turns) or the whole dialogue
  (``--scope dialogue``) goes through the ``paraphrase_turn`` / ``paraphrase_dialogue`` template, which
  asks for a JSON list of ``--n`` rewrites. Variant *k* of a record takes the *k*-th rewrite of each turn
  (a turn with fewer rewrites keeps its text). Unparsable answers are counted (``parse_failures``).
* With ``--backend rules``: word substitution from a user synonym table (``--synonyms FILE``): one group
  of interchangeable words per line, separated by tabs, commas or ``|``; each occurrence of a table word
  (longest match first, protected spans untouched) is swapped for another word of its group with
  probability ``--rate`` (at least one swap per variant).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ...errors import ForgeError
from ...schema import Dialogue, Message
from .base import (OpContext, Variant, joined, lang_name, record_lang, render_dialogue_prompt, replace_turns,
                   turn_indices)
from .noise import tokenize
from .prompting import load_template, parse_json_list, render, string_items


# -- model-backed paraphrase --------------------------------------------------------------------------
def paraphrase_variants(items: list[tuple[int, Dialogue]], ctx: OpContext) -> list[Variant]:
    """Paraphrase variants of ``items`` (see the module docstring)."""
    if ctx.backend is None:
        return synonym_variants(items, ctx)
    if ctx.config.scope == "dialogue":
        return _dialogue_scope(items, ctx)
    cfg = ctx.config
    tpl = load_template("paraphrase_turn", cfg.prompt_file.get("paraphrase"))
    jobs, prompts = [], []
    for idx, rec in items:
        lang = record_lang(rec)
        for t in turn_indices(rec, cfg.roles):
            jobs.append((idx, rec, t))
            prompts.append(render(tpl, text=rec.messages[t].content, n=cfg.n, lang=lang, lang_name=lang_name(lang),
                                  domain=rec.domain))
    answers = ctx.backend.generate(prompts, ctx.params)
    per_record: dict[int, dict[int, list[str]]] = {}
    recs: dict[int, Dialogue] = {}
    for (idx, rec, t), ans in zip(jobs, answers, strict=True):
        items_ = string_items(parse_json_list(ans))
        recs[idx] = rec
        if items_ is None:
            ctx.count("parse_failures", 1)
            continue
        per_record.setdefault(idx, {})[t] = items_[: cfg.n]
    out = []
    for idx, turns in per_record.items():
        rec = recs[idx]
        idxs = sorted(turns)
        for k in range(max((len(v) for v in turns.values()), default=0)):
            new = {t: turns[t][k] for t in idxs if k < len(turns[t])}
            msgs = replace_turns(rec, new)
            out.append(Variant(idx, msgs, "paraphrase", {"backend": ctx.backend.name, "scope": "turn", "variant": k},
                               joined(rec, idxs), joined(msgs, idxs)))
    return out


def _dialogue_scope(items, ctx: OpContext) -> list[Variant]:
    cfg = ctx.config
    tpl = load_template("paraphrase_dialogue", cfg.prompt_file.get("paraphrase"))
    prompts = [render_dialogue_prompt(tpl, rec, cfg.n) for _, rec in items]
    answers = ctx.backend.generate(prompts, ctx.params)
    out = []
    for (idx, rec), ans in zip(items, answers, strict=True):
        parsed = parse_json_list(ans)
        roles = [m.role for m in rec.messages]
        good = []
        for conv in parsed or []:
            if (isinstance(conv, list) and [c.get("role") if isinstance(c, dict) else None for c in conv] == roles
                    and all(isinstance(c.get("content"), str) for c in conv)):
                good.append([Message(c["role"], c["content"].strip(), m.name) for c, m in zip(conv, rec.messages)])
        if parsed is None or (parsed and not good):
            ctx.count("parse_failures", 1)
        all_idx = list(range(len(rec.messages)))
        for k, msgs in enumerate(good[: cfg.n]):
            out.append(Variant(idx, msgs, "paraphrase", {"backend": ctx.backend.name, "scope": "dialogue",
                                                         "variant": k},
                               joined(rec, all_idx), joined(msgs, all_idx)))
    return out


# -- rules: synonym table -----------------------------------------------------------------------------
@lru_cache(maxsize=4)
def load_synonyms(path: str) -> dict[str, tuple[str, ...]]:
    """``word -> other words of its group`` from a synonym table file (see the module docstring).
    Raises :class:`ForgeError` naming ``--synonyms`` when the file is missing or has no group."""
    p = Path(path)
    if not p.is_file():
        raise ForgeError(f"--synonyms {path}: no such file (one group of interchangeable words per line, "
                         "separated by tabs, commas or |)")
    table: dict[str, tuple[str, ...]] = {}
    for line in p.read_text(encoding="utf-8-sig").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = [w.strip() for w in re.split(r"[\t,|，]", line) if w.strip()]
        for w in words:
            others = tuple(x for x in words if x != w)
            if others:
                table[w] = tuple(sorted(set(table.get(w, ()) + others)))
    if not table:
        raise ForgeError(f"--synonyms {path}: no group of two or more words found")
    return table


def synonym_variants(items: list[tuple[int, Dialogue]], ctx: OpContext) -> list[Variant]:
    """Rule-based paraphrase by synonym substitution (``--backend rules --synonyms FILE``)."""
    cfg = ctx.config
    if not cfg.synonyms:
        raise ForgeError("--op paraphrase with --backend rules needs --synonyms FILE (a synonym table); "
                         "or use --backend openai/hf for model paraphrases")
    table = load_synonyms(cfg.synonyms)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(table, key=len, reverse=True)))
    out = []
    for idx, rec in items:
        turns = turn_indices(rec, cfg.roles)
        for v in range(cfg.n):
            rng = ctx.rng(rec.id, "synonym", v)
            new, swaps = {}, 0
            slots = []
            for t in turns:
                text = rec.messages[t].content
                prot = [(0, 0)]
                pos = 0
                for tok in tokenize(text, tuple(cfg.protect)):
                    if tok.protected:
                        prot.append((pos, pos + len(tok.text)))
                    pos += len(tok.text)
                for m in pattern.finditer(text):
                    if not any(a < m.end() and m.start() < b for a, b in prot):
                        slots.append((t, m))
            if not slots:
                break
            chosen = [s for s in slots if rng.random() < cfg.rate] or [slots[rng.randrange(len(slots))]]
            for t in turns:
                text, pieces, last = rec.messages[t].content, [], 0
                for tt, m in chosen:
                    if tt == t:
                        pieces += [text[last:m.start()], rng.choice(table[m.group()])]
                        last = m.end()
                        swaps += 1
                new[t] = "".join(pieces) + text[last:]
            msgs = replace_turns(rec, new)
            out.append(Variant(idx, msgs, "paraphrase", {"method": "synonyms", "rate": cfg.rate, "seed": cfg.seed,
                                                         "variant": v, "swaps": swaps},
                               joined(rec, turns), joined(msgs, turns), check_as="synonym"))
    return out
