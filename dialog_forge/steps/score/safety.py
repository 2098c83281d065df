"""``safety``: 0 or 1 -- the clean step's safety gate verdict, taken from the record or recomputed.

In order:

1. ``record.meta["safety"]``: ``forge clean --safety-action flag`` stores the flagged categories there (a
   non-empty list -> 0, an empty list -> 1). A bool (``True`` = safe), the strings ``"safe"`` /
   ``"unsafe"``, or an object with ``safe: bool`` / ``unsafe: bool`` / ``flagged: bool`` are read too.
2. A ``clean`` op in ``record.lineage.ops`` with the gate on (its params do not say ``safety: false``):
   the record passed the gate (``forge clean`` rejects flagged records by default) -> 1.
3. Otherwise, when a ``gate`` is given (the step passes the clean step's
   :class:`dialog_forge.steps.safety.SafetyGate`), its check of all turns: any category hit -> 0, else 1.
4. Otherwise ``None``: the component is omitted and the weights renormalise, rather than an assumed 1.

A value of 0 forces the record's score to 0 (see the step).
"""

from __future__ import annotations

from typing import Any, Protocol

from ...schema import Dialogue


class Gate(Protocol):
    def check(self, text: str) -> list[str]: ...


def _verdict(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, list):
        return 0.0 if v else 1.0
    if isinstance(v, str):
        s = v.strip().lower()
        return {"safe": 1.0, "ok": 1.0, "pass": 1.0, "unsafe": 0.0, "flagged": 0.0, "fail": 0.0}.get(s)
    if isinstance(v, dict):
        if isinstance(v.get("safe"), bool):
            return 1.0 if v["safe"] else 0.0
        for k in ("unsafe", "flagged"):
            if isinstance(v.get(k), bool):
                return 0.0 if v[k] else 1.0
    return None


def safety(dialogue: Dialogue, gate: Gate | None = None) -> float | None:
    """1.0 (safe), 0.0 (unsafe) or ``None`` (no verdict and no gate), by the rules in the module docstring."""
    v = _verdict((dialogue.meta or {}).get("safety"))
    if v is not None:
        return v
    ops = dialogue.lineage.ops if dialogue.lineage else []
    if any(o.get("op") == "clean" and (o.get("params") or {}).get("safety", True) is not False for o in ops):
        return 1.0
    if gate is not None:
        return 0.0 if gate.check("\n".join(m.content for m in dialogue.messages)) else 1.0
    return None
