"""Collation (padding by position, packing with per-sample position ids) and method setup."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.train import methods
from dialog_forge.train.collate import pack_examples, packed_collate, pad_collate, supervised_count
from dialog_forge.train.config import TrainConfig
from dialog_forge.train.masking import IGNORE_INDEX, ChatEncoder

torch.set_num_threads(2)


def _examples(tok):
    enc = ChatEncoder(tok, "tokenizer")
    pairs = [("你好", "您好！"), ("帮我查一下订单状态", "好的，请提供订单号。"), ("How do I reset my password?", "Click it.")]
    return [enc.encode(Dialogue(id=f"p{i}", messages=[Message("user", q), Message("assistant", a)]))
            for i, (q, a) in enumerate(pairs)]


def test_packed_samples_do_not_attend_to_each_other(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    ex = _examples(tok)
    rows = pack_examples(ex, max_length=sum(len(e) for e in ex) + 5)
    assert len(rows) == 1 and len(rows[0]) == 3
    packed = packed_collate(rows, tok.pad_token_id)
    at = 0
    pos = packed["position_ids"][0].tolist()
    with torch.no_grad():
        lp = model(input_ids=packed["input_ids"], position_ids=packed["position_ids"], use_cache=False).logits[0]
        for e in ex:
            alone = model(input_ids=torch.tensor([e.input_ids])).logits[0]
            assert pos[at:at + len(e)] == list(range(len(e)))
            torch.testing.assert_close(lp[at:at + len(e)], alone, atol=1e-4, rtol=1e-4)
            at += len(e)
    # the first token of each packed sample is never a target, so nothing is predicted across a boundary
    labels = packed["labels"][0].tolist()
    starts = [0, len(ex[0]), len(ex[0]) + len(ex[1])]
    assert all(labels[s] == IGNORE_INDEX for s in starts)


def test_pad_collate_masks_padding_by_position(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ex = _examples(tok)
    b = pad_collate(ex, pad_id=tok.eos_token_id)  # worst case: pad id == a real token id
    for i, e in enumerate(ex):
        n = len(e)
        assert b["attention_mask"][i].sum().item() == n
        assert b["labels"][i, :n].tolist() == e.labels
        assert (b["labels"][i, n:] == IGNORE_INDEX).all()
    assert supervised_count(b) == sum(sum(1 for x in e.labels[1:] if x != IGNORE_INDEX) for e in ex)


def test_pack_examples_respects_max_length(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ex = _examples(tok) * 4
    L = max(len(e) for e in ex) + 4
    rows = pack_examples(ex, L)
    assert all(sum(len(e) for e in r) <= L for r in rows)
    assert sum(len(r) for r in rows) == len(ex)


def test_target_module_sets():
    assert methods.resolve_target_modules("attn") == ["q_proj", "v_proj"]
    assert methods.resolve_target_modules("chapter") == ["q_proj", "v_proj", "gate_proj", "up_proj"]
    assert methods.resolve_target_modules("all-linear") == "all-linear"
    assert methods.resolve_target_modules("q_proj, o_proj") == ["q_proj", "o_proj"]


def test_lora_config_defaults():
    cfg = TrainConfig(base_model="x", method="dora", r=4)
    pc = methods.peft_config(cfg)
    assert pc.r == 4 and pc.lora_alpha == 8 and pc.lora_dropout == 0.05 and pc.use_dora and pc.bias == "none"


def test_compute_dtype_cpu_is_fp32():
    assert methods.compute_dtype(torch.device("cpu"), "auto") == torch.float32
    assert methods.compute_dtype(torch.device("cpu"), "bf16") == torch.bfloat16


@pytest.mark.parametrize("installed", [None, "0.42.0"])
def test_qlora_without_usable_bitsandbytes_stops_before_loading_weights(monkeypatch, tiny_model_dir, installed):
    from importlib import metadata

    real = metadata.version

    def fake_version(name):
        if name == "bitsandbytes":
            if installed is None:
                raise metadata.PackageNotFoundError(name)
            return installed
        return real(name)

    loaded = []
    monkeypatch.setattr(metadata, "version", fake_version)
    monkeypatch.setattr("transformers.AutoModelForCausalLM.from_pretrained",
                        lambda *a, **k: loaded.append(a) or (_ for _ in ()).throw(AssertionError("weights loaded")))
    with pytest.raises(ForgeError, match=r"pip install .*bitsandbytes>=0\.49"):
        methods.load_base_model(str(tiny_model_dir), "qlora", torch.device("cpu"), torch.float32)
    assert loaded == []


def test_bad_flags_are_named():
    with pytest.raises(ForgeError, match="--base-model"):
        TrainConfig(method="lora").validate()
    with pytest.raises(ForgeError, match="--packing"):
        TrainConfig(base_model="x", method="prefix", packing=True).validate()
    with pytest.raises(ForgeError, match="--r"):
        TrainConfig(base_model="x", r=0).validate()


@pytest.mark.parametrize("kw, flag", [({"lr": -1.0}, "--lr -1.0"), ({"lora_dropout": 1.0}, "--lora-dropout 1.0"),
                                      ({"max_steps": 0}, "--max-steps 0"), ({"eval_steps": 0}, "--eval-steps 0"),
                                      ({"epochs": 0.0}, "--epochs 0.0"), ({"top_p": 0.0}, "--top-p 0.0"),
                                      ({"weight_decay": -0.1}, "--weight-decay -0.1"),
                                      ({"num_virtual_tokens": 0}, "--num-virtual-tokens 0")])
def test_out_of_range_numbers_are_named(kw, flag):
    """`forge train --lr -1` used to end in torch's 'unexpected ValueError: Invalid learning rate' after the
    model had loaded; every numeric flag is checked up front and named."""
    with pytest.raises(ForgeError, match=flag):
        TrainConfig(base_model="x", **kw).validate()
    TrainConfig(base_model="x", lr=0.0, max_grad_norm=0.0, temperature=0.0).validate()  # 0 is allowed there


def test_nf4_layer_backpropagates_like_its_dequantised_weights():
    """QLoRA relies on gradients flowing through frozen NF4 layers to earlier adapters: on the CPU backend
    the input gradient must equal g @ dequant(W)."""
    import bitsandbytes.functional as bnbf
    from bitsandbytes.nn import Linear4bit

    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 32, bias=False)
    q = Linear4bit(64, 32, bias=False, compute_dtype=torch.float32, quant_type="nf4", compress_statistics=True)
    q.load_state_dict(lin.state_dict())
    q = q.to("cpu")
    W = bnbf.dequantize_4bit(q.weight.data, q.weight.quant_state)
    assert (W - lin.weight).abs().mean() < 0.02  # NF4 is close to the original weights
    for shape in [(1, 64), (2, 5, 64)]:
        x = torch.randn(*shape, requires_grad=True)
        y = q(x)
        g = torch.randn_like(y)
        (y * g).sum().backward()
        torch.testing.assert_close(y, x.detach() @ W.T, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(x.grad, g @ W, atol=1e-5, rtol=1e-5)
