"""Retention (catastrophic forgetting): how much of the base model's general ability survives fine-tuning.

The scheme (the chapter's forgetting check): for each general evaluation set ``s`` with a score where
higher is better,

* retention ``r_s = score_after / score_before``;
* degradation ``d_s = 0`` when ``r_s >= 0.95``, ``(0.95 - r_s) * 20`` when ``0.9 <= r_s < 0.95`` and
  ``1 + (0.9 - r_s) * 10`` below 0.9 (continuous: 1.0 at r = 0.9);
* ``mean_retention`` = mean of ``r_s``, ``max_degradation`` = max of ``d_s``;
* ``acceptable`` = ``mean_retention > 0.9 and max_degradation < 0.5``.

General sets (``--general NAME=FILE``) are JSONL files of one of two kinds, told apart by the first record:

* dialogue records (canonical ``messages``): scored by ``1 / perplexity`` over the assistant tokens, so
  retention = ppl_before / ppl_after;
* multiple choice ``{"question": str, "choices": [str, ...], "answer": int | str}`` (``options`` and
  ``label`` are accepted aliases; a string answer is a choice's text or its letter A, B, ...): scored by
  accuracy, the chosen option being the one with the highest summed log-likelihood given the question
  (lm-evaluation-harness's ``acc``).

:func:`run_lm_eval` runs lm-evaluation-harness tasks when the ``lm_eval`` package is installed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from ..errors import ForgeError
from .perplexity import IGNORE_INDEX, Encoded, aggregate, score

RETENTION_OK = 0.95
RETENTION_FLOOR = 0.9


def degradation(r: float) -> float:
    """The chapter's piecewise degradation of a retention ratio ``r`` (see the module docstring)."""
    if r >= RETENTION_OK:
        return 0.0
    if r >= RETENTION_FLOOR:
        return (RETENTION_OK - r) * 20.0
    return 1.0 + (RETENTION_FLOOR - r) * 10.0


def retention_table(before: dict[str, float], after: dict[str, float]) -> dict:
    """Per-set retention and degradation plus the summary.

    ``before``/``after``: set name -> score (higher is better), same keys. A set whose ``before`` score is
    0 (or not finite) has no defined ratio: its retention is ``None`` and it is left out of the means
    (listed under ``undefined``). Returns ``{"sets": {name: {before, after, retention, degradation}},
    "mean_retention", "max_degradation", "acceptable", "undefined"}``; ``acceptable`` is ``None`` when
    no set has a defined ratio. Raises :class:`ForgeError` when the key sets differ.
    """
    if set(before) != set(after):
        raise ForgeError(f"retention: before/after sets differ: {sorted(before)} vs {sorted(after)}")
    sets, undefined = {}, []
    for name, b in before.items():
        a = after[name]
        if not b or not math.isfinite(b) or not math.isfinite(a):
            sets[name] = {"before": b, "after": a, "retention": None, "degradation": None}
            undefined.append(name)
            continue
        r = a / b
        sets[name] = {"before": b, "after": a, "retention": r, "degradation": degradation(r)}
    defined = [v for v in sets.values() if v["retention"] is not None]
    if not defined:
        return {"sets": sets, "mean_retention": None, "max_degradation": None, "acceptable": None,
                "undefined": undefined}
    mean_r = sum(v["retention"] for v in defined) / len(defined)
    max_d = max(v["degradation"] for v in defined)
    return {"sets": sets, "mean_retention": mean_r, "max_degradation": max_d,
            "acceptable": bool(mean_r > RETENTION_FLOOR and max_d < 0.5), "undefined": undefined}


# ------------------------------------------------------------------------------------------------------
# General sets
# ------------------------------------------------------------------------------------------------------
@dataclass
class ChoiceItem:
    """One multiple-choice question: ``question``, ``choices`` and the index ``answer``."""

    question: str
    choices: list[str]
    answer: int


@dataclass
class GeneralSet:
    """A named general set: ``kind`` is ``dialogue`` (``items`` are Dialogue) or ``choice`` (ChoiceItem)."""

    name: str
    path: str
    kind: str
    items: list


def parse_general_flags(values: Sequence[str]) -> dict[str, str]:
    """``["NAME=FILE", ...]`` -> ``{NAME: FILE}``. Raises :class:`ForgeError` on a malformed value."""
    out = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise ForgeError(f"--general {v!r}: expected NAME=FILE, e.g. --general chat=general/chat.jsonl")
        out[name] = path
    return out


def _choice_item(obj: dict, where: str) -> ChoiceItem:
    q = obj.get("question", obj.get("prompt"))
    choices = obj.get("choices", obj.get("options"))
    ans = obj.get("answer", obj.get("label"))
    if not isinstance(q, str) or not isinstance(choices, list) or len(choices) < 2 or \
            not all(isinstance(c, str) for c in choices):
        raise ForgeError(f"{where}: a multiple-choice record needs 'question' (string) and 'choices' "
                         "(a list of at least 2 strings)")
    if isinstance(ans, bool) or ans is None:
        raise ForgeError(f"{where}: 'answer' must be a choice index, a choice's text or its letter")
    if isinstance(ans, int):
        idx = ans
    elif isinstance(ans, str) and ans in choices:
        idx = choices.index(ans)
    elif isinstance(ans, str) and len(ans.strip()) == 1 and ans.strip().isalpha():
        idx = ord(ans.strip().upper()) - ord("A")
    else:
        raise ForgeError(f"{where}: 'answer' {ans!r} is not a choice index, text or letter")
    if not 0 <= idx < len(choices):
        raise ForgeError(f"{where}: 'answer' index {idx} is outside the {len(choices)} choices")
    return ChoiceItem(q, choices, idx)


