"""Hyper-parameter sweeps over ``forge train`` flags: one run per value, validation-loss curves in one PNG,
a table, and the best run by validation loss after the same number of steps (the chapter's rank-selection
routine: ``forge sweep --r 4,8,16,32,64 --base-model M --data D``).

Any ``forge train`` flag can be swept: a value with commas (``--r 4,8,16``, ``--lr 1e-4,3e-4``) gives one
run per value. Flags whose own value is a comma list (``--target-modules``) separate sweep values with
``|`` instead (``--target-modules "attn|all-linear"``). Several swept flags give the full grid. Repeatable
list flags (``--data``, ``--val``, ``--stage``) are passed through and never swept.

Selection rule: every run is compared at the same step -- the last step at which all runs have a
validation loss (runs stopped early by ``--patience`` have fewer); the best is the lowest validation loss
there. Each run is written to ``OUT/<flag>=<value>[,...]/`` in the layout of
:mod:`dialog_forge.train.run_dir`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ForgeError

#: string flags whose value is itself a comma list: sweep values are separated by "|"
PIPE_SEPARATED = {"target_modules"}


@dataclass
class SweepPlan:
    """Parsed sweep flags: ``fixed`` (field name -> raw value, the same for every run) and ``swept``
    (field name -> list of raw values, in the order given)."""

    fixed: dict[str, Any] = field(default_factory=dict)
    swept: dict[str, list[str]] = field(default_factory=dict)

    def combos(self) -> list[dict[str, str]]:
        """The grid of swept values: one dict per run (a single empty dict when nothing is swept)."""
        keys = list(self.swept)
        return [dict(zip(keys, vals)) for vals in itertools.product(*(self.swept[k] for k in keys))]


def parse_args(args: Sequence[str]) -> SweepPlan:
    """Parse ``forge train``-style flags (``--flag value``, ``--flag=value``, ``--bool-flag``,
    ``--no-bool-flag``) into a :class:`SweepPlan`. Raises :class:`ForgeError` naming an unknown flag, a
    flag without a value, or a list flag given a sweep."""
    from ..pipeline.options import field_specs
    from ..train.config import TrainConfig

    specs = {s.flag: s for s in field_specs(TrainConfig)}
    plan = SweepPlan()
    i = 0
    args = list(args)
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise ForgeError(f"sweep: unexpected argument {a!r}; give train flags as --flag VALUE.")
        flag, eq, val = a.partition("=")
        spec = specs.get(flag)
        if spec is None and flag.startswith("--no-") and specs.get("--" + flag[5:]) and specs["--" + flag[5:]].kind == "bool":
            plan.fixed[specs["--" + flag[5:]].name] = False
            i += 1
            continue
        if spec is None:
            raise ForgeError(f"sweep: unknown train flag {flag!r}; see `forge train --help` for the flags.")
        if not eq:
            if spec.kind == "bool" and (i + 1 >= len(args) or args[i + 1].startswith("--")):
                plan.fixed[spec.name] = True
                i += 1
                continue
            if i + 1 >= len(args):
                raise ForgeError(f"sweep: {flag} needs a value.")
            val = args[i + 1]
            i += 2
        else:
            i += 1
        if spec.kind == "list":
            plan.fixed.setdefault(spec.name, []).append(val)
            continue
        sep = "|" if spec.name in PIPE_SEPARATED else ","
        parts = [p.strip() for p in val.split(sep)]
        if len(parts) > 1:
            if any(not p for p in parts):
                raise ForgeError(f"sweep: {flag} {val!r} has an empty value between separators.")
            if spec.name in ("out",):
                raise ForgeError("sweep: --out names the sweep directory and cannot be swept.")
            plan.swept[spec.name] = parts
        else:
            plan.fixed[spec.name] = val
    return plan


def run_name(combo: dict[str, str]) -> str:
    """Folder name of a run: ``r=8`` or ``r=8,lr=0.001`` (``/`` and spaces replaced by ``_``)."""
    if not combo:
        return "run"
    return ",".join(f"{k}={v}" for k, v in combo.items()).replace("/", "_").replace(" ", "_")


def val_curve(run_dir: Path) -> tuple[list[int], list[float]]:
    """``(steps, val_losses)`` from a run's ``metrics.jsonl`` (rows carrying ``val_loss``; the last value
    wins when a step was evaluated twice)."""
    from ..train.run_dir import RunDir

    by_step: dict[int, float] = {}
    for row in RunDir(run_dir).read_metrics():
        if row.get("val_loss") is not None:
            by_step[int(row["step"])] = float(row["val_loss"])
    steps = sorted(by_step)
    return steps, [by_step[s] for s in steps]


def select_best(curves: dict[str, tuple[list[int], list[float]]]) -> dict:
    """The run with the lowest validation loss at the last step every run was evaluated at.

    Returns ``{"best", "step", "val_loss": {run: loss at that step}}``. Raises :class:`ForgeError` when a
    run has no validation loss or the runs share no evaluated step."""
    empty = [k for k, (s, _) in curves.items() if not s]
    if empty:
        raise ForgeError(f"sweep: run(s) {empty} logged no validation loss; give validation data (--val, or a "
                         "val/ folder under --data) and --eval-steps.")
    common = set.intersection(*(set(s) for s, _ in curves.values()))
    if not common:
        raise ForgeError("sweep: the runs were never evaluated at the same step; set --eval-steps (and "
                         "--max-steps) so that every run is evaluated at the same steps.")
    step = max(common)
    at = {k: v[s.index(step)] for k, (s, v) in curves.items()}
    best = min(at, key=at.get)
    return {"best": best, "step": step, "val_loss": at}


def run_sweep(plan: SweepPlan, out: str | Path, *, train_fn: Callable | None = None,
              log: Callable[[str], None] | None = None) -> dict:
    """Train one run per combination of ``plan`` under ``out``, plot and select.

    ``train_fn(TrainConfig) -> dict`` defaults to :func:`dialog_forge.train.api.train`. Writes
    ``OUT/sweep_curves.png``, ``OUT/sweep.json`` and ``OUT/sweep.md``. Returns ``{"swept", "runs": [{name,
    values, run_dir, steps, val_loss_at_step, best_val_loss, best_step, trainable_params}], "selection",
    "files"}``. Raises :class:`ForgeError` for bad flags or missing validation data.
    """
    from ..pipeline.options import build_config
    from ..train.config import TrainConfig
    from .plots import loss_curves

    if train_fn is None:
        from ..train.api import train as train_fn
    out = Path(out)
    combos = plan.combos()
    configs = []
    for combo in combos:
        values = {**plan.fixed, **combo, "out": str(out / run_name(combo))}
        cfg = build_config(TrainConfig, values)
        cfg.validate()
        configs.append((combo, cfg))
    runs, curves = [], {}
    for combo, cfg in configs:
        if log:
            log(f"sweep: training {run_name(combo)} -> {cfg.out}")
        res = train_fn(cfg) or {}
        name = run_name(combo)
        curves[name] = val_curve(Path(cfg.out))
        runs.append({"name": name, "values": combo, "run_dir": cfg.out, "steps": res.get("steps"),
                     "best_val_loss": res.get("best_val_loss"), "best_step": res.get("best_step"),
                     "trainable_params": res.get("trainable_params")})
    selection = select_best(curves)
    for r in runs:
        r["val_loss_at_step"] = selection["val_loss"][r["name"]]
    out.mkdir(parents=True, exist_ok=True)
    png = loss_curves({n: c for n, c in curves.items()}, out / "sweep_curves.png",
                      title=f"validation loss per run (best: {selection['best']} at step {selection['step']})")
    report = {"swept": plan.swept, "fixed": {k: v for k, v in plan.fixed.items()}, "runs": runs,
              "selection": selection, "curves": {n: {"steps": s, "val_loss": v} for n, (s, v) in curves.items()},
              "files": {"curves": str(png), "json": str(out / "sweep.json"), "table": str(out / "sweep.md")}}
    (out / "sweep.md").write_text(format_table(report) + "\n", encoding="utf-8")
    (out / "sweep.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return report


def format_table(report: dict) -> str:
    """A Markdown table of the runs: swept values, val loss at the common step, best val loss and step,
    trainable parameters; the best run is marked."""
    sel = report["selection"]
    keys = list(report["swept"]) or ["run"]
    head = [*keys, f"val loss @ step {sel['step']}", "best val loss", "best step", "trainable params", ""]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report["runs"]:
        vals = [r["values"].get(k, r["name"]) for k in keys]
        bv = r.get("best_val_loss")
        lines.append("| " + " | ".join(map(str, [
            *vals, f"{r['val_loss_at_step']:.4f}", f"{bv:.4f}" if isinstance(bv, (int, float)) else "-",
            r.get("best_step") if r.get("best_step") is not None else "-",
            r.get("trainable_params") if r.get("trainable_params") is not None else "-",
            "best" if r["name"] == sel["best"] else ""])) + " |")
    return "\n".join(lines)
