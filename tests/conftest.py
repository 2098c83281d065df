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


#: A small Chinese + English corpus (customer service, medical, finance) for the tiny tokenizer.
TINY_CORPUS = [
    "你好，请问有什么可以帮您？", "帮我查一下订单状态", "好的，请提供订单号。", "今天星期几？", "抱歉，我无法获取实时日期。",
    "中国的首都是哪里？", "北京", "头疼怎么办？", "建议多休息，多喝水，如果持续请及时就医。", "我的信用卡被冻结了。",
    "请携带身份证到网点办理解冻。", "退货需要几天？", "一般三到五个工作日完成退款。", "您好！",
    "Hello, how can I help you today?", "What is the status of my order?", "Please give me your order number.",
    "How do I reset my password?", "Click 'Forgot password' on the login page.", "What is the interest rate?",
    "The annual rate is 3.5 percent.", "I have a headache and a fever.", "Please rest, drink water and see a doctor.",
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random-initialised Llama (hidden 64, 2 layers) + byte-level BPE tokenizer (~600 tokens) with a
    ChatML chat template (end-of-turn ``<|im_end|>``, EOS ``</s>``, pad ``<pad>``), built once per session
    with :func:`dialog_forge.train.tiny.make_tiny_model`."""
    from dialog_forge.train.tiny import make_tiny_model

    out = tmp_path_factory.mktemp("tiny_model")
    return make_tiny_model(out, texts=TINY_CORPUS * 4, vocab_size=600, hidden_size=64, layers=2, seed=0)
