"""Name -> step class, so recipes (``forge run``) build the same step objects the CLI builds."""

from __future__ import annotations

import importlib

from .step import Step

STEPS: dict[str, type[Step]] = {}

#: Modules that define steps; imported on first lookup so ``forge --help`` stays fast.
STEP_MODULES = (
    "dialog_forge.steps.ingest",
    "dialog_forge.steps.clean",
    "dialog_forge.steps.dedup",
    "dialog_forge.steps.augment",
    "dialog_forge.steps.score",
    "dialog_forge.steps.mix",
    "dialog_forge.steps.split",
)


def register_step(cls: type[Step]) -> type[Step]:
    """Class decorator: make ``cls`` findable by ``cls.name``."""
    STEPS[cls.name] = cls
    return cls


def get_step(name: str) -> type[Step]:
    """The step class named ``name``; raises ``KeyError`` listing the known names."""
    if name not in STEPS:
        for mod in STEP_MODULES:
            try:
                importlib.import_module(mod)
            except ModuleNotFoundError as e:
                if e.name and e.name.startswith("dialog_forge"):
                    continue
                raise
    if name not in STEPS:
        raise KeyError(f"unknown step {name!r}; known steps: {', '.join(sorted(STEPS))}")
    return STEPS[name]
