"""``forge augment``: more training dialogues from the ones you have, each variant checked and traced.

Operators (``--op``, repeatable; each runs on the original records, not on each other's output):
``noise`` (rule-based typos, fillers, punctuation and number-format noise), ``paraphrase`` (model
rewrites, or a synonym table with ``--backend rules``), ``backtranslate`` (source -> pivot -> source) and
``context`` (single-turn -> multi-turn). See the modules of :mod:`dialog_forge.steps.augment`.

Per batch: records whose message content is not a string are rejected (``invalid_content``; the Python
API may hand such objects in, files are checked by the reader); ``--ratio`` of the rest are chosen (a
seeded draw per record id, so the choice does not depend on batching); every operator proposes variants;
each variant is derived from its parent (new id, ``lineage.parent_id``, ``root_id``, the op and its
params, metadata copied) and checked (:mod:`.quality`). Output order: each record, then its kept
variants. Counting: every variant is ``generated``; failed variants go to the rejects with their reason;
with ``--no-keep-original`` an original that got variants is rejected as ``replaced``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Literal

from ...backends.options import BackendOptions, make_backend
from ...errors import ForgeError
from ...pipeline.lineage import derive
from ...pipeline.registry import register_step
from ...pipeline.step import BatchResult, Step, StepConfig, cfg_field
from ...schema import Dialogue, content_id
from .backtranslate import backtranslate_variants
from .base import OpContext, Variant
from .context import context_variants
from .noise import NOISE_KINDS
from .noise_op import noise_variants
from .paraphrase import paraphrase_variants
from .quality import CHECK_REASONS, QualityConfig, VariantChecker, char_jaccard, pii_detector
from .report import DiversityTracker, before_after, format_table

OPS = ("noise", "paraphrase", "backtranslate", "context")


@dataclass
class _AugmentFields(StepConfig):
    """The operator flags of ``forge augment`` (listed first in ``--help``)."""

    op: list[str] = cfg_field(["noise"], help="Operator, repeatable: noise, paraphrase, backtranslate, context.")
    n: int = cfg_field(1, help="Variants per record and operator (at most).")
    ratio: float = cfg_field(1.0, help="Share of records to augment, 0-1 (a seeded draw per record id).")
    rate: float = cfg_field(0.1, help="noise / synonym swaps: chance that each eligible token is edited, (0, 1].")
    seed: int = cfg_field(0, help="Seed of every random choice (noise, ratio, sampling).")
    keep_original: bool = cfg_field(True, help="Output the original records too (else an original with "
                                               "variants is rejected as 'replaced').")
    roles: list[str] = cfg_field(["user"], help="Roles whose turns noise / paraphrase / backtranslate change.")
    scope: Literal["turn", "dialogue"] = cfg_field(
        "turn", help="paraphrase: rewrite each chosen turn ('turn') or the whole dialogue at once ('dialogue').")
    noise_kinds: list[str] = cfg_field(list(NOISE_KINDS), help="Noise kinds to use: " + ", ".join(NOISE_KINDS) + ".")
    protect: list[str] = cfg_field([], help="Terms noise and synonym swaps never touch (names, product codes).")
    synonyms: str | None = cfg_field(
        None, help="Synonym table for --op paraphrase with --backend rules: one group per line, words "
                   "separated by tabs, commas or |.")
    pivot: dict[str, str] = cfg_field({"zh": "en", "en": "zh"},
                                      help="backtranslate: source language -> pivot language, e.g. zh=en,en=ja.")
    context_mode: Literal["auto", "rules", "generate"] = cfg_field(
        "auto", help="context: 'rules' chains same-domain records on a close topic, 'generate' asks the backend "
                     "for follow-ups; 'auto' = rules with --backend rules, else generate.")
    context_min_sim: float = cfg_field(
        0.5, help="context: least embedding cosine between the joined user turns (on topic).")
    context_min_topic: dict[str, float] = cfg_field(
        {}, help="context (rules): least lexical topic similarity (TF-IDF cosine of Han character 1-2-grams / "
                 "words, IDF over the batch; mean of user and assistant turns) per language, LANG=VALUE with an ISO "
                 "639 code (zh-CN counts as zh) or * for any other; unnamed languages keep the defaults "
                 "zh=0.24,en=0.1,*=0.24. Raise it for fewer, closer chains.")
    context_max_sim: float = cfg_field(
        0.95, help="context (rules): partners at or above this cosine are near duplicates and not used.")
    prompt_file: dict[str, str] = cfg_field(
        {}, help="Prompt template overrides, OP=PATH (Jinja; ops: paraphrase, context).")
    min_cosine: float = cfg_field(0.7, help="Variant check: least embedding cosine to the source (drift).")
    max_jaccard: float = cfg_field(0.9, help="Variant check: most character-bigram Jaccard to the source "
                                             "(near copy).")
    embedding_model: str = cfg_field(
        "minilm", help="Sentence-embedding model for the checks and rule-based context (path or hub name).")
    report: bool = cfg_field(False, help="Print the before/after table (records, tasks, turns, diversity) "
                                         "on stderr at the end.")


@dataclass
class AugmentConfig(BackendOptions, _AugmentFields):
    """Flags of ``forge augment``: the operator flags, then the backend flags of :class:`BackendOptions`."""


@register_step
class AugmentStep(Step):
    """The augment step (see the module docstring)."""

    name = "augment"
    config_class = AugmentConfig
    reasons = {
        "invalid_content": "a message content is not a string (input record)",
        "replaced": "--no-keep-original: the original record was replaced by its variants",
        "incoherent": "context: the added turn is off topic (cosine below --context-min-sim)",
        **CHECK_REASONS,
    }

    def __init__(self, config: AugmentConfig | None = None, backend=None):
        super().__init__(config)
        self._backend = backend
        self._ctx: OpContext | None = None
        self._before = DiversityTracker()
        self._after = DiversityTracker()

    # -- setup -----------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Validate the flags and build the backend. Raises :class:`ForgeError` for a bad value."""
        c = self.config
        bad = [o for o in c.op if o not in OPS]
        if bad or not c.op:
            raise ForgeError(f"--op {', '.join(bad) or '(none)'}: choose among {', '.join(OPS)}")
        bad = [k for k in c.noise_kinds if k not in NOISE_KINDS]
        if bad:
            raise ForgeError(f"--noise-kinds {', '.join(bad)}: choose among {', '.join(NOISE_KINDS)}")
        bad = [r for r in c.roles if r not in ("system", "user", "assistant", "tool")]
        if bad or not c.roles:
            raise ForgeError(f"--roles {', '.join(bad) or '(none)'}: choose among system, user, assistant, tool")
        if c.n < 1:
            raise ForgeError(f"--n must be at least 1, got {c.n}")
        if not 0 <= c.ratio <= 1:
            raise ForgeError(f"--ratio must be between 0 and 1, got {c.ratio}")
        if not 0 < c.rate <= 1:
            raise ForgeError(f"--rate must be in (0, 1], got {c.rate}")
        for flag, v in (("--context-min-sim", c.context_min_sim), ("--min-cosine", c.min_cosine)):
            if not -1 <= v <= 1:
                raise ForgeError(f"{flag} {v}: a least cosine must be between -1 and 1, e.g. {flag} 0.5")
        if "context" in c.op and c.context_min_sim >= c.context_max_sim:
            raise ForgeError(f"--context-min-sim {c.context_min_sim} is not below --context-max-sim "
                             f"{c.context_max_sim}: no partner could ever qualify; e.g. --context-min-sim 0.5 "
                             "--context-max-sim 0.95")
        bad = {k: v for k, v in c.context_min_topic.items() if not 0 <= v <= 1}
        topic = {}
        for k, v in c.context_min_topic.items():
            key = k.strip() if k.strip() == "*" else k.strip().lower().replace("_", "-").split("-")[0]
            if not re.fullmatch(r"[a-z]{2,3}|\*", key):
                raise ForgeError(f"--context-min-topic {k}={v}: {k!r} is not a language code; name languages "
                                 "by ISO 639 code (zh, en, ja...) or '*' for any other, e.g. zh=0.24,en=0.1")
            topic[key] = v  # zh-CN, ZH and zh_Hans all mean zh, as record languages do
        c.context_min_topic = topic
        if bad:
            raise ForgeError(f"--context-min-topic {','.join(f'{k}={v}' for k, v in bad.items())}: each value "
                             "must be between 0 and 1, e.g. zh=0.24,en=0.1")
        for op in c.prompt_file:
            if op not in ("paraphrase", "context"):
                raise ForgeError(f"--prompt-file {op}=...: templates exist for paraphrase and context only")
        if self._backend is None:
            self._backend = make_backend(c)
        if self._backend is None and "backtranslate" in c.op:
            raise ForgeError("--op backtranslate needs a translation backend: --backend hf --model "
                             "'Helsinki-NLP/opus-mt-{src}-{tgt}' or --backend openai --base-url URL --model NAME")
        if self._backend is None and "paraphrase" in c.op and not c.synonyms:
            raise ForgeError("--op paraphrase with --backend rules needs --synonyms FILE; or use --backend "
                             "openai/hf for model paraphrases")
        if self._backend is None and c.context_mode == "generate" and "context" in c.op:
            raise ForgeError("--context-mode generate needs --backend openai or hf")
        self._ctx = OpContext(config=c, backend=self._backend, params=c.gen_params(c.seed), count=self.count)
        self._checker = VariantChecker(QualityConfig(c.min_cosine, c.max_jaccard, c.embedding_model))

    # -- one batch -------------------------------------------------------------------------------------
    def process(self, batch: list[Dialogue]) -> BatchResult:
        if self._ctx is None:
            self.setup()
        c, ctx = self.config, self._ctx
        res = BatchResult()
        valid: list[Dialogue] = []
        for rec in batch:
            err = _content_error(rec)
            if err:
                res.rejects.append(self.reject(rec, "invalid_content", err))
            else:
                valid.append(rec)
        self._before.add(valid)
        chosen = [(i, r) for i, r in enumerate(valid) if c.ratio >= 1 or ctx.rng(r.id, "ratio").random() < c.ratio]
        self.count("records_selected", len(chosen))
        variants: list[Variant] = []
        for op in c.op:
            if op == "noise":
                variants += noise_variants(chosen, ctx)
            elif op == "paraphrase":
                variants += paraphrase_variants(chosen, ctx)
            elif op == "backtranslate":
                variants += backtranslate_variants(chosen, ctx)
            elif op == "context":
                variants += context_variants(chosen, ctx, valid)
        variants = self._dedupe(variants)
        verdicts = self._checker.check([(v.source_text, v.variant_text, v.check_as) for v in variants])
        cosines = self._checker.last_cosines
        kids: dict[int, list[Dialogue]] = {}
        for v, reason, cos in zip(variants, verdicts, cosines, strict=True):
            incoherent = v.params.pop("incoherent", False)
            if reason is None and incoherent:
                reason = "incoherent"
            rec = derive(valid[v.parent], v.messages, v.op, v.params)
            res.generated += 1
            if reason:
                self.count(f"variants_rejected.{v.op}")
                res.rejects.append(self.reject(rec, reason, _detail(v, reason, cos, c)))
            else:
                self.count(f"variants_kept.{v.op}")
                kids.setdefault(v.parent, []).append(rec)
        chosen_idx = {i for i, _ in chosen}
        for i, rec in enumerate(valid):
            mine = kids.get(i, [])
            if i in chosen_idx and not mine:
                self.count("records_without_variant")
            if c.keep_original or not mine:
                res.kept.append(rec)
            else:
                res.rejects.append(self.reject(rec, "replaced", f"replaced by {len(mine)} variant(s)"))
            res.kept.extend(mine)
        self._after.add(res.kept)
        return res

    def _dedupe(self, variants: list[Variant]) -> list[Variant]:
        seen, out = set(), []
        for v in variants:
            key = (v.parent, content_id(v.messages))
            if key in seen:
                self.count("duplicate_variants")
                continue
            seen.add(key)
            out.append(v)
        return out

    # -- end -------------------------------------------------------------------------------------------
    def report_table(self) -> dict[str, dict[str, float]]:
        """The before/after figures so far (see :mod:`.report`)."""
        return before_after(self._before, self._after)

    def finish(self) -> BatchResult:
        if self.config.report:
            print("augment report\n" + format_table(self.report_table()), file=sys.stderr)
        if self._backend is not None and hasattr(self._backend, "close"):
            self._backend.close()
        return BatchResult()

    def summary(self) -> dict[str, int | float]:
        """The counters for the stats, numbers only: the step's counters, the before/after table flattened
        as ``report.<before|after>.<figure>`` (``report.before.records``...), the PII detector used as
        ``pii_detector.<presidio|regex>: 1``, and with a model backend its counts under ``backend``
        (``{"requests": .., "cache_hits": .., "retries": .., "failures": ..}``, as the other steps nest
        their counts). The table itself: :meth:`report_table`."""
        out = dict(self.counters)
        for col, figures in self.report_table().items():
            out.update({f"report.{col}.{k}": v for k, v in figures.items() if isinstance(v, (int, float))})
        out[f"pii_detector.{pii_detector()}"] = 1
        if self._backend is not None:
            out["backend"] = self._backend.stats.to_dict()  # counts only (requests, cache_hits, retries...)
        return out


def _content_error(rec: Dialogue) -> str | None:
    for i, m in enumerate(rec.messages):
        if not isinstance(m.content, str):
            return (f"messages[{i}].content must be a string, got {type(m.content).__name__}; join list "
                    "contents into one string before augmenting")
    return None


def _detail(v: Variant, reason: str, cos: float, c: AugmentConfig) -> str:
    if reason == "drift":
        return f"{v.op}: cosine {cos:.3f} < --min-cosine {c.min_cosine}"
    if reason == "near_copy":
        return f"{v.op}: character Jaccard {char_jaccard(v.source_text, v.variant_text):.3f} > --max-jaccard {c.max_jaccard}"
    if reason == "incoherent":
        return f"{v.op}: cosine {v.params.get('similarity')} < --context-min-sim {c.context_min_sim}"
    return f"{v.op}: {CHECK_REASONS.get(reason, reason)}"
