"""``forge gate`` on a manifest or stats file instead of the records.

``forge score``/``forge split`` write their counts to ``--stats-json FILE`` and, with ``--out``, to a manifest
(``_manifest.json`` or ``FILE.manifest.json``). Both are JSON objects with a ``steps`` list; each step has its
name (``step`` or ``name``) and its ``counters``. The gate reads, from the last step of each kind:

==================  ==================================================================================
check               from
==================  ==================================================================================
``mean_score``      score: ``mean_score`` (mean over every scored record, drops included)
``keep_ratio``      score: ``decision_keep / (decision_keep + decision_review + decision_drop)``
``drop_ratio``      score: ``decision_drop`` over the same total
``per_domain``      split: the per-split ``domain`` counts added up; else score: ``domains``
``leakage``         split: ``leaks`` (pairs found by the split's own leakage check, at its
                    ``--leak-threshold``)
==================  ==================================================================================

``--max-pii`` and ``--max-dup-ratio`` re-scan the records, so they cannot run on a summary: asking for them
is bad input (exit 2), as is a summary that lacks what a check needs (e.g. ``--min-mean`` on a split
manifest, or stats written before these counters existed).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from ..errors import ForgeError
from .checks import CheckResult, _result


def load_summary(path: str) -> dict[str, Any] | None:
    """The parsed manifest / stats document at ``path``, or ``None`` when ``path`` is not one (records, a
    directory, a ``.jsonl`` file)."""
    p = Path(path)
    if p.suffix.lower() != ".json" or not p.is_file():
        return None
    try:
        doc = orjson.loads(p.read_bytes())
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("steps"), list):
        return doc
    return None


def _step(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = None
    for st in doc.get("steps", []):
        if isinstance(st, dict) and (st.get("step") == name or st.get("name") == name):
            found = st.get("counters") or {}
    return found


def _need(doc: dict[str, Any], name: str, flag: str, source: str) -> dict[str, Any]:
    c = _step(doc, name)
    if c is None:
        raise ForgeError(f"{flag}: {source} has no `forge {name}` step; give the stats or manifest of "
                         f"`forge {name}`, or the records themselves.")
    return c


def _decisions(c: dict[str, Any], flag: str, source: str) -> tuple[int, int, int, int]:
    k, rv, d = (int(c.get(f"decision_{x}", 0) or 0) for x in ("keep", "review", "drop"))
    if k + rv + d == 0:
        raise ForgeError(f"{flag}: the score step in {source} counts no decision; give the scored records.")
    return k, rv, d, k + rv + d


def summary_results(doc: dict[str, Any], source: str, thresholds: dict[str, float | None]) -> list[CheckResult]:
    """The checks named in ``thresholds`` (keys: mean_score, keep_ratio, drop_ratio, pii, dup_ratio,
    per_domain, leakage; ``None`` = not asked) computed from ``doc``, in that order."""
    out: list[CheckResult] = []
    for key, flag in (("pii", "--max-pii"), ("dup_ratio", "--max-dup-ratio")):
        if thresholds.get(key) is not None:
            raise ForgeError(f"{flag} re-scans the records, so it cannot run on {source} (a manifest/stats "
                             "file); give the scored records (JSONL/Parquet file or directory) instead.")
    t = thresholds.get("mean_score")
    if t is not None:
        c = _need(doc, "score", "--min-mean-score", source)
        if c.get("mean_score") is None:
            raise ForgeError(f"--min-mean-score: the score step in {source} records no mean_score (written by an "
                             "older forge, or nothing was scored); give the scored records.")
        out.append(_result("mean_score", float(c["mean_score"]), t, ">=",
                           f"{c.get('scored', '?')} records (from {Path(source).name})"))
    t = thresholds.get("keep_ratio")
    if t is not None:
        k, _, _, n = _decisions(_need(doc, "score", "--min-keep-ratio", source), "--min-keep-ratio", source)
        out.append(_result("keep_ratio", round(k / n, 4), t, ">=", f"{k} of {n} kept (from {Path(source).name})"))
    t = thresholds.get("drop_ratio")
    if t is not None:
        _, _, d, n = _decisions(_need(doc, "score", "--max-drop-ratio", source), "--max-drop-ratio", source)
        out.append(_result("drop_ratio", round(d / n, 4), t, "<=", f"{d} of {n} dropped (from {Path(source).name})"))
    t = thresholds.get("per_domain")
    if t is not None:
        split, score = _step(doc, "split"), _step(doc, "score")
        counts: Counter = Counter()
        if split and isinstance(split.get("splits"), dict):
            for fig in split["splits"].values():
                counts.update((fig or {}).get("domain") or {})
        elif score and isinstance(score.get("domains"), dict):
            counts.update(score["domains"])
        else:
            raise ForgeError(f"--min-per-domain: {source} has no per-domain counts (from `forge split` or "
                             "`forge score`); give the records.")
        if not counts:
            out.append(_result("per_domain", 0, t, ">=", "no records"))
        else:
            dom, n = min(counts.items(), key=lambda kv: (kv[1], kv[0]))
            out.append(_result("per_domain", n, t, ">=", f"smallest: {dom} ({len(counts)} domains)"))
    t = thresholds.get("leakage")
    if t is not None:
        c = _need(doc, "split", "--max-leakage", source)
        if "leaks" not in c:
            raise ForgeError(f"--max-leakage: the split in {source} ran without its leakage check; give the split "
                             "output directory so that the gate checks the records.")
        out.append(_result("leakage", int(c["leaks"]), t, "<=", f"pairs found by forge split (from {Path(source).name})"))
    return out
