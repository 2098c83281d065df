"""Writing what ``forge eval`` found: ``eval.json``, ``generations.jsonl`` (side by side), ``radar.png``,
and the plain-text table printed on stdout.

``eval.json`` keys: ``config``, ``base_model``, ``runs`` (name -> dir), ``data``, ``tokenizers`` (metric ->
tokenizer choice, case U26), ``models`` (``base`` and each run: ``perplexity`` {overall, by_domain, by_task},
``generation`` {summary, corpus, examples, skipped_no_reply}, ``general``, ``settings``, ``skipped``), ``deltas`` (run ->
metric -> paired-bootstrap delta against the base), ``retention`` (run -> retention table), ``consistency``
(warnings), optional ``compare`` (A/B deltas), ``judge`` and ``lm_eval``, and ``files``.

Radar chart: one spoke per general set (retention after/before, 1 = nothing lost) and per domain (domain
score = base perplexity / run perplexity on assistant tokens, > 1 = the run fits the domain better), one
line per run; the dashed circle at 1 is the base.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

ROWS = [("ppl_assistant", "ppl (assistant)"), ("ppl_all", "ppl (all tokens)"), ("chrf", "chrF"), ("bleu", "BLEU"),
        ("rouge1", "ROUGE-1"), ("rougeL", "ROUGE-L"), ("embedding_sim", "embedding sim"),
        ("reply_tokens", "reply tokens"), ("stop_rate", "stop rate")]


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, tuples -> lists, dataclasses left to ``default=str``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def model_value(model_eval: dict, metric: str) -> float | None:
    """A headline figure of one model's evaluation (``ppl_*`` from perplexity, others from generation)."""
    if metric.startswith("ppl_"):
        return model_eval.get("perplexity", {}).get("overall", {}).get(metric)
    return model_eval.get("generation", {}).get("summary", {}).get(metric)


def _fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def format_table(report: dict) -> str:
    """The headline table: one row per metric, one column per model, then each run's delta against the
    base with its confidence interval (``*`` = the interval excludes 0)."""
    models = list(report["models"])
    runs = [m for m in models if m != "base"]
    head = ["metric", *models, *[f"{r} - base [CI]" for r in runs]]
    lines = []
    for key, label in ROWS:
        vals = [model_value(report["models"][m], key) for m in models]
        if all(v is None for v in vals):
            continue
        cells = [label, *map(_fmt, vals)]
        for r in runs:
            d = report["deltas"].get(r, {}).get(key)
            cells.append("-" if not d else f"{d['delta']:+.4g} [{d['ci_low']:+.3g}, {d['ci_high']:+.3g}]"
                         + ("*" if d["significant"] else ""))
        lines.append(cells)
    widths = [max(len(str(row[i])) for row in [head, *lines]) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in lines]
    for r, t in report.get("retention", {}).items():
        out.append(f"retention {r}: mean {_fmt(t['mean_retention'])}, max degradation {_fmt(t['max_degradation'])}, "
                   f"acceptable {t['acceptable']}")
    for b, res in (report.get("judge") or {}).items():
        if res:
            out.append(f"judge {b}: win rate {_fmt(res['win_rate_b'])} ({res['wins_b']} wins, {res['ties']} ties, "
                       f"{res['wins_a']} losses, position consistency {_fmt(res['position_consistency'])})")
    for pair, c in (report.get("compare") or {}).get("pairs", {}).items():
        parts = [f"{k} {d['delta']:+.4g} [{d['ci_low']:+.3g}, {d['ci_high']:+.3g}]" for k, d in c["deltas"].items()]
        out.append(f"compare {pair} - {report['compare']['a']}: " + "; ".join(parts))
    return "\n".join(out)


def radar_axes(report: dict) -> tuple[list[str], dict[str, list[float | None]]]:
    """Spokes and per-run values of the radar chart (see the module docstring)."""
    runs = [m for m in report["models"] if m != "base"]
    sets = sorted({s for r in runs for s in report.get("retention", {}).get(r, {}).get("sets", {})})
    base_dom = report["models"]["base"]["perplexity"].get("by_domain", {})
    domains = sorted(base_dom)
    axes = [f"retention: {s}" for s in sets] + [f"domain: {d}" for d in domains]
    series = {}
    for r in runs:
        vals: list[float | None] = [report["retention"][r]["sets"].get(s, {}).get("retention") for s in sets]
        run_dom = report["models"][r]["perplexity"].get("by_domain", {})
        for d in domains:
            b, x = base_dom[d].get("ppl_assistant"), run_dom.get(d, {}).get("ppl_assistant")
            vals.append(b / x if b and x else None)
        series[r] = vals
    return axes, series


def write_outputs(report: dict, evals: dict, out: Path) -> dict:
    """Write ``eval.json``, ``generations.jsonl`` and ``radar.png`` under ``out``; records the paths in
    ``report["files"]`` and returns them."""
    from .compare import side_by_side
    from .plots import radar

    out.mkdir(parents=True, exist_ok=True)
    files = {"eval_json": str(out / "eval.json")}
    gens = {k: v.get("generations") for k, v in evals.items() if v.get("generations")}
    if gens:
        first = next(iter(gens.values()))
        ids = [g.id for g in first]
        preds = {}
        for name, gl in gens.items():
            by_id = {g.id: g.prediction for g in gl}
            preds[name] = [by_id.get(i) for i in ids]
        prompts = [next((m["content"] for m in reversed(g.prompt) if m["role"] == "user"), "") for g in first]
        rows = side_by_side(ids, prompts, [g.reference for g in first], preds)
        path = out / "generations.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        files["generations"] = str(path)
    if len(report["models"]) > 1:
        axes, series = radar_axes(report)
        if axes:
            files["radar"] = str(radar(axes, series, out / "radar.png",
                                       title="retention per general set and domain score (base = 1)"))
    report["files"] = files
    (out / "eval.json").write_text(json.dumps(_clean(report), ensure_ascii=False, indent=2, default=str),
                                   encoding="utf-8")
    return files
