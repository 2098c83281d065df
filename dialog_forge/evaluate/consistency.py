"""Config consistency: the settings a model is evaluated or served with should be the ones it was trained
with. A different chat template, system prompt or sampling setting changes what is measured (a model
trained on ChatML and served with Llama-3 headers fails quietly), so every difference is warned about on
stderr and recorded in ``eval.json``.

Checked settings (:data:`CHECKED`): ``template`` (name) and ``chat_template`` (Jinja source),
``system_prompt``, ``temperature``, ``top_p``, ``max_new_tokens``. The trained side is the run's
``generation_config.json`` plus its tokenizer's template; the other side is the eval flags or a serving
config file (JSON or YAML with the same keys; ``max_tokens`` is accepted for ``max_new_tokens``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import ForgeError

CHECKED = ("template", "chat_template", "system_prompt", "temperature", "top_p", "max_new_tokens")
ALIASES = {"max_tokens": "max_new_tokens", "system": "system_prompt"}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def check(trained: dict, used: dict, where: str) -> list[dict]:
    """Differences between ``trained`` settings and the ``used`` ones (``where``: ``eval`` or
    ``serving``). Only keys present (and not ``None``) in ``used`` are compared, except ``system_prompt``,
    where an explicit ``None``/empty against a trained prompt is a difference too.

    Returns ``[{"where", "setting", "trained", "used", "message"}]``.
    """
    out = []
    for key in CHECKED:
        if key not in used:
            continue
        u, t = used[key], trained.get(key)
        if key == "system_prompt":
            u, t = (u or None), (t or None)
        elif u is None:
            continue
        if _same(t, u):
            continue
        shown_t = "<template source>" if key == "chat_template" else t
        shown_u = "<different template source>" if key == "chat_template" else u
        out.append({"where": where, "setting": key, "trained": shown_t, "used": shown_u,
                    "message": f"{where} {key} {shown_u!r} differs from the run's trained {key} {shown_t!r}"})
    return out


def load_serving_config(path: str) -> dict:
    """Read a serving config (JSON or YAML) into the :data:`CHECKED` keys (aliases mapped, others
    ignored). Raises :class:`ForgeError` naming the file when it is missing or unreadable."""
    p = Path(path)
    if not p.is_file():
        raise ForgeError(f"--serving-config {path}: file not found")
    text = p.read_text(encoding="utf-8")
    import yaml

    try:
        obj = yaml.safe_load(text) if p.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as e:
        raise ForgeError(f"--serving-config {path}: not valid JSON/YAML ({e})") from None
    if not isinstance(obj, dict):
        raise ForgeError(f"--serving-config {path}: expected an object of settings")
    obj = {ALIASES.get(k, k): v for k, v in obj.items()}
    return {k: obj[k] for k in CHECKED if k in obj}
