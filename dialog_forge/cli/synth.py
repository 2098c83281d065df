"""``forge synth``: new dialogues from seed examples and a knowledge base, or straight from a FAQ.

With --seeds and --kb: the seeds' tasks are the intents (--expand-intents asks the backend for more);
the backend writes --questions-per-intent questions per intent; BM25 retrieves the --top-k passages of
the knowledge base (Markdown, text, CSV FAQ, JSONL; chunked) for each question; the backend answers from
those passages only, and the passage ids it used are kept in meta.kb_passage_ids. Every question and
answer is checked (language, near copies of the seeds, duplicates, grounding, new PII) and some pairs
of one intent are assembled into multi-turn dialogues (--multi-turn-ratio).
With --from-faq FILE: each FAQ row (question and answer columns) becomes a single-turn dialogue; no
backend needed. Output: canonical records (JSONL on stdout, or --out FILE.jsonl / FILE.parquet / DIR).

Examples:
  forge synth --seeds seeds.jsonl --kb docs/ --backend openai --base-url http://127.0.0.1:8000/v1 --model qwen -o synth.jsonl
  forge synth --from-faq faq.csv --domain customer_service -o faq.jsonl
"""

from __future__ import annotations

import inspect
import sys
from typing import Annotated, Any

import orjson
import typer

from ..backends.options import make_backend
from ..errors import ForgeError
from ..io.records import load_records
from ..io.writers import DEFAULT_SHARD_ROWS, write_records
from ..steps.synth import SynthConfig, faq_to_dialogues, load_kb, synthesize
from .common import config_from_kwargs, options_from_config

OUT_PARAMS = [
    inspect.Parameter("io_out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--out", "-o", help="Output: FILE.jsonl, FILE.parquet or a directory of Parquet "
                                    "shards. Default: JSONL on standard output.", rich_help_panel="Input/output")]),
    inspect.Parameter("io_stats_json", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--stats-json", help="Write the counters (rejected by reason, intents, pairs) "
                                    "to this JSON file.", rich_help_panel="Input/output")]),
    inspect.Parameter("io_shard_rows", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_SHARD_ROWS, annotation=Annotated[
        int, typer.Option("--shard-rows", help="Rows per Parquet shard with --out DIR.", rich_help_panel="Input/output")]),
    inspect.Parameter("io_quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary line on stderr.", rich_help_panel="Input/output")]),
]


def run_synth(cfg: SynthConfig) -> tuple[list, dict[str, int]]:
    """Records and counters for ``cfg`` (the command's body, callable from Python). Raises
    :class:`ForgeError` for missing or conflicting flags."""
    counters: dict[str, int] = {}

    def count(key: str, n: int = 1) -> None:
        counters[key] = counters.get(key, 0) + n

    if cfg.from_faq:
        if cfg.seeds or cfg.kb:
            raise ForgeError("--from-faq converts a FAQ file on its own; drop --seeds/--kb or run synth twice")
        return faq_to_dialogues(cfg.from_faq, domain=cfg.domain, lang=cfg.lang, count=count), counters
    if not cfg.seeds or not cfg.kb:
        raise ForgeError("forge synth needs --seeds FILE and --kb PATH (or --from-faq FILE)")
    if cfg.backend == "rules":
        raise ForgeError("forge synth --seeds/--kb generates text: pass --backend openai (--base-url, --model) or "
                         "--backend hf (--model); --from-faq needs no backend")
    seeds = load_records(cfg.seeds)
    if not seeds:
        raise ForgeError(f"--seeds {' '.join(cfg.seeds)}: no records")
    passages = load_kb(cfg.kb, cfg.chunk_chars)
    count("kb_passages", len(passages))
    backend = make_backend(cfg)
    try:
        records = synthesize(seeds, passages, backend, cfg, count)
    finally:
        if hasattr(backend, "close"):
            backend.close()
    counters.update({f"backend.{k}": v for k, v in backend.stats.to_dict().items()})
    return records, counters


def register(app: typer.Typer) -> None:
    cfg_params = options_from_config(SynthConfig)
    names = {p.name for p in cfg_params}

    def synth(**kwargs: Any) -> None:
        cfg = config_from_kwargs(SynthConfig, {k: v for k, v in kwargs.items() if k in names})
        records, counters = run_synth(cfg)
        write_records(records, kwargs["io_out"] or "-", kwargs["io_shard_rows"])
        if kwargs["io_stats_json"]:
            with open(kwargs["io_stats_json"], "wb") as fh:
                fh.write(orjson.dumps({"step": "synth", "out": len(records), "counters": counters},
                                      option=orjson.OPT_INDENT_2))
        if not kwargs["io_quiet"]:
            rej = {k[9:]: v for k, v in counters.items() if k.startswith("rejected.")}
            line = f"synth: {len(records)} dialogues"
            if rej:
                line += ", rejected " + ", ".join(f"{k} {v}" for k, v in sorted(rej.items(), key=lambda x: -x[1]))
            if counters.get("faq_row_skipped"):
                line += f", {counters['faq_row_skipped']} FAQ rows skipped (empty question or answer)"
            print(line, file=sys.stderr)

    synth.__signature__ = inspect.Signature([*cfg_params, *OUT_PARAMS])  # type: ignore[attr-defined]
    synth.__doc__ = __doc__
    app.command("synth", help=__doc__)(synth)
