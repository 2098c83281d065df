"""Input expansion (files, directories, globs, ``-``) and opening with transparent decompression.

Compression is recognised by magic bytes, not by name: gzip (``1f 8b``) and Zstandard (``28 b5 2f fd``).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from collections.abc import Iterable

from ..errors import ForgeError

#: File endings ``forge ingest`` reads when it is given a directory.
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".ndjson", ".txt")
COMPRESSED_SUFFIXES = (".gz", ".zst", ".zstd")
STDIN = "-"


@dataclass(frozen=True)
class InputFile:
    """One input: ``path`` (a ``Path``, or ``"-"`` for standard input)."""

    path: Path | str

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == STDIN else str(self.path)

    @property
    def suffix(self) -> str:
        """The data suffix, ignoring a compression suffix (``a.jsonl.gz`` -> ``.jsonl``)."""
        if self.path == STDIN:
            return ""
        p = Path(self.path)
        sfx = p.suffixes
        if sfx and sfx[-1].lower() in COMPRESSED_SUFFIXES:
            sfx = sfx[:-1]
        return sfx[-1].lower() if sfx else ""


def _is_data(p: Path) -> bool:
    s = [x.lower() for x in p.suffixes]
    if s and s[-1] in COMPRESSED_SUFFIXES:
        s = s[:-1]
    # forge's own side files (manifests, rejects) are not data when a directory is read
    return (bool(s) and s[-1] in DATA_SUFFIXES and not p.name.startswith(("_", "."))
            and not p.name.endswith(".manifest.json"))


def expand_inputs(inputs: Iterable[str] | None, *, allow_stdin: bool = True) -> list[InputFile]:
    """Expand paths, directories (recursively, data files only, sorted) and globs; no input or ``-``
    means standard input. Raises :class:`ForgeError` for a path that does not exist."""
    items = list(inputs or [])
    if not items:
        if not allow_stdin:
            raise ForgeError("no input given: name one or more files, directories or globs.")
        if sys.stdin is None or sys.stdin.isatty():
            raise ForgeError(
                "no input: name a file, directory or glob, or pipe records in (e.g. `forge ingest raw.jsonl | forge clean`)."
            )
        return [InputFile(STDIN)]
    out: list[InputFile] = []
    for item in items:
        if item == STDIN:
            out.append(InputFile(STDIN))
            continue
        p = Path(item)
        if p.is_dir():
            found = sorted(
                # hidden files and folders skipped: a killed run's temporary output (.forge-tmp-PID/, .NAME.tmp-PID)
                (q for q in p.rglob("*") if q.is_file() and _is_data(q) and "rejects" not in q.name
                 and not any(part.startswith(".") for part in q.relative_to(p).parts)),
                key=lambda q: str(q),
            )
            if not found:
                raise ForgeError(f"{item}: the directory holds no data files ({', '.join(DATA_SUFFIXES)}).")
            out.extend(InputFile(q) for q in found)
        elif p.is_file():
            out.append(InputFile(p))
        elif any(ch in item for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True) if Path(m).is_file())
            if not matches:
                raise ForgeError(f"{item}: the pattern matches no file.")
            out.extend(InputFile(m) for m in matches)
        else:
            raise ForgeError(f"{item}: no such file or directory. Check the path (it is relative to {os.getcwd()}).")
    return out


class _Prefixed(io.RawIOBase):
    """A raw stream that first replays ``prefix`` then reads from ``rest``."""

    def __init__(self, prefix: bytes, rest: BinaryIO):
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def peek_bytes(stream: BinaryIO, n: int) -> tuple[bytes, BinaryIO]:
    """Read up to ``n`` bytes (fewer only at end of stream) and return them with a stream that still
    yields every byte from the start."""
    chunks, got = [], 0
    while got < n:
        b = stream.read(n - got)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    sample = b"".join(chunks)
    return sample, io.BufferedReader(_Prefixed(sample, stream), buffer_size=1 << 20)  # type: ignore[arg-type]


def open_binary(f: InputFile) -> BinaryIO:
    """Open an input as a binary stream, decompressing gzip or Zstandard transparently."""
    if f.path == STDIN:
        raw: BinaryIO = sys.stdin.buffer
    else:
        try:
            raw = open(f.path, "rb")
        except OSError as e:
            raise ForgeError(f"{f.name}: cannot open ({e.strerror}).") from None
    head = raw.read(4)
    stream: BinaryIO = io.BufferedReader(_Prefixed(head, raw), buffer_size=1 << 20)
    if head[:2] == b"\x1f\x8b":
        gz = gzip.GzipFile(fileobj=stream)
        return io.BufferedReader(_Checked(gz, f.name, "gzip"), buffer_size=1 << 20)  # type: ignore[return-value]
    if head == b"\x28\xb5\x2f\xfd":
        return io.BufferedReader(_Checked(_ZstdReader(stream), f.name, "Zstandard"), buffer_size=1 << 20)  # type: ignore[return-value]
    return stream


class _Checked(io.RawIOBase):
    """A decompressing stream whose errors (truncated or corrupt data) become a :class:`ForgeError`
    naming the file, instead of a traceback (or click's bare "Aborted." for ``EOFError``)."""

    def __init__(self, inner, name: str, kind: str):
        self._inner, self._name, self._kind = inner, name, kind

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            data = self._inner.read(len(b))
        except ForgeError:
            raise
        except (EOFError, OSError, ValueError, zlib.error) as e:
            raise ForgeError(
                f"{self._name}: the {self._kind} data is truncated or corrupt ({e}), so forge stops here "
                f"rather than lose its tail silently. Re-create or re-download the file (check it with `{'gzip -t' if self._kind == 'gzip' else 'zstd -t'}`)."
            ) from None
        n = len(data)
        b[:n] = data
        return n


class _ZstdReader:
    """Zstandard decompression of every frame of a stream that raises ``EOFError`` when the stream
    ends inside a frame (zstandard's own stream reader returns a silent short read then)."""

    def __init__(self, src: BinaryIO):
        import zstandard

        self._zstd = zstandard
        self._src = src
        self._obj = None  # decompressor of the current frame
        self._buf = b""
        self._eof = False

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and not self._eof:
            chunk = self._src.read(1 << 20)
            if not chunk:
                self._eof = True
                if self._obj is not None and not self._obj.eof:
                    raise EOFError("the stream ends inside a Zstandard frame")
                break
            self._feed(chunk)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _feed(self, data: bytes) -> None:
        while data:
            if self._obj is None or self._obj.eof:
                self._obj = self._zstd.ZstdDecompressor().decompressobj()
            try:
                self._buf += self._obj.decompress(data)
            except self._zstd.ZstdError as e:
                raise ValueError(str(e)) from None
            data = self._obj.unused_data if self._obj.eof else b""


def sha256_of(f: InputFile) -> str | None:
    """SHA-256 hex digest of a file's bytes as stored (``None`` for standard input)."""
    if f.path == STDIN:
        return None
    h = hashlib.sha256()
    with open(f.path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
