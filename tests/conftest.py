"""Shared test fixtures. Tests never touch the network: hub access is switched off here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATASETS = SHARED / "datasets"
SAMPLE_DATA = ROOT / "sample_data"


@pytest.fixture
def datasets_dir() -> Path:
    """``../shared/datasets``; the test skips when it is absent (e.g. a clone without ``shared/``)."""
    if not DATASETS.is_dir():
        pytest.skip(f"{DATASETS} is absent: real-data acceptance tests need ../shared/datasets")
    return DATASETS


@pytest.fixture
def sample_data() -> Path:
    return SAMPLE_DATA


def run_forge(*args: str, input: bytes | str | None = None, cwd: Path | None = None,
              env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``forge ARGS`` in a subprocess (as a user would); returns the completed process with
    ``stdout``/``stderr`` as bytes."""
    if isinstance(input, str):
        input = input.encode()
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "dialog_forge", *map(str, args)],
        input=input, capture_output=True, cwd=cwd, env=full_env, timeout=timeout,
    )


@pytest.fixture
def forge(tmp_path):
    """The :func:`run_forge` helper as a fixture; runs in the test's ``tmp_path`` unless ``cwd`` is given,
    so default output files (``./forge-rejects.jsonl``) never land in the repository."""

    def _run(*args, cwd=None, **kw):
        return run_forge(*args, cwd=cwd or tmp_path, **kw)

    return _run
