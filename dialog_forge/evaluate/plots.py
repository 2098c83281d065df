"""Charts of the evaluation (matplotlib, Agg backend, PNG): the radar of retention and domain scores, and
the validation-loss curves of a sweep."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def radar(axes: Sequence[str], series: dict[str, Sequence[float]], path: str | Path, *, title: str = "",
          reference: float | None = 1.0) -> Path:
    """A radar (spider) chart: one spoke per name in ``axes``, one closed line per ``series`` entry
    (values aligned with ``axes``; ``None``/NaN drawn at 0), and a dashed circle at ``reference``.
    Fewer than 3 spokes are drawn as a bar chart instead (a radar needs a polygon). Returns ``path``."""
    plt = _plt()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def clean(vs):
        return [0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in vs]

    if len(axes) < 3:
        fig, ax = plt.subplots(figsize=(6, 4))
        width = 0.8 / max(1, len(series))
        for i, (name, vals) in enumerate(series.items()):
            ax.bar([k + i * width for k in range(len(axes))], clean(vals), width=width, label=name)
        ax.set_xticks([k + width * (len(series) - 1) / 2 for k in range(len(axes))], list(axes))
        if reference is not None:
            ax.axhline(reference, ls="--", color="grey", lw=1)
    else:
        angles = [2 * math.pi * k / len(axes) for k in range(len(axes))]
        fig, ax = plt.subplots(figsize=(6.5, 6.5), subplot_kw={"polar": True})
        for name, vals in series.items():
            v = clean(vals)
            ax.plot(angles + angles[:1], v + v[:1], label=name, lw=1.5)
            ax.fill(angles + angles[:1], v + v[:1], alpha=0.1)
        if reference is not None:
            ref_angles = [2 * math.pi * k / 100 for k in range(101)]
            ax.plot(ref_angles, [reference] * 101, ls="--", color="grey", lw=1, label=f"baseline = {reference:g}")
        ax.set_xticks(angles, list(axes), fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8, bbox_to_anchor=(1.3, 1.1) if len(axes) >= 3 else None)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def loss_curves(curves: dict[str, tuple[Sequence[int], Sequence[float]]], path: str | Path, *,
                title: str = "validation loss", ylabel: str = "validation loss") -> Path:
    """Line chart of ``{label: (steps, values)}`` on one set of axes. Returns ``path``."""
    plt = _plt()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, (steps, vals) in curves.items():
        ax.plot(list(steps), list(vals), marker="o", ms=3, label=label)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
