"""``scoresim sweep`` (runs on Ray into DIR/results.duckdb, resumable; ``--analyze``) and
``scoresim query`` (SQL over those results)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from .common import (
    TimesColumn,
    check_format,
    err_console,
    fail,
    out_console,
    print_frame,
    refuse_if_too_big,
    show_progress,
)

EXIT_INTERRUPTED = 130


def _analyze(folder: Path, metric: str | None, sweep_id: str | None, fmt: str) -> None:
    from ..experiments.sweep_analysis import AnalysisError, analyze_sweep
    from ..results.store import StoreError, open_results

    if not metric:
        fail("--analyze needs --metric NAME (e.g. --metric chilling.overall)")
    try:
        with open_results(folder) as con:
            res = analyze_sweep(con, metric, sweep_id)
    except (StoreError, AnalysisError) as e:
        fail(str(e))
    title = (f"Sobol indices of {metric} (sweep {res.sweep_id})" if res.kind == "sobol"
             else f"{metric} by parameter set (sweep {res.sweep_id})")
    print_frame(res.table, fmt, title, res.note)


def sweep(
    file: Annotated[str | None, typer.Argument(
        help="Sweep file (YAML): base scenario, parameters to vary, seeds, agents, days.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Results folder (DIR/results.duckdb); run again to resume.")
    ] = None,
    address: Annotated[str | None, typer.Option(
        help="Ray cluster address (e.g. auto, HOST:6379); default: a local Ray instance.")
    ] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Runs at once (default: Ray's CPUs / --threads).")] = None,
    threads: Annotated[int, typer.Option(
        min=1, help="Numba threads (and Ray CPUs) per run.")] = 1,
    analyze: Annotated[Path | None, typer.Option(
        "--analyze", help="Analyse the results in this folder instead of running.")] = None,
    metric: Annotated[str | None, typer.Option(
        help="With --analyze: the metric (e.g. chilling.overall, sanctioned_for_others_acts_frac).")
    ] = None,
    sweep_id: Annotated[str | None, typer.Option(
        "--sweep", help="With --analyze: a sweep id (default: the one run last).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")
                     ] = False,
    fmt: Annotated[str, typer.Option(
        "--format", help="With --analyze: table, csv or json (on stdout).")] = "table",
) -> None:
    """Run every (parameter set, seed) of a sweep file as a Ray task into DIR/results.duckdb
    (runs already done are skipped: killed sweeps resume), or --analyze a finished one."""
    from ..experiments.executors import RayExecutor
    from ..experiments.sweep import load_sweep
    from ..experiments.sweep_run import SweepBusy, SweepProgress, run_sweep
    from ..results.store import StoreError
    from ..scenario import ScenarioError

    check_format(fmt)
    if analyze is not None:
        if file is not None or out is not None:
            fail("--analyze DIR takes no sweep file or --out")
        _analyze(analyze, metric, sweep_id, fmt)
        return
    if file is None or out is None:
        fail("usage: scoresim sweep SWEEP.yaml --out DIR [--address ADDRESS], or "
             "scoresim sweep --analyze DIR --metric NAME")
    assert file is not None and out is not None
    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a folder")
    try:
        spec = load_sweep(file)
    except ScenarioError as e:
        fail(str(e))
    total = len(spec.samples) * len(spec.seeds)
    executor = RayExecutor(workers, threads, address)
    # the runs at once on this machine (with --address they run on the cluster's nodes)
    refuse_if_too_big(spec.base, spec.spec.agents, spec.spec.seed,
                      1 if address else min(executor.workers, total))
    t0 = time.perf_counter()

    def interrupt(signum: int, frame: Any) -> None:  # stop between two Ray calls
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: now
        executor.request_stop()

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        if not show_progress(quiet):
            report = run_sweep(spec, out, executor)
        else:
            bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                           MofNCompleteColumn(),
                           TextColumn("running {task.fields[running]}, failed "
                                      "{task.fields[failed]}"),
                           TimesColumn(), console=err_console, transient=True)
            with bar:
                # the clock starts with the first progress report: the runs to compute
                # are known then, and the times count only this invocation's runs
                task = bar.add_task(f"sweep ({total} runs): starting Ray", total=None,
                                    running=0, failed=0, start=False)

                def show(p: SweepProgress) -> None:
                    if bar.tasks[0].start_time is None:
                        bar.start_task(task)
                    bar.update(task, total=p.total, completed=p.done + p.failed,
                               running=p.running, failed=p.failed,
                               description=f"sweep ({total} runs)")

                report = run_sweep(spec, out, executor, show)
    except (SweepBusy, StoreError, ValueError) as e:
        fail(str(e))
    except OSError as e:
        fail(f"{out}: {e.strerror or e}")
    except KeyboardInterrupt:
        err_console.print(f"interrupted: the runs that finished are in {out}/results.duckdb; "
                          "run the same command again to compute the rest")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ConnectionError as e:
        fail(f"cannot reach the Ray cluster at {address}: {e}")
    finally:
        signal.signal(signal.SIGINT, previous)
        executor.close()
    _write_report(out)
    if not quiet:
        out_console.print(
            f"sweep {report.sweep_id}: {report.runs} runs; {report.done} computed now, "
            f"{report.already_done} already done, {report.failed} failed; "
            f"{out}/results.duckdb in {time.perf_counter() - t0:.1f} s")
        for run_id, error in list(report.errors.items())[:5]:
            out_console.print(f"  failed {run_id}: {error}", highlight=False)
        if report.failed:
            out_console.print(f"  all errors: scoresim query {out} \"SELECT run_id, params, "
                              "error FROM runs WHERE status = 'failed'\"", highlight=False)


def _write_report(folder: Path) -> None:
    """The sweep's report.html and figures/ beside its results.duckdb."""
    from ..report import ReportError, rebuild_report

    try:
        rebuild_report(folder)
    except ReportError as e:
        fail(str(e))


def query(
    folder: Annotated[Path, typer.Argument(help="A sweep's results folder.")],
    sql: Annotated[str, typer.Argument(
        help="SQL over the tables runs, metrics, daily, sweeps and plan.")],
    max_rows: Annotated[int, typer.Option(
        "--max-rows", min=1, help="Rows of a table to print at most.")] = 200,
    fmt: Annotated[str, typer.Option(
        "--format", help="table, or csv or json (every row, on stdout).")] = "table",
) -> None:
    """Run SQL over DIR/results.duckdb (read-only) and print the result as a table, CSV or
    JSON."""
    import duckdb

    from ..results.store import StoreError, open_results

    check_format(fmt)
    try:
        with open_results(folder) as con:
            df = con.sql(sql).df() if sql.strip() else None
    except StoreError as e:
        fail(str(e))
    except duckdb.Error as e:
        fail(f"SQL: {' '.join(str(e).split())}")
    if df is None:
        fail("SQL: the query returned nothing (was it a statement without a result?)")
    assert df is not None
    caption = (f"{max_rows} of {len(df)} rows" if len(df) > max_rows
               else f"{len(df)} row{'s' * (len(df) != 1)}")
    print_frame(df, fmt, caption=caption, max_rows=max_rows)
