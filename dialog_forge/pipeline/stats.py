"""Per-step counts: records in, out, generated and rejected by reason, plus the step's own counters.

The invariant ``in + generated == out + rejected`` is checked after every run (:meth:`StepStats.check`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepStats:
    """Counts for one step of one run; ``seconds`` is wall time."""

    step: str
    n_in: int = 0
    n_out: int = 0
    n_generated: int = 0
    rejected: Counter = field(default_factory=Counter)
    counters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def check(self) -> None:
        """Raise ``AssertionError`` when records went missing (a bug in a step, never a user error)."""
        if self.n_in + self.n_generated != self.n_out + self.n_rejected:
            raise AssertionError(
                f"{self.step}: counts do not add up: {self.n_in} in + {self.n_generated} generated != "
                f"{self.n_out} out + {self.n_rejected} rejected"
            )

    def _by_reason(self) -> list[tuple[str, int]]:
        """``(reason, count)`` most frequent first, ties by name (the same order whatever order the rejects
        came in, e.g. with ``--workers``)."""
        return sorted(self.rejected.items(), key=lambda kv: (-kv[1], kv[0]))

    def line(self) -> str:
        """The one-line summary printed on stderr, e.g.
        ``ingest: 7644 in, 7630 out, 14 rejected (empty_assistant 9, encoding_error 5) in 1.9 s``."""
        parts = [f"{self.step}: {self.n_in} in"]
        if self.n_generated:
            parts.append(f"{self.n_generated} generated")
        parts.append(f"{self.n_out} out")
        rej = f"{self.n_rejected} rejected"
        if self.rejected:
            rej += " (" + ", ".join(f"{k} {v}" for k, v in self._by_reason()) + ")"
        parts.append(rej)
        return ", ".join(parts) + f" in {self.seconds:.1f} s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "in": self.n_in,
            "out": self.n_out,
            "generated": self.n_generated,
            "rejected": self.n_rejected,
            "rejected_by_reason": dict(self._by_reason()),
            "counters": self.counters,
            "seconds": round(self.seconds, 3),
        }