def load_general_set(name: str, path: str) -> GeneralSet:
    """Read a general set file (JSONL) and tell its kind from the first record. Raises
    :class:`ForgeError` naming the file and line for unreadable or mixed content."""
    from ..schema import Dialogue, SchemaError

    p = Path(path)
    if not p.is_file():
        raise ForgeError(f"--general {name}={path}: file not found")
    kind, items = None, []
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"--general {name}={path} line {lineno}"
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                raise ForgeError(f"{where}: not valid JSON ({e})") from None
            this = "dialogue" if isinstance(obj, dict) and "messages" in obj else "choice"
            if kind is None:
                kind = this
            elif this != kind:
                raise ForgeError(f"{where}: mixes {this} records into a {kind} set; use one kind per file")
            if kind == "dialogue":
                try:
                    items.append(Dialogue.from_dict(obj))
                except SchemaError as e:
                    raise ForgeError(f"{where}: {e.detail}") from None
            else:
                if not isinstance(obj, dict):
                    raise ForgeError(f"{where}: expected a JSON object")
                items.append(_choice_item(obj, where))
    if not items:
        raise ForgeError(f"--general {name}={path}: the file has no records")
    return GeneralSet(name, path, kind, items)


def choice_scores(model, tokenizer, items: Sequence[ChoiceItem], *, batch_size: int = 8) -> dict:
    """Accuracy of ``model`` on multiple-choice ``items``: each option is scored by the summed
    log-likelihood of its tokens after ``question + " "`` (context and continuation encoded separately and
    concatenated, as lm-evaluation-harness does). Returns ``{"accuracy", "accuracy_norm" (log-likelihood
    per character), "n"}``."""
    enc: list[Encoded] = []
    spans = []
    for qi, item in enumerate(items):
        ctx = tokenizer(item.question, add_special_tokens=True)["input_ids"]
        for ci, choice in enumerate(item.choices):
            cont = tokenizer(" " + choice, add_special_tokens=False)["input_ids"]
            enc.append(Encoded(f"{qi}:{ci}", ctx + cont, [IGNORE_INDEX] * len(ctx) + cont))
            spans.append((qi, ci, len(choice)))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows = score(model, enc, batch_size=batch_size, pad_id=pad)
    best: dict[int, tuple[float, int]] = {}
    best_norm: dict[int, tuple[float, int]] = {}
    for (qi, ci, nchar), row in zip(spans, rows):
        ll = -row.nll_assistant
        if qi not in best or ll > best[qi][0]:
            best[qi] = (ll, ci)
        lln = ll / max(nchar, 1)
        if qi not in best_norm or lln > best_norm[qi][0]:
            best_norm[qi] = (lln, ci)
    n = len(items)
    acc = sum(1 for qi, it in enumerate(items) if best[qi][1] == it.answer) / n
    acc_n = sum(1 for qi, it in enumerate(items) if best_norm[qi][1] == it.answer) / n
    return {"accuracy": acc, "accuracy_norm": acc_n, "n": n}


def general_score(model, tokenizer, gset: GeneralSet, encode=None, *, batch_size: int = 8) -> dict:
    """Score of one general set: ``{"score", "metric", ...details}``. Dialogue sets need ``encode``
    (``dialogue -> (input_ids, labels)``); their score is ``1 / ppl_assistant`` (``1 / ppl_all`` when no
    assistant token is supervised). Multiple-choice sets score ``accuracy``."""
    if gset.kind == "choice":
        res = choice_scores(model, tokenizer, gset.items, batch_size=batch_size)
        return {"score": res["accuracy"], "metric": "accuracy", **res}
    from .perplexity import encode_all

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    agg = aggregate(score(model, encode_all(gset.items, encode), batch_size=batch_size, pad_id=pad))
    ppl = agg["ppl_assistant"] or agg["ppl_all"]
    metric = "1/ppl_assistant" if agg["ppl_assistant"] else "1/ppl_all"
    return {"score": 1.0 / ppl if ppl else 0.0, "metric": metric, **agg}


def run_lm_eval(tasks: Sequence[str], base_model: str, adapter: str | None = None, *, device: str = "cpu",
                limit: int | None = None) -> dict[str, float]:
    """Run lm-evaluation-harness ``tasks`` (e.g. hellaswag, arc_challenge, winogrande) through its HF
    backend for ``base_model`` (+ peft ``adapter``). Returns task -> ``acc`` (``acc_norm`` when that is
    the only figure). Raises :class:`ForgeError` when ``lm_eval`` is not installed."""
    try:
        import lm_eval  # type: ignore
    except ImportError:
        raise ForgeError("--lm-eval-tasks needs lm-evaluation-harness: pip install lm-eval "
                         "(or drop the flag and name general sets with --general NAME=FILE).") from None
    model_args = f"pretrained={base_model}" + (f",peft={adapter}" if adapter else "")
    res = lm_eval.simple_evaluate(model="hf", model_args=model_args, tasks=list(tasks), device=device,
                                  limit=limit)
    out = {}
    for task, figures in res["results"].items():
        for key in ("acc,none", "acc", "acc_norm,none", "acc_norm"):
            if key in figures:
                out[task] = float(figures[key])
                break
    return out
