"""Python API of training, used by ``forge train``, the sweep command and ``forge eval``.

* :func:`train` -- run one training job from a :class:`~dialog_forge.train.config.TrainConfig`.
* :func:`load_for_inference` -- load a finished run directory (layout in :mod:`.run_dir`) as
  ``(model, tokenizer, generation_config)``.
* :func:`~dialog_forge.train.masking.encode_dialogue` (re-exported) -- a record's ``input_ids`` and
  ``labels`` (``-100`` outside supervised spans), for assistant-token perplexity.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ForgeError
from .config import TrainConfig
from .masking import encode_dialogue  # noqa: F401  (public re-export)
from .run_dir import RunDir


def train(config: TrainConfig, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train and write the run directory ``config.out``.

    Returns ``{"run_dir": str, "val_loss_before": float, "final_val_loss": float, "best_val_loss": float,
    "best_step": int, "steps": int, "adapter_dir": str, "trainable_params": int, "total_params": int,
    "stages": [...], "counters": {...}}`` (validation keys absent when there is no validation data;
    ``{"interrupted": True, ...}`` under ``stop_after_steps``). ``preview``/``dry_run`` configs return their
    report instead. Raises :class:`ForgeError` for user errors (see :mod:`.trainer`).
    """
    from .trainer import Trainer

    return Trainer(config, log=log).run()


def load_for_inference(run_dir: str | Path, device: str = "cpu"):
    """Load a run for generation or scoring: ``(model, tokenizer, gen_config)``.

    ``model`` is the base model with the adapter attached (peft ``PeftModel``; for qlora the base is loaded
    in 4-bit NF4 exactly as in training) or, for ``--method full``, the saved model; it is in ``eval()``
    mode on ``device``. ``tokenizer`` carries the chat template used in training. ``gen_config`` is the dict
    of ``generation_config.json`` (temperature, top_p, max_new_tokens, stop_token_ids, stop_strings,
    system_prompt, template, ...).

    Raises :class:`ForgeError` when ``run_dir`` is not a finished run or its base model cannot be loaded.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .methods import compute_dtype, load_base_model

    rd = RunDir(run_dir)
    if not rd.is_run():
        raise ForgeError(f"{run_dir}: not a finished forge train run (no forge_train.json).")
    info = rd.read_train_json()
    gen = rd.read_generation_config()
    tok = AutoTokenizer.from_pretrained(rd.tokenizer)
    dev = torch.device(device)
    method = info["method"]
    if method == "full":
        model = AutoModelForCausalLM.from_pretrained(rd.model, dtype=torch.float32).to(dev)
    else:
        from peft import PeftModel

        dtype = compute_dtype(dev, info.get("config", {}).get("dtype", "auto"))
        base = load_base_model(info["base_model"], method, dev, dtype)
        if info.get("added_tokens"):
            base.resize_token_embeddings(len(tok))
        model = PeftModel.from_pretrained(base, rd.adapter, adapter_name=info.get("adapter_name", "default"))
    model.eval()
    return model, tok, gen
