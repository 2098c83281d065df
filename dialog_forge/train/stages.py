"""Multi-stage training: several passes continuing the same adapter, each with its own data, epochs and
learning rate (e.g. the chapter's textbooks -> guidelines -> dialogues -> safety plan).

Stages come from ``--stage 'data=A;B,val=V,epochs=1,lr=1e-4,max_steps=10,name=textbooks'`` (repeatable) or
``--stages FILE.yaml``::

    stages:
      - {name: textbooks, data: [shards/textbooks], epochs: 1, lr: 2.0e-4}
      - {name: dialogues, data: [shards/dialogues], epochs: 2, lr: 1.0e-4}

Without either, the run is a single stage built from ``--data``, ``--val``, ``--epochs``, ``--lr`` and
``--max-steps``. Each stage gets a fresh AdamW state and warmup+cosine schedule; weights carry over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ForgeError
from .config import TrainConfig


@dataclass
class Stage:
    """One stage: ``data``/``val`` paths, ``epochs``, peak ``lr``, optional ``max_steps`` and a ``name``."""

    name: str
    data: list[str]
    val: list[str] = field(default_factory=list)
    epochs: float = 1.0
    lr: float = 2e-4
    max_steps: int | None = None


def _paths(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [s for s in v.split(";") if s]
    return [str(s) for s in v]


def _from_dict(d: dict, k: int, cfg: TrainConfig, where: str) -> Stage:
    allowed = {"name", "data", "val", "epochs", "lr", "max_steps"}
    bad = set(d) - allowed
    if bad:
        raise ForgeError(f"{where}: unknown stage key(s) {sorted(bad)}; allowed: {sorted(allowed)}.")
    data = _paths(d.get("data")) or list(cfg.data)
    if not data:
        raise ForgeError(f"{where}: stage {k + 1} has no data; give data=PATH.")
    try:
        return Stage(name=str(d.get("name") or f"stage{k + 1}"), data=data, val=_paths(d.get("val")) or list(cfg.val),
                     epochs=float(d.get("epochs", cfg.epochs)), lr=float(d.get("lr", cfg.peak_lr())),
                     max_steps=int(d["max_steps"]) if d.get("max_steps") not in (None, "") else cfg.max_steps)
    except (TypeError, ValueError) as e:
        raise ForgeError(f"{where}: stage {k + 1} has a bad number ({e}).") from None


def parse_stages(cfg: TrainConfig) -> list[Stage]:
    """The stages of a run (see module docstring). Raises :class:`ForgeError` for a malformed spec."""
    if cfg.stages:
        import yaml

        p = Path(cfg.stages)
        if not p.is_file():
            raise ForgeError(f"--stages {p}: no such file.")
        obj = yaml.safe_load(p.read_text(encoding="utf-8"))
        items = obj.get("stages") if isinstance(obj, dict) else obj
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise ForgeError(f"--stages {p}: expected a list of stages (or a mapping with a 'stages' list).")
        return [_from_dict(x, k, cfg, f"--stages {p}") for k, x in enumerate(items)]
    if cfg.stage:
        out = []
        for k, spec in enumerate(cfg.stage):
            d = {}
            for part in spec.split(","):
                if not part.strip():
                    continue
                if "=" not in part:
                    raise ForgeError(f"--stage {spec!r}: expected key=value pairs separated by commas.")
                key, val = part.split("=", 1)
                d[key.strip()] = val.strip()
            out.append(_from_dict(d, k, cfg, f"--stage {spec!r}"))
        return out
    return [Stage(name="main", data=list(cfg.data), val=list(cfg.val), epochs=cfg.epochs, lr=cfg.peak_lr(),
                  max_steps=cfg.max_steps)]
