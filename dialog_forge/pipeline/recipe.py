"""``forge run recipe.yaml``: several steps in one process, built exactly as the CLI builds them.

A recipe is YAML::

    inputs: [sample_data/raw/]          # files, directories or globs (relative to the current directory)
    out: build/demo/cleaned             # optional; default JSONL on stdout
    rejects: build/demo/rejects.jsonl   # optional
    steps:
      - ingest: {map: "user=ask,assistant=answer,domain=department"}
      - clean: {}
      - dedup: {threshold: 0.8}

Step options are the CLI flag names (``max-turns`` or ``max_turns``). Unknown steps or options are
errors that name the known ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ForgeError
from .options import build_config
from .registry import get_step
from .step import Step


def load_recipe(path: str | Path) -> dict[str, Any]:
    """Parse and check a recipe file. Raises :class:`ForgeError` naming the problem."""
    p = Path(path)
    if not p.is_file():
        raise ForgeError(f"{path}: no such recipe file.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ForgeError(f"{path}: not valid YAML ({e}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ForgeError(f"{path}: a recipe is a mapping with a non-empty 'steps' list.")
    return data


def build_steps(spec: list[Any], where: str = "recipe") -> list[Step]:
    """Step objects for a recipe's ``steps`` list (each item ``{name: {options}}`` or a bare name)."""
    steps = []
    for i, item in enumerate(spec):
        if isinstance(item, str):
            name, opts = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, opts = next(iter(item.items()))
            opts = opts or {}
        else:
            raise ForgeError(f"{where}: steps[{i}] must be a step name or {{name: {{options}}}}, got {item!r}.")
        if not isinstance(opts, dict):
            raise ForgeError(f"{where}: options of step {name!r} must be a mapping.")
        # YAML 1.1 reads the bare keys on/off/yes/no as booleans; flags are never booleans
        opts = {({True: "on", False: "off"}.get(k, k) if isinstance(k, bool) else k): v for k, v in opts.items()}
        try:
            cls = get_step(str(name))
        except KeyError as e:
            raise ForgeError(f"{where}: {e.args[0]}.") from None
        try:
            steps.append(cls(build_config(cls.config_class, opts)))
        except ForgeError as e:
            raise ForgeError(f"{where}: step {name!r}: {e}") from None
    return steps
