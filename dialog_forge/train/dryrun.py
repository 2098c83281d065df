"""``forge train --dry-run``: what a run will train and roughly what memory it needs, without loading weights.

Trainable parameters
    LoRA on a ``d x k`` weight adds ``A: r x k`` and ``B: d x r``, i.e. ``r * (d + k)`` parameters (Hu et al.
    2021). The chapter's example, one 4096 x 4096 matrix at r = 16: 16 * (4096 + 4096) = 131,072 parameters,
    0.78 % of its 16,777,216. DoRA adds a magnitude vector of ``d`` per matrix. The real count for a
    config is taken from peft itself on a weightless (meta-device) copy of the model.

Memory estimate (bytes; an estimate, not a measurement)
    * weights: fp32 4 B/param, fp16/bf16 2, int8 1, NF4 0.5 plus quantisation constants: one absmax per
      block of 64 weights, fp32 (0.5 bit/param) or, with double quantisation, 8-bit absmax + one fp32
      constant per 256 blocks = 8/64 + 32/(64*256) = 0.127 bit/param (Dettmers et al. 2023, QLoRA, sec. 2).
      Only the linear layers of the transformer blocks are quantised; embeddings, output head and norms stay
      in the compute dtype.
    * adapter + optimizer: trainable params x 16 B (fp32 weight 4 + gradient 4 + AdamW moments 8); for full
      fine-tuning 16 B/param cover weight, gradient, fp32 master copy and moments, so the optimizer term is
      16 B minus the weight's own bytes (already counted under weights).
    * activations: per layer ``s*b*h*(34 + 5*a*s/h)`` bytes at 16-bit (Korthikanti et al. 2022, "Reducing
      Activation Recomputation in Large Transformer Models", eq. 1; doubled for fp32), or ``2*s*b*h`` per
      layer with gradient checkpointing, plus logits ``b*s*V*(dtype bytes + 4)`` for the fp32 loss.
"""

from __future__ import annotations

from typing import Any

from ..errors import ForgeError
from .config import LORA_METHODS, TrainConfig

NF4_BITS = 4.0
BLOCK = 64
DQ_BLOCK = 256


def lora_added_params(d: int, k: int, r: int) -> int:
    """Parameters LoRA adds to one ``d x k`` matrix: ``r * (d + k)``."""
    return r * (d + k)


def chapter_example() -> dict[str, Any]:
    """The chapter's figures: a 4096 x 4096 matrix at r = 16 -> 131,072 added parameters, 0.78 %."""
    added = lora_added_params(4096, 4096, 16)
    return {"d": 4096, "k": 4096, "r": 16, "added": added, "share_percent": round(100 * added / (4096 * 4096), 2)}


def weight_bytes_per_param(kind: str, double_quant: bool = True) -> float:
    """Bytes per weight for ``kind`` in fp32, fp16, bf16, int8, nf4 (NF4 includes quantisation constants)."""
    if kind == "nf4":
        const_bits = (8 / BLOCK + 32 / (BLOCK * DQ_BLOCK)) if double_quant else 32 / BLOCK
        return (NF4_BITS + const_bits) / 8
    table = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0}
    if kind not in table:
        raise ForgeError(f"unknown weight format {kind!r}; use fp32, fp16, bf16, int8 or nf4.")
    return table[kind]


def activation_bytes(*, batch: int, seq: int, hidden: int, heads: int, layers: int, vocab: int,
                     dtype_bytes: int = 2, checkpointing: bool = False) -> int:
    """Activation memory estimate in bytes (formula in the module docstring)."""
    s, b, h, a = seq, batch, hidden, heads
    if checkpointing:
        per_layer = 2 * s * b * h * (dtype_bytes / 2)
        # one layer is recomputed in full during backward
        extra = s * b * h * (34 + 5 * a * s / h) * (dtype_bytes / 2)
    else:
        per_layer = s * b * h * (34 + 5 * a * s / h) * (dtype_bytes / 2)
        extra = 0
    logits = b * s * vocab * (dtype_bytes + 4)
    return int(per_layer * layers + extra + logits)


def _meta_model(cfg: TrainConfig):
    """The model built on the meta device (no weights), wrapped by the method's peft config."""
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        mcfg = AutoConfig.from_pretrained(cfg.base_model)
    except (OSError, ValueError) as e:
        raise ForgeError(f"--base-model {cfg.base_model!r}: cannot read its config ({e}).") from None
    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(mcfg)
        if cfg.method != "full":
            from peft import get_peft_model

            from .methods import peft_config

            model = get_peft_model(model, peft_config(cfg))
    return model, mcfg


