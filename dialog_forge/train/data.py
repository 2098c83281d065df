"""Training data: records from ``forge split`` output or any canonical JSONL/Parquet.

:func:`resolve_data` maps ``--data``/``--val`` to train and validation record lists:

* a directory with ``train/`` (and ``val/``) sub-folders -- ``forge split`` output -- gives those;
* any other file or directory is read with :func:`dialog_forge.io.records.load_records`; records whose
  ``split`` is ``val`` go to validation, ``test`` records are left out (never trained or early-stopped on),
  everything else is training data;
* ``--val`` paths, when given, replace the validation set.

Each input is described by path, size and SHA-256 for ``forge_train.json``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ForgeError
from ..schema import Dialogue


@dataclass
class DataSplit:
    """``train`` and ``val`` records plus ``files``: ``[{"path", "bytes", "sha256", "role"}]``."""

    train: list[Dialogue] = field(default_factory=list)
    val: list[Dialogue] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    skipped_test: int = 0


def _load(paths: list[str]) -> list[Dialogue]:
    from ..io.records import load_records

    return load_records(paths, strict=True)


def _describe(path: Path, role: str) -> list[dict[str, Any]]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for f in files:
        if f.name.startswith(".") or f.name.startswith("_"):
            continue
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out.append({"path": str(f), "bytes": f.stat().st_size, "sha256": h.hexdigest(), "role": role})
    return out


def resolve_data(data: list[str], val: list[str] | None = None) -> DataSplit:
    """Load train/val records for ``--data`` and ``--val``. Raises :class:`ForgeError` for missing paths or
    when no training record is found."""
    out = DataSplit()
    if not data:
        raise ForgeError("no training data: pass --data DIR (a `forge split` output) or canonical JSONL/Parquet files.")
    for d in data:
        p = Path(d)
        if not p.exists():
            raise ForgeError(f"--data {d}: no such file or directory.")
        if p.is_dir() and (p / "train").is_dir():
            out.train += _load([str(p / "train")])
            out.files += _describe(p / "train", "train")
            if (p / "val").is_dir() and not val:
                out.val += _load([str(p / "val")])
                out.files += _describe(p / "val", "val")
            continue
        for r in _load([str(p)]):
            if r.split == "val":
                out.val.append(r)
            elif r.split == "test":
                out.skipped_test += 1
            else:
                out.train.append(r)
        out.files += _describe(p, "train")
    if val:
        out.val = []
        for v in val:
            p = Path(v)
            if not p.exists():
                raise ForgeError(f"--val {v}: no such file or directory.")
            out.val += _load([str(p)])
            out.files += _describe(p, "val")
    if not out.train:
        raise ForgeError(f"--data {' '.join(data)}: no training records found (only val/test splits?).")
    return out
