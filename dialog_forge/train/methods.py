"""Fine-tuning methods: loading the base model and wrapping it in the peft configuration of ``--method``.

=========  ==========================================================================================
qlora      base weights quantised to 4-bit NF4 with double quantisation (bitsandbytes), compute dtype
           bf16 where the device supports it else fp32, ``prepare_model_for_kbit_training``, then LoRA
           (Dettmers et al. 2023, "QLoRA"). bitsandbytes >= 0.49 also runs NF4 on the CPU.
lora       ``LoraConfig``: W' = W + (lora_alpha / r) * B A, A: r x k, B: d x r (Hu et al. 2021).
dora       ``LoraConfig(use_dora=True)``: weight-decomposed LoRA (Liu et al. 2024).
full       every weight trainable (optionally with ``--l2-to-init``).
prefix     ``PrefixTuningConfig`` (Li & Liang 2021).
ptuning    ``PromptEncoderConfig`` (P-tuning, Liu et al. 2021).
prompt     ``PromptTuningConfig`` (Lester et al. 2021).
=========  ==========================================================================================

``--target-modules`` named sets: ``all-linear`` (every linear layer but the output head, peft's own
expansion), ``attn`` = ``q_proj,v_proj`` and ``chapter`` = ``q_proj,v_proj,gate_proj,up_proj``; anything
else is a comma-separated list of module names.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import ForgeError
from .config import LORA_METHODS, PROMPT_METHODS, TrainConfig

TARGET_SETS: dict[str, list[str] | str] = {
    "all-linear": "all-linear",
    "attn": ["q_proj", "v_proj"],
    "chapter": ["q_proj", "v_proj", "gate_proj", "up_proj"],
}

#: minimum bitsandbytes versions for 4-bit NF4: on CUDA, and on the CPU (multi-backend support)
BNB_MIN_CUDA = "0.43.0"
BNB_MIN_CPU = "0.49.0"


def resolve_target_modules(spec: str) -> list[str] | str:
    """``--target-modules`` value -> peft ``target_modules`` (``"all-linear"`` or a list of names)."""
    spec = (spec or "all-linear").strip()
    if spec in TARGET_SETS:
        return TARGET_SETS[spec]
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise ForgeError("--target-modules is empty; use all-linear, attn, chapter or a comma list of names.")
    return names


def pick_device(spec: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available else CPU; otherwise ``torch.device(spec)``.
    Raises :class:`ForgeError` when CUDA is asked for but absent."""
    if spec in ("auto", "", None):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(spec)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ForgeError(f"--device {spec}: no CUDA device is available here; use --device cpu.")
    return dev


def compute_dtype(device: torch.device, requested: str = "auto") -> torch.dtype:
    """The training/compute dtype: ``auto`` = bf16 on a CUDA device that supports it, else fp32."""
    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if requested != "auto":
        return table[requested]
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def check_bitsandbytes(device: torch.device) -> str:
    """Check that bitsandbytes can run NF4 on ``device``; returns its version.

    Raises :class:`ForgeError` naming the fix when it is missing or too old -- called before any weight
    is loaded."""
    from importlib import metadata

    from packaging.version import Version

    need = BNB_MIN_CPU if device.type == "cpu" else BNB_MIN_CUDA
    try:
        ver = metadata.version("bitsandbytes")
    except metadata.PackageNotFoundError:
        raise ForgeError(f"--method qlora needs bitsandbytes>={need} (4-bit NF4 weights), which is not installed. "
                         f"Fix: pip install 'bitsandbytes>={need}', or use --method lora.") from None
    if Version(ver) < Version(need):
        where = "on the CPU" if device.type == "cpu" else "on CUDA"
        raise ForgeError(f"--method qlora {where} needs bitsandbytes>={need}; found {ver}. "
                         f"Fix: pip install -U 'bitsandbytes>={need}', or use --method lora.")
    return ver


