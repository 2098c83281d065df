"""``forge synth``: new dialogues from seed examples and a knowledge base, or straight from a FAQ file.

Generation (``synthesize``), as in the chapter's pipeline:

1. intents: the ``task`` of each seed record (``meta.intent`` when empty, else ``general``), with up to 5
   example user questions each;
2. expansion: ``--expand-intents N`` asks the backend for N more intents of the same kind
   (``synth_intents`` template);
3. questions: ``--questions-per-intent`` question variants per intent (``synth_questions``);
4. retrieval: the ``--top-k`` best knowledge-base passages per question (BM25, :mod:`.retrieve`); a
   question with no matching passage is dropped (``no_passage``);
5. grounded answers: the backend answers from those passages only and names the passages it used
   (``synth_answer``); the ids are checked against the retrieved ones and kept in ``meta.kb_passage_ids``;
6. quality: each question/answer passes the check below;
7. assembly: ``--multi-turn-ratio`` of the pairs of an intent are joined into dialogues of 2 to
   ``--max-turns`` exchanges; the rest stay single-turn.

Checks (reason counted in the stats): ``parse_failure`` (answer not a JSON list of the asked shape),
``empty``, ``lang_changed`` (question or answer not in the seeds' language), ``near_copy`` (question
character-bigram Jaccard to a seed question above ``--max-jaccard``), ``duplicate`` (a question already
made), ``ungrounded`` (no valid passage id cited), ``new_pii`` (PII in the answer that the passages do not
hold, or any PII in a question).

``faq_to_dialogues`` turns each FAQ row into a single-turn dialogue (``--from-faq``), the "knowledge base
conversion" data source; rows with an empty question or answer are counted (``faq_row_skipped``).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...backends.base import Backend
from ...backends.options import BackendOptions
from ...pipeline.step import cfg_field
from ...schema import Dialogue, Lineage, Message, content_id
from ..augment.base import lang_name, record_lang
from ..augment.prompting import load_template, parse_json_list, render, string_items
from ..augment.quality import char_jaccard, detect_lang, lang_matches, normalize, pii_values
from ...kb import Passage, read_faq
from .retrieve import BM25Index

SYNTH_REASONS = ("parse_failure", "empty", "lang_changed", "near_copy", "duplicate", "ungrounded", "new_pii",
                 "no_passage")


@dataclass
class _SynthFields:
    """The data and generation flags of ``forge synth`` (listed first in ``--help``)."""

    seeds: list[str] = cfg_field([], help="Seed records (canonical JSONL/Parquet): their tasks are the intents "
                                          "to expand and their user turns the examples.")
    kb: list[str] = cfg_field([], help="Knowledge base: Markdown, text, CSV/TSV FAQ or JSONL passage files, or "
                                       "directories of them (repeatable).")
    from_faq: str | None = cfg_field(None, help="Turn this FAQ file (CSV/TSV/JSONL with question and answer "
                                                "columns) straight into single-turn dialogues; no backend needed.")
    expand_intents: int = cfg_field(0, help="New intents to ask the backend for, beyond the seeds' own.")
    questions_per_intent: int = cfg_field(5, help="Question variants generated per intent.")
    top_k: int = cfg_field(3, help="Knowledge-base passages retrieved (BM25) per question.")
    chunk_chars: int = cfg_field(800, help="Longest passage in characters when chunking Markdown/text.")
    multi_turn_ratio: float = cfg_field(0.3, help="Share of question/answer pairs assembled into multi-turn "
                                                  "dialogues (pairs of one intent).")
    max_turns: int = cfg_field(3, help="Most exchanges in an assembled multi-turn dialogue.")
    max_jaccard: float = cfg_field(0.9, help="A generated question with character Jaccard above this to a seed "
                                             "question is a near copy.")
    domain: str | None = cfg_field(None, help="Domain of the output records (default: the seeds' domain per "
                                              "intent).")
    lang: str | None = cfg_field(None, help="Language of the output (default: the seeds' majority language).")
    seed: int = cfg_field(0, help="Seed of sampling and assembly.")
    prompt_file: dict[str, str] = cfg_field({}, help="Template overrides, NAME=PATH for synth_intents, "
                                                     "synth_questions, synth_answer.")


@dataclass
class SynthConfig(BackendOptions, _SynthFields):
    """Flags of ``forge synth``: its own flags, then the backend flags of :class:`BackendOptions`."""


def _intents(seeds: list[Dialogue]) -> tuple[dict[str, list[str]], dict[str, str | None]]:
    examples: dict[str, list[str]] = defaultdict(list)
    domains: dict[str, Counter] = defaultdict(Counter)
    for s in seeds:
        intent = s.task or (s.meta.get("intent") if isinstance(s.meta, dict) else None) or "general"
        users = [u for u in s.turns("user") if u.strip()]
        if users and len(examples[intent]) < 5:
            examples[intent].append(users[0])
        examples.setdefault(intent, [])
        domains[intent][s.domain] += 1
    return dict(examples), {k: c.most_common(1)[0][0] for k, c in domains.items()}


def synthesize(seeds: list[Dialogue], passages: list[Passage], backend: Backend, cfg: SynthConfig,
               count: Callable[[str, int], None]) -> list[Dialogue]:
    """Generated, checked and assembled dialogues (see the module docstring). ``count(key, n)`` receives
    the counters (``rejected.<reason>``, ``intents``, ``questions``, ``pairs``...)."""
    params = cfg.gen_params(cfg.seed)
    over = cfg.prompt_file
    langs = Counter(record_lang(s) for s in seeds)
    lang = cfg.lang or (langs.most_common(1)[0][0] if langs else None)
    lang = lang.split("-")[0].split("_")[0].lower() if lang else None  # --lang zh-CN means zh, as records do
    examples, domains = _intents(seeds)
    seed_questions = [q for qs in examples.values() for q in qs]
    count("intents_from_seeds", len(examples))

    def reject(reason: str, n: int = 1) -> None:
        count(f"rejected.{reason}", n)

    # 2. expansion
    if cfg.expand_intents > 0:
        tpl = load_template("synth_intents", over.get("synth_intents"))
        ans = backend.generate([render(tpl, intents=sorted(examples), examples=seed_questions[:10],
                                       n=cfg.expand_intents, lang_name=lang_name(lang))], params)[0]
        new = string_items(parse_json_list(ans))
        if new is None:
            reject("parse_failure")
        else:
            for x in new[: cfg.expand_intents]:
                name = "_".join(x.strip().lower().split())
                if name and name not in examples:
                    examples[name] = []
                    domains[name] = cfg.domain or (Counter(domains.values()).most_common(1)[0][0] if domains else None)
                    count("intents_expanded", 1)
    # 3. questions
    tpl = load_template("synth_questions", over.get("synth_questions"))
    intents = sorted(examples)
    answers = backend.generate([render(tpl, intent=i, examples=examples[i], n=cfg.questions_per_intent,
                                       lang_name=lang_name(lang)) for i in intents], params)
    questions: list[tuple[str, str]] = []
    seen = {normalize(q) for q in seed_questions}
    for intent, ans in zip(intents, answers, strict=True):
        qs = string_items(parse_json_list(ans))
        if qs is None:
            reject("parse_failure")
            continue
        for q in qs[: cfg.questions_per_intent]:
            if not lang_matches(q, lang):
                reject("lang_changed")
            elif pii_values(q):
                reject("new_pii")
            elif normalize(q) in seen:
                reject("duplicate")
            elif any(char_jaccard(q, s) > cfg.max_jaccard for s in examples[intent]):
                reject("near_copy")
            else:
                seen.add(normalize(q))
                questions.append((intent, q))
    count("questions", len(questions))
    # 4. retrieval
    index = BM25Index(passages)
    grounded = []
    for intent, q in questions:
        hits = index.search(q, cfg.top_k)
        if hits:
            grounded.append((intent, q, [p for p, _ in hits]))
        else:
            reject("no_passage")
    # 5. grounded answers
    tpl = load_template("synth_answer", over.get("synth_answer"))
    answers = backend.generate([render(tpl, question=q, passages=[{"id": p.id, "text": p.text} for p in ps],
                                       lang_name=lang_name(lang)) for _, q, ps in grounded], params)
    pairs: list[dict[str, Any]] = []
    for (intent, q, ps), ans in zip(grounded, answers, strict=True):
        parsed = parse_json_list(ans)
        obj = parsed[0] if parsed and isinstance(parsed[0], dict) else None
        if obj is None or not isinstance(obj.get("answer"), str) or not isinstance(obj.get("passage_ids", []), list):
            reject("parse_failure")
            continue
        a = obj["answer"].strip()
        ids = [str(x) for x in obj.get("passage_ids", [])]
        valid = [p for p in ps if p.id in ids]
        if not a:
            reject("empty")
        elif not lang_matches(a, lang):
            reject("lang_changed")
        elif not valid:
            reject("ungrounded")
        elif pii_values(a) - set().union(*(pii_values(p.text) for p in valid)):
            reject("new_pii")
        else:
            pairs.append({"intent": intent, "question": q, "answer": a, "passages": [p.id for p in valid],
                          "retrieved": [p.id for p in ps]})
    count("pairs", len(pairs))
    # 7. assembly
    rng = random.Random(cfg.seed)
    by_intent: dict[str, list[dict]] = defaultdict(list)
    for p in pairs:
        by_intent[p["intent"]].append(p)
    out: list[Dialogue] = []
    op_params = {"backend": getattr(backend, "name", "?"), "model": cfg.model, "top_k": cfg.top_k, "seed": cfg.seed}
    for intent in sorted(by_intent):
        group = by_intent[intent]
        i = 0
        while i < len(group):
            size = 1
            if len(group) - i >= 2 and rng.random() < cfg.multi_turn_ratio:
                size = rng.randint(2, min(cfg.max_turns, len(group) - i))
            chunk = group[i:i + size]
            i += size
            msgs = [m for p in chunk for m in (Message("user", p["question"]), Message("assistant", p["answer"]))]
            out.append(_record(msgs, intent, cfg.domain or domains.get(intent), lang,
                               meta={"kb_passage_ids": [p["passages"] for p in chunk],
                                     "kb_retrieved_ids": [p["retrieved"] for p in chunk],
                                     "synth": {"method": "kb_grounded"}},
                               source={"file": ",".join(cfg.kb) or None}, op_params=op_params))
    count("dialogues", len(out))
    count("multi_turn_dialogues", sum(1 for d in out if len(d.messages) > 2))
    return out


def _record(msgs: list[Message], task: str | None, domain: str | None, lang: str | None, *, meta: dict,
            source: dict, op_params: dict) -> Dialogue:
    rid = content_id(msgs, prefix="synth-")
    return Dialogue(id=rid, messages=msgs, domain=domain, task=task, lang=lang, source=source, meta=meta,
                    lineage=Lineage(root_id=rid, parent_id=None, ops=[{"op": "synth", "params": op_params}]))


def faq_to_dialogues(path: str, *, domain: str | None = None, lang: str | None = None,
                     count: Callable[[str, int], None] = lambda k, n: None) -> list[Dialogue]:
    """One single-turn dialogue per FAQ row of ``path`` (see :func:`~.kb.read_faq` for the columns).
    ``meta.kb_passage_ids`` names the row (``<file stem>#<id or row>``); ``task`` comes from a
    category/intent column when present. Raises :class:`~dialog_forge.errors.ForgeError` for a missing or
    malformed file."""
    p = Path(path)
    if not p.is_file():
        from ...errors import ForgeError

        raise ForgeError(f"--from-faq {path}: no such file")
    passages, skipped = read_faq(p)
    count("faq_rows", len(passages) + len(skipped))
    count("faq_row_skipped", len(skipped))
    out = []
    for ps in passages:
        msgs = [Message("user", ps.question), Message("assistant", ps.answer)]
        d = _record(msgs, ps.task, domain, lang or detect_lang(ps.question + ps.answer),
                    meta={"kb_passage_ids": [[ps.id]], "synth": {"method": "from_faq"}},
                    source={"file": str(p), "row": ps.extra.get("row")},
                    op_params={"method": "from_faq"})
        out.append(d)
    return out
