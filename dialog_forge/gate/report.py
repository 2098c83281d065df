"""Rendering gate results: a rich table on the terminal, JUnit XML and JSON files for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import orjson

from ..errors import ForgeError
from .checks import CheckResult

_STYLE = {"pass": "[green]pass[/green]", "fail": "[bold red]FAIL[/bold red]", "skipped": "[yellow]skipped[/yellow]"}


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return str(int(v)) if float(v).is_integer() else f"{v:.4g}"


def print_table(results: Sequence[CheckResult], source: str, console=None) -> None:
    """Print one row per check: check, value, threshold (with its comparison), status, detail."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    t = Table(title=f"forge gate: {source}")
    for col in ("check", "value", "threshold", "result", "detail"):
        t.add_column(col, justify="right" if col in ("value", "threshold") else "left")
    for r in results:
        t.add_row(r.name, _fmt(r.value), f"{r.op} {_fmt(r.threshold)}", _STYLE[r.status], r.detail)
    console.print(t)
    failed = [r.name for r in results if r.failed]
    console.print(f"[bold red]gate failed: {', '.join(failed)}[/bold red]" if failed else "[bold green]gate passed[/bold green]")


def junit_xml(results: Sequence[CheckResult], suite: str = "forge gate") -> bytes:
    """A JUnit XML document: one ``testsuite``, one ``testcase`` per check (``failure`` / ``skipped``
    children for failed / skipped checks)."""
    ts = ET.Element("testsuite", name=suite, tests=str(len(results)),
                    failures=str(sum(r.status == "fail" for r in results)),
                    skipped=str(sum(r.status == "skipped" for r in results)), errors="0")
    for r in results:
        tc = ET.SubElement(ts, "testcase", classname="forge.gate", name=r.name)
        msg = f"{r.name} = {_fmt(r.value)}, required {r.op} {_fmt(r.threshold)}"
        if r.status == "fail":
            ET.SubElement(tc, "failure", message=msg, type="threshold").text = r.detail
        elif r.status == "skipped":
            ET.SubElement(tc, "skipped", message=r.detail)
        else:
            ET.SubElement(tc, "system-out").text = msg + (f" ({r.detail})" if r.detail else "")
    root = ET.Element("testsuites")
    root.append(ts)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _write(path: str, data: bytes, flag: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    except OSError as e:
        raise ForgeError(f"{flag} {path}: cannot write ({e.strerror}).") from None


def write_junit(results: Sequence[CheckResult], path: str) -> None:
    """Write :func:`junit_xml` to ``path``."""
    _write(path, junit_xml(results), "--junit")


def write_json(results: Sequence[CheckResult], path: str, source: str) -> None:
    """Write ``{"source", "passed", "checks": [...]}`` to ``path``."""
    doc = {"source": source, "passed": not any(r.failed for r in results), "checks": [r.to_dict() for r in results]}
    _write(path, orjson.dumps(doc, option=orjson.OPT_INDENT_2), "--json")
