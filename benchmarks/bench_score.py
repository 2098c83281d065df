"""Benchmark: ``forge score`` throughput against a bare ``SentenceTransformer.encode`` of the same texts.

Goal (issue 6): scoring overhead <= 15 % over the embedding work alone. Both runs are measured in the same
process on the same records: the baseline encodes every distinct user/assistant turn once with the bundled
all-MiniLM-L6-v2 (batch 64, normalised); the score run is ``ScoreStep.process`` over the same records in
batches of 1000 (it encodes the same distinct texts and then computes every component).

Data: up to N records from ``../shared/datasets`` (MedicalGPT Chinese SFT + Alpaca English) when present,
else generated text (said in the output). Run: ``python benchmarks/bench_score.py [N]`` (default 60, two
interleaved repeats of each run, one to three minutes on 2 shared cores; the rate is per record, so larger N
extrapolates linearly).
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from dialog_forge.models.embedding import load
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.score import ScoreConfig, ScoreStep

REPEATS = 2
DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def real_records(n: int) -> list[Dialogue] | None:
    med, alp = DATASETS / "medicalgpt_medical_sft_1k.jsonl", DATASETS / "fastchat_alpaca_cleaned_1000.json"
    if not (med.is_file() and alp.is_file()):
        return None
    out = []
    for i, line in enumerate(med.read_text(encoding="utf-8").splitlines()[: n // 2]):
        c = json.loads(line)["conversations"]
        out.append(Dialogue(id=f"med{i}", messages=[Message("user", c[0]["value"]), Message("assistant", c[1]["value"])]))
    for i, a in enumerate(json.loads(alp.read_text(encoding="utf-8"))[: n - len(out)]):
        u = (a["instruction"] + "\n" + a.get("input", "")).strip()
        out.append(Dialogue(id=f"alp{i}", messages=[Message("user", u), Message("assistant", a["output"])]))
    return out


def synthetic_records(n: int) -> list[Dialogue]:
    import random

    rng = random.Random(0)
    words = ["order", "refund", "delivery", "account", "password", "router", "battery", "screen", "warranty", "payment"]
    return [Dialogue(id=f"s{i}", messages=[
        Message("user", " ".join(rng.choice(words) for _ in range(12)) + "?"),
        Message("assistant", " ".join(rng.choice(words) for _ in range(60)) + ".")]) for i in range(n)]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    recs = real_records(n)
    source = "../shared/datasets (MedicalGPT zh + Alpaca en)"
    if recs is None:
        recs, source = synthetic_records(n), "generated text (../shared/datasets is absent)"
    texts = list(dict.fromkeys(m.content for r in recs for m in r.messages if m.role in ("user", "assistant")))
    model = load(None)
    model.encode(texts[:64], batch_size=64, normalize_embeddings=True, show_progress_bar=False)  # warm-up

    # interleaved repeats, best of each: on a shared machine a single pair of runs is mostly noise
    base_runs, score_runs = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        base_runs.append(time.perf_counter() - t0)
        step, fresh = ScoreStep(ScoreConfig()), copy.deepcopy(recs)  # scoring mutates records
        t0 = time.perf_counter()
        for i in range(0, len(fresh), 1000):
            step.process(fresh[i:i + 1000])
        score_runs.append(time.perf_counter() - t0)
    t_base, t_score = min(base_runs), min(score_runs)

    overhead = t_score / t_base - 1
    print(f"data: {len(recs)} records, {len(texts)} distinct turns, from {source}; torch threads "
          f"{torch.get_num_threads()}")
    print(f"best of {REPEATS} interleaved runs each; all runs: baseline "
          f"{', '.join(f'{t:.1f}' for t in base_runs)} s, score {', '.join(f'{t:.1f}' for t in score_runs)} s")
    print(f"baseline SentenceTransformer.encode: {t_base:.2f} s ({len(recs) / t_base:.1f} records/s)")
    print(f"forge score (no --kb/--lm):          {t_score:.2f} s ({len(recs) / t_score:.1f} records/s)")
    print(f"scoring overhead: {overhead * 100:+.1f} % (goal <= 15 %) -> {'OK' if overhead <= 0.15 else 'OVER GOAL'}")
    print(f"extrapolated to 100k records: {100_000 * t_score / len(recs) / 60:.1f} min on this machine")


if __name__ == "__main__":
    main()
