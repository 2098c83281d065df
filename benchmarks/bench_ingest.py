"""Ingest throughput: `forge ingest` of canonical JSONL vs `pandas.read_json(lines=True)` on the same file.

Goal (issue #2): >= 3x pandas. Both are measured in this run on the same machine; the file is built from
the real dialogues in ../shared/datasets when present (else from sample_data), repeated to N records.
Run: python benchmarks/bench_ingest.py [N [REPEATS]] (each side's best of REPEATS runs, alternated)
"""

from __future__ import annotations

import gc
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialog_forge.io.rejects import RejectsSink  # noqa: E402
from dialog_forge.io.writers import JsonlSink  # noqa: E402
from dialog_forge.pipeline.executor import run_chain  # noqa: E402
from dialog_forge.steps.ingest import IngestStep  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"


def seed_records() -> tuple[list[bytes], str]:
    """Canonical JSONL lines to repeat, and where they came from."""
    step = IngestStep()
    if (DATASETS / "medicalgpt_medical_sft_1k.jsonl").exists():
        src = [str(DATASETS / "medicalgpt_medical_sft_1k.jsonl"), str(DATASETS / "fastchat_alpaca_cleaned_1000.json")]
        where = "real dialogues from ../shared/datasets (MedicalGPT zh + Alpaca en)"
    else:
        src = [str(ROOT / "sample_data" / "raw")]
        where = "sample_data (../shared/datasets absent)"
    rows, _ = step.source(src)
    res = step.process(list(rows))
    return [r.to_json() for r in res.kept], where


class _Null(io.RawIOBase):
    def writable(self):
        return True

    def write(self, b):
        return len(b)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    lines, where = seed_records()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "canonical.jsonl"
        with open(path, "wb") as fh:
            for i in range(n):
                fh.write(lines[i % len(lines)].replace(b'"id":"', b'"id":"%d-' % i, 1) + b"\n")
        size_mb = path.stat().st_size / 1e6

        def run_pandas() -> float:
            t0 = time.perf_counter()
            df = pd.read_json(path, lines=True)
            dt = time.perf_counter() - t0
            assert len(df) == n
            return dt  # the frame is freed before the next measurement, so neither run pays for the other's heap

        def run_forge() -> float:
            step = IngestStep()
            sink = JsonlSink(None)
            sink._fh = _Null()  # measure reading + validation + serialisation, not the terminal
            rej = RejectsSink(Path(tmp) / "rejects.jsonl")
            t0 = time.perf_counter()
            rows, _ = step.source([str(path)])
            result = run_chain([step], rows, sink, rej, progress=False)
            dt = time.perf_counter() - t0
            assert result.stats[0].n_out == n, result.stats[0].line()
            return dt

        # alternate the two and keep each one's best of `repeats` (the machine may be shared)
        t_pd = t_forge = float("inf")
        for _ in range(repeats):
            gc.collect()
            t_pd = min(t_pd, run_pandas())
            gc.collect()
            t_forge = min(t_forge, run_forge())

    print(f"ingest benchmark: {n} canonical records ({size_mb:.0f} MB), built from {where}")
    print(f"  pandas.read_json(lines=True): {n / t_pd:10,.0f} records/s ({t_pd:.2f} s, best of {repeats})")
    print(f"  forge ingest (parse, validate, write JSONL): {n / t_forge:10,.0f} records/s ({t_forge:.2f} s, best of {repeats})")
    print(f"  ratio forge / pandas: {t_pd / t_forge:.2f}x (goal >= 3x)")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