def quantization_config(dtype: torch.dtype):
    """The QLoRA ``BitsAndBytesConfig``: NF4, double quantisation, compute dtype ``dtype``."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=dtype)


def load_base_model(base: str, method: str, device: torch.device, dtype: torch.dtype):
    """Load the base causal LM for ``method`` on ``device``: 4-bit NF4 for qlora, else ``dtype`` weights
    (fp32 master weights for full fine-tuning on fp16). Raises :class:`ForgeError` when it cannot be loaded."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    if method == "qlora":
        check_bitsandbytes(device)
        kwargs["quantization_config"] = quantization_config(dtype)
        kwargs["device_map"] = {"": device.index or 0} if device.type == "cuda" else {"": "cpu"}
        kwargs["dtype"] = dtype
    else:
        kwargs["dtype"] = torch.float32 if (method == "full" and dtype == torch.float16) else dtype
    try:
        model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    except OSError as e:
        raise ForgeError(f"--base-model {base!r}: cannot load it ({e}). Give a local model directory or a hub "
                         "name reachable from here (offline: `forge tiny-model`).") from None
    if method != "qlora":
        model.to(device)
    return model


def peft_config(cfg: TrainConfig, modules_to_save: list[str] | None = None):
    """The peft config for ``cfg.method`` (``None`` for ``full``)."""
    from peft import LoraConfig, PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig, TaskType

    if cfg.method in LORA_METHODS:
        return LoraConfig(r=cfg.r, lora_alpha=cfg.alpha(), lora_dropout=cfg.lora_dropout,
                          target_modules=resolve_target_modules(cfg.target_modules), bias=cfg.bias,
                          use_dora=cfg.method == "dora", task_type=TaskType.CAUSAL_LM,
                          modules_to_save=modules_to_save)
    if cfg.method == "prefix":
        return PrefixTuningConfig(num_virtual_tokens=cfg.num_virtual_tokens, task_type=TaskType.CAUSAL_LM)
    if cfg.method == "ptuning":
        return PromptEncoderConfig(num_virtual_tokens=cfg.num_virtual_tokens, encoder_hidden_size=None,
                                   task_type=TaskType.CAUSAL_LM)
    if cfg.method == "prompt":
        return PromptTuningConfig(num_virtual_tokens=cfg.num_virtual_tokens, task_type=TaskType.CAUSAL_LM)
    return None


def apply_method(model, cfg: TrainConfig, *, added_tokens: bool = False):
    """Wrap ``model`` for ``cfg.method``: returns the peft model (or the model itself for ``full``).

    With ``added_tokens`` (the template's special tokens were added to the vocabulary) the input embeddings
    and output head are trained and saved too (peft ``modules_to_save``).
    Raises :class:`ForgeError` when the target modules match nothing."""
    from peft import get_peft_model, prepare_model_for_kbit_training

    if cfg.method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        if cfg.gradient_checkpointing:
            model.gradient_checkpointing_enable()
        return model
    if cfg.method == "qlora":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
    elif cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    mts = None
    if added_tokens and cfg.method in LORA_METHODS:
        mts = [_module_name(model, model.get_input_embeddings()), _module_name(model, model.get_output_embeddings())]
        mts = [m for m in mts if m]
    pc = peft_config(cfg, mts)
    try:
        return get_peft_model(model, pc, adapter_name=cfg.adapter_name)
    except ValueError as e:
        if "target" in str(e).lower():
            raise ForgeError(f"--target-modules {cfg.target_modules!r}: {e}. Use all-linear, attn, chapter or the "
                             "model's module names (e.g. q_proj,v_proj).") from None
        raise


def _module_name(model, module) -> str | None:
    for name, m in model.named_modules():
        if m is module:
            return name.split(".")[-1]
    return None


def count_parameters(model) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts (4-bit packed weights counted as their logical size)."""
    trainable = total = 0
    for p in model.parameters():
        n = p.numel()
        if p.__class__.__name__ == "Params4bit":
            n = n * 2
        total += n
        if p.requires_grad:
            trainable += n
    return trainable, total


def is_prompt_method(method: str) -> bool:
    return method in PROMPT_METHODS
