"""The ``context`` operator: single-turn records become multi-turn dialogues.

* Rule-based (``--context-mode rules``, the default with ``--backend rules``): within a batch, a
  single-turn record (one user turn, one assistant turn, optional system prompt) is prefixed with the
  exchange of another single-turn record of the same domain and language whose user turn is on a close
  topic: embedding cosine of the two user turns in ``[--context-min-sim, --context-max-sim)`` (default
  [0.5, 0.95): related, but not a duplicate) and shared topic words (:func:`topic_overlap` at least
  ``--context-min-overlap``, default 0.1). The closest partners are used first, ``--n`` at most, and the
  record's own system prompt stays in front. The pool is the batch, so ``--batch-size`` bounds it.
* Generative (``--context-mode generate``, the default with a model backend): the ``context_followup``
  template asks for follow-up exchanges (a JSON list of ``{"user", "assistant"}``) appended after the
  record's turns.

A new dialogue is only kept when it stays coherent: the added user turn must be on topic (cosine to the
record's user turn at least ``--context-min-sim``, else reason ``incoherent``), and the added turns then go
through the variant check (identical / near copy / language / new PII) against the record's user turn.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from ...models import embedding
from ...schema import Dialogue, Message
from .base import OpContext, Variant, record_lang, render_dialogue_prompt
from .prompting import load_template, parse_json_list


#: Chinese function bigrams and English function words that say nothing about the topic.
_ZH_STOP = frozenset("怎么 什么 可以 需要 请问 你好 您好 这是 一下 是否 如何 为什 么会 能不 不能 我的 我们 "
                     "吗？ 一个 有没 没有 这个 那个 是不 不是 应该 现在 已经 还是 就是 可能 问一 想问 有什 么办 怎样 "
                     "多少 谢谢".split())
_EN_STOP = frozenset("the and for you your what how can with this that are was have does did from will there about "
                     "into when where which who why would could should please any some its it's they them then than "
                     "also just more most very much many not but our out get got has had being been".split())


def content_terms(text: str) -> set[str]:
    """Topic terms of ``text``: adjacent Han character pairs and Latin words of 3+ letters (case folded),
    without the function words above."""
    t = unicodedata.normalize("NFKC", text).casefold()
    out = set()
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+", t):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    out.update(w for w in re.findall(r"[a-z]{3,}", t))
    return out - _ZH_STOP - _EN_STOP


def topic_overlap(a: str, b: str) -> float:
    """Overlap coefficient |A∩B| / min(|A|, |B|) of the :func:`content_terms` of two texts (0 when either
    has none). A guard next to the embedding cosine: English-centred embedding models rate most Chinese
    pairs as similar, shared topic words do not lie."""
    ta, tb = content_terms(a), content_terms(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


def single_turn(rec: Dialogue) -> bool:
    """True for exactly one non-empty user turn followed by one non-empty assistant turn (plus an optional
    leading system prompt)."""
    roles = [m.role for m in rec.messages if m.role != "system"]
    return roles == ["user", "assistant"] and all(m.content.strip() for m in rec.messages)


def _split(rec: Dialogue) -> tuple[list[Message], list[Message]]:
    return [m for m in rec.messages if m.role == "system"], [m for m in rec.messages if m.role != "system"]


def context_variants(items: list[tuple[int, Dialogue]], ctx: OpContext, pool: list[Dialogue]) -> list[Variant]:
    """Context variants of ``items``; ``pool`` is the whole batch (partners for the rule-based mode)."""
    mode = ctx.config.context_mode
    if mode == "auto":
        mode = "rules" if ctx.backend is None else "generate"
    singles = [(i, r) for i, r in items if single_turn(r)]
    ctx.count("context_not_single_turn", len(items) - len(singles))
    if not singles:
        return []
    return _rules(singles, ctx, pool) if mode == "rules" else _generate(singles, ctx)


def _rules(items, ctx: OpContext, pool: list[Dialogue]) -> list[Variant]:
    cfg = ctx.config
    cands = [(j, r) for j, r in enumerate(pool) if single_turn(r)]
    users = [r.turns("user")[0] for _, r in cands]
    vecs = embedding.encode(users, cfg.embedding_model)
    pos = {j: k for k, (j, _) in enumerate(cands)}
    langs = [record_lang(r) for _, r in cands]
    sims = vecs @ vecs.T if len(cands) else np.zeros((0, 0))
    out = []
    for idx, rec in items:
        k = pos[idx]
        order = np.argsort(-sims[k], kind="stable")
        used = 0
        for o in order:
            if used >= cfg.n:
                break
            s = float(sims[k, o])
            _j, partner = cands[o]
            if o == k or partner.domain != rec.domain or langs[o] != langs[k]:
                continue
            if s >= cfg.context_max_sim:
                ctx.count("context_partner_too_similar", 1)
                continue
            if s < cfg.context_min_sim:
                break  # sorted: every later partner is further off topic
            ov = topic_overlap(users[k], users[o])
            if ov < cfg.context_min_overlap:
                ctx.count("context_partner_low_overlap", 1)
                continue
            system, turns = _split(rec)
            _, earlier = _split(partner)
            msgs = system + [Message(m.role, m.content, m.name) for m in earlier] + turns
            out.append(Variant(idx, msgs, "context", {"mode": "rules", "partner_id": partner.id,
                                                      "similarity": round(s, 3), "overlap": round(ov, 3)},
                               rec.turns("user")[0], earlier[0].content, check_as="context_rules"))
            used += 1
        if not used:
            ctx.count("context_no_partner", 1)
    return out


def _generate(items, ctx: OpContext) -> list[Variant]:
    cfg = ctx.config
    tpl = load_template("context_followup", cfg.prompt_file.get("context"))
    prompts = [render_dialogue_prompt(tpl, rec, cfg.n) for _, rec in items]
    answers = ctx.backend.generate(prompts, ctx.params)
    out: list[Variant] = []
    pending = []
    for (idx, rec), ans in zip(items, answers, strict=True):
        parsed = parse_json_list(ans)
        good = [x for x in parsed or [] if isinstance(x, dict) and isinstance(x.get("user"), str)
                and isinstance(x.get("assistant"), str) and x["user"].strip() and x["assistant"].strip()]
        if parsed is None or (parsed and not good):
            ctx.count("parse_failures", 1)
        for k, x in enumerate(good[: cfg.n]):
            pending.append((idx, rec, k, x["user"].strip(), x["assistant"].strip()))
    if not pending:
        return out
    src = [rec.turns("user")[0] for _, rec, *_ in pending]
    new = [u for *_, u, _a in pending]
    vecs = embedding.encode(src + new, cfg.embedding_model)
    cos = np.sum(vecs[: len(src)] * vecs[len(src):], axis=1)
    for (idx, rec, k, user, answer), c in zip(pending, cos, strict=True):
        msgs = [Message(m.role, m.content, m.name) for m in rec.messages] + [Message("user", user),
                                                                            Message("assistant", answer)]
        v = Variant(idx, msgs, "context", {"mode": "generate", "backend": ctx.backend.name, "variant": k,
                                           "similarity": round(float(c), 3)},
                    rec.turns("user")[0], user, check_as="context_generate")
        if c < cfg.context_min_sim:
            v.params["incoherent"] = True
        out.append(v)
    return out
