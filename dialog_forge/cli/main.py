"""The ``forge`` command: one typer app; each module in :data:`COMMANDS` adds its subcommands.

Exit codes: 0 ok, 1 a gate or check failed, 2 usage or input error (a one-paragraph message naming the
file, line and fix; ``--debug`` anywhere on the command line shows the traceback instead).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
import warnings

import typer

from ..errors import ForgeError, OutputClosed

#: Modules under dialog_forge/cli/ that define ``register(app)``, in the order of the pipeline.
COMMANDS = [
    "ingest",
    "clean",
    "dedup",
    "augment",
    "synth",
    "score",
    "gate",
    "mix",
    "split",
    "train",
    "eval",
    "sweep",
    "quant_report",
    "run",
    "schema",
]

app = typer.Typer(
    name="forge",
    help="dialog-forge: turn raw chatbot dialogue logs into clean, scored, leakage-free training data, then "
         "fine-tune and evaluate LoRA/QLoRA adapters on it. Data commands chain through pipes as JSONL: "
         "`forge ingest raw.jsonl | forge clean | forge dedup > out.jsonl`. Global flags: --verbose (log what "
         "is decided, e.g. detected encodings), --debug (tracebacks).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """dialog-forge: chainable dialogue-data commands (see `forge COMMAND --help`)."""


def _register_all() -> None:
    for mod in COMMANDS:
        try:
            module = importlib.import_module(f"dialog_forge.cli.{mod}")
        except ModuleNotFoundError as e:  # a command module still being written must not break the rest
            if e.name == f"dialog_forge.cli.{mod}":
                continue
            raise
        module.register(app)
    for info in app.registered_commands:
        doc = info.help if info.help is not None else inspect.getdoc(info.callback)
        info.help = reflow(doc) if doc else doc
        if info.epilog:
            info.epilog = reflow(info.epilog)


def reflow(text: str) -> str:
    """Join the hard-wrapped lines of each paragraph (typer re-wraps them anyway), keeping blank-line
    paragraph breaks and lines that start a list item (``- ``, ``* ``) or an indented example."""
    text = inspect.cleandoc(text).replace("``", "`")
    out: list[str] = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        merged: list[str] = []
        for line in lines:
            starts_block = line.startswith(("- ", "* ", "  ")) or not merged
            if starts_block:
                merged.append(line)
            else:
                merged[-1] = merged[-1].rstrip() + " " + line.strip()
        out.append("\n".join(merged))
    return "\n\n".join(out)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("forge: %(message)s"))
    root = logging.getLogger("dialog_forge")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False
    # third-party chatter that is not the user's business: bitsandbytes' optional-kernel notice (its
    # fallback would fetch from a hub, which forge never does), transformers' weight-loading bars
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    if not verbose:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*autograd kernel was not registered.*")


def main(argv: list[str] | None = None) -> None:
    """Console entry point of ``forge``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("FORGE_DEBUG"))
    verbose = "--verbose" in args
    args = [a for a in args if a not in ("--debug", "--verbose")]
    _setup_logging(verbose)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        _register_all()
        app(args=args, prog_name="forge")
    except ForgeError as e:
        if debug:
            raise
        print(f"forge: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        if debug:
            raise
        print("forge: interrupted", file=sys.stderr)
        sys.exit(130)
    except (BrokenPipeError, OutputClosed):
        # the next command in the pipe stopped reading: end quietly, as Unix tools do
        try:
            sys.stderr.flush()
        finally:
            os._exit(141)
    except SystemExit:
        raise
    except Exception as e:  # never a traceback for the user unless asked
        if debug:
            raise
        print(f"forge: error: unexpected {type(e).__name__}: {e}. Re-run with --debug for the traceback, "
              "and please report it with the input that caused it.", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
