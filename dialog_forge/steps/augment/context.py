"""The ``context`` operator: single-turn records become multi-turn dialogues.

* Rule-based (``--context-mode rules``, the default with ``--backend rules``): within a batch, a
  single-turn record (one user turn, one assistant turn, optional system prompt) is prefixed with the
  exchange of another single-turn record of the same domain and language on a close topic. Two tests,
  both required:

  - lexical topic similarity (:func:`.topic.pair_topic_similarity`: TF-IDF cosine of character
    1-2-grams for Chinese, words otherwise, IDF over the batch so that question templates shared by many
    records weigh little; mean of the user-turn and assistant-turn cosines) at least
    ``--context-min-topic`` for the record's language (default ``zh=0.24,en=0.1,*=0.24``, see
    :data:`.topic.DEFAULT_MIN_TOPIC`). This is what keeps unrelated Chinese questions apart: the
    English-centred embedding model rates most Chinese pairs as similar;
  - embedding cosine of the two user turns in ``[--context-min-sim, --context-max-sim)`` (default
    [0.5, 0.95): related, but not a duplicate).

  The two user turns must also share a specific term (:meth:`.topic.TopicIndex.shared_specific`: a Han
  character pair or a word that is no generic modifier such as 原发性 / 老年 / 障碍 and that few user turns
  of the batch hold; counter ``context_partner_no_specific_term``): a sum of moderately common terms is
  not one topic. A partner is also skipped when the two user turns share nothing but a frame
  (:func:`.topic.template_only`, :func:`.topic.slot_pair`, counter ``context_partner_template_only``:
  "X的影像学检查有些什么？" with another X, "X忘记吃了怎么办？我在吃X" with another X), or when its turns hold
  PII the record's turns do not (``context_partner_pii``; the earlier exchange becomes part of the new
  dialogue). Only exchanges with a letter or Han character in both turns take part (:func:`chainable`,
  counter ``context_no_content``), and "same language" keeps Traditional and Simplified Chinese apart
  (:func:`chain_lang`); Japanese is ``ja``, not ``zh`` (:func:`.quality.detect_lang`).

  Partners are tried closest topic first (ties in batch order, so the result is deterministic), ``--n`` at
  most, and the record's own system prompt stays in front. The pool is the batch, so ``--batch-size``
  bounds it (and the IDF is the batch's: tiny batches cannot tell template words from topic words).
* Generative (``--context-mode generate``, the default with a model backend): the ``context_followup``
  template asks for follow-up exchanges (a JSON list of ``{"user", "assistant"}``) appended after the
  record's turns.

A new dialogue is only kept when it stays coherent: a rule-based partner must pass both tests above (else
the record simply gets no context variant: counters ``context_no_partner``, ``context_partner_low_cosine``,
``context_partner_too_similar``); a generated follow-up must be on topic (embedding cosine to the record's
user turn at least ``--context-min-sim``, else reason ``incoherent``; only the embedding guards this mode,
so name a multilingual ``--embedding-model`` for Chinese data). The added turns then go through the
variant check (identical / near copy / language / new PII) against the record's user turn.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from ...models import embedding
from ...schema import Dialogue, Message
from .base import OpContext, Variant, record_lang, render_dialogue_prompt
from .prompting import load_template, parse_json_list
from .quality import pii_values
from .topic import TopicIndex, min_topic_for, slot_pair, template_only


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


#: Items whose rows are scored at once (bounds memory: ``BLOCK x batch`` floats per matrix).
BLOCK = 256
_CONTENT = re.compile(r"[^\W\d_]")  # a letter or a Han character


def chainable(rec: Dialogue) -> bool:
    """:func:`single_turn` and both turns hold at least one letter or Han character: an exchange such as
    ``"胃痛怎么办" / "。"`` or ``"?" / "👍"`` is no context for another question (counter
    ``context_no_content``)."""
    return single_turn(rec) and all(_CONTENT.search(m.content) for m in rec.messages if m.role != "system")


def chain_lang(rec: Dialogue) -> str | None:
    """The language two records must share to be chained: :func:`.base.record_lang`, with Chinese split by
    script (``zh-hant`` when OpenCC's t2s changes at least 2 and at least a tenth of the Han characters),
    so a Traditional-script exchange is never put in front of a Simplified one or the other way round."""
    lang = record_lang(rec)
    if lang != "zh":
        return lang
    text = "".join(m.content for m in rec.messages if m.role != "system")
    han = len(_HAN.findall(text))
    changed = sum(a != b for a, b in zip(text, _t2s().convert(text)))
    return "zh-hant" if changed >= 2 and changed * 10 >= han else "zh"


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _rules(items, ctx: OpContext, pool: list[Dialogue]) -> list[Variant]:
    cfg = ctx.config
    ok = [(i, r) for i, r in items if chainable(r)]
    ctx.count("context_no_content", len(items) - len(ok))
    items = ok
    cands = [(j, r) for j, r in enumerate(pool) if chainable(r)]
    if not items or len(cands) < 2:
        ctx.count("context_no_partner", len(items))
        return []
    users = [r.turns("user")[0] for _, r in cands]
    answers = [r.turns("assistant")[0] for _, r in cands]
    vecs = embedding.encode(users, cfg.embedding_model)
    pos = {j: k for k, (j, _) in enumerate(cands)}
    langs = [chain_lang(r) for _, r in cands]
    index = TopicIndex(users, answers)
    pii: dict[int, set] = {}

    def pii_of(k: int) -> set:
        if k not in pii:
            pii[k] = pii_values(users[k] + "\n" + answers[k], langs[k] if langs[k] in ("zh", "en") else None)
        return pii[k]

    out = []
    for start in range(0, len(items), BLOCK):
        block = items[start:start + BLOCK]
        ks = [pos[idx] for idx, _ in block]
        topics, sims = index.rows(ks), vecs[ks] @ vecs.T
        for (idx, rec), k, topic, sim in zip(block, ks, topics, sims, strict=True):
            least = min_topic_for((langs[k] or "*").split("-")[0], cfg.context_min_topic)
            order = np.lexsort((np.arange(len(cands)), -topic))  # closest topic first, ties by batch order
            used = 0
            for o in order:
                if used >= cfg.n:
                    break
                t, s = float(topic[o]), float(sim[o])
                _j, partner = cands[o]
                if o == k or partner.domain != rec.domain or langs[o] != langs[k]:
                    continue
                if t < least:
                    break  # sorted: every later partner is further off topic
                if s >= cfg.context_max_sim:
                    ctx.count("context_partner_too_similar", 1)
                    continue
                if s < cfg.context_min_sim:
                    ctx.count("context_partner_low_cosine", 1)
                    continue
                shared = index.shared_specific(k, o)
                if not shared:
                    ctx.count("context_partner_no_specific_term", 1)  # only generic/frequent terms in common
                    continue
                if template_only(users[k], users[o]) or slot_pair(users[k], users[o]):
                    ctx.count("context_partner_template_only", 1)  # same frame, different complaint
                    continue
                if pii_of(o) - pii_of(k):
                    ctx.count("context_partner_pii", 1)  # its turns would bring PII the record lacks
                    continue
                system, turns = _split(rec)
                _, earlier = _split(partner)
                msgs = system + [Message(m.role, m.content, m.name) for m in earlier] + turns
                out.append(Variant(idx, msgs, "context", {"mode": "rules", "partner_id": partner.id,
                                                          "similarity": round(s, 3), "topic": round(t, 3)},
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