def estimate(cfg: TrainConfig) -> dict[str, Any]:
    """Trainable parameters and the memory estimate for ``cfg`` (see module docstring); sizes in bytes.

    Returns ``{"trainable", "total", "share_percent", "memory": {"weights", "adapter_and_optimizer",
    "activations", "total"}, "weights_format", "lora_matrices": [{"name", "d", "k", "added"}], ...}``."""
    import torch

    cfg.validate()
    model, mcfg = _meta_model(cfg)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    base_total = 0
    quantisable = 0
    matrices = []
    for name, mod in model.named_modules():
        in_block = "layers" in name or "h." in name or "blocks" in name
        if isinstance(mod, torch.nn.Linear) and "lora_" not in name and in_block:
            quantisable += mod.weight.numel()
        if cfg.method in LORA_METHODS and hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
            base = mod.get_base_layer()
            d, k = base.out_features, base.in_features
            matrices.append({"name": name.replace("base_model.model.", ""), "d": d, "k": k,
                             "added": lora_added_params(d, k, cfg.r)})
    for n, p in model.named_parameters():
        if "lora_" not in n and "prompt_encoder" not in n and "magnitude" not in n:
            base_total += p.numel()
    on_gpu = torch.cuda.is_available() and cfg.device != "cpu"
    dtype = {"fp32": "fp32", "bf16": "bf16", "fp16": "fp16"}.get(cfg.dtype, "bf16" if on_gpu else "fp32")
    dbytes = 4 if dtype == "fp32" else 2
    if cfg.method == "qlora":
        wfmt = "nf4"
        weights = quantisable * weight_bytes_per_param("nf4") + (base_total - quantisable) * dbytes
    else:
        wfmt = dtype
        weights = base_total * dbytes
    # 16 B per trainable parameter in all; for full fine-tuning the weight itself is already in `weights`
    opt = trainable * (16 - dbytes) if cfg.method == "full" else trainable * 16
    heads = getattr(mcfg, "num_attention_heads", 1)
    hidden = getattr(mcfg, "hidden_size", 0)
    layers = getattr(mcfg, "num_hidden_layers", 0)
    act = activation_bytes(batch=cfg.batch_size, seq=cfg.max_length, hidden=hidden, heads=heads, layers=layers,
                           vocab=getattr(mcfg, "vocab_size", 0), dtype_bytes=dbytes,
                           checkpointing=cfg.gradient_checkpointing)
    total_params = base_total + (trainable if cfg.method != "full" else 0)
    return {
        "method": cfg.method, "trainable": trainable, "total": total_params,
        "share_percent": 100.0 * trainable / max(1, total_params), "weights_format": wfmt,
        "lora_matrices": matrices, "chapter_example": chapter_example(),
        "memory": {"weights": int(weights), "adapter_and_optimizer": int(opt), "activations": act,
                   "total": int(weights + opt + act)},
        "batch_size": cfg.batch_size, "max_length": cfg.max_length,
    }


def _gib(x: float) -> str:
    return f"{x / 2**30:.3f} GiB" if x >= 2**27 else f"{x / 2**20:.2f} MiB"


def dry_run_report(cfg: TrainConfig) -> dict[str, Any]:
    """:func:`estimate` plus a printable ``text``."""
    est = estimate(cfg)
    m = est["memory"]
    lines = [f"dry run: --method {cfg.method} on {cfg.base_model}",
             f"trainable parameters: {est['trainable']:,} of {est['total']:,} ({est['share_percent']:.3f} %)"]
    if est["lora_matrices"]:
        ex = est["lora_matrices"][0]
        lines.append(f"  LoRA adds r*(d+k) per matrix, e.g. {ex['name']}: {cfg.r}*({ex['d']}+{ex['k']}) = "
                     f"{ex['added']:,}; {len(est['lora_matrices'])} matrices adapted")
    ce = est["chapter_example"]
    lines.append(f"  (chapter check: 4096x4096 at r=16 adds {ce['added']:,} = {ce['share_percent']} %)")
    lines.append(f"memory estimate (batch {cfg.batch_size} x {cfg.max_length} tokens):")
    lines.append(f"  weights ({est['weights_format']}): {_gib(m['weights'])}")
    lines.append(f"  adapter + gradients + AdamW state (16 B/trainable param): {_gib(m['adapter_and_optimizer'])}")
    lines.append(f"  activations{' (checkpointed)' if cfg.gradient_checkpointing else ''}: {_gib(m['activations'])}")
    lines.append(f"  total: {_gib(m['total'])}")
    est["text"] = "\n".join(lines)
    return est
