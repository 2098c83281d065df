"""Shared CLI machinery: options generated from config dataclasses, and the data-command runner.

:func:`data_command` registers ``forge <step>`` for a :class:`~dialog_forge.pipeline.step.Step` class:
one flag per config field (help from the field), plus the I/O flags every data command shares. The
command reads canonical JSONL from stdin (or the named inputs), writes JSONL to stdout (or ``--out``),
sends rejects to a file, prints a one-line summary on stderr and writes a manifest beside ``--out``.
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Optional
from collections.abc import Callable

import typer

from ..errors import ForgeError
from ..io.manifest import build_manifest, describe_inputs, manifest_path_for, write_manifest
from ..io.records import READ_REASONS
from ..io.rejects import RejectsSink
from ..io.writers import DEFAULT_SHARD_ROWS, open_sink
from ..pipeline.executor import RunResult, run_chain, stats_payload, write_stats_json
from ..pipeline.options import FieldSpec, build_config, field_specs
from ..pipeline.step import Step

log = logging.getLogger("dialog_forge")

STREAM_REJECTS = "forge-rejects.jsonl"


def _option_param(spec: FieldSpec) -> inspect.Parameter:
    """A typer option parameter for one config field."""
    help_text = spec.help
    if spec.kind == "dict":
        ann: Any = Optional[str]
        default = None
        if spec.default:
            help_text += f" [default: {','.join(f'{k}={v}' for k, v in spec.default.items())}]"
    elif spec.kind == "list":
        ann = Optional[list[str]]
        default = None
        if "repeatable" not in help_text:
            help_text += " (repeatable)"
        if spec.default:
            help_text += f" [default: {', '.join(spec.default)}]"
    elif spec.kind == "choice":
        ann = Literal[spec.choices]  # type: ignore[valid-type]
        if spec.optional:
            ann = Optional[ann]
        default = spec.default
    elif spec.kind == "bool":
        ann = bool
        default = bool(spec.default)
    else:
        base = {"int": int, "float": float, "str": str}[spec.kind]
        ann = Optional[base] if spec.optional or spec.default is None else base
        default = spec.default
    decls = [spec.flag]
    if spec.kind == "bool":
        decls = [f"{spec.flag}/--no-{spec.flag[2:]}"]
    show: bool | str = spec.kind not in ("dict", "list")
    if isinstance(default, str) and not default.isprintable():
        show = repr(default)
    opt = typer.Option(*decls, help=help_text, show_default=show)
    return inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[ann, opt])


def options_from_config(config_cls: type) -> list[inspect.Parameter]:
    """Typer parameters for every field of ``config_cls`` (for hand-written commands)."""
    return [_option_param(s) for s in field_specs(config_cls)]


def config_from_kwargs(config_cls: type, kwargs: dict[str, Any]):
    """Build ``config_cls`` from the values typer passed for :func:`options_from_config` parameters
    (``None`` for an unset dict/list flag keeps the field's default)."""
    specs = {s.name: s for s in field_specs(config_cls)}
    values = {k: v for k, v in kwargs.items() if k in specs and not (v is None and specs[k].kind in ("dict", "list"))}
    return build_config(config_cls, values)


IO_PARAMS = [
    inspect.Parameter("inputs", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=Annotated[
        Optional[list[str]], typer.Argument(help="Input files, directories or globs; '-' or nothing: standard input.",
                                            show_default=False)]),
    inspect.Parameter("io_out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[str], typer.Option("--out", "-o", help="Output: a directory (Parquet shards + _manifest.json), "
                                    "FILE.jsonl or FILE.parquet. Default: JSONL on standard output.",
                                    rich_help_panel="Input/output")]),
    inspect.Parameter("io_rejects", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[str], typer.Option("--rejects", help="Where dropped records go, one JSON line each "
                                    "{id, step, reason, detail, source, record}. Default: rejects.jsonl in --out "
                                    "(or beside an output file), else ./forge-rejects.jsonl (appended, so piped "
                                    "commands share it).", rich_help_panel="Input/output")]),
    inspect.Parameter("io_stats_json", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[str], typer.Option("--stats-json", help="Write the run's counts (in, out, rejected by reason, "
                                    "counters) to this JSON file.", rich_help_panel="Input/output")]),
    inspect.Parameter("io_shard_rows", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_SHARD_ROWS, annotation=Annotated[
        int, typer.Option("--shard-rows", help="Rows per Parquet shard with --out DIR.", rich_help_panel="Input/output")]),
    inspect.Parameter("io_batch_size", inspect.Parameter.KEYWORD_ONLY, default=1000, annotation=Annotated[
        int, typer.Option("--batch-size", help="Records per batch handed to the step.", rich_help_panel="Input/output")]),
    inspect.Parameter("io_quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary line on stderr.", rich_help_panel="Input/output")]),
]


def reasons_epilog(step_cls: type[Step], with_read: bool = True) -> str:
    """The closed vocabulary of reject reasons, for ``--help``."""
    lines = [f"{k}: {v}" for k, v in step_cls.reasons.items()]
    if with_read:
        lines += [f"{k}: {v}" for k, v in READ_REASONS.items() if k not in step_cls.reasons]
    return "Reject reasons: " + "; ".join(lines) + "."


