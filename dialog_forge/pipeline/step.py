"""The :class:`Step` protocol: a config dataclass plus one method over a batch of records.

A step subclasses :class:`Step`, names itself (``name``), lists its closed vocabulary of reject reasons
(``reasons``: code -> one-line meaning, shown in ``--help``), and implements :meth:`Step.process`.
Global steps (dedup, split, mix) hold records in :meth:`Step.process` and emit them in
:meth:`Step.finish`; ``global_step = True`` says so.

Counting contract, checked by the executor after every run::

    records in + generated == records out + rejected

where ``generated`` counts records a step creates (augmented variants, windows of a long dialogue).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any, ClassVar

from ..schema import Dialogue


def cfg_field(default: Any = dataclasses.MISSING, *, help: str, flag: str | None = None, **kw: Any) -> Any:
    """A config-dataclass field with help text (shown by ``--help``) and an optional CLI flag name.

    Mutable defaults (lists, dicts) are given as ``default`` and wrapped in a ``default_factory``.
    The CLI flag is ``--`` + the field name with ``_`` -> ``-`` unless ``flag`` is given; recipe YAML keys
    are the flag names without dashes prefix (either spelling of ``_``/``-`` is accepted).
    """
    meta = {"help": help, "flag": flag, **kw.pop("metadata", {})}
    if isinstance(default, (list, dict, set)):
        val = default
        return field(default_factory=lambda: type(val)(val), metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


@dataclass
class StepConfig:
    """Base class of step configs. Subclasses are dataclasses whose fields use :func:`cfg_field`."""

    def to_params(self) -> dict[str, Any]:
        """The config as a JSON-able dict (for manifests and lineage ops)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = list(v)
            out[f.name] = v if isinstance(v, (str, int, float, bool, list, dict, type(None))) else str(v)
        return out

    def changed_params(self) -> dict[str, Any]:
        """Only the fields that differ from their defaults (compact form for lineage ops)."""
        base = type(self)()
        full = self.to_params()
        return {k: v for k, v in full.items() if v != base.to_params().get(k)}


@dataclass(slots=True)
class Reject:
    """A dropped record: ``reason`` is one of the step's ``reasons`` codes, ``detail`` a sentence."""

    record: Any  # a Dialogue, or the raw object when the record never became one
    reason: str
    detail: str = ""
    id: str | None = None
    source: dict[str, Any] | None = None


@dataclass
class BatchResult:
    """What a step returns for a batch: kept records, rejects, and the number it generated.

    ``kept`` and ``rejects`` are lists from :meth:`Step.process`; a global step's :meth:`Step.finish` may
    return any sized, iterable sequence instead (e.g. records read back lazily from a spill file), which
    the executor passes on in batches of ``--batch-size``."""

    kept: Sequence[Dialogue] = field(default_factory=list)
    rejects: Sequence[Reject] = field(default_factory=list)
    generated: int = 0


class Step:
    """Base class of every data step.

    Subclasses set ``name``, ``reasons``, ``config_class`` and implement :meth:`process`. ``counters``
    is a free dict of named counts (merges, PII found by type, ...) that ends up in the stats and the
    manifest; never put raw text in it.
    """

    name: ClassVar[str] = "step"
    reasons: ClassVar[dict[str, str]] = {}
    config_class: ClassVar[type[StepConfig]] = StepConfig
    global_step: ClassVar[bool] = False

    def __init__(self, config: StepConfig | None = None):
        self.config = config if config is not None else self.config_class()
        self.counters: dict[str, Any] = {}

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key``."""
        self.counters[key] = self.counters.get(key, 0) + n

    def source(self, inputs: list[str] | None):
        """The record stream this step reads when it is the first of a run: canonical records from
        ``inputs`` (files, directories, globs, ``-``) by default. Returns ``(iterable, input_files)``."""
        from ..io.records import read_records
        from ..io.sources import expand_inputs

        files = expand_inputs(inputs)
        return read_records([str(f.path) for f in files]), files

    def setup(self) -> None:
        """Load models or lexicons once, before the first batch (default: nothing)."""

    def process(self, batch: list[Dialogue]) -> BatchResult:  # pragma: no cover - abstract
        """Map a batch of records to kept records and rejects."""
        raise NotImplementedError

    def finish(self) -> BatchResult:
        """Called once after the last batch; global steps emit their held records here."""
        return BatchResult()

    def reject(self, record: Any, reason: str, detail: str = "") -> Reject:
        """A :class:`Reject` for ``record``; ``reason`` must be in ``self.reasons``."""
        if reason not in self.reasons:
            raise ValueError(f"{self.name}: reason {reason!r} is not in its vocabulary {sorted(self.reasons)}")
        rid = getattr(record, "id", None)
        src = getattr(record, "source", None)
        return Reject(record=record, reason=reason, detail=detail, id=rid, source=src)

    def summary(self) -> dict[str, Any]:
        """Extra figures for the stats (default: the counters)."""
        return dict(self.counters)
