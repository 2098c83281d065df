"""A/B comparison of runs on the same test set: metric deltas with paired-bootstrap confidence intervals
and side-by-side generations.

Paired bootstrap (Koehn, 2004, "Statistical Significance Tests for Machine Translation Evaluation";
Efron & Tibshirani, 1993, percentile interval): resample the test examples with replacement ``n``
times, recompute both systems' metric on the *same* resample, and take the ``alpha/2`` and
``1 - alpha/2`` percentiles of the delta (B - A). ``p_value`` is the two-sided share of resamples whose
delta has the opposite sign of the observed one (x2, capped at 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import ForgeError


def _interval(deltas: np.ndarray, observed: float, alpha: float) -> dict:
    lo, hi = np.percentile(deltas, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    if observed > 0:
        p = 2 * float(np.mean(deltas <= 0))
    elif observed < 0:
        p = 2 * float(np.mean(deltas >= 0))
    else:
        p = 1.0
    return {"delta": observed, "ci_low": float(lo), "ci_high": float(hi), "p_value": min(1.0, p),
            "significant": bool(lo > 0 or hi < 0)}


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, n_resamples: int = 1000, alpha: float = 0.05,
                     seed: int = 0) -> dict:
    """Delta of means B - A with a ``1 - alpha`` percentile interval from a paired bootstrap.

    ``a``, ``b``: per-example scores of systems A and B on the same examples, same order and length.
    Returns ``{"mean_a", "mean_b", "delta", "ci_low", "ci_high", "p_value", "significant", "n"}``
    (``significant``: the interval excludes 0). Raises :class:`ForgeError` on unequal or empty inputs.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ForgeError(f"paired bootstrap needs two equal-length score lists, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ForgeError("paired bootstrap: no examples to compare")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n_resamples, a.size))
    deltas = b[idx].mean(axis=1) - a[idx].mean(axis=1)
    return {"mean_a": float(a.mean()), "mean_b": float(b.mean()),
            **_interval(deltas, float(b.mean() - a.mean()), alpha), "n": int(a.size)}


def paired_bootstrap_ppl(nll_a: Sequence[float], n_a: Sequence[int], nll_b: Sequence[float], n_b: Sequence[int], *,
                         n_resamples: int = 1000, alpha: float = 0.05, seed: int = 0) -> dict:
    """Delta of token-weighted perplexity B - A, ``exp(sum nll / sum tokens)`` per system, with a paired
    bootstrap over dialogues (each resample keeps a dialogue's tokens together). Inputs: per-dialogue
    summed NLL (nats) and token counts, aligned by dialogue. Negative delta = B is better."""
    na, nb = np.asarray(n_a, dtype=np.float64), np.asarray(n_b, dtype=np.float64)
    la, lb = np.asarray(nll_a, dtype=np.float64), np.asarray(nll_b, dtype=np.float64)
    if not (la.shape == lb.shape == na.shape == nb.shape) or la.size == 0:
        raise ForgeError("perplexity bootstrap needs aligned, non-empty per-dialogue NLL and token counts")
    if na.sum() == 0 or nb.sum() == 0:
        raise ForgeError("perplexity bootstrap: no scored tokens")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, la.size, size=(n_resamples, la.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = np.exp(la[idx].sum(1) / na[idx].sum(1))
        pb = np.exp(lb[idx].sum(1) / nb[idx].sum(1))
    ok = np.isfinite(pa) & np.isfinite(pb)
    ppl_a, ppl_b = math.exp(la.sum() / na.sum()), math.exp(lb.sum() / nb.sum())
    return {"mean_a": ppl_a, "mean_b": ppl_b, **_interval(pb[ok] - pa[ok], ppl_b - ppl_a, alpha), "n": int(la.size)}


def compare_metrics(cols_a: dict[str, list[float]], cols_b: dict[str, list[float]], **kw) -> dict[str, dict]:
    """:func:`paired_bootstrap` for every metric column present in both runs (same examples, same order)."""
    return {k: paired_bootstrap(cols_a[k], cols_b[k], **kw) for k in cols_a if k in cols_b}


def side_by_side(ids: Sequence[str], prompts: Sequence[str], references: Sequence[str],
                 predictions: dict[str, Sequence[str]]) -> list[dict]:
    """One row per example: ``{"id", "prompt", "reference", <run name>: prediction, ...}``."""
    rows = []
    for i, ex_id in enumerate(ids):
        row = {"id": ex_id, "prompt": prompts[i], "reference": references[i]}
        for name, preds in predictions.items():
            row[name] = preds[i]
        rows.append(row)
    return rows
