"""The configuration of one ``forge train`` run: one dataclass for CLI flags, YAML and the Python API.

Every field is declared with :func:`~dialog_forge.pipeline.step.cfg_field`, so ``forge train --help``, a
stages YAML and ``dialog_forge.train.api.train(TrainConfig(...))`` share one definition (TRL's habit:
``<method>_config.py`` next to the trainer).

Defaults follow common LoRA practice: ``r=8``, ``lora_alpha=2r``, ``lora_dropout=0.05``, AdamW at
``lr=2e-4`` for LoRA-type adapters (``2e-5`` for full fine-tuning, ``1e-2`` for prompt-based methods),
``warmup_ratio=0.03`` then cosine decay.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ForgeError
from ..pipeline.step import StepConfig, cfg_field

METHODS = ("qlora", "lora", "dora", "full", "prefix", "ptuning", "prompt")
LORA_METHODS = ("qlora", "lora", "dora")
PROMPT_METHODS = ("prefix", "ptuning", "prompt")

Method = Literal["qlora", "lora", "dora", "full", "prefix", "ptuning", "prompt"]


@dataclass
class TrainConfig(StepConfig):
    """All settings of a training run (see ``forge train --help`` for each field's meaning)."""

    base_model: str = cfg_field("", help="Base model: a local directory (save_pretrained layout) or a hub name.")
    data: list[str] = cfg_field([], help="Training data: `forge split` output dirs (their train/ and val/ "
                                "sub-folders are used) or canonical JSONL/Parquet files; records whose `split` "
                                "is 'val' go to validation, 'test' records are ignored.")
    val: list[str] = cfg_field([], help="Validation data (canonical JSONL/Parquet or dirs); overrides val/ "
                               "found under --data.")
    out: str = cfg_field("runs/run", help="Run directory to write (adapter/, tokenizer/, metrics.jsonl, ...).")
    method: Method = cfg_field("lora", help="qlora (NF4 4-bit base + LoRA), lora, dora, full, prefix "
                               "(prefix tuning), ptuning (p-tuning), prompt (prompt tuning).")
    # -- LoRA ------------------------------------------------------------------------------------
    r: int = cfg_field(8, help="LoRA rank r (adapter adds r*(d+k) parameters per d x k matrix).")
    lora_alpha: int | None = cfg_field(None, help="LoRA scaling alpha (default 2*r); update is (alpha/r)*BA.")
    lora_dropout: float = cfg_field(0.05, help="Dropout on the LoRA input.")
    target_modules: str = cfg_field("all-linear", help="Modules to adapt: 'all-linear', 'attn' (q_proj,v_proj), "
                                    "'chapter' (q_proj,v_proj,gate_proj,up_proj) or a comma list of names.")
    bias: Literal["none", "all", "lora_only"] = cfg_field("none", help="Which biases to train (peft `bias`).")
    num_virtual_tokens: int = cfg_field(16, help="Virtual tokens for prefix/ptuning/prompt methods.")
    adapter_name: str = cfg_field("default", help="Name of the peft adapter (saved under adapter/ either way).")
    # -- data and template ---------------------------------------------------------------------
    template: str = cfg_field("tokenizer", help="Chat template: 'tokenizer' (the model's own), a shipped name "
                              "(chatml, llama3, qwen, chapter) or a path to a Jinja file.")
    system_prompt: str | None = cfg_field(None, help="System prompt added to records without one (and saved in "
                                          "generation_config.json).")
    cot: bool = cfg_field(False, help="Format replies with an explicit step-by-step section when the record "
                          "has one (meta.cot or meta.rationale).")
    train_on: Literal["assistant", "all", "last"] = cfg_field("assistant", help="Supervised tokens: every "
                                                              "assistant turn, all tokens, or the last assistant turn.")
    max_length: int = cfg_field(1024, help="Maximum tokens per example. Truncation drops whole earliest turns "
                                "first and keeps the last assistant turn whole (see masking.py).")
    packing: bool = cfg_field(False, help="Pack several examples per row with per-sample position ids "
                              "(packed samples do not attend to each other).")
    drop_empty: bool = cfg_field(False, help="Drop (and count) examples with zero supervised tokens instead of "
                                 "stopping with an error naming the record.")
    max_records: int | None = cfg_field(None, help="Use at most this many training records (smoke tests).")
    # -- optimisation ----------------------------------------------------------------------------
    lr: float | None = cfg_field(None, help="Peak learning rate (default 2e-4 adapters, 2e-5 full, 1e-2 prompt-based).")
    warmup_ratio: float = cfg_field(0.03, help="Share of steps with linear warmup before cosine decay.")
    weight_decay: float = cfg_field(0.0, help="AdamW decoupled weight decay.")
    batch_size: int = cfg_field(4, help="Examples (or packed rows) per micro-batch.")
    grad_accum: int = cfg_field(1, help="Micro-batches per optimizer step; the loss is normalised by the "
                                "supervised-token count of the whole step.")
    epochs: float = cfg_field(1.0, help="Passes over the training data (ignored when --max-steps is set).")
    max_steps: int | None = cfg_field(None, help="Stop after this many optimizer steps.")
    max_grad_norm: float = cfg_field(1.0, help="Gradient clipping threshold (global L2 norm; 0 = off).")
    eval_steps: int | None = cfg_field(None, help="Evaluate on val every N steps (default: once per epoch "
                                       "and at the end).")
    patience: int | None = cfg_field(None, help="Early stopping: stop after N evaluations without a lower val loss.")
    save_steps: int | None = cfg_field(None, help="Write a resumable checkpoint every N steps (default: at each "
                                       "evaluation and at the end).")
    load_best: bool = cfg_field(True, help="At the end, restore the weights with the lowest val loss before saving.")
    l2_to_init: float = cfg_field(0.0, help="lambda of the penalty lambda*||theta-theta0||^2 on trainable "
                                  "weights (against forgetting; mainly for --method full).")
    stage: list[str] = cfg_field([], help="A training stage 'data=PATH[;PATH],epochs=E,lr=LR,max_steps=N'; "
                                 "several stages continue the same adapter.")
    stages: str | None = cfg_field(None, help="YAML file listing stages (each: data, epochs, lr, max_steps).")
    resume: bool = cfg_field(False, help="Continue from the last checkpoint in OUT/checkpoints (optimizer, "
                             "scheduler and RNG state included).")
    seed: int = cfg_field(42, help="Seed for weights init, data order and dropout.")
    dtype: Literal["auto", "fp32", "bf16", "fp16"] = cfg_field("auto", help="Compute dtype: auto = bf16 on a "
                                                               "GPU that supports it, else fp32.")
    device: str = cfg_field("auto", help="'auto', 'cpu', 'cuda' or 'cuda:N'.")
    gradient_checkpointing: bool = cfg_field(False, help="Recompute activations in backward to save memory.")
    tensorboard: bool = cfg_field(False, help="Also log to OUT/tensorboard (needs the tensorboard package).")
    stop_after_steps: int | None = cfg_field(None, help="Interrupt the run after N steps (checkpoint written), "
                                             "as a crash would; for testing --resume.")
    # -- generation config saved with the run --------------------------------------------------
    temperature: float = cfg_field(0.7, help="Sampling temperature saved in generation_config.json.")
    top_p: float = cfg_field(0.9, help="Nucleus sampling p saved in generation_config.json.")
    max_new_tokens: int = cfg_field(256, help="Generation length limit saved in generation_config.json.")
    # -- modes -------------------------------------------------------------------------------------
    preview: int = cfg_field(0, help="Print N rendered samples with supervised spans marked, then exit.")
    dry_run: bool = cfg_field(False, help="Print trainable parameters and a memory estimate, then exit.")

    # ------------------------------------------------------------------------------------------
    def alpha(self) -> int:
        """``lora_alpha`` with its default ``2*r``."""
        return self.lora_alpha if self.lora_alpha is not None else 2 * self.r

    def peak_lr(self) -> float:
        """``lr`` with its per-method default."""
        if self.lr is not None:
            return self.lr
        if self.method == "full":
            return 2e-5
        if self.method in PROMPT_METHODS:
            return 1e-2
        return 2e-4

    def validate(self) -> None:
        """Raise :class:`ForgeError` naming the flag for inconsistent settings."""
        if self.method not in METHODS:
            raise ForgeError(f"--method {self.method!r} is not one of {', '.join(METHODS)}.")
        if not self.base_model:
            raise ForgeError("--base-model is required (a local model directory or a hub name; "
                             "`forge tiny-model OUT --text FILE` makes an offline one).")
        if self.r <= 0:
            raise ForgeError(f"--r must be a positive integer, got {self.r}.")
        if self.batch_size <= 0 or self.grad_accum <= 0:
            raise ForgeError("--batch-size and --grad-accum must be positive integers.")
        if self.max_length < 8:
            raise ForgeError(f"--max-length {self.max_length} is too small (need at least 8 tokens).")
        if not 0 <= self.warmup_ratio < 1:
            raise ForgeError(f"--warmup-ratio must be in [0, 1), got {self.warmup_ratio}.")
        if self.packing and self.method in PROMPT_METHODS:
            raise ForgeError("--packing cannot be combined with prompt-based methods (prefix/ptuning/prompt): "
                             "their virtual tokens would be shared across packed samples. Drop --packing.")
        if self.l2_to_init < 0:
            raise ForgeError("--l2-to-init must be >= 0.")
        checks = [  # (flag, value, ok) -- value None means "not given"
            ("--lr", self.lr, lambda v: v >= 0), ("--weight-decay", self.weight_decay, lambda v: v >= 0),
            ("--lora-dropout", self.lora_dropout, lambda v: 0 <= v < 1),
            ("--lora-alpha", self.lora_alpha, lambda v: v > 0), ("--epochs", self.epochs, lambda v: v > 0),
            ("--max-steps", self.max_steps, lambda v: v > 0), ("--eval-steps", self.eval_steps, lambda v: v > 0),
            ("--save-steps", self.save_steps, lambda v: v > 0), ("--patience", self.patience, lambda v: v > 0),
            ("--max-records", self.max_records, lambda v: v > 0),
            ("--num-virtual-tokens", self.num_virtual_tokens, lambda v: v > 0),
            ("--max-grad-norm", self.max_grad_norm, lambda v: v >= 0),
            ("--temperature", self.temperature, lambda v: v >= 0), ("--top-p", self.top_p, lambda v: 0 < v <= 1),
            ("--max-new-tokens", self.max_new_tokens, lambda v: v > 0), ("--preview", self.preview, lambda v: v >= 0),
        ]
        for flag, v, ok in checks:
            if v is not None and not ok(v):
                raise ForgeError(f"{flag} {v}: out of range (see `forge train --help`).")

    def to_json_dict(self) -> dict[str, Any]:
        """Every field, JSON-able (recorded in ``forge_train.json``)."""
        return self.to_params()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a dict (YAML / forge_train.json); unknown keys raise :class:`ForgeError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        norm = {k.replace("-", "_"): v for k, v in d.items()}
        bad = sorted(set(norm) - names)
        if bad:
            raise ForgeError(f"unknown training setting(s) {bad}; see `forge train --help`.")
        return cls(**norm)
