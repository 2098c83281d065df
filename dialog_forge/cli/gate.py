"""Check a scored (and split) dataset against thresholds and fail CI when one is not met.

Prints a table of each check with its value, threshold and pass/fail. Exit 0 when all pass, 1 when any
fails, 2 on bad input. Only the checks whose thresholds are given run.

Instead of the records, the gate also reads their manifest or stats (`_manifest.json`, `FILE.manifest.json`,
`--stats-json` of forge score / forge split): mean score, keep/drop ratios, per-domain counts and leaks
come from the counts there; --max-pii and --max-dup-ratio need the records."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ForgeError, GateFailed

EPILOG = ("Example (CI): forge gate scored.jsonl --min-mean 0.7 --max-drop-ratio 0.3 --max-pii 0 "
          "--junit gate.xml. With the output directory of `forge split`, --max-leakage 0 checks that no record "
          "of one split matches a record of another.")


def register(app: typer.Typer) -> None:
    """Add ``forge gate``."""

    @app.command("gate", help=__doc__, epilog=EPILOG)
    def gate(
        inputs: Annotated[list[str] | None, typer.Argument(help="Scored records: JSONL/Parquet files or "
                                                              "directories (e.g. the output of forge split), "
                                                              "or one manifest/stats JSON file.",
                                                              show_default=False)] = None,
        min_mean_score: Annotated[float | None, typer.Option(
            "--min-mean-score", "--min-mean", help="Fail when the mean quality.score is below this.")] = None,
        min_keep_ratio: Annotated[float | None, typer.Option(
            help="Fail when the share of records decided 'keep' is below this.")] = None,
        max_drop_ratio: Annotated[float | None, typer.Option(
            help="Fail when the share of records decided 'drop' is above this.")] = None,
        max_pii: Annotated[int | None, typer.Option(
            help="Fail when a re-scan finds more PII hits than this (usually 0).")] = None,
        max_dup_ratio: Annotated[float | None, typer.Option(
            help="Fail when the share of exact duplicate records (normalised text) is above this.")] = None,
        min_per_domain: Annotated[int | None, typer.Option(
            help="Fail when any domain has fewer records than this.")] = None,
        max_leakage: Annotated[int | None, typer.Option(
            help="Fail when more record pairs than this match across train/val/test (usually 0).")] = None,
        leak_threshold: Annotated[float, typer.Option(
            help="User-turn Jaccard at or above which two records match (for --max-leakage).")] = 0.5,
        junit: Annotated[str | None, typer.Option(help="Also write the results as JUnit XML here.")] = None,
        json_out: Annotated[str | None, typer.Option("--json", help="Also write the results as JSON here.")] = None,
    ) -> None:
        from ..gate import checks
        from ..gate.report import print_table, write_json, write_junit
        from ..io.records import load_records

        wanted = [
            (min_mean_score, checks.mean_score), (min_keep_ratio, checks.keep_ratio),
            (max_drop_ratio, checks.drop_ratio), (max_pii, checks.pii), (max_dup_ratio, checks.dup_ratio),
            (min_per_domain, checks.per_domain),
        ]
        if all(t is None for t, _ in wanted) and max_leakage is None:
            raise ForgeError("forge gate: give at least one threshold, e.g. --min-mean 0.7 (see forge gate --help).")
        if not inputs:
            raise ForgeError("forge gate: name the scored file(s) or directory to check, e.g. forge gate scored.jsonl.")
        from ..gate.summary import load_summary, summary_results

        source = ", ".join(inputs)
        summaries = [load_summary(p) for p in inputs]
        if any(d is not None for d in summaries):
            if len(inputs) > 1:
                raise ForgeError(f"forge gate: {source}: give either records or one manifest/stats file, not both.")
            results = summary_results(summaries[0], inputs[0], {
                "mean_score": min_mean_score, "keep_ratio": min_keep_ratio, "drop_ratio": max_drop_ratio,
                "pii": max_pii, "dup_ratio": max_dup_ratio, "per_domain": min_per_domain, "leakage": max_leakage})
        else:
            records = load_records(inputs)
            if not records:
                raise ForgeError(f"forge gate: {source} holds no record.")
            results = [fn(records, t) for t, fn in wanted if t is not None]
            if max_leakage is not None:
                results.append(checks.leakage(records, max_leakage, leak_threshold))
        print_table(results, source)
        if junit:
            write_junit(results, junit)
        if json_out:
            write_json(results, json_out, source)
        failed = [r.name for r in results if r.failed]
        if failed:
            raise GateFailed(f"gate failed: {', '.join(failed)}")
