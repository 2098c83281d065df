"""Temperature-sample records across tasks or domains, P(i) = n_i^alpha / sum_j n_j^alpha, to a target size,
mixing in a general-dialogue set against forgetting; prints the before/after distribution."""

from __future__ import annotations

import inspect
import sys
from typing import Any

import typer

from ..steps.mix import MixStep
from .common import IO_PARAMS, config_from_kwargs, options_from_config, reasons_epilog, run_steps

EPILOG = "Example: forge mix scored.jsonl --by task --alpha 0.6 --total 5000 --general general.jsonl -o mixed.jsonl"


def print_distribution(report: dict[str, Any]) -> None:
    """The before/after table on stderr."""
    from rich.console import Console
    from rich.table import Table

    if not report:
        return
    t = Table(title=f"forge mix by {report['by']} (alpha {report['alpha']})")
    for col in (report["by"], "before", "P(i)", "after"):
        t.add_column(col, justify="left" if col == report["by"] else "right")
    before, after, probs = report["before"], report["after"], report["probabilities"]
    for k in after:
        t.add_row(k, str(before.get(k, "-")), f"{probs[k]:.3f}" if k in probs else "-", str(after[k]))
    t.add_row("total", str(sum(before.values())), "", str(report["total"]), style="bold")
    Console(stderr=True).print(t)


def register(app: typer.Typer) -> None:
    """Add ``forge mix`` (a data command that also prints the distribution table)."""
    cfg_params = options_from_config(MixStep.config_class)
    cfg_names = {p.name for p in cfg_params}

    def mix(**kwargs: Any) -> None:
        step = MixStep(config_from_kwargs(MixStep.config_class, {k: v for k, v in kwargs.items() if k in cfg_names}))
        run_steps([step], kwargs.get("inputs"), out=kwargs["io_out"], rejects=kwargs["io_rejects"],
                  stats_json=kwargs["io_stats_json"], shard_rows=kwargs["io_shard_rows"],
                  batch_size=kwargs["io_batch_size"], quiet=kwargs["io_quiet"])
        if not kwargs["io_quiet"]:
            print_distribution(step.report)
            sys.stderr.flush()

    mix.__signature__ = inspect.Signature([IO_PARAMS[0], *cfg_params, *IO_PARAMS[1:]])  # type: ignore[attr-defined]
    app.command("mix", help=__doc__, epilog=EPILOG + "\n\n" + reasons_epilog(MixStep))(mix)
