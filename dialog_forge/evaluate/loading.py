"""Loading what eval compares: a base model, and a trained run (through the train package's API).

A run directory is the contract of :mod:`dialog_forge.train.run_dir`; the base model of a run is named in
its ``forge_train.json`` (``base_model``). Evaluation runs in float32 on CPU and in the run's dtype on GPU.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ForgeError


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else is returned as is."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def check_run(run_dir: str) -> Path:
    """The run directory as a Path. Raises :class:`ForgeError` when it is not a finished ``forge train``
    run (no ``forge_train.json``)."""
    from ..train.run_dir import RunDir

    p = Path(run_dir)
    if not RunDir(p).is_run():
        raise ForgeError(f"{run_dir}: not a finished training run (no forge_train.json); pass a directory "
                         "written by `forge train --out DIR`.")
    return p


def run_info(run_dir: str) -> tuple[dict, dict]:
    """``(forge_train.json, generation_config.json)`` of a run (the latter ``{}`` when absent)."""
    from ..train.run_dir import RunDir

    rd = RunDir(check_run(run_dir))
    gen = rd.read_generation_config() if rd.generation_config.is_file() else {}
    return rd.read_train_json(), gen


def load_run(run_dir: str, device: str = "auto"):
    """``(model, tokenizer, generation_config dict)`` of a run, via
    ``dialog_forge.train.api.load_for_inference`` (base + adapter, or the full model)."""
    check_run(run_dir)
    try:
        from ..train.api import load_for_inference
    except ImportError as e:
        raise ForgeError(f"cannot load runs: the train package is incomplete ({e}).") from None
    model, tok, gen = load_for_inference(run_dir, resolve_device(device))
    model.eval()
    return model, tok, dict(gen or {})


def load_base(name_or_path: str, device: str = "auto", tokenizer=None):
    """``(model, tokenizer)`` for a base model (local directory or cached hub name). When ``tokenizer``
    (a run's) has more tokens than the model's vocabulary, the embeddings are resized so the same token
    stream can be scored (the new rows are the model's init: the base has never seen those tokens).
    Raises :class:`ForgeError` naming the model when it cannot be loaded."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dev = resolve_device(device)
    try:
        model = AutoModelForCausalLM.from_pretrained(name_or_path, dtype=torch.float32)
        tok = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(name_or_path)
    except Exception as e:  # noqa: BLE001 -- OSError offline/missing folder, ValueError bad config, ...
        raise ForgeError(f"--model {name_or_path}: cannot load the model ({e}). Name a local model directory "
                         "or a cached hub model.") from None
    if len(tok) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tok))
    model.to(dev).eval()
    return model, tok
