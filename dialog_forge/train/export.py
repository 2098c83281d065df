"""``forge export``: merge a trained adapter into its base model, or write records for other trainers.

* :func:`merge_adapter` -- ``forge export RUN --merge OUT``. The base model is loaded in 16/32-bit (fp16 on
  a GPU, fp32 on the CPU, or ``--dtype``), **never in 4-bit** even for a qlora run: merging into NF4
  weights would re-quantise ``W + BA`` and lose the update; the result is a plain model directory
  (safetensors + the run's tokenizer and chat template + generation config).
* :func:`export_records` -- ``forge export DATA --format sharegpt|openai|alpaca --out FILE``: JSONL in
  the target trainer's format:

  - ``sharegpt``: ``{"id", "conversations": [{"from": "system|human|gpt|observation", "value"}]}``
  - ``openai``: ``{"messages": [{"role", "content"}]}``
  - ``alpaca``: ``{"instruction", "input": "", "output", "system", "history": [[q, a], ...]}``; records
    that do not alternate user/assistant and end with an assistant turn cannot be expressed and are
    counted under ``skipped`` (reason ``not_alternating``), never dropped silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ForgeError
from ..schema import Dialogue
from .run_dir import RunDir, write_json

SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


def merge_adapter(run_dir: str | Path, out: str | Path, dtype: str = "auto") -> dict[str, Any]:
    """Merge ``RUN/adapter`` into the base weights and save to ``out``. Returns ``{"out", "dtype",
    "base_model", "method"}``. Raises :class:`ForgeError` for a run that is not an adapter run."""
    import shutil

    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rd = RunDir(run_dir)
    if not rd.is_run():
        raise ForgeError(f"{run_dir}: not a finished forge train run (no forge_train.json).")
    info = rd.read_train_json()
    if info["method"] == "full":
        raise ForgeError(f"{run_dir}: a --method full run has no adapter to merge; use {rd.model} directly.")
    if info["method"] in ("prefix", "ptuning", "prompt"):
        raise ForgeError(f"{run_dir}: --method {info['method']} learns virtual tokens, which cannot be merged into "
                         "weights; serve it with the adapter instead.")
    if dtype == "auto":
        tdtype = torch.float16 if torch.cuda.is_available() else torch.float32
    else:
        tdtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}.get(dtype)
        if tdtype is None:
            raise ForgeError(f"--dtype {dtype!r}: use auto, fp32, fp16 or bf16 (merging into 4-bit is not allowed).")
    tok = AutoTokenizer.from_pretrained(rd.tokenizer)
    base = AutoModelForCausalLM.from_pretrained(info["base_model"], dtype=tdtype)  # 16/32-bit, never 4-bit
    if info.get("added_tokens"):
        base.resize_token_embeddings(len(tok))
    model = PeftModel.from_pretrained(base, rd.adapter, adapter_name=info.get("adapter_name", "default"))
    merged = model.merge_and_unload()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    shutil.copy(rd.generation_config, out / "forge_generation_config.json")
    meta = {"out": str(out), "dtype": str(tdtype), "base_model": info["base_model"], "method": info["method"],
            "run_dir": str(rd.root)}
    write_json(out / "forge_merge.json", meta)
    return meta


def to_format(r: Dialogue, fmt: str) -> dict[str, Any] | None:
    """One record in ``fmt`` (``sharegpt``/``openai``/``alpaca``); ``None`` when ``alpaca`` cannot express it."""
    if fmt == "openai":
        return {"messages": [m.to_dict() for m in r.messages]}
    if fmt == "sharegpt":
        return {"id": r.id, "conversations": [{"from": SHAREGPT_FROM[m.role], "value": m.content} for m in r.messages]}
    if fmt == "alpaca":
        msgs = list(r.messages)
        system = msgs.pop(0).content if msgs and msgs[0].role == "system" else ""
        if len(msgs) < 2 or len(msgs) % 2:
            return None
        pairs = []
        for q, a in zip(msgs[::2], msgs[1::2]):
            if q.role != "user" or a.role != "assistant":
                return None
            pairs.append([q.content, a.content])
        last = pairs.pop()
        out = {"instruction": last[0], "input": "", "output": last[1]}
        if system:
            out["system"] = system
        if pairs:
            out["history"] = pairs
        return out
    raise ForgeError(f"--format {fmt!r}: use sharegpt, openai or alpaca.")


def export_records(inputs: list[str], fmt: str, out: str | Path) -> dict[str, Any]:
    """Write ``inputs`` (canonical records) to ``out`` as JSONL in ``fmt``. Returns ``{"written", "skipped":
    {reason: count}, "skipped_ids": [...]}``."""
    from ..io.records import load_records

    if fmt not in ("sharegpt", "openai", "alpaca"):  # before anything is read or an empty file is left behind
        raise ForgeError(f"--format {fmt!r}: use sharegpt, openai or alpaca.")
    records = load_records(inputs)
    written, skipped_ids = 0, []
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for r in records:
            obj = to_format(r, fmt)
            if obj is None:
                skipped_ids.append(r.id)
                continue
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
            written += 1
    return {"written": written, "skipped": {"not_alternating": len(skipped_ids)} if skipped_ids else {},
            "skipped_ids": skipped_ids, "out": str(out), "format": fmt}
