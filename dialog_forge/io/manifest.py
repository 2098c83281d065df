"""``_manifest.json``: what produced an output and from what.

Fields: ``command`` (argv), ``steps`` (name, config, counts per step), ``inputs`` (path, bytes, sha256),
``outputs`` (files and rows), ``rejects`` (path, count), ``versions`` (Python and key packages),
``seed``, ``wall_seconds``, ``created_at``, ``schema_version``. Raw text never goes in it.
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from ..schema import SCHEMA_VERSION
from .sources import InputFile, sha256_of

PACKAGES = ("dialog-forge", "pyarrow", "orjson", "datasketch", "presidio-analyzer", "sentence-transformers",
            "transformers", "peft", "torch", "bitsandbytes")


def versions() -> dict[str, str]:
    """Installed versions of Python and the packages that shape the output."""
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return out


def describe_inputs(files: list[InputFile]) -> list[dict[str, Any]]:
    """Path, size and SHA-256 of each input file (standard input has neither)."""
    out = []
    for f in files:
        if f.path == "-":
            out.append({"path": "-"})
        else:
            p = Path(f.path)
            out.append({"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_of(f)})
    return out


#: Flags whose values are secrets: never written to a manifest or stats file.
SECRET_FLAGS = ("--salt", "--api-key")


def redact_argv(argv: list[str]) -> list[str]:
    """``argv`` with the values of :data:`SECRET_FLAGS` replaced by ``***``."""
    out, hide = [], False
    for a in argv:
        if hide:
            out.append("***")
            hide = False
        elif a in SECRET_FLAGS:
            out.append(a)
            hide = True
        elif a.split("=", 1)[0] in SECRET_FLAGS and "=" in a:
            out.append(a.split("=", 1)[0] + "=***")
        else:
            out.append(a)
    return out


def build_manifest(*, argv: list[str], steps: list[dict[str, Any]], inputs: list[dict[str, Any]],
                   outputs: list[dict[str, Any]], rejects: dict[str, Any] | None, seed: int | None,
                   wall_seconds: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest as a dict (see the module docstring)."""
    m = {
        "command": redact_argv(argv),
        "steps": steps,
        "inputs": inputs,
        "outputs": outputs,
        "rejects": rejects,
        "versions": versions(),
        "seed": seed,
        "wall_seconds": round(wall_seconds, 3),
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "schema_version": SCHEMA_VERSION,
    }
    if extra:
        m.update(extra)
    return m


def write_manifest(path: str | Path, manifest: dict[str, Any]) -> None:
    Path(path).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2, default=str))


def manifest_path_for(out: str | Path) -> Path:
    """``DIR/_manifest.json`` for a directory output, ``FILE.manifest.json`` beside a file output."""
    p = Path(out)
    if p.is_dir():
        return p / "_manifest.json"
    return p.with_name(p.name + ".manifest.json")
