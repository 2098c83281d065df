"""Ingest throughput: `forge ingest` of canonical JSONL vs `pandas.read_json(lines=True)` on the same file.

Goal (issue #2): >= 3x pandas. Both are measured in this run on the same machine; the file is built from
the real dialogues in ../shared/datasets when present (else from sample_data), repeated to N records.
Run: python benchmarks/bench_ingest.py [N [REPEATS]] (default 100000 5; each side's best of REPEATS runs,
alternated)

Printed: records/s and the ratio on wall time (the goal) and on CPU time (user+sys of this process, less
disturbed by other work on a shared machine); the share of records that took the canonical fast path
(io/formats/canonical_fast.py); and the peak RSS of each side, each measured alone in a fresh process.
"""

from __future__ import annotations

import gc
import io
import os
import resource
import subprocess
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


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _forge_once(path: Path, tmp: Path):
    """One ``forge ingest`` run as the CLI does it (default batch size); returns (result, step)."""
    step = IngestStep()
    sink = JsonlSink(None)
    sink._fh = _Null()  # measure reading + validation + serialisation, not the terminal
    rows, _ = step.source([str(path)])
    return run_chain([step], rows, sink, RejectsSink(tmp / "rejects.jsonl"), progress=False), step


def _peak_rss_mb(which: str, path: Path) -> float:
    """Peak RSS (MB) of a fresh process that imports what it needs and runs one side once."""
    out = subprocess.run([sys.executable, __file__, "--peak-rss", which, str(path)], check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def _peak_rss_child(which: str, path: Path) -> None:
    if which == "pandas":
        pd.read_json(path, lines=True)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            _forge_once(path, Path(tmp))
    # VmHWM: the high-water mark of this process's own memory (ru_maxrss would carry over the parent's
    # across fork + exec)
    status = Path("/proc/self/status")
    if status.exists():
        hwm = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        print(int(hwm.split()[1]) / 1024)  # kB
    else:
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1024))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--peak-rss":
        _peak_rss_child(sys.argv[2], Path(sys.argv[3]))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    load_start = os.getloadavg()[0]
    lines, where = seed_records()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "canonical.jsonl"
        with open(path, "wb") as fh:
            for i in range(n):
                fh.write(lines[i % len(lines)].replace(b'"id":"', b'"id":"%d-' % i, 1) + b"\n")
        size_mb = path.stat().st_size / 1e6

        def run_pandas() -> tuple[float, float]:
            c0, t0 = _cpu(), time.perf_counter()
            df = pd.read_json(path, lines=True)
            dt, dc = time.perf_counter() - t0, _cpu() - c0
            assert len(df) == n
            return dt, dc  # the frame is freed before the next measurement, so neither run pays for the other's heap

        fast_share = 0.0

        def run_forge() -> tuple[float, float]:
            nonlocal fast_share
            c0, t0 = _cpu(), time.perf_counter()
            result, step = _forge_once(path, Path(tmp))
            dt, dc = time.perf_counter() - t0, _cpu() - c0
            assert result.stats[0].n_out == n, result.stats[0].line()
            fast_share = step.fast_path_records / n
            return dt, dc

        # alternate the two and keep each one's best of `repeats` (the machine may be shared)
        t_pd = t_forge = c_pd = c_forge = float("inf")
        for _ in range(repeats):
            gc.collect()
            dt, dc = run_pandas()
            t_pd, c_pd = min(t_pd, dt), min(c_pd, dc)
            gc.collect()
            dt, dc = run_forge()
            t_forge, c_forge = min(t_forge, dt), min(c_forge, dc)
        rss_pd, rss_forge = _peak_rss_mb("pandas", path), _peak_rss_mb("forge", path)

    print(f"ingest benchmark: {n} canonical records ({size_mb:.0f} MB), built from {where}")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end "
          "(other work slows the wall-time figures; the CPU-time ratio is steadier)")
    print(f"  pandas.read_json(lines=True): {n / t_pd:10,.0f} records/s ({t_pd:.2f} s wall, {c_pd:.2f} s CPU, best of {repeats})")
    print(f"  forge ingest (parse, validate, write JSONL): {n / t_forge:10,.0f} records/s ({t_forge:.2f} s wall, "
          f"{c_forge:.2f} s CPU, best of {repeats})")
    print(f"  ratio forge / pandas: {t_pd / t_forge:.2f}x on wall time (goal >= 3x), {c_pd / c_forge:.2f}x on CPU time")
    print(f"  canonical fast path: {fast_share:.1%} of records")
    print(f"  peak RSS, each alone in a fresh process: pandas {rss_pd:.0f} MB, forge {rss_forge:.0f} MB")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
