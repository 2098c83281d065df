"""``forge recommend``: the chapter's decision tree from data size, GPU memory and whether the model's
general ability must be kept, to a method, a LoRA rank range and a regulariser -- with the reasons.

Rules, in order (memory needs from :mod:`.dryrun`'s per-parameter figures, activations excluded, so they
are lower bounds):

1. **Data size.** At least 50,000 examples carry enough signal to move many weights: full fine-tuning is
   worth it *if it fits* (16 B/param for weight + gradient + AdamW state); below 50k, a low-rank adapter
   is the better trade (fewer parameters to overfit, cheap to store and swap).
2. **GPU memory.** If the 16-bit weights (2 B/param) plus ~20 % headroom do not fit, use QLoRA (NF4 base,
   ~0.52 B/param); if full fine-tuning was chosen but 16 B/param do not fit, fall back to LoRA with a high rank.
3. **Rank.** Small data (< 5k) r = 4-8; medium (5k-50k) r = 8-32; large data with an adapter r = 32-128.
4. **Keeping general ability.** Lower learning rate, few epochs, mix 10-20 % general-domain data into the
   training set, and for full fine-tuning ``--l2-to-init`` (lambda ||theta - theta0||^2); for adapters keep r
   small and merge only after checking retention (``forge eval``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ForgeError
from .dryrun import weight_bytes_per_param

LARGE_DATA = 50_000
SMALL_DATA = 5_000
HEADROOM = 1.2


@dataclass
class Recommendation:
    """``method`` (qlora/lora/full), ``rank`` range ``(lo, hi)`` or ``None`` for full, ``lr``,
    ``regularisation`` (list of settings) and ``reasons`` (sentences, in the order the tree was walked)."""

    method: str
    rank: tuple[int, int] | None
    lr: float
    regularisation: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "rank": list(self.rank) if self.rank else None, "lr": self.lr,
                "regularisation": self.regularisation, "reasons": self.reasons,
                "warnings": self.warnings}

    def text(self) -> str:
        rank = f", r = {self.rank[0]}-{self.rank[1]}" if self.rank else ""
        lines = [f"recommendation: --method {self.method}{rank}, --lr {self.lr:g}"]
        lines += [f"  because {r}" for r in self.reasons]
        lines += [f"warning: {w}" for w in self.warnings]
        if self.regularisation:
            lines.append("regularisation:")
            lines += [f"  - {r}" for r in self.regularisation]
        return "\n".join(lines)


def recommend(data_size: int, gpu_memory_gb: float, model_params_b: float, keep_general: bool) -> Recommendation:
    """Walk the decision tree. ``data_size``: training examples; ``gpu_memory_gb``: memory of one GPU in GB
    (1e9 bytes); ``model_params_b``: base model size in billions of parameters; ``keep_general``: whether
    general ability must be kept. Raises :class:`ForgeError` for non-positive sizes."""
    if data_size <= 0 or gpu_memory_gb <= 0 or model_params_b <= 0:
        raise ForgeError("--data-size, --gpu-memory and --model-params must be positive.")
    n = model_params_b * 1e9
    mem = gpu_memory_gb * 1e9
    need_full = 16 * n * HEADROOM
    need_16bit = weight_bytes_per_param("bf16") * n * HEADROOM
    need_nf4 = weight_bytes_per_param("nf4") * n * HEADROOM
    reasons: list[str] = []
    warnings: list[str] = []
    reg: list[str] = []
    if data_size >= LARGE_DATA:
        reasons.append(f"{data_size:,} examples >= {LARGE_DATA:,}: enough data to update all weights")
        if need_full <= mem:
            method, rank, lr = "full", None, 2e-5
            reasons.append(f"full fine-tuning needs ~{need_full / 1e9:.0f} GB (16 B/param + 20 %), which fits "
                           f"in {gpu_memory_gb:g} GB")
        elif need_16bit <= mem:
            method, rank, lr = "lora", (32, 128), 1e-4
            reasons.append(f"full fine-tuning needs ~{need_full / 1e9:.0f} GB > {gpu_memory_gb:g} GB, so a "
                           "high-rank LoRA on 16-bit weights instead")
        else:
            method, rank, lr = "qlora", (32, 128), 1e-4
            reasons.append(f"even 16-bit weights need ~{need_16bit / 1e9:.0f} GB > {gpu_memory_gb:g} GB, so "
                           "QLoRA (NF4 base) with a high rank")
    else:
        reasons.append(f"{data_size:,} examples < {LARGE_DATA:,}: a low-rank adapter generalises better and "
                       "overfits less than updating every weight")
        rank = (4, 8) if data_size < SMALL_DATA else (8, 32)
        reasons.append(f"rank {rank[0]}-{rank[1]} for {'small' if data_size < SMALL_DATA else 'medium'} data")
        lr = 2e-4
        if need_16bit <= mem:
            method = "lora"
            reasons.append(f"16-bit weights need ~{need_16bit / 1e9:.1f} GB, which fits in {gpu_memory_gb:g} GB")
        else:
            method = "qlora"
            reasons.append(f"16-bit weights need ~{need_16bit / 1e9:.1f} GB > {gpu_memory_gb:g} GB; NF4 needs "
                           f"~{need_nf4 / 1e9:.1f} GB")
    if method == "qlora" and need_nf4 > mem:
        warnings.append(f"even the NF4 weights need ~{need_nf4 / 1e9:.1f} GB > {gpu_memory_gb:g} GB: use a smaller "
                        "base model or more GPUs")
    if keep_general:
        reasons.append("general ability must be kept: limit drift from the base model")
        lr = lr / 2
        reg.append("mix 10-20 % general-domain dialogues into the training data (replay)")
        reg.append("1-2 epochs with early stopping (--patience 2) on a validation set")
        if method == "full":
            reg.append("--l2-to-init 0.01 (penalise ||theta - theta0||^2)")
        else:
            if rank and rank[1] > 16:
                rank = (rank[0], max(rank[0], 16)) if rank[0] <= 16 else (16, 32)
                reasons.append("rank capped to keep the update small")
            reg.append("--lora-dropout 0.1; check retention with `forge eval` before merging")
    else:
        reg.append("--lora-dropout 0.05 and early stopping on validation loss" if method != "full"
                   else "weight decay 0.01 and early stopping on validation loss")
    return Recommendation(method, rank, lr, reg, reasons, warnings)
