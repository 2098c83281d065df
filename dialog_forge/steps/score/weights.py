"""Component weights: ``--weights k=v,...``, a named profile, or a YAML profile file; and the weighted score.

Named profiles (:data:`PROFILES`):

* ``default`` -- the chapter's defaults ``relevance=0.3, information=0.2, format=0.2, fact=0.3``;
* ``chapter`` -- the chapter's evaluation matrix ``fact=0.3, relevance=0.25, fluency=0.15,
  instruction=0.2, safety=0.1``.

A YAML profile is a mapping ``component: weight`` (optionally under a top-level ``weights:`` key).

The score renormalises over the components that are present (not ``None``) and weighted::

    score = sum_i w_i c_i / sum_i w_i      over i with c_i present and w_i > 0

so an omitted component (``fact`` without ``--kb``, ``fluency`` without ``--lm``) never counts as a
made-up constant. With no weighted component present the score is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...errors import ForgeError

#: Components a weight may name.
COMPONENTS = ("relevance", "relevance_min", "information", "format", "fact", "instruction", "fluency", "safety")

PROFILES: dict[str, dict[str, float]] = {
    "default": {"relevance": 0.3, "information": 0.2, "format": 0.2, "fact": 0.3},
    "chapter": {"fact": 0.3, "relevance": 0.25, "fluency": 0.15, "instruction": 0.2, "safety": 0.1},
}


def _check(weights: dict[str, float], where: str) -> dict[str, float]:
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise ForgeError(f"{where}: unknown component(s) {unknown}; known: {', '.join(COMPONENTS)}.")
    bad = [k for k, v in weights.items() if not (isinstance(v, (int, float)) and v >= 0)]
    if bad:
        raise ForgeError(f"{where}: weights must be numbers >= 0 (check {', '.join(bad)}).")
    if not any(v > 0 for v in weights.values()):
        raise ForgeError(f"{where}: at least one weight must be > 0.")
    return {k: float(v) for k, v in weights.items()}


def parse_weights(spec: str | None) -> dict[str, float]:
    """Weights from ``spec``: ``None``/``""`` -> the ``default`` profile; a profile name; a path to a YAML
    file; or ``k=v,k2=v2``. Raises :class:`ForgeError` naming ``--weights`` and the fix on bad input."""
    if not spec:
        return dict(PROFILES["default"])
    spec = spec.strip()
    if spec in PROFILES:
        return dict(PROFILES[spec])
    if "=" in spec:
        out: dict[str, float] = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            k, sep, v = part.partition("=")
            if k.strip() in out:
                raise ForgeError(f"--weights: {k.strip()!r} is given twice.")
            try:
                out[k.strip()] = float(v)
            except ValueError:
                raise ForgeError(f"--weights: {part.strip()!r} is not COMPONENT=NUMBER.") from None
            if not sep:
                raise ForgeError(f"--weights: {part.strip()!r} is not COMPONENT=NUMBER.")
        return _check(out, "--weights")
    p = Path(spec)
    if p.suffix.lower() in (".yaml", ".yml") or p.is_file():
        if not p.is_file():
            raise ForgeError(f"--weights {spec}: no such file; give k=v pairs, a profile name "
                             f"({', '.join(PROFILES)}) or a YAML file.")
        import yaml

        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ForgeError(f"--weights {spec}: not valid YAML: {e}") from None
        if isinstance(data, dict) and isinstance(data.get("weights"), dict):
            data = data["weights"]
        if not isinstance(data, dict):
            raise ForgeError(f"--weights {spec}: expected a mapping component: weight.")
        return _check(data, f"--weights {spec}")
    raise ForgeError(f"--weights {spec!r}: not a profile ({', '.join(PROFILES)}), a YAML file or k=v pairs.")


def weighted_score(components: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """The renormalised weighted mean of the present components (formula in the module docstring)."""
    num = den = 0.0
    for k, w in weights.items():
        c = components.get(k)
        if c is None or w <= 0:
            continue
        num += w * c
        den += w
    return num / den if den > 0 else None
