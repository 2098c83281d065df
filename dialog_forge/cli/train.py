"""Training commands: ``forge train``, ``forge export``, ``forge recommend`` and ``forge tiny-model``.

Thin wrappers: flags come from :class:`dialog_forge.train.config.TrainConfig`; the work is in
:mod:`dialog_forge.train`.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ForgeError
from .common import config_from_kwargs, options_from_config

TRAIN_HELP = """Fine-tune a causal LM on dialogue records (qlora, lora, dora, full, prefix, ptuning, prompt). Reads `forge split` output (train/ and val/) or canonical JSONL/Parquet given with --data; writes the run directory --out: adapter/ (or model/ for full), tokenizer/ with the exact chat template, generation_config.json, forge_train.json, metrics.jsonl, loss_curve.png, checkpoints/. Loss is on assistant tokens (each reply's end-of-turn token included) unless --train-on says otherwise. --preview N shows rendered samples with supervised spans between ⟦ ⟧; --dry-run prints trainable parameters and a memory estimate. Multi-GPU: `accelerate launch -m dialog_forge train ...`. Prints the result as JSON on stdout."""

EPILOG = ("Example: forge tiny-model tiny/ --text corpus.txt && forge train --base-model tiny/ --data shards/ "
          "--method qlora --max-steps 20 --out runs/demo")


def register(app: typer.Typer) -> None:
    from ..train.config import TrainConfig

    params = options_from_config(TrainConfig)

    def train(**kwargs: Any) -> None:
        from ..train.api import train as run_train

        cfg = config_from_kwargs(TrainConfig, kwargs)
        result = run_train(cfg)
        if cfg.dry_run:
            result = {k: v for k, v in result.items() if k != "text"}
        if not cfg.preview:
            typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        if not cfg.preview and not cfg.dry_run and not result.get("interrupted"):
            parts = [f"run {result['run_dir']}", f"{result.get('steps', 0)} steps"]
            if result.get("val_loss_before") is not None and result.get("final_val_loss") is not None:
                parts.append(f"val loss {result['val_loss_before']:.4f} -> {result['final_val_loss']:.4f}")
            print("forge train: " + ", ".join(parts), file=sys.stderr)

    train.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    app.command("train", help=TRAIN_HELP, epilog=EPILOG)(train)

    @app.command("export")
    def export(
        source: Annotated[list[str], typer.Argument(help="A run directory (with --merge) or canonical data files/"
                                                     "dirs (with --format).")],
        merge: Annotated[str | None, typer.Option("--merge", help="Merge the run's adapter into the base "
                                                     "weights (16/32-bit, never 4-bit) and save the model here.")] = None,
        format: Annotated[str | None, typer.Option("--format", help="Export records as sharegpt, openai or "
                                                      "alpaca JSONL.")] = None,
        out: Annotated[str | None, typer.Option("--out", help="Output JSONL for --format.")] = None,
        dtype: Annotated[str, typer.Option("--dtype", help="Weights dtype for --merge: auto (fp16 on GPU, fp32 "
                                           "on CPU), fp32, fp16, bf16.")] = "auto",
    ) -> None:
        """Merge a run's adapter into its base model (--merge OUT) or export records for other trainers (--format)."""
        from ..train.export import export_records, merge_adapter

        if bool(merge) == bool(format):
            raise ForgeError("forge export: give exactly one of --merge OUT (a run directory) or --format "
                             "sharegpt|openai|alpaca --out FILE (data).")
        if merge:
            if len(source) != 1:
                raise ForgeError("forge export --merge takes one run directory.")
            res = merge_adapter(source[0], merge, dtype=dtype)
        else:
            if not out:
                raise ForgeError("forge export --format needs --out FILE.jsonl.")
            res = export_records(source, format, out)
            msg = f"forge export: {res['written']} records written to {out} as {format}"
            if res["skipped"]:
                msg += f"; skipped {res['skipped']} (ids: {', '.join(res['skipped_ids'][:5])}...)"
            print(msg, file=sys.stderr)
        typer.echo(json.dumps(res, ensure_ascii=False))

    @app.command("recommend")
    def recommend_cmd(
        data_size: Annotated[int, typer.Option("--data-size", help="Number of training examples.")],
        gpu_memory: Annotated[float, typer.Option("--gpu-memory", help="Memory of one GPU in GB.")],
        model_params: Annotated[float, typer.Option("--model-params", help="Base model size in billions of "
                                                    "parameters (e.g. 7).")] = 7.0,
        keep_general: Annotated[bool, typer.Option("--keep-general/--no-keep-general", help="Whether the model's "
                                                   "general ability must be kept.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    ) -> None:
        """The chapter's decision tree: data size (>=50k), GPU memory and keeping general ability -> method,
        LoRA rank range and regularisation, with the reasons."""
        from ..train.recommend import recommend

        rec = recommend(data_size, gpu_memory, model_params, keep_general)
        typer.echo(json.dumps(rec.to_dict(), ensure_ascii=False) if as_json else rec.text())

    @app.command("tiny-model")
    def tiny_model(
        out: Annotated[str, typer.Argument(help="Directory to write the model and tokenizer to.")],
        text: Annotated[list[str], typer.Option("--text", help="UTF-8 text file(s) to train the byte-level BPE "
                                                "tokenizer on (repeatable).")],
        vocab_size: Annotated[int, typer.Option("--vocab-size", help="Tokenizer vocabulary size.")] = 1024,
        hidden_size: Annotated[int, typer.Option("--hidden-size", help="Model width.")] = 64,
        layers: Annotated[int, typer.Option("--layers", help="Transformer layers.")] = 2,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the random weights.")] = 0,
    ) -> None:
        """Create a small random-initialised Llama model + byte-level BPE tokenizer (with a chat template) for
        offline smoke tests and CI."""
        from ..train.tiny import make_tiny_model

        p = make_tiny_model(out, text, vocab_size=vocab_size, hidden_size=hidden_size, layers=layers, seed=seed)
        print(f"forge tiny-model: wrote {Path(p)}", file=sys.stderr)
