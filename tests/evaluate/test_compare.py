"""Paired bootstrap intervals on metric and perplexity deltas."""

import numpy as np
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.evaluate import compare


def test_paired_bootstrap_detects_a_real_improvement():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.2, 0.6, size=200)
    b = a + 0.05 + rng.normal(0, 0.02, size=200)  # B better on every example by ~0.05
    res = compare.paired_bootstrap(a, b, n_resamples=2000, seed=3)
    assert res["delta"] == pytest.approx(float(b.mean() - a.mean()))
    assert res["ci_low"] > 0.04 and res["ci_high"] < 0.06
    assert res["significant"] and res["p_value"] < 0.01


def test_paired_bootstrap_no_difference_interval_covers_zero():
    rng = np.random.default_rng(2)
    a = rng.uniform(0, 1, size=100)
    b = a[rng.permutation(100)]  # same distribution, unpaired noise
    res = compare.paired_bootstrap(a, b, seed=0)
    assert res["ci_low"] < 0 < res["ci_high"] or res["delta"] == 0
    assert not res["significant"]


def test_paired_bootstrap_rejects_misaligned():
    with pytest.raises(ForgeError):
        compare.paired_bootstrap([1, 2], [1])


def test_ppl_bootstrap_token_weighted():
    nll_a, n = [20.0, 40.0, 10.0], [10, 20, 5]
    nll_b = [10.0, 20.0, 5.0]
    res = compare.paired_bootstrap_ppl(nll_a, n, nll_b, n, seed=0)
    assert res["mean_a"] == pytest.approx(np.exp(2.0))
    assert res["mean_b"] == pytest.approx(np.exp(1.0))
    assert res["ci_high"] < 0  # B lower on every resample


def test_side_by_side():
    rows = compare.side_by_side(["1"], ["hi"], ["hello"], {"A": ["yo"], "B": ["hello"]})
    assert rows == [{"id": "1", "prompt": "hi", "reference": "hello", "A": "yo", "B": "hello"}]
