"""`forge sweep`: flag parsing, selection at a common step, and a rank sweep on the tiny model."""

import json

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.evaluate import sweep


def test_parse_args_sweeps_commas_and_pipes():
    plan = sweep.parse_args(["--r", "4,8,16", "--lr=1e-3", "--data", "a.jsonl", "--data", "b.jsonl",
                             "--target-modules", "q_proj,v_proj|all-linear", "--packing"])
    assert plan.swept == {"r": ["4", "8", "16"], "target_modules": ["q_proj,v_proj", "all-linear"]}
    assert plan.fixed == {"lr": "1e-3", "data": ["a.jsonl", "b.jsonl"], "packing": True}
    assert len(plan.combos()) == 6 and plan.combos()[0] == {"r": "4", "target_modules": "q_proj,v_proj"}
    assert sweep.run_name({"r": "4", "lr": "1e-3"}) == "r=4,lr=1e-3"
    with pytest.raises(ForgeError, match="unknown train flag"):
        sweep.parse_args(["--rank", "4,8"])


def test_select_best_uses_the_same_step():
    curves = {"r=4": ([10, 20, 30], [3.0, 2.5, 2.0]),  # lowest at 30, but r=8 stopped at 20
              "r=8": ([10, 20], [2.9, 2.2])}
    sel = sweep.select_best(curves)
    assert sel["step"] == 20 and sel["best"] == "r=8" and sel["val_loss"] == {"r=4": 2.5, "r=8": 2.2}
    with pytest.raises(ForgeError, match="validation"):
        sweep.select_best({"a": ([], [])})


@pytest.mark.slow
def test_sweep_rank_on_tiny_model(forge, eval_runs, tmp_path):
    out = tmp_path / "sw"
    p = forge("sweep", "--out", out, "--r", "4,8,16", "--base-model", eval_runs["base"], "--data", eval_runs["train"],
              "--val", eval_runs["val"], "--method", "lora", "--lr", "5e-3", "--max-steps", "6", "--eval-steps", "3",
              "--batch-size", "6")
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    assert (out / "sweep_curves.png").stat().st_size > 1000
    rep = json.loads((out / "sweep.json").read_text())
    assert [r["values"]["r"] for r in rep["runs"]] == ["4", "8", "16"]
    sel = rep["selection"]
    assert sel["step"] == 6 and sel["best"] in {"r=4", "r=8", "r=16"}
    assert sel["val_loss"][sel["best"]] == min(sel["val_loss"].values())
    assert f"best: {sel['best']}" in p.stdout.decode()
    assert [r["trainable_params"] for r in rep["runs"]] == sorted(r["trainable_params"] for r in rep["runs"])
    assert (out / "r=8" / "adapter").is_dir()
