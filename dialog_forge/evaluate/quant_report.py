"""Quantisation report: what NF4, FP4 and INT8 cost a model, layer by layer and in perplexity.

Each ``nn.Linear`` weight ``W`` is round-tripped (quantised then dequantised) through

* ``nf4`` / ``fp4`` -- bitsandbytes ``quantize_4bit``/``dequantize_4bit`` with per-block absmax scaling
  (block of ``blocksize`` consecutive weights, 64 as in QLoRA; Dettmers et al., 2023, "QLoRA", sec. 3);
* ``int8`` -- bitsandbytes ``int8_vectorwise_quant``/``int8_vectorwise_dequant``: per-output-row absmax
  to [-127, 127], the weight side of LLM.int8() (Dettmers et al., 2022), weights only;
* ``int4_absmax`` -- the uniform baseline: per-block absmax scaling to the 15 integer levels [-7, 7]
  (``round(w / absmax * 7) * absmax / 7``), same blocks as NF4, so the codebook is the only difference;
* ``bf16`` -- a cast to bfloat16 and back (the 16-bit reference precision).

Relative error of a layer = ``||W - Q(W)||_F / ||W||_F``. NF4's levels are quantiles of N(0, 1), so on
normally distributed weights its error is below the uniform INT4 grid's (QLoRA sec. 3, "information
theoretically optimal" for normal data); the report measures it rather than assuming it.

Perplexity of a quantised model is measured by loading the weights round-tripped through the scheme into a
copy of the model (weight-only simulation: the exact weights a bitsandbytes 4-bit/8-bit layer would
dequantise to, matmuls in float32, no activation quantisation). As in ``transformers``' bitsandbytes
integration, the output head (``lm_head``) is not quantised in the model-level figures.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from ..errors import ForgeError

SCHEMES = ("nf4", "fp4", "int8", "int4_absmax", "bf16")
SKIP_IN_MODEL = ("lm_head",)


def roundtrip(w, scheme: str, *, blocksize: int = 64):
    """``w`` (float tensor, any shape) quantised with ``scheme`` and dequantised back; same shape, float32.

    Raises :class:`ForgeError` for an unknown scheme.
    """
    import torch

    w32 = w.detach().to(torch.float32).contiguous()
    if scheme in ("nf4", "fp4"):
        import bitsandbytes.functional as bnbf

        q, state = bnbf.quantize_4bit(w32, blocksize=blocksize, quant_type=scheme)
        return bnbf.dequantize_4bit(q, state).to(torch.float32).reshape(w32.shape)
    if scheme == "int8":
        import bitsandbytes.functional as bnbf

        mat = w32.reshape(w32.shape[0], -1) if w32.dim() > 1 else w32.reshape(1, -1)
        cq, stats, _ = bnbf.int8_vectorwise_quant(mat)
        return bnbf.int8_vectorwise_dequant(cq, stats).to(torch.float32).reshape(w32.shape)
    if scheme == "int4_absmax":
        flat = w32.reshape(-1)
        pad = (-flat.numel()) % blocksize
        blocks = torch.nn.functional.pad(flat, (0, pad)).reshape(-1, blocksize)
        absmax = blocks.abs().amax(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
        deq = torch.round(blocks / absmax * 7).clamp(-7, 7) * absmax / 7
        return deq.reshape(-1)[:flat.numel()].reshape(w32.shape)
    if scheme == "bf16":
        return w32.to(torch.bfloat16).to(torch.float32)
    raise ForgeError(f"unknown quantisation scheme {scheme!r}; choose from {', '.join(SCHEMES)}")


def relative_error(w, scheme: str, *, blocksize: int = 64) -> float:
    """``||W - Q(W)||_F / ||W||_F`` for ``scheme`` (0 for an all-zero ``W``)."""
    import torch

    w32 = w.detach().to(torch.float32)
    norm = float(w32.norm())
    if norm == 0.0:
        return 0.0
    return float((w32 - roundtrip(w32, scheme, blocksize=blocksize)).norm()) / norm


def linear_layers(model) -> list[tuple[str, object]]:
    """``(name, module)`` of every ``torch.nn.Linear`` in ``model``, in module order."""
    import torch

    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


def layer_errors(model, schemes: Sequence[str] = ("nf4", "fp4", "int8", "int4_absmax"), *,
                 blocksize: int = 64) -> list[dict]:
    """One row per linear layer: ``{"layer", "shape", "params", "quantized_in_model", <scheme>: relative
    error, ...}``. Raises :class:`ForgeError` when the model has no linear layer."""
    rows = []
    for name, mod in linear_layers(model):
        w = mod.weight
        row = {"layer": name, "shape": list(w.shape), "params": int(w.numel()),
               "quantized_in_model": not any(name.endswith(s) for s in SKIP_IN_MODEL)}
        for s in schemes:
            row[s] = relative_error(w, s, blocksize=blocksize)
        rows.append(row)
    if not rows:
        raise ForgeError("quant-report: the model has no torch.nn.Linear layers to quantise.")
    return rows


def summary(rows: Sequence[dict], schemes: Sequence[str]) -> dict[str, float]:
    """Parameter-weighted mean relative error per scheme over ``rows``."""
    total = sum(r["params"] for r in rows)
    return {s: sum(r[s] * r["params"] for r in rows) / total for s in schemes}


def quantized_copy(model, scheme: str, *, blocksize: int = 64):
    """A deep copy of ``model`` whose linear weights (except ``lm_head``) are round-tripped through
    ``scheme`` (the weight-only simulation described in the module docstring)."""
    import torch

    qm = copy.deepcopy(model)
    with torch.no_grad():
        for name, mod in linear_layers(qm):
            if any(name.endswith(s) for s in SKIP_IN_MODEL):
                continue
            mod.weight.copy_(roundtrip(mod.weight, scheme, blocksize=blocksize).to(mod.weight.dtype))
    return qm


def normal_weights_check(shape=(512, 512), *, seed: int = 0, blocksize: int = 64,
                         schemes: Sequence[str] = ("nf4", "fp4", "int8", "int4_absmax")) -> dict[str, float]:
    """Relative error of each scheme on a ``N(0, 0.02^2)`` matrix of ``shape`` (the chapter's exercise
    7.2: NF4 against uniform INT4 on normally distributed weights)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    w = torch.randn(shape, generator=g) * 0.02
    return {s: relative_error(w, s, blocksize=blocksize) for s in schemes}


