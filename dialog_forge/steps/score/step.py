"""``forge score``: weighted quality scores, a keep/review/drop decision, a language and a label check.

Every record gets ``quality = {score, components, decision, flags}``:

* ``components`` -- ``relevance`` (mean over pairs) and ``relevance_min``, ``information``, ``format``,
  plus ``fact`` (with ``--kb``, on the ``--kb-domains`` records, when the KB covers a reply sentence),
  ``instruction`` (when the record's task has a template), ``fluency`` (with ``--lm``) and ``safety`` (the
  clean step's verdict, else recomputed with its lexicon gate unless ``--no-safety-recheck``). Absent
  components are left out and the weights renormalise (:mod:`.weights`).
* ``score`` -- the weighted mean, forced to 0 when ``safety`` is 0 (flag ``unsafe``) or ``relevance`` is
  under ``--relevance-floor`` (flag ``off_topic``). A record none of whose weighted components applies
  (e.g. ``--weights instruction=1`` and no template for its task) gets score 0, flag ``unscored`` and
  decision ``review``; weights that no component of the run can meet (``fact`` without ``--kb``) are an
  error.
* ``decision`` -- ``keep`` when score > ``--keep-above``, ``drop`` when score <= ``--drop-at-or-below``,
  else ``review``. A label-check disagreement moves ``keep`` to ``review`` (flag ``label_disagrees``, with
  ``quality.label_check``).

The language check sets ``lang`` when it is empty (:mod:`.language`) and flags ``lang_mismatch`` when
the record says otherwise. Embedding work is batched: each distinct text of a batch (turns, and reply
sentences for ``fact``) is encoded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ForgeError
from ...models.embedding import DEFAULT_EMBEDDING_MODEL, encode
from ...pipeline.lineage import add_op
from ...pipeline.registry import register_step
from ...pipeline.step import BatchResult, Step, StepConfig, cfg_field
from ...schema import Dialogue
from .fact import fact as fact_component
from .fact import sentences
from .fluency import PerplexityModel, fluency_from_perplexity
from .format import format_score
from .information import information
from .instruction import instruction, load_templates
from ...kb import load_kb
from .labels import knn_label_issues
from .language import dialogue_language
from .relevance import relevance
from .safety import safety
from .weights import parse_weights, weighted_score

LABEL_FIELDS = ("domain", "task", "lang")


@dataclass
class ScoreConfig(StepConfig):
    """Options of ``forge score``."""

    weights: str | None = cfg_field(None, help="Component weights: COMPONENT=W pairs (e.g. relevance=0.3,"
                                    "information=0.2,format=0.2,fact=0.3, the default), a profile name "
                                    "('default', or 'chapter': fact 0.3, relevance 0.25, fluency 0.15, "
                                    "instruction 0.2, safety 0.1) or a YAML file of component: weight.")
    embedding_model: str = cfg_field(DEFAULT_EMBEDDING_MODEL, help="Sentence-embedding model (hub name or "
                                     "local path) for relevance, fact and the label check; 'minilm' is the "
                                     "bundled offline all-MiniLM-L6-v2.")
    kb: str | None = cfg_field(None, help="Knowledge base for the fact component: a file or folder of Markdown "
                               "(sections), .txt (paragraphs), CSV FAQ or .jsonl passages, read as forge synth "
                               "reads it; without it fact is omitted.")
    kb_domains: list[str] = cfg_field([], help="Only check fact on records of these domains (e.g. medical for "
                                      "a medical KB); default: every record.")
    templates: str | None = cfg_field(None, help="YAML file of task -> section -> cue words for the "
                                      "instruction component (adds to the built-in medical_consultation).")
    lm: str | None = cfg_field(None, help="Small causal LM (hub name or local path) for the fluency "
                               "component (perplexity); without it fluency is omitted.")
    safety_recheck: bool = cfg_field(True, help="For records that did not pass `forge clean`'s safety gate, "
                                     "recompute the verdict with its lexicons (0 forces the score to 0).")
    relevance_floor: float = cfg_field(0.5, help="Relevance (on the [0,1] scale) under which the score is "
                                       "set to 0 (off-topic).")
    keep_above: float = cfg_field(0.8, help="Decision 'keep' when score > this.")
    drop_at_or_below: float = cfg_field(0.6, help="Decision 'drop' when score <= this; between the two: "
                                        "'review'.")
    drop: bool = cfg_field(False, help="Send records decided 'drop' to the rejects (reason low_score, "
                           "off_topic or unsafe) instead of passing them on.")
    review_out: str | None = cfg_field(None, help="Write the review queue (decision 'review') to this "
                                       "file (.jsonl or .parquet) as well.")
    check_labels: list[str] = cfg_field([], help="Labels to check against the k nearest neighbours in "
                                        "embedding space: domain, task and/or lang (e.g. domain,task). Holds "
                                        "all records in memory.")
    label_k: int = cfg_field(10, help="Neighbours consulted by --check-labels.")
    label_min_confidence: float = cfg_field(0.7, help="Share of the neighbours that must agree on another "
                                            "label before a record is flagged.")
    encode_batch_size: int = cfg_field(64, help="Texts per forward pass of the embedding model.")


@register_step
class ScoreStep(Step):
    """Score each record; see the module docstring."""

    name = "score"
    reasons = {
        "low_score": "quality score at or below --drop-at-or-below (only with --drop)",
        "off_topic": "relevance under --relevance-floor, so the score was set to 0 (only with --drop)",
        "unsafe": "the safety component is 0, so the score was set to 0 (only with --drop)",
    }
    config_class = ScoreConfig

    def __init__(self, config: ScoreConfig | None = None):
        super().__init__(config)
        c: ScoreConfig = self.config
        c.check_labels = [k.strip() for v in c.check_labels for k in v.split(",") if k.strip()]
        c.kb_domains = [k.strip() for v in c.kb_domains for k in v.split(",") if k.strip()]
        self.weights = parse_weights(c.weights)
        possible = {"relevance", "relevance_min", "information", "format", "instruction", "safety"}
        possible |= ({"fact"} if c.kb else set()) | ({"fluency"} if c.lm else set())
        if not any(w > 0 for k, w in self.weights.items() if k in possible):
            need = {"fact": "fact needs --kb FILE", "fluency": "fluency needs --lm MODEL"}
            why = "; ".join(need[k] for k, w in self.weights.items() if w > 0 and k in need)
            raise ForgeError(f"--weights {c.weights}: every weighted component is left out of this run ({why}), so "
                             "every record would score 0; add the missing option or weight another component.")
        bad = sorted(set(c.check_labels) - set(LABEL_FIELDS))
        if bad:
            raise ForgeError(f"--check-labels: unknown label field(s) {bad}; choose from {', '.join(LABEL_FIELDS)}.")
        if not 0 <= c.drop_at_or_below <= c.keep_above <= 1:
            raise ForgeError("--drop-at-or-below and --keep-above must satisfy 0 <= drop <= keep <= 1.")
        if c.label_k < 1:
            raise ForgeError("--label-k must be at least 1.")
        self.global_step = bool(c.check_labels)  # type: ignore[misc]
        self.kb_passages: list[str] = []
        self.kb_matrix: np.ndarray | None = None
        self.templates = load_templates(c.templates)
        self.lm: PerplexityModel | None = None
        self.safety_gate = None
        self._held: list[tuple[Dialogue, np.ndarray]] = []
        self._review: list[Dialogue] = []
        self._score_sum = 0.0
        self._scored = 0
        self._domains: dict[str, int] = {}
        self._ready = False

    # -- setup -----------------------------------------------------------------------------------
    def setup(self) -> None:
        """Load the KB (and its embeddings) and the LM once."""
        if self._ready:
            return
        c: ScoreConfig = self.config
        if c.kb:
            # compare sentence with sentence, so negations and numbers of one KB fact are judged alone
            self.kb_passages = list(dict.fromkeys(s for p in (q.text for q in load_kb([c.kb])) for s in (sentences(p) or [p])))
            self.kb_matrix = self._encode(self.kb_passages)
        if c.lm:
            self.lm = PerplexityModel(c.lm)
        if c.safety_recheck:
            from ..safety import SafetyGate

            self.safety_gate = SafetyGate()
        self._ready = True

    def _kb_applies(self, r: Dialogue) -> bool:
        return not self.config.kb_domains or r.domain in self.config.kb_domains

    def _encode(self, texts: list[str]) -> np.ndarray:
        return encode(texts, self.config.embedding_model, batch_size=self.config.encode_batch_size)

    # -- scoring ---------------------------------------------------------------------------------
    def score_batch(self, batch: list[Dialogue]) -> list[np.ndarray]:
        """Set ``quality`` (and ``lang`` when empty) on every record of ``batch`` in place; returns each
        record's dialogue vector (normalised mean of its turn embeddings, for the label check)."""
        self.setup()
        c: ScoreConfig = self.config
        texts: dict[str, None] = {}
        for r in batch:
            for m in r.messages:
                if m.role in ("user", "assistant") and m.content:
                    texts.setdefault(m.content)
            if self.kb_matrix is not None and self._kb_applies(r):
                for reply in r.turns("assistant"):
                    for s in sentences(reply):
                        texts.setdefault(s)
        uniq = list(texts)
        vecs = self._encode(uniq) if uniq else np.zeros((0, 1), dtype=np.float32)
        emb = {t: vecs[i] for i, t in enumerate(uniq)}
        ppl: dict[str, float] = {}
        if self.lm is not None:
            replies = list(dict.fromkeys(t for r in batch for t in r.turns("assistant") if t.strip()))
            ppl = dict(zip(replies, self.lm.perplexities(replies)))
        out_vecs = []
        for r in batch:
            comps: dict[str, float | None] = {}
            rel = relevance(r, emb)
            comps["relevance"] = rel.mean
            comps["relevance_min"] = rel.min
            comps["information"] = information(r)
            comps["format"] = format_score(r)
            if self.kb_matrix is not None and self._kb_applies(r):
                comps["fact"] = fact_component(r, emb, self.kb_passages, self.kb_matrix)
            comps["instruction"] = instruction(r, self.templates)
            if self.lm is not None:
                vals = [fluency_from_perplexity(ppl[t]) for t in r.turns("assistant") if t in ppl]
                comps["fluency"] = sum(vals) / len(vals) if vals else None
            comps["safety"] = safety(r, self.safety_gate)
            comps = {k: (round(v, 4) if v is not None else None) for k, v in comps.items() if v is not None}
            score = weighted_score(comps, self.weights)
            flags = []
            if comps.get("safety") == 0.0:
                flags.append("unsafe")
            if "relevance" in comps and comps["relevance"] < c.relevance_floor:
                flags.append("off_topic")
            unscored = score is None and not flags
            if score is None or flags:
                score = 0.0
            decision = "keep" if score > c.keep_above else ("drop" if score <= c.drop_at_or_below else "review")
            if unscored:  # no weighted component applies to this record: a person decides, not a made-up 0
                flags.append("unscored")
                decision = "review"
            lang = dialogue_language([m.content for m in r.messages if m.role in ("user", "assistant")])
            if r.lang is None:
                if lang != "und":
                    r.lang = lang
            elif lang != "und" and r.lang.split("-")[0].lower() != lang:
                flags.append("lang_mismatch")
                self.count("lang_mismatch")
            r.quality = {"score": round(float(score), 4), "components": comps, "decision": decision, "flags": flags}
            if lang != "und":
                r.quality["lang_detected"] = lang
            add_op(r, "score", self.config.changed_params())
            turn_vecs = [emb[m.content] for m in r.messages if m.content in emb and m.role in ("user", "assistant")]
            v = np.mean(turn_vecs, axis=0) if turn_vecs else np.zeros(vecs.shape[1] if vecs.size else 1, np.float32)
            n = float(np.linalg.norm(v))
            out_vecs.append(v / n if n > 0 else v)
        return out_vecs

    def _route(self, records: list[Dialogue]) -> BatchResult:
        res = BatchResult()
        c: ScoreConfig = self.config
        for r in records:
            q = r.quality or {}
            d = q.get("decision")
            self.count(f"decision_{d}")
            self._score_sum += float(q.get("score") or 0.0)
            self._scored += 1
            if not (d == "drop" and c.drop):
                dom = r.domain or "(none)"
                self._domains[dom] = self._domains.get(dom, 0) + 1
            for f in q.get("flags", []):
                if f != "lang_mismatch":
                    self.count(f"flag_{f}")
            if d == "review":
                self._review.append(r)
            if d == "drop" and c.drop:
                flags = q.get("flags", [])
                reason = "unsafe" if "unsafe" in flags else ("off_topic" if "off_topic" in flags else "low_score")
                res.rejects.append(self.reject(r, reason, f"score {q.get('score')} <= {c.drop_at_or_below}"))
            else:
                res.kept.append(r)
        return res

    def process(self, batch: list[Dialogue]) -> BatchResult:
        vecs = self.score_batch(batch)
        if self.config.check_labels:
            self._held.extend(zip(batch, vecs))
            return BatchResult()
        return self._route(batch)

    def check_labels(self) -> None:
        """Run the label check over the held records (moves ``keep`` to ``review`` on disagreement)."""
        c: ScoreConfig = self.config
        if not self._held:
            return
        X = np.stack([v for _, v in self._held]).astype(np.float32)
        for fld in c.check_labels:
            labels = [getattr(r, fld) for r, _ in self._held]
            for issue in knn_label_issues(X, labels, c.label_k, c.label_min_confidence):
                r = self._held[issue.index][0]
                q = r.quality
                q.setdefault("label_check", []).append({"field": fld, "label": issue.label,
                                                       "suggested": issue.suggested, "confidence": issue.confidence})
                if "label_disagrees" not in q["flags"]:
                    q["flags"].append("label_disagrees")
                if q["decision"] == "keep":
                    q["decision"] = "review"
                self.count(f"label_issues_{fld}")

    def finish(self) -> BatchResult:
        res = BatchResult()
        if self._held:
            self.check_labels()
            res = self._route([r for r, _ in self._held])
            self._held = []
        if self.config.review_out:
            from ...io.writers import write_records

            try:
                write_records(self._review, self.config.review_out)
            except OSError as e:
                raise ForgeError(f"--review-out {self.config.review_out}: cannot write ({e.strerror}).") from None
        return res

    def summary(self) -> dict[str, Any]:
        out = dict(self.counters)
        out["weights"] = self.weights
        # what `forge gate` reads from the stats / manifest: mean over every scored record (drops included),
        # and the records per domain passed on
        out["scored"] = self._scored
        out["mean_score"] = round(self._score_sum / self._scored, 4) if self._scored else None
        out["domains"] = dict(sorted(self._domains.items()))
        return out
