"""The training commands as a user runs them (subprocess): tiny-model, train --preview/--dry-run/a short run,
export, recommend, and clear errors with exit code 2."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_tiny_model_then_train_and_export(forge, tmp_path, train_file):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("你好，请问订单状态？\n好的，请提供订单号。\nHello, how can I help you?\n" * 5, encoding="utf-8")
    p = forge("tiny-model", tmp_path / "tiny", "--text", corpus, "--vocab-size", "400")
    assert p.returncode == 0, p.stderr.decode()
    assert (tmp_path / "tiny" / "config.json").is_file() and (tmp_path / "tiny" / "tokenizer.json").is_file()

    p = forge("train", "--base-model", tmp_path / "tiny", "--data", train_file, "--preview", "1", "--template", "llama3")
    assert p.returncode == 0, p.stderr.decode()
    out = p.stdout.decode()
    assert "⟦好的，请提供订单号。<|eot_id|>⟧" in out and "--- d0" in out

    p = forge("train", "--base-model", tmp_path / "tiny", "--data", train_file, "--out", tmp_path / "run",
              "--method", "lora", "--max-steps", "3", "--batch-size", "6", "--lr", "5e-3")
    assert p.returncode == 0, p.stderr.decode()
    res = json.loads(p.stdout.decode())
    assert res["steps"] == 3 and res["run_dir"].endswith("run")
    assert "val loss" in p.stderr.decode()

    p = forge("export", train_file, "--format", "sharegpt", "--out", tmp_path / "sg.jsonl")
    assert p.returncode == 0, p.stderr.decode()
    first = json.loads((tmp_path / "sg.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["conversations"][0] == {"from": "human", "value": "帮我查一下订单状态"}
    assert first["conversations"][1]["from"] == "gpt"


def test_dry_run_and_recommend(forge, tiny_model_dir):
    p = forge("train", "--base-model", tiny_model_dir, "--method", "qlora", "--dry-run", "--data", "unused")
    assert p.returncode == 0, p.stderr.decode()
    est = json.loads(p.stdout.decode())
    assert est["weights_format"] == "nf4" and est["trainable"] == 16_384  # 14 matrices, r=8
    assert "trainable parameters" in p.stderr.decode()
    p = forge("recommend", "--data-size", "100000", "--gpu-memory", "24", "--model-params", "7", "--json")
    assert p.returncode == 0, p.stderr.decode()
    rec = json.loads(p.stdout.decode())
    assert rec["method"] == "lora" and rec["rank"] == [32, 128]


def test_user_errors_exit_2_with_the_fix(forge, tiny_model_dir, tmp_path):
    p = forge("train", "--base-model", tiny_model_dir, "--data", tmp_path / "missing.jsonl", "--out", tmp_path / "r")
    assert p.returncode == 2 and b"--data" in p.stderr and b"Traceback" not in p.stderr
    p = forge("train", "--base-model", tiny_model_dir, "--data", tmp_path, "--template", "nope", "--preview", "1")
    assert p.returncode == 2 and b"--template 'nope'" in p.stderr
    p = forge("export", tmp_path, "--merge", tmp_path / "m")
    assert p.returncode == 2 and b"not a finished forge train run" in p.stderr
