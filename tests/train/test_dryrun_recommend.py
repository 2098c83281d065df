"""Dry-run figures (the chapter's example, a real 7B config, the tiny model) and the recommendation tree."""

from __future__ import annotations

import pytest

from dialog_forge.train.config import TrainConfig
from dialog_forge.train.dryrun import (
    activation_bytes,
    chapter_example,
    dry_run_report,
    estimate,
    lora_added_params,
    weight_bytes_per_param,
)
from dialog_forge.train.recommend import recommend


def test_chapter_example():
    assert lora_added_params(4096, 4096, 16) == 131_072
    ex = chapter_example()
    assert ex["added"] == 131_072 and ex["share_percent"] == 0.78


def test_weight_bytes():
    assert weight_bytes_per_param("fp16") == 2 and weight_bytes_per_param("int8") == 1
    # NF4: 4 bits + double-quantised constants 8/64 + 32/(64*256) = 0.127 bit (QLoRA paper)
    assert weight_bytes_per_param("nf4") == pytest.approx((4 + 0.127) / 8, abs=1e-4)
    assert weight_bytes_per_param("nf4", double_quant=False) == pytest.approx((4 + 0.5) / 8)


def test_activation_formula():
    # Korthikanti et al.: s*b*h*(34 + 5*a*s/h) per layer at 16-bit, plus logits b*s*V*(2+4)
    got = activation_bytes(batch=1, seq=8, hidden=16, heads=2, layers=1, vocab=10, dtype_bytes=2)
    assert got == int(8 * 16 * (34 + 5 * 2 * 8 / 16)) + 8 * 10 * 6


def test_real_llama2_7b_config(tmp_path):
    """peft's own figure for Llama-2-7B, LoRA r=8 on q_proj,v_proj: 4,194,304 trainable of 6,742,609,920."""
    from transformers import LlamaConfig

    LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                num_key_value_heads=32, vocab_size=32000).save_pretrained(tmp_path)
    est = estimate(TrainConfig(base_model=str(tmp_path), method="lora", r=8, target_modules="attn"))
    assert est["trainable"] == 4_194_304
    assert est["total"] == 6_742_609_920
    assert est["share_percent"] == pytest.approx(0.0622, abs=1e-4)
    q = [m for m in est["lora_matrices"] if m["name"].endswith("q_proj")][0]
    assert q["added"] == 8 * (4096 + 4096)
    # qlora: ~6.5e9 quantised linear weights at ~0.516 B + embeddings/head at 2 B -> between 3.5 and 4.5 GB
    qe = estimate(TrainConfig(base_model=str(tmp_path), method="qlora", r=8, target_modules="attn", dtype="bf16"))
    assert 3.5e9 < qe["memory"]["weights"] < 4.5e9
    assert qe["memory"]["adapter_and_optimizer"] == 4_194_304 * 16


def test_dry_run_matches_the_real_model(tiny_model_dir):
    import torch

    from dialog_forge.train.methods import apply_method, count_parameters, load_base_model

    for method in ("lora", "dora", "full", "prefix"):
        cfg = TrainConfig(base_model=str(tiny_model_dir), method=method)
        rep = dry_run_report(cfg)
        model = apply_method(load_base_model(str(tiny_model_dir), method, torch.device("cpu"), torch.float32), cfg)
        assert rep["trainable"] == count_parameters(model)[0], method
        assert "trainable parameters" in rep["text"]


def test_recommend_tree():
    big = recommend(100_000, 640, 7, keep_general=False)
    assert big.method == "full" and big.rank is None
    no_room = recommend(100_000, 24, 7, keep_general=False)
    assert no_room.method == "lora" and no_room.rank == (32, 128)
    tiny_gpu = recommend(10_000, 8, 7, keep_general=True)
    assert tiny_gpu.method == "qlora" and tiny_gpu.rank == (8, 16)
    assert any("replay" in r for r in tiny_gpu.regularisation)
    small = recommend(2_000, 24, 7, keep_general=False)
    assert small.method == "lora" and small.rank == (4, 8)
    keep_full = recommend(60_000, 640, 7, keep_general=True)
    assert keep_full.method == "full" and any("--l2-to-init" in r for r in keep_full.regularisation)
    assert any("50,000" in r for r in keep_full.reasons)


def test_dry_run_needs_only_config_json(tmp_path):
    """`forge train --dry-run` on a directory holding only config.json (no tokenizer, no weights, no data):
    a 7B plan must not fail on the missing tokenizer."""
    from transformers import LlamaConfig

    from dialog_forge.train.api import train

    LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                num_key_value_heads=32, vocab_size=32000).save_pretrained(tmp_path / "cfg")
    lines = []
    rep = train(TrainConfig(base_model=str(tmp_path / "cfg"), method="lora", r=16, target_modules="attn",
                            dry_run=True, out=str(tmp_path / "run")), log=lines.append)
    assert rep["trainable"] == 16 * (4096 + 4096) * 2 * 32 == 8_388_608
    assert "131,072" in lines[0] and not (tmp_path / "run").exists()


def test_recommend_warns_when_nothing_fits():
    """A 70B model on a 4 GB GPU: QLoRA is the least bad choice, and the NF4 shortfall is a warning, not a
    'because' reason, on both branches of the tree."""
    for size in (1_000, 100_000):
        rec = recommend(size, 4, 70, keep_general=False)
        assert rec.method == "qlora"
        assert len(rec.warnings) == 1 and "43.3 GB > 4 GB" in rec.warnings[0]
        assert not any("warning" in r for r in rec.reasons)
        assert "\nwarning: even the NF4 weights" in rec.text() and rec.to_dict()["warnings"] == rec.warnings
    assert recommend(1_000, 80, 7, keep_general=False).warnings == []
