"""forge quant-report: what NF4, FP4 and INT8 quantisation cost a model.

Round-trips every linear layer through NF4, FP4 (bitsandbytes, block size 64), INT8 (row-wise absmax,
LLM.int8 weights) and a uniform absmax INT4 baseline, prints each layer's relative error
||W - Q(W)|| / ||W||, and with --data the perplexity of the 4-bit and 8-bit models next to the full-precision
one (weights round-tripped, float32 matmuls). Writes the whole report as JSON with --json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("quant-report", help=__doc__)
    def quant_report(
        model: Annotated[str, typer.Option("--model", help="Base model: a local directory or a cached hub name.")],
        data: Annotated[list[str] | None, typer.Option(
            "--data", help="Canonical dialogue files/dirs for the perplexity comparison (repeatable).")] = None,
        schemes: Annotated[str, typer.Option(
            help="Comma list of nf4, fp4, int8, int4_absmax, bf16.")] = "nf4,fp4,int8,int4_absmax",
        blocksize: Annotated[int, typer.Option(help="Weights per absmax block for the 4-bit schemes.")] = 64,
        template: Annotated[str, typer.Option(
            help="Chat template to render --data with: 'tokenizer', a shipped name or a Jinja file.")] = "tokenizer",
        max_length: Annotated[int, typer.Option(help="Maximum tokens per dialogue.")] = 1024,
        max_records: Annotated[int | None, typer.Option(help="Score at most this many records.")] = None,
        batch_size: Annotated[int, typer.Option(help="Dialogues per forward pass.")] = 8,
        device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "cpu",
        json_out: Annotated[str | None, typer.Option("--json", help="Write the full report to this JSON file.")] = None,
    ) -> None:
        from ..evaluate import quant_report as qr

        names = [s.strip() for s in schemes.split(",") if s.strip()]
        rep = qr.run_report(model, data, schemes=names, blocksize=blocksize, template=template,
                            max_length=max_length, batch_size=batch_size, max_records=max_records, device=device)
        print(f"Per-layer relative error ||W - Q(W)||_F / ||W||_F  (block size {blocksize})")
        print(qr.format_table(rep["layers"], names))
        print("parameter-weighted mean: " + ", ".join(f"{s} {100 * v:.3f}%" for s, v in rep["summary"].items()))
        print("normal N(0, 0.02^2) 512x512 weights: " +
              ", ".join(f"{s} {100 * v:.3f}%" for s, v in rep["normal_weights"].items()))
        if rep["perplexity"]:
            print(f"\nPerplexity on --data ({rep['perplexity_method']})")
            print(qr.format_perplexity(rep["perplexity"]))
        if json_out:
            Path(json_out).parent.mkdir(parents=True, exist_ok=True)
            Path(json_out).write_text(json.dumps(rep, indent=2, ensure_ascii=False), encoding="utf-8")
            print(f"report: {json_out}", file=sys.stderr)
