"""``forge run RECIPE.yaml``: run a list of steps in one process (same steps and options as the CLI)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..pipeline.recipe import build_steps, load_recipe
from .common import run_steps


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        recipe: Annotated[str, typer.Argument(help="Recipe YAML: inputs, out, rejects, steps (see README).")],
        out: Annotated[Optional[str], typer.Option("--out", "-o", help="Override the recipe's 'out'.")] = None,
        inputs: Annotated[Optional[list[str]], typer.Option("--input", "-i", help="Override the recipe's 'inputs' (repeatable).")] = None,
        stats_json: Annotated[Optional[str], typer.Option("--stats-json", help="Write every step's counts to this JSON file.")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary lines.")] = False,
    ) -> None:
        """Run the steps of RECIPE in order, streaming records from one to the next.

        Example: forge run sample_data/recipe.yaml --out build/demo/curated
        """
        data = load_recipe(recipe)
        steps = build_steps(data["steps"], where=recipe)
        ins = inputs or data.get("inputs")
        if isinstance(ins, str):
            ins = [ins]
        run_steps(steps, ins, out=out or data.get("out"), rejects=data.get("rejects"),
                  stats_json=stats_json or data.get("stats_json"), shard_rows=int(data.get("shard_rows", 50_000)),
                  batch_size=int(data.get("batch_size", 1000)), quiet=quiet)