def default_rejects(out: str | None) -> tuple[Path, bool]:
    """``(path, truncate)`` for the rejects file when ``--rejects`` is not given."""
    if out is None or out == "-":
        return Path(STREAM_REJECTS), False
    p = Path(out)
    if p.suffix.lower() in (".jsonl", ".parquet", ".gz", ".ndjson"):
        return p.with_name(p.name.split(".")[0] + ".rejects.jsonl"), True
    return p / "rejects.jsonl", True


def _check_out_not_input(out: str | None, files: list) -> None:
    """Refuse an ``--out`` that is one of the inputs, or a shard directory that holds one: the sink
    replaces old ``part-*.parquet`` shards before the inputs are read, which would destroy them."""
    if not out or out == "-":
        return
    target = Path(out).resolve()
    paths = [Path(str(f.path)).resolve() for f in files if f.path != "-"]
    if target in paths:
        raise ForgeError(f"--out {out} is also an input; write to another path.")
    name = target.name.lower()
    is_file_out = name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".parquet", ".json"))
    if not is_file_out:
        inside = [p for p in paths if target in p.parents and p.name.startswith("part-") and p.suffix == ".parquet"]
        if inside:
            raise ForgeError(
                f"--out {out} is the directory that holds the input shard {inside[0]}; writing shards there "
                "replaces the old shards before they are read. Write to another directory."
            )


def run_steps(steps: list[Step], inputs: list[str] | None, *, out: str | None, rejects: str | None,
              stats_json: str | None, shard_rows: int, batch_size: int, quiet: bool,
              partition_by: str | None = None, argv: list[str] | None = None) -> RunResult:
    """Run ``steps`` as one chain from ``inputs`` to ``out`` (see the module docstring)."""
    argv = argv if argv is not None else ["forge", *sys.argv[1:]]
    if batch_size < 1:
        raise ForgeError(f"--batch-size must be at least 1 (got {batch_size}).")
    source, files = steps[0].source(inputs)
    if rejects:
        rej_path, truncate = Path(rejects), False
    else:
        rej_path, truncate = default_rejects(out)
    _check_out_not_input(out, files)
    if partition_by is None:
        partition_by = getattr(steps[-1], "partition_by", None)
    sink = open_sink(out, shard_rows, partition_by)
    if truncate and rej_path.exists():
        rej_path.unlink()
    earlier = rej_path.is_file() and rej_path.stat().st_size > 0  # appending to an earlier run's rejects
    rej_sink = RejectsSink(rej_path)
    result = run_chain(steps, source, sink, rej_sink, batch_size=batch_size)
    if not quiet:
        for st in result.stats:
            print(st.line(), file=sys.stderr)
        if result.rejects_count:
            note = (" (appended: the file also holds rejects of earlier or parallel commands, each line naming "
                    "its step; delete it to start afresh)") if earlier else ""
            print(f"rejects: {result.rejects_count} written to {rej_path}{note}", file=sys.stderr)
    for st in result.stats:
        if st.n_in >= 10 and st.n_rejected >= 0.5 * st.n_in:
            reasons = ", ".join(f"{r} {n}" for r, n in st.rejected.most_common(3))
            hint = ("--format, --map, --encoding" if st.step == "ingest" else "thresholds and options")
            log.warning("%s rejected %d of %d records (%s): check its flags (%s) before trusting this "
                        "output; the rejects file says why each went.", st.step, st.n_rejected, st.n_in, reasons, hint)
    payload = stats_payload(result, argv)
    if stats_json:
        write_stats_json(stats_json, payload)
    if out and out != "-":
        seed = next((s.config.seed for s in steps if hasattr(s.config, "seed")), None)
        manifest = build_manifest(
            argv=argv,
            steps=[{"name": s.name, "config": s.config.to_params(), **st.to_dict()} for s, st in zip(steps, result.stats)],
            inputs=describe_inputs(files),
            outputs=result.outputs,
            rejects={"path": str(rej_path), "count": result.rejects_count} if result.rejects_count else None,
            seed=seed,
            wall_seconds=result.wall_seconds,
            extra={"counts": {k: payload[k] for k in ("in", "out", "rejected")}},
        )
        write_manifest(manifest_path_for(out), manifest)
        if not quiet:
            print(f"output: {out}", file=sys.stderr)
    return result


def data_command(app: typer.Typer, step_cls: type[Step], help: str | None = None, epilog: str | None = None,
                 name: str | None = None, partition_by: str | None = None) -> Callable:
    """Register ``forge <name>`` (default ``step_cls.name``) running ``step_cls`` as a data command."""
    config_cls = step_cls.config_class
    cfg_params = options_from_config(config_cls)
    cfg_names = {p.name for p in cfg_params}

    def command(**kwargs: Any) -> None:
        config = config_from_kwargs(config_cls, {k: v for k, v in kwargs.items() if k in cfg_names})
        run_steps([step_cls(config)], kwargs.get("inputs"), out=kwargs["io_out"], rejects=kwargs["io_rejects"],
                  stats_json=kwargs["io_stats_json"], shard_rows=kwargs["io_shard_rows"],
                  batch_size=kwargs["io_batch_size"], quiet=kwargs["io_quiet"], partition_by=partition_by)

    params = [IO_PARAMS[0], *cfg_params, *IO_PARAMS[1:]]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = (name or step_cls.name).replace("-", "_")
    command.__doc__ = help or step_cls.__doc__
    full_epilog = (epilog + "\n\n" if epilog else "") + reasons_epilog(step_cls)
    app.command(name or step_cls.name, help=help or step_cls.__doc__, epilog=full_epilog)(command)
    return command
