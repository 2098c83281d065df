"""forge eval: what fine-tuning gained and what it cost, with the base model always beside the adapter.

`forge eval RUN --data test/` (or `--adapter RUN`, repeatable) scores the base model and each run on the same
test records: perplexity over assistant tokens and over all tokens (token-weighted; overall, per domain,
per task); replies generated with the run's own generation config, scored by chrF, BLEU (sacrebleu; 'zh'
tokenizer for Chinese), ROUGE-1/ROUGE-L (character level for CJK, word level otherwise), embedding
similarity, reply length and the stop check (share of replies ending with the end-of-turn token); retention
on general sets (--general NAME=FILE) with the chapter's degradation rule; config-consistency warnings.
Every run's figures come with paired-bootstrap confidence intervals against the base.

`forge eval --compare RUN_A RUN_B --data test/` is the A/B test: deltas of B (and further runs) against A
with intervals, side-by-side generations, and with --judge-base-url/--judge-model a position-swapped
pairwise win rate from an OpenAI-compatible judge.

Writes OUT/eval.json, OUT/generations.jsonl and OUT/radar.png, and prints the table.
"""

from __future__ import annotations

import inspect
import sys
from typing import Annotated, Any

import typer

from .common import config_from_kwargs, options_from_config


def register(app: typer.Typer) -> None:
    from ..evaluate.runner import EvalConfig

    cfg_params = options_from_config(EvalConfig)
    runs_param = inspect.Parameter(
        "runs", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
        annotation=Annotated[list[str] | None, typer.Argument(
            help="Run directories written by `forge train` (same as --adapter).", show_default=False)])

    def eval_command(**kwargs: Any) -> None:
        from ..evaluate.report import format_table
        from ..evaluate.runner import run_eval

        runs = kwargs.pop("runs", None) or []
        cfg = config_from_kwargs(EvalConfig, kwargs)
        cfg.adapter = [*runs, *cfg.adapter]
        report = run_eval(cfg, warn=lambda m: print(f"forge: warning: {m}", file=sys.stderr))
        print(format_table(report))
        print(f"report: {report['files']['eval_json']}", file=sys.stderr)

    eval_command.__signature__ = inspect.Signature([runs_param, *cfg_params])  # type: ignore[attr-defined]
    eval_command.__name__ = "eval_command"
    app.command("eval", help=__doc__)(eval_command)
