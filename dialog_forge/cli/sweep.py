"""forge sweep: train one run per value of any `forge train` flag and name the best by validation loss.

Example: `forge sweep --out sweeps/rank --r 4,8,16,32,64 --base-model M --data split/ --max-steps 200
--eval-steps 50`. A value with commas is swept (several swept flags give the grid); --target-modules
separates sweep values with '|'. Every other flag is passed to each run unchanged (see `forge train --help`).
Runs go to OUT/<flag>=<value>/; OUT/sweep_curves.png holds all validation-loss curves, OUT/sweep.md the
table, OUT/sweep.json everything. The best run is the lowest validation loss at the last step every run
was evaluated at (same number of steps for all).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("sweep", help=__doc__,
                 context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def sweep(
        ctx: typer.Context,
        out: Annotated[str, typer.Option("--out", help="Sweep directory (one sub-folder per run).")] = "sweeps/sweep",
    ) -> None:
        from ..errors import ForgeError
        from ..evaluate.sweep import format_table, parse_args, run_sweep

        plan = parse_args(ctx.args)
        if not plan.swept:
            raise ForgeError("sweep: no flag is swept; give at least one train flag a comma list of values, "
                             "e.g. --r 4,8,16.")
        report = run_sweep(plan, out, log=lambda m: print(f"forge: {m}", file=sys.stderr))
        print(format_table(report))
        sel = report["selection"]
        print(f"best: {sel['best']} (val loss {sel['val_loss'][sel['best']]:.4f} at step {sel['step']})")
        print(f"curves: {report['files']['curves']}", file=sys.stderr)
