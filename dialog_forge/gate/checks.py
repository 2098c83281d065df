"""One function per gate check. Each takes the records and a threshold and returns a :class:`CheckResult`.

=====================  =================================================================  ==========
check                  value                                                              passes when
=====================  =================================================================  ==========
``mean_score``         mean ``quality.score`` over the records                            value >= t
``keep_ratio``         share of records with ``quality.decision == "keep"``               value >= t
``drop_ratio``         share of records with ``quality.decision == "drop"``               value <= t
``pii``                PII hits found by re-scanning user and assistant turns with the    value <= t
                       clean step's analyzer (:class:`dialog_forge.steps.pii.analyzer.PiiAnalyzer`)
``dup_ratio``          share of records whose normalised dialogue text repeats an         value <= t
                       earlier record's (exact key of the user + assistant turns)
``per_domain``         smallest number of records of any domain                           value >= t
``leakage``            record pairs matching across splits (:mod:`dialog_forge.steps.leakage`) value <= t
=====================  =================================================================  ==========

Score-based checks raise :class:`ForgeError` (exit 2) when no record carries a ``quality`` (the file was
not scored); ``leakage`` does when no record carries a ``split``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ForgeError
from ..schema import Dialogue


@dataclass
class CheckResult:
    """One check: ``name``, measured ``value``, ``threshold``, comparison ``op`` (``>=`` or ``<=``),
    ``status`` (``pass``, ``fail`` or ``skipped``) and a short ``detail``."""

    name: str
    value: float | None
    threshold: float
    op: str
    status: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _result(name: str, value: float, threshold: float, op: str, detail: str = "") -> CheckResult:
    ok = value >= threshold if op == ">=" else value <= threshold
    return CheckResult(name, value, threshold, op, "pass" if ok else "fail", detail)


def _scored(records: Sequence[Dialogue], flag: str) -> list[dict]:
    qs = [r.quality for r in records if isinstance(r.quality, dict)]
    if not qs:
        raise ForgeError(f"{flag}: no record carries a quality score; run `forge score` on the data first.")
    return qs


def mean_score(records: Sequence[Dialogue], threshold: float) -> CheckResult:
    """Mean ``quality.score`` (records without a score count as 0)."""
    _scored(records, "--min-mean-score")
    vals = [float((r.quality or {}).get("score") or 0.0) for r in records]
    return _result("mean_score", round(sum(vals) / len(vals), 4), threshold, ">=", f"{len(vals)} records")


def _decision_ratio(records: Sequence[Dialogue], decision: str, flag: str) -> tuple[float, int]:
    _scored(records, flag)
    n = sum(1 for r in records if (r.quality or {}).get("decision") == decision)
    return round(n / len(records), 4), n


def keep_ratio(records: Sequence[Dialogue], threshold: float) -> CheckResult:
    """Share of records decided ``keep``."""
    v, n = _decision_ratio(records, "keep", "--min-keep-ratio")
    return _result("keep_ratio", v, threshold, ">=", f"{n} of {len(records)} kept")


def drop_ratio(records: Sequence[Dialogue], threshold: float) -> CheckResult:
    """Share of records decided ``drop``."""
    v, n = _decision_ratio(records, "drop", "--max-drop-ratio")
    return _result("drop_ratio", v, threshold, "<=", f"{n} of {len(records)} dropped")


def pii(records: Sequence[Dialogue], threshold: float) -> CheckResult:
    """PII hits left in user and assistant turns (re-scan with the clean step's analyzer); ``skipped``
    when that analyzer is not available."""
    try:
        from ..steps.pii.analyzer import PiiAnalyzer
    except ImportError as e:
        return CheckResult("pii", None, threshold, "<=", "skipped",
                           f"PII analyzer unavailable ({e}); install the clean step's dependencies")
    analyzer = PiiAnalyzer()
    found: Counter = Counter()
    for r in records:
        for m in r.messages:
            if m.role in ("user", "assistant") and m.content:
                for hit in analyzer.analyze(m.content):
                    found[hit.entity_type] += 1
    total = sum(found.values())
    detail = ", ".join(f"{k} {v}" for k, v in found.most_common()) or "none found"
    return _result("pii", total, threshold, "<=", detail)


def dup_ratio(records: Sequence[Dialogue], threshold: float) -> CheckResult:
    """Share of records that exactly repeat an earlier record (normalised user + assistant turns)."""
    from ..steps.dedup.normalize import exact_key

    seen: set = set()
    dups = 0
    for r in records:
        k = exact_key([m.content for m in r.messages if m.role in ("user", "assistant")])
        if k is None:
            continue
        if k in seen:
            dups += 1
        seen.add(k)
    n = len(records)
    return _result("dup_ratio", round(dups / n, 4) if n else 0.0, threshold, "<=", f"{dups} duplicate records")


def per_domain(records: Sequence[Dialogue], threshold: float) -> CheckResult:
    """Smallest record count of any domain (records without a domain form ``(none)``)."""
    c = Counter(r.domain or "(none)" for r in records)
    if not c:
        return _result("per_domain", 0, threshold, ">=", "no records")
    dom, n = min(c.items(), key=lambda kv: (kv[1], kv[0]))
    return _result("per_domain", n, threshold, ">=", f"smallest: {dom} ({len(c)} domains)")


def leakage(records: Sequence[Dialogue], threshold: float, leak_threshold: float = 0.5) -> CheckResult:
    """Record pairs matching across splits (shared id, same normalised user text, or user-turn Jaccard
    >= ``leak_threshold``)."""
    from ..steps.leakage import find_leaks

    if not any(r.split for r in records):
        raise ForgeError("--max-leakage: no record carries a split; run `forge split` first (or give its output "
                         "directory).")
    leaks = find_leaks(list(records), leak_threshold)
    detail = "; ".join(lk.line() for lk in leaks[:3]) + (f"; ... {len(leaks) - 3} more" if len(leaks) > 3 else "")
    return _result("leakage", len(leaks), threshold, "<=", detail or "no pair across splits")
