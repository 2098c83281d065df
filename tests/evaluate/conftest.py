"""Fixtures of the evaluate tests; makes the helper modules next to this file importable."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def eval_tiny_dir(tmp_path_factory):
    """A tiny Llama + BPE tokenizer (``dialog_forge.train.tiny``) trained on the clinic/finance texts."""
    import evalkit

    return evalkit.make_tiny(tmp_path_factory.mktemp("eval_tiny") / "base")


@pytest.fixture(scope="session")
def eval_runs(eval_tiny_dir, tmp_path_factory):
    """Two tiny LoRA runs on the clinic (medical) dialogues: ``a`` (r=8, 30 steps) and ``b`` (r=4,
    8 steps), plus the data files. Returns a dict of paths."""
    import evalkit
    import torch

    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("eval_runs")
    train = evalkit.write_jsonl(root / "train.jsonl", evalkit.clinic_dialogues(6))
    val = evalkit.write_jsonl(root / "val.jsonl", evalkit.clinic_dialogues(6, prefix="v")[:3])
    test = evalkit.write_jsonl(root / "test.jsonl", evalkit.clinic_dialogues(6, prefix="t")
                               + evalkit.other_dialogues(3))
    a = evalkit.train_run(eval_tiny_dir, root / "run_a", train, val, r=8, steps=30)
    b = evalkit.train_run(eval_tiny_dir, root / "run_b", train, val, r=4, steps=8)
    return {"root": root, "base": eval_tiny_dir, "a": a, "b": b, "train": train, "val": val, "test": test}