def format_table(rows: Sequence[dict], schemes: Sequence[str]) -> str:
    """A plain-text table: one line per layer, relative error in % per scheme."""
    name_w = max(10, *(len(r["layer"]) for r in rows))
    head = f"{'layer':<{name_w}} {'shape':>12} " + " ".join(f"{s:>11}" for s in schemes)
    lines = [head, "-" * len(head)]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        mark = "" if r["quantized_in_model"] else "  (kept full precision in model)"
        lines.append(f"{r['layer']:<{name_w}} {shape:>12} " + " ".join(f"{100 * r[s]:10.3f}%" for s in schemes) + mark)
    return "\n".join(lines)


def run_report(model_path: str, data: Sequence[str] | None, *, schemes: Sequence[str] = ("nf4", "fp4", "int8",
               "int4_absmax"), blocksize: int = 64, template: str = "tokenizer", max_length: int | None = 1024,
               batch_size: int = 8, max_records: int | None = None, device: str = "cpu") -> dict:
    """The whole report for the model at ``model_path``: per-layer errors, their parameter-weighted means,
    the normal-weights check, and -- when ``data`` (canonical dialogue files/dirs) is given -- perplexity of
    the full-precision model and of each scheme's simulated model (plus bf16), over assistant and all tokens.

    Returns ``{"model", "blocksize", "schemes", "layers", "summary", "normal_weights", "perplexity",
    "perplexity_method"}``. Raises :class:`ForgeError` for an unknown scheme, an unloadable model or data.
    """
    from ..io.records import load_records
    from .loading import load_base
    from .perplexity import aggregate, encode_records, score

    bad = [s for s in schemes if s not in SCHEMES]
    if bad:
        raise ForgeError(f"--schemes: unknown {bad}; choose from {', '.join(SCHEMES)}")
    model, tok = load_base(model_path, device)
    rows = layer_errors(model, schemes, blocksize=blocksize)
    report = {"model": model_path, "blocksize": blocksize, "schemes": list(schemes), "layers": rows,
              "summary": summary(rows, schemes), "normal_weights": normal_weights_check(blocksize=blocksize,
                                                                                         schemes=schemes),
              "perplexity": None,
              "perplexity_method": "weights round-tripped through each scheme (weight-only simulation, "
                                   "float32 matmuls); lm_head kept in full precision"}
    if data:
        records = load_records(data)[:max_records] if max_records else load_records(data)
        items, skipped = encode_records(records, tok, template, max_length=max_length)
        if not items:
            raise ForgeError(f"--data {' '.join(data)}: no record with an assistant reply to score.")
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        ppl = {"fp32": aggregate(score(model, items, batch_size=batch_size, pad_id=pad))}
        for s in [*schemes, "bf16"]:
            if s in ppl:
                continue
            qm = quantized_copy(model, s, blocksize=blocksize)
            ppl[s] = aggregate(score(qm, items, batch_size=batch_size, pad_id=pad))
            del qm
        base = ppl["fp32"]["ppl_all"]
        for v in ppl.values():
            v["ppl_all_vs_fp32"] = v["ppl_all"] / base if base else None
        report["perplexity"] = ppl
        report["skipped"] = skipped
    return report


def format_perplexity(ppl: dict) -> str:
    """Plain-text table: scheme, perplexity over assistant tokens and all tokens, ratio to fp32."""
    lines = [f"{'model':<12} {'ppl_assistant':>14} {'ppl_all':>10} {'vs fp32':>9}"]
    for name, v in ppl.items():
        pa = f"{v['ppl_assistant']:.3f}" if v["ppl_assistant"] else "-"
        lines.append(f"{name:<12} {pa:>14} {v['ppl_all']:10.3f} {v['ppl_all_vs_fp32']:9.4f}")
    return "\n".join(lines)
