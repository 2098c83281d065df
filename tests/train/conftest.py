"""Shared data for the train tests: a handful of dialogues (Chinese and English, one multi-turn)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PAIRS = [
    ("帮我查一下订单状态", "好的，请提供订单号。"),
    ("你好", "您好！"),
    ("头疼怎么办？", "建议多休息，多喝水，如果持续请及时就医。"),
    ("What is the status of my order?", "Please give me your order number."),
    ("How do I reset my password?", "Click 'Forgot password' on the login page."),
    ("我的信用卡被冻结了。", "请携带身份证到网点办理解冻。"),
]


def records(n_train: int = 18, n_val: int = 6) -> list[dict]:
    out = []
    for i in range(n_train + n_val):
        q, a = PAIRS[i % len(PAIRS)]
        msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        if i % 5 == 4:  # some multi-turn dialogues
            q2, a2 = PAIRS[(i + 1) % len(PAIRS)]
            msgs += [{"role": "user", "content": q2}, {"role": "assistant", "content": a2}]
        out.append({"id": f"d{i}", "messages": msgs, "split": "train" if i < n_train else "val"})
    return out


@pytest.fixture(scope="session")
def train_file(tmp_path_factory) -> Path:
    """Canonical JSONL with 18 train and 6 val records (``split`` field set)."""
    p = tmp_path_factory.mktemp("train_data") / "dialogues.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records()), encoding="utf-8")
    return p
