"""``scoresim compare``: scenarios side by side over seeds, each against its counterfactual."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .common import (
    announce_compiling,
    check_format,
    command_line,
    fail,
    note,
    out_console,
    print_frame,
    progress_bar,
    refuse_if_too_big,
    show_progress,
)


def compare(
    scenarios: Annotated[list[str], typer.Argument(
        help="Scenarios as [LABEL=]SCENARIO[@KEY=VALUE...], e.g. default "
        "no-assoc=default@safeguards.association_penalties=false. Differences are against "
        "the first.", show_default=False)],
    seeds: Annotated[int, typer.Option("--seeds", "-k", help="Seeds per scenario.")] = 3,
    agents: Annotated[int, typer.Option("--agents", "-n", help="Number of agents.")] = 100_000,
    days: Annotated[int, typer.Option("--days", "-t", help="Days to simulate.")] = 365,
    seed: Annotated[int, typer.Option("--seed", "-s", help="First seed.")] = 0,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a value in every scenario: path.to.key=value.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "out/compare"),
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (default: one per core).")] = None,
    executor: Annotated[str, typer.Option(help="process, serial or ray.")] = "process",
    address: Annotated[str | None, typer.Option(
        help="With --executor ray: the cluster's address (default: a local Ray instance).")
    ] = None,
    threads: Annotated[int | None, typer.Option(
        help="Numba threads per worker (default: the cores shared among workers).")] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress, table or notes (--format csv or json still "
        "prints its data).")] = False,
    fmt: Annotated[str, typer.Option(
        "--format", help="table (the headline metrics), or csv or json (every metric's mean "
        "and interval, and each difference against the first scenario) on stdout.")
    ] = "table",
) -> None:
    """Run each scenario for K seeds, each next to its counterfactual (scoring off, same people
    and seed); write compare.json, compare.parquet and report.html to --out."""
    from ..experiments import run_compare, write_comparison
    from ..experiments.compare import resolve_specs
    from ..report import compare_report_files
    from ..results.outputs import OutputError, check_out_dir
    from ..scenario import ScenarioError

    if seeds < 1:
        fail(f"--seeds must be at least 1 (got {seeds})")
    if agents < 1 or days < 1 or seed < 0:
        fail("--agents and --days must be at least 1, --seed at least 0")
    if executor not in ("process", "serial", "ray"):
        fail(f"--executor must be 'process', 'serial' or 'ray' (got {executor!r})")
    if address is not None and executor != "ray":
        fail("--address needs --executor ray")
    if workers is not None and workers < 1 or threads is not None and threads < 1:
        fail("--workers and --threads must be at least 1")
    check_format(fmt)
    if seed + seeds > 2**63:
        fail("--seed plus --seeds must stay below 2**63")
    try:
        specs = resolve_specs(scenarios, set_ or [])
        recovered = check_out_dir(out)
    except (ScenarioError, OutputError) as e:
        fail(str(e))
    if recovered:
        note(recovered)
    total = len(scenarios) * seeds
    from ..experiments.executors import make_executor

    ex = make_executor(executor, workers, threads, address)
    # the runs at once on this machine, each holding a population (a cluster's are elsewhere)
    refuse_if_too_big([s.scenario for s in specs], agents, seed,
                      1 if address else min(ex.workers, total))
    if executor == "serial":
        announce_compiling(quiet)
    t0 = time.perf_counter()
    try:
        if not show_progress(quiet):
            comp = run_compare(scenarios, seeds, agents, days, seed, set_ or [], ex,
                               workers, None, threads)
        else:
            with progress_bar("runs (each with its counterfactual)") as bar:
                task = bar.add_task(f"comparing {len(scenarios)} scenarios x {seeds} seeds",
                                    total=total)
                comp = run_compare(scenarios, seeds, agents, days, seed, set_ or [], ex,
                                   workers, lambda i, r: bar.advance(task), threads)
    except (ScenarioError, ValueError, ConnectionError) as e:
        fail(str(e))
    command = command_line()
    try:
        written = write_comparison(out, comp, compare_report_files(comp, command),
                                   {"command": command})
    except OutputError as e:
        fail(str(e))
    if fmt != "table":  # data asked for: printed even with --quiet
        print_frame(comp.summary[["scenario", "kind", "metric", "mean", "lo", "hi", "n",
                                  "unit", "description"]], fmt)
    if quiet:
        return
    if fmt == "table":
        out_console.print(_compare_table(comp))
    note(f"wrote {', '.join(p.name for p in written)} to {out} "
         f"in {time.perf_counter() - t0:.1f} s")


HEADLINE = {"chilling.overall": "chilling effect", "ever_sanctioned_frac": "ever sanctioned",
            "sanctioned_for_others_acts_frac": "sanctioned for others' acts",
            "sanctioned_for_expression_frac": "sanctioned for speech",
            "ever_sanctioned_by_cause.association": "sanctioned via association",
            "false_attributions_per_1000_per_year": "false attributions /1,000/yr"}


def _compare_table(comp) -> Table:
    """The headline metrics, one block per metric and one row per scenario: its value and its
    difference against the first scenario (a layout that fits 80 columns)."""
    from ..report.html import interval_cells

    k, labels = len(comp.seeds), comp.labels
    title = f"mean over {k} seeds [95% interval]" if k > 1 else "one seed: values, no interval"
    t = Table(title=title, show_header=True,
              caption="all metrics: report.html, compare.json, compare.parquet, or --format")
    t.add_column("metric / scenario", overflow="fold")
    t.add_column("value", justify="right", no_wrap=True)
    if len(labels) > 1:
        t.add_column(f"- {labels[0]}", justify="right", no_wrap=True, overflow="fold")
    for metric, name in HEADLINE.items():
        cells = interval_cells(comp.summary, labels, metric, "-")
        values, diffs = cells[:len(labels)], ["", *cells[len(labels):]]
        t.add_row(f"[bold]{name}", *[""] * (len(t.columns) - 1))
        for label, value, diff in zip(labels, values, diffs, strict=True):
            t.add_row(f"  {escape(label)}", value, *([diff] if len(labels) > 1 else []))
    return t
