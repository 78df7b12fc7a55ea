"""``scoresim validation``: every check of docs/validation.md, with a report; exit code 1 when a
check fails its own tolerance."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import command_line, err_console, fail, out_console, show_progress

EXIT_FAILED = 1


def validation(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the report.")] = Path(
        "out/validation"),
    quick: Annotated[bool, typer.Option(
        "--quick", help="The size of make test (a few minutes): fewer agents and seeds.")] = False,
    seeds: Annotated[int | None, typer.Option(
        "--seeds", min=1, help="Seeds a check runs (default: 2 quick, 3 full).")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only this check (repeatable; names in the report).")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Processes the runs share (default: one per core).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table.")] = False,
) -> None:
    """Run every check of docs/validation.md (published figures, fitted and held out, against
    the model over seeds; arithmetic; properties) and write report.html, validation.csv,
    validation.json and figures/ to --out. Exit code 1 when a check fails its tolerance."""
    from ..experiments.executors import ProcessExecutor
    from ..experiments.targets import TargetsError
    from ..experiments.validation import run_validation, select
    from ..report.validation_report import number, validation_files
    from ..results.outputs import OutputError, check_out_dir, write_folder

    t0 = time.perf_counter()
    say = (lambda m: err_console.print(f"[dim]{m}[/]", highlight=False)) \
        if show_progress(quiet) else None
    try:
        check_out_dir(out)
        select(only)
        v = run_validation("quick" if quick else "full", seeds, only,
                           ProcessExecutor(workers), progress=say)
        written = write_folder(out, validation_files(v, command_line()))
    except (TargetsError, OutputError, ValueError) as e:
        fail(str(e))
    if not quiet:
        out_console.print(_summary(v, number))
        out_console.print(f"wrote {', '.join(p.name for p in written)} to {out} in "
                          f"{time.perf_counter() - t0:.0f} s; "
                          + ("every check passed" if v.passed else
                             f"failed: {', '.join(v.failed())}"), highlight=False)
    if not v.passed:
        raise typer.Exit(EXIT_FAILED)


def _summary(v, number) -> Table:
    """One line per check, and every row that did not pass."""
    t = Table(title=f"validation ({v.mode}, {v.seeds} seeds, {v.wall_seconds:.0f} s)")
    for col in ("check", "pass", "inconclusive", "fail", "not passing: figure (published, "
                "simulated, error, role, verdict)"):
        t.add_column(col, justify="right" if col in ("pass", "inconclusive", "fail") else "left")
    for name, res in v.results.items():
        counts = [sum(r.verdict == k for r in res.rows) for k in ("pass", "inconclusive", "fail")]
        off = [f"{r.figure} ({number(r.published, r.unit)}, {number(r.simulated, r.unit)}, "
               + ("—" if r.rel_error != r.rel_error else f"{r.rel_error:+.1%}")
               + f", {r.role}, {r.verdict})" for r in res.rows if r.verdict != "pass"]
        t.add_row(name, *(str(c) for c in counts), "\n".join(off) or "")
    return t
