"""``forge eval`` as a recipe: evaluate the base model and each run on the same test set, then compare.

Reads top to bottom:

1. ``setup``: read the test records (``--data``), the general sets (``--general``), the runs and the base;
2. ``evaluate_model`` for the base and for each run: assistant-token and all-token perplexity (overall,
   per domain, per task), generated replies with the run's own generation config and their metrics,
   general-set scores; config-consistency warnings for each run;
3. ``compare``: every run against the base (paired-bootstrap deltas, retention, optional judge), and with
   ``--compare`` every run against the first one (A/B), with side-by-side generations;
4. ``write``: ``eval.json``, ``generations.jsonl`` and the radar chart ``radar.png`` in ``--out``.

The base is scored with the run's tokenizer and template (the same token stream as the adapter), so every
figure has a baseline measured the same way. Errors: :class:`ForgeError` for a missing run or data, an
unloadable model, bad ``--general`` files, an unreachable judge, ``--lm-eval-tasks`` without lm-eval.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ForgeError
from ..pipeline.step import StepConfig, cfg_field

log = logging.getLogger("dialog_forge")

#: metrics where lower is better (for the table's arrows)
LOWER_IS_BETTER = {"ppl_assistant", "ppl_all"}


@dataclass
class EvalConfig(StepConfig):
    """Settings of ``forge eval`` (flags, YAML keys and the Python API)."""

    data: list[str] = cfg_field([], help="Test data: canonical JSONL/Parquet files or dirs (e.g. the test/ folder "
                                "of `forge split`). Repeatable; required.")
    model: str | None = cfg_field(None, help="Base model (local dir or hub name). Default: the base_model recorded "
                                  "in the first run's forge_train.json.")
    adapter: list[str] = cfg_field([], help="Run directory written by `forge train` (repeatable; runs may also be "
                                   "given as arguments).")
    compare: bool = cfg_field(False, help="A/B mode: compare every run with the first one (paired-bootstrap "
                              "deltas, side-by-side generations, judge win rate).")
    split: str | None = cfg_field(None, help="Only records whose `split` field is this value (e.g. test). "
                                  "Default: every record, except that `forge split` output mixing train/val "
                                  "with test records is narrowed to its test records (said on stderr).")
    out: str = cfg_field("eval", help="Output directory: eval.json, generations.jsonl, radar.png.")
    general: list[str] = cfg_field([], help="General set NAME=FILE for retention (dialogue JSONL scored by "
                                   "perplexity, or multiple-choice JSONL {question, choices, answer}). Repeatable.")
    lm_eval_tasks: str | None = cfg_field(None, help="Comma list of lm-evaluation-harness tasks (e.g. "
                                          "hellaswag,arc_challenge,winogrande) run for base and runs; needs lm-eval.")
    lm_eval_limit: int | None = cfg_field(None, help="Examples per lm-eval task (default: all).")
    generate: bool = cfg_field(True, help="Generate replies and compute chrF, BLEU, ROUGE, embedding similarity, "
                               "length and the stop check.")
    gen_limit: int = cfg_field(64, help="Test records used for generation metrics (perplexity uses all).")
    temperature: float | None = cfg_field(None, help="Override the run's sampling temperature (0 = greedy); "
                                          "a difference is warned about.")
    top_p: float | None = cfg_field(None, help="Override the run's top-p (warned about).")
    max_new_tokens: int | None = cfg_field(None, help="Override the run's max new tokens (warned about).")
    system_prompt: str | None = cfg_field(None, help="Override the run's system prompt (warned about).")
    template: str | None = cfg_field(None, help="Override the chat template (shipped name or Jinja file; "
                                     "warned about). Default: the template saved with the run.")
    serving_config: str | None = cfg_field(None, help="JSON/YAML of the serving settings (template, system_prompt, "
                                           "temperature, top_p, max_new_tokens) to check against the run's.")
    embedding_model: str = cfg_field("minilm", help="Sentence-embedding model for reply similarity; 'none' to skip.")
    judge_base_url: str | None = cfg_field(None, help="OpenAI-compatible endpoint of a judge model "
                                           "(e.g. http://127.0.0.1:8000/v1) for a pairwise win rate.")
    judge_model: str | None = cfg_field(None, help="Model name to send to the judge endpoint.")
    judge_api_key_env: str = cfg_field("OPENAI_API_KEY", help="Environment variable holding the judge's API key "
                                       "(sent as a Bearer token when set).")
    judge_limit: int | None = cfg_field(None, help="Judge at most this many examples per pair.")
    bootstrap: int = cfg_field(1000, help="Paired-bootstrap resamples for confidence intervals.")
    alpha: float = cfg_field(0.05, help="1 - confidence level of the intervals.")
    seed: int = cfg_field(0, help="Seed for sampling and the bootstrap.")
    batch_size: int = cfg_field(8, help="Dialogues per forward pass / generation batch.")
    max_length: int = cfg_field(1024, help="Maximum tokens per dialogue for perplexity (truncated as in training).")
    device: str = cfg_field("auto", help="'auto', 'cpu', 'cuda' or 'cuda:N'.")

    def validate(self) -> None:
        """Raise :class:`ForgeError` naming the flag for unusable settings."""
        if not self.data:
            raise ForgeError("--data is required: the test set (canonical JSONL/Parquet files or dirs).")
        if not self.adapter and not self.model:
            raise ForgeError("nothing to evaluate: name runs (`forge eval RUN ...` or --adapter RUN) or --model BASE.")
        if self.compare and len(self.adapter) < 2:
            raise ForgeError("--compare needs at least two runs: `forge eval --compare RUN_A RUN_B --data test/`.")
        if bool(self.judge_base_url) != bool(self.judge_model):
            raise ForgeError("--judge-base-url and --judge-model go together.")
        if self.bootstrap < 100:
            raise ForgeError("--bootstrap must be at least 100 resamples.")
        if not 0 < self.alpha < 0.5:
            raise ForgeError("--alpha must be in (0, 0.5).")


# ----------------------------------------------------------------------------------------------------------
def _run_names(runs: list[str]) -> list[str]:
    names = [Path(r).name or r for r in runs]
    if len(set(names)) < len(names) or "base" in names:
        names = [str(r) for r in runs]
    return names


def _settings(gen_cfg: dict, cfg: EvalConfig, tokenizer, template_src: str | None):
    from ..train.masking import ChatEncoder
    from .inference import GenSettings

    s = GenSettings.from_dict(gen_cfg)
    if cfg.temperature is not None:
        s.temperature = cfg.temperature
    if cfg.top_p is not None:
        s.top_p = cfg.top_p
    if cfg.max_new_tokens is not None:
        s.max_new_tokens = cfg.max_new_tokens
    if cfg.system_prompt is not None:
        s.system_prompt = cfg.system_prompt or None
    if cfg.template is not None:
        s.template = cfg.template
    if not s.stop_token_ids or cfg.template is not None:
        from ..train.templates import ChatTemplate

        tmpl = ChatTemplate("eval", template_src) if template_src else "tokenizer"
        s.stop_token_ids = tuple(ChatEncoder(tokenizer, tmpl).end_of_turn_ids())
    return s


def evaluate_model(model, tokenizer, records, settings, template, cfg: EvalConfig, general_sets) -> dict:
    """All per-model figures: ``{"perplexity": breakdown, "nll_rows", "skipped", "generations",
    "gen_columns", "generation": {summary, corpus}, "general": {name: score dict}}``."""
    from . import generation as gm
    from .inference import generate
    from .perplexity import breakdown, encode_records, score
    from .retention import general_score

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    items, skipped = encode_records(records, tokenizer, template, max_length=cfg.max_length,
                                    system_prompt=settings.system_prompt)
    rows = score(model, items, batch_size=cfg.batch_size, pad_id=pad)
    out: dict[str, Any] = {"perplexity": breakdown(rows), "nll_rows": rows, "skipped": skipped}
    if cfg.generate:
        src = template.source if hasattr(template, "source") else None
        chosen = records[:cfg.gen_limit] if cfg.gen_limit else records
        gens = generate(model, tokenizer, chosen, settings, batch_size=cfg.batch_size, seed=cfg.seed,
                        chat_template=src)
        emb = None if cfg.embedding_model.lower() == "none" else cfg.embedding_model
        cols = gm.per_example(gens, emb) if gens else {}
        out.update(generations=gens, gen_columns=cols, generation={
            "summary": gm.summarise(cols),
            "corpus": gm.corpus_scores([g.prediction for g in gens], [g.reference for g in gens]),
            "examples": len(gens), "skipped_no_reply": len(chosen) - len(gens)})
    if general_sets:
        from ..train.masking import ChatEncoder

        enc = ChatEncoder(tokenizer, template, max_length=cfg.max_length, system_prompt=settings.system_prompt)

        def encode(d):
            e = enc.encode(d)
            return e.input_ids, e.labels

        out["general"] = {g.name: general_score(model, tokenizer, g, encode, batch_size=cfg.batch_size)
                          for g in general_sets}
    return out


def _align_nll(rows_a, rows_b):
    by_b = {r.id: r for r in rows_b}
    pairs = [(a, by_b[a.id]) for a in rows_a if a.id in by_b and a.n_assistant and by_b[a.id].n_assistant]
    return pairs


def compare_pair(ev_a: dict, ev_b: dict, cfg: EvalConfig) -> dict:
    """Paired-bootstrap deltas B - A: perplexity (assistant tokens, token-weighted) and every generation
    metric, on the examples both models scored."""
    from .compare import paired_bootstrap, paired_bootstrap_ppl

    kw = {"n_resamples": cfg.bootstrap, "alpha": cfg.alpha, "seed": cfg.seed}
    out: dict[str, Any] = {}
    pairs = _align_nll(ev_a["nll_rows"], ev_b["nll_rows"])
    if pairs:
        for part in ("assistant", "all"):
            nll, n = f"nll_{part}", f"n_{part}"
            out[f"ppl_{part}"] = paired_bootstrap_ppl(
                [getattr(a, nll) for a, _ in pairs], [getattr(a, n) for a, _ in pairs],
                [getattr(b, nll) for _, b in pairs], [getattr(b, n) for _, b in pairs], **kw)
    if ev_a.get("generations") and ev_b.get("generations"):
        ia = {g.id: k for k, g in enumerate(ev_a["generations"])}
        common = [(ia[g.id], k) for k, g in enumerate(ev_b["generations"]) if g.id in ia]
        for metric, col_a in ev_a["gen_columns"].items():
            col_b = ev_b["gen_columns"].get(metric)
            if col_b is None or not common:
                continue
            key = "stop_rate" if metric == "stopped" else metric
            out[key] = paired_bootstrap([col_a[i] for i, _ in common], [col_b[j] for _, j in common], **kw)
    return out


def _judge(cfg: EvalConfig, ev_a: dict, ev_b: dict) -> dict | None:
    from .judge import make_client, pairwise

    if not cfg.judge_base_url or not ev_a.get("generations") or not ev_b.get("generations"):
        return None
    by_b = {g.id: g for g in ev_b["generations"]}
    ga = [g for g in ev_a["generations"] if g.id in by_b][: cfg.judge_limit or None]
    prompts = [next((m["content"] for m in reversed(g.prompt) if m["role"] == "user"), "") for g in ga]
    client = make_client(cfg.judge_base_url, cfg.judge_model, api_key_env=cfg.judge_api_key_env or None)
    try:
        res = pairwise(client, prompts, [g.prediction for g in ga], [by_b[g.id].prediction for g in ga],
                       [g.reference for g in ga])
    finally:
        client.close()
    res["requests"] = client.stats.to_dict()
    res["judge_model"] = cfg.judge_model
    return res


def _public(ev: dict) -> dict:
    return {k: v for k, v in ev.items() if k not in ("nll_rows", "generations", "gen_columns")}


def run_eval(cfg: EvalConfig, warn=None) -> dict:
    """Evaluate as described in the module docstring; returns the ``eval.json`` dict (also written to
    ``cfg.out``). ``warn(message)`` receives consistency warnings (default: the logger)."""
    from ..io.records import load_records
    from ..train.templates import resolve_template
    from . import consistency
    from .generation import tokenizer_info
    from .loading import load_base, load_run, run_info
    from .report import write_outputs
    from .retention import load_general_set, parse_general_flags, retention_table, run_lm_eval

    cfg.validate()
    warn = warn or log.warning
    records = load_records(cfg.data)
    split_used = cfg.split
    if not split_used:
        # `forge split` output holds train/ and val/ beside test/: scoring them would measure memorisation,
        # not what the run gained, so a mixed input is narrowed to its test records (said on stderr).
        found = {r.split for r in records}
        if "test" in found and found - {"test", None}:
            split_used = "test"
            n_all = len(records)
            records = [r for r in records if r.split == "test"]
            warn(f"--data {' '.join(cfg.data)} holds records of splits "
                 f"{', '.join(sorted(s for s in found if s))}: evaluating its {len(records)} test records "
                 f"only (of {n_all}); pass --split to choose another split.")
    else:
        records = [r for r in records if r.split == split_used]
    if not records:
        raise ForgeError(f"--data {' '.join(cfg.data)}: no test records" + (f" with split {cfg.split!r}" if cfg.split else ""))
    general_sets = [load_general_set(n, p) for n, p in parse_general_flags(cfg.general).items()]
    runs = list(cfg.adapter)
    infos = {r: run_info(r) for r in runs}
    base_path = cfg.model or (infos[runs[0]][0].get("base_model") if runs else None)
    if not base_path:
        raise ForgeError(f"{runs[0]}: forge_train.json names no base_model; pass --model BASE.")
    for r in runs:
        other = infos[r][0].get("base_model")
        if other and other != base_path:
            warn(f"run {r} was trained on base {other!r}, but the baseline is {base_path!r}")
    serving = consistency.load_serving_config(cfg.serving_config) if cfg.serving_config else None
    names = _run_names(runs)
    report: dict[str, Any] = {
        "config": cfg.to_params(), "base_model": base_path, "runs": dict(zip(names, runs)),
        "data": {"inputs": list(cfg.data), "records": len(records), "split": split_used},
        "tokenizers": tokenizer_info(), "models": {}, "consistency": [], "deltas": {}, "retention": {},
    }
    evals: dict[str, dict] = {}

    # -- the runs ------------------------------------------------------------------------------------
    first_tok, first_settings, first_template = None, None, None
    for name, run in zip(names, runs):
        model, tok, gen_cfg = load_run(run, cfg.device)
        template = resolve_template(cfg.template, tok) if cfg.template else resolve_template("tokenizer", tok)
        settings = _settings(gen_cfg, cfg, tok, template.source if cfg.template else None)
        trained = {**gen_cfg, "chat_template": resolve_template("tokenizer", tok).source}
        used = {k: getattr(settings, k) for k in ("temperature", "top_p", "max_new_tokens", "system_prompt")}
        if cfg.template:
            used.update(template=cfg.template, chat_template=template.source)
        issues = consistency.check(trained, used, "eval")
        if serving:
            issues += consistency.check(trained, serving, "serving")
        for it in issues:
            it["run"] = name
            warn(f"{name}: {it['message']}")
        report["consistency"] += issues
        ev = evaluate_model(model, tok, records, settings, template, cfg, general_sets)
        ev["settings"] = settings.to_dict()
        evals[name] = ev
        if first_tok is None:
            first_tok, first_settings, first_template = tok, settings, template
        del model
        gc.collect()

    # -- the base, with the first run's tokenizer and settings ---------------------------------------
    if runs:
        model, tok = load_base(base_path, cfg.device, tokenizer=first_tok)
        settings, template = first_settings, first_template
    else:
        model, tok = load_base(base_path, cfg.device)
        template = resolve_template(cfg.template or "tokenizer", tok)
        settings = _settings({"temperature": 0.0}, cfg, tok, template.source)
    ev = evaluate_model(model, tok, records, settings, template, cfg, general_sets)
    ev["settings"] = settings.to_dict()
    evals = {"base": ev, **evals}
    del model
    gc.collect()

    # -- lm-eval ------------------------------------------------------------------------------------
    if cfg.lm_eval_tasks:
        tasks = [t.strip() for t in cfg.lm_eval_tasks.split(",") if t.strip()]
        dev = "cuda" if cfg.device == "auto" and _cuda() else ("cpu" if cfg.device == "auto" else cfg.device)
        lm = {"base": run_lm_eval(tasks, base_path, None, device=dev, limit=cfg.lm_eval_limit)}
        for name, run in zip(names, runs):
            lm[name] = run_lm_eval(tasks, base_path, str(Path(run) / "adapter"), device=dev, limit=cfg.lm_eval_limit)
        report["lm_eval"] = lm
        for name, scores in lm.items():
            evals[name].setdefault("general", {}).update(
                {f"lm_eval:{t}": {"score": v, "metric": "acc"} for t, v in scores.items()})

    # -- comparisons ---------------------------------------------------------------------------------
    for name in names:
        report["deltas"][name] = compare_pair(evals["base"], evals[name], cfg)
        if evals["base"].get("general"):
            before = {k: v["score"] for k, v in evals["base"]["general"].items()}
            after = {k: v["score"] for k, v in evals[name]["general"].items()}
            report["retention"][name] = retention_table(before, after)
    judge = {}
    pairs = [(names[0], n) for n in names[1:]] if cfg.compare else [("base", n) for n in names]
    if cfg.compare:
        report["compare"] = {"a": names[0], "pairs": {}}
        for a, b in pairs:
            report["compare"]["pairs"][b] = {"deltas": compare_pair(evals[a], evals[b], cfg)}
    if cfg.judge_base_url:
        for a, b in pairs:
            judge[f"{b} vs {a}"] = _judge(cfg, evals[a], evals[b])
        report["judge"] = judge
    report["models"] = {k: _public(v) for k, v in evals.items()}
    write_outputs(report, evals, Path(cfg.out))
    return report


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
