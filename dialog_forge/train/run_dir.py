"""The run directory written by ``forge train`` -- a CONTRACT read by ``forge eval``, ``forge export``,
the sweep command and the server. Keep it stable; add keys, never rename them.

Layout::

    RUN/adapter/                 peft ``save_pretrained`` output (adapter_config.json +
                                 adapter_model.safetensors) for qlora/lora/dora/prefix/ptuning/prompt
    RUN/model/                   for ``--method full`` only: the whole model (``save_pretrained``, safetensors)
    RUN/tokenizer/               ``tokenizer.save_pretrained`` with ``chat_template`` set to the exact
                                 template used in training (and any special tokens added for it)
    RUN/generation_config.json   {"temperature", "top_p", "max_new_tokens", "stop_token_ids",
                                  "stop_strings", "system_prompt", "template", "eos_token_id",
                                  "pad_token_id"}
    RUN/forge_train.json         {"base_model": path or hub name, "method", "template", "config": every
                                  TrainConfig field, "data": {"train": [...], "val": [...]} file hashes and
                                  counts, "versions", "seed", "hardware", "result": {...},
                                  "quantization": {...} for qlora, "added_tokens": [...]}
    RUN/metrics.jsonl            one JSON object per line: {"step", "epoch", "stage", "loss", "lr",
                                  "grad_norm", "tokens", "supervised_tokens"} per optimizer step and
                                  {"step", "val_loss", "val_tokens"} per evaluation
    RUN/loss_curve.png           training and validation loss against step
    RUN/checkpoints/last/        resumable state: trainable weights, optimizer, scheduler, RNG, trainer state
    RUN/checkpoints/best/        trainable weights with the lowest validation loss

``stop_token_ids`` holds the template's end-of-turn token id(s) and the tokenizer's EOS id, so generation
stops where training taught the model to stop, even when they differ (e.g. ChatML ``<|im_end|>`` vs ``</s>``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ADAPTER = "adapter"
MODEL = "model"
TOKENIZER = "tokenizer"
GENERATION_CONFIG = "generation_config.json"
TRAIN_JSON = "forge_train.json"
METRICS = "metrics.jsonl"
LOSS_CURVE = "loss_curve.png"
CHECKPOINTS = "checkpoints"


class RunDir:
    """Paths of one run directory (see the module docstring for the layout)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    adapter = property(lambda self: self.root / ADAPTER)
    model = property(lambda self: self.root / MODEL)
    tokenizer = property(lambda self: self.root / TOKENIZER)
    generation_config = property(lambda self: self.root / GENERATION_CONFIG)
    train_json = property(lambda self: self.root / TRAIN_JSON)
    metrics = property(lambda self: self.root / METRICS)
    loss_curve = property(lambda self: self.root / LOSS_CURVE)
    checkpoints = property(lambda self: self.root / CHECKPOINTS)

    def is_run(self) -> bool:
        """True when ``forge_train.json`` exists (the run finished writing)."""
        return self.train_json.is_file()

    def read_train_json(self) -> dict[str, Any]:
        return json.loads(self.train_json.read_text(encoding="utf-8"))

    def read_generation_config(self) -> dict[str, Any]:
        return json.loads(self.generation_config.read_text(encoding="utf-8"))

    def read_metrics(self) -> list[dict[str, Any]]:
        """Rows of ``metrics.jsonl`` (empty list when absent)."""
        if not self.metrics.is_file():
            return []
        return [json.loads(line) for line in self.metrics.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON (non-ASCII kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
