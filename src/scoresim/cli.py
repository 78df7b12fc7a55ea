"""The command line. Only this module knows the terminal."""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Simulate surveillance-driven social scoring systems on synthetic populations.",
)
out_console = Console()
err_console = Console(stderr=True)

EXIT_USAGE = 2


def fail(message: str) -> None:
    """A clear error, no traceback, exit code 2."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


def _set_threads(threads: int | None) -> None:
    if threads is None:
        return
    import numba

    if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
        fail(f"--threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}")
    numba.set_num_threads(threads)


def _show_progress(quiet: bool) -> bool:
    return not quiet and (err_console.is_terminal or os.environ.get("SCORESIM_PROGRESS") == "1")


def _progress_bar(unit: str) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn(unit), TimeRemainingColumn(), console=err_console, transient=True)


def _command() -> str:
    return "scoresim " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _summary_table(summary: dict) -> Table:
    f = summary["final"]
    t = Table(title=f"{summary['scenario']}: {summary['agents']:,} agents x {summary['days']} days"
              f" (seed {summary['seed']})", show_header=True)
    t.add_column("metric")
    t.add_column("value", justify="right")
    pct = lambda x: f"{100 * x:.3f} %"  # noqa: E731
    t.add_row("ever sanctioned", pct(f["ever_sanctioned_frac"]))
    t.add_row("  through own scored acts", pct(f["ever_sanctioned_by_cause"]["own"]))
    t.add_row("  through false matches", pct(f["ever_sanctioned_by_cause"]["false_match"]))
    t.add_row("  through association", pct(f["ever_sanctioned_by_cause"]["association"]))
    t.add_row("innocent sanctioned (never committed a scored act)",
              pct(f["innocent_sanctioned_frac"]))
    t.add_row("sanctioned at the end", pct(f["sanctioned_frac"]))
    t.add_row("false attributions", f"{f['false_attributions']:,}")
    for name, k in f["ever_listed"].items():
        t.add_row(f"ever listed: {name}", f"{k:,}")
    for svc, k in f["denied"].items():
        t.add_row(f"denied {svc}", f"{k:,} of {f['requests'][svc]:,} requests")
    cf = summary.get("counterfactual")
    if cf and cf["chilling"].get("overall") is not None:
        t.add_row("chilling effect (expression acts lost vs. no scoring)",
                  pct(cf["chilling"]["overall"]))
    t.add_row("mean score / mean caution", f"{f['mean_score']:.1f} / {f['mean_caution']:.3f}")
    t.add_row("wall time", f"{summary['wall_seconds']:.2f} s "
              f"({summary['agent_days_per_second'] or 0:,.0f} agent-days/s)")
    return t


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Built-in name or YAML file.")] = "default",
    agents: Annotated[int, typer.Option(
        "--agents", "-n", min=1, help="Number of agents.")] = 100_000,
    days: Annotated[int, typer.Option("--days", "-t", min=0, help="Days to simulate.")] = 365,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Random seed.")] = 0,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a value: path.to.key=value (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder.")] = None,
    profile: Annotated[bool, typer.Option(help="Time each stage of each day.")] = False,
    counterfactual: Annotated[bool, typer.Option(
        "--counterfactual", help="Also run the same people and seed with scoring off, to "
        "measure the chilling effect (about doubles the time).")] = False,
    threads: Annotated[int | None, typer.Option(
        help="Worker threads (default: all cores).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table.")] = False,
    partitions: Annotated[int | None, typer.Option(
        min=1, help="Split the agents across K Ray actors (the same result as one process; "
        "docs/partitions.md).")] = None,
    address: Annotated[str | None, typer.Option(
        help="Ray cluster for --partitions, e.g. HEAD:6379 (default: a local Ray).")] = None,
) -> None:
    """Run one scenario and write summary.json, daily.parquet, scenario.yaml and report.html
    to --out."""
    from .experiments import run_with_counterfactual
    from .report import run_report
    from .results.outputs import OutputError, check_out_dir, write_run
    from .scenario import ScenarioError, scenario_to_yaml
    from .sim import Sim

    _set_threads(threads)
    out = out or Path("out") / Path(scenario).stem
    try:
        check_out_dir(out)
        sim = Sim(scenario, agents=agents, days=days, seed=seed, overrides=set_ or [],
                  profile=profile)
    except (ScenarioError, OutputError) as e:
        fail(str(e))
    except ValueError as e:
        fail(str(e))
    from .scale.plan import available_memory, check_fits, quick_estimate

    # local partitions: each of the K actors holds the whole population (docs/partitions.md)
    share = partitions if partitions and not address else 1
    too_big = check_fits(quick_estimate(sim.scenario, agents, seed), available_memory() / share)
    if too_big:
        fail(too_big)

    t0 = time.perf_counter()
    go = run_with_counterfactual if counterfactual else (lambda s, p=None: s.run(p))
    if partitions:
        if counterfactual or profile:
            fail("--partitions runs neither --counterfactual nor --profile")
        from .experiments.partitioned import partition_bounds, run_partitioned

        try:
            partition_bounds(sim, partitions)
        except ValueError as e:
            fail(str(e))
        go = lambda s, p=None: run_partitioned(s, partitions, address, p, threads)  # noqa: E731
    if not _show_progress(quiet):
        results = go(sim)
    else:
        total = 2 * days if counterfactual else days
        with _progress_bar("days") as bar:
            task = bar.add_task(f"{sim.scenario.name}: building {agents:,} agents", total=total)

            def progress(done: int, total: int) -> None:
                what = "counterfactual day" if counterfactual and done <= days else "day"
                bar.update(task, completed=done, total=total,
                           description=f"{sim.scenario.name}: {what} {(done - 1) % days + 1}")

            results = go(sim, progress)
    summary = dict(results.summary)
    summary["command"] = _command()
    cf_daily = results.counterfactual.daily if results.counterfactual is not None else None
    report = run_report(summary, results.daily, scenario_to_yaml(results.scenario), cf_daily,
                        results.scenario.description)
    extra = {"report.html": lambda p: p.write_text(report, encoding="utf-8")}
    if cf_daily is not None:
        extra["counterfactual.parquet"] = lambda p: cf_daily.to_parquet(p, index=False)
    try:
        written = write_run(out, summary, results.daily, scenario_to_yaml(results.scenario),
                            results.profile, extra)
    except OutputError as e:
        fail(str(e))
    if not quiet:
        out_console.print(_summary_table(summary))
        if results.profile is not None:
            out_console.print(_profile_table(results.profile))
        out_console.print(f"wrote {', '.join(p.name for p in written)} to {out} "
                          f"in {time.perf_counter() - t0:.1f} s")


def _profile_table(profile) -> Table:
    stages = [c for c in profile.columns if c != "day"]
    total = profile[stages].sum()
    t = Table(title="time per stage", show_header=True)
    for col in ("stage", "total s", "ms per day", "share"):
        t.add_column(col, justify="right" if col != "stage" else "left")
    grand = float(total.sum()) or 1.0
    for s in stages:
        t.add_row(s, f"{total[s]:.3f}", f"{1000 * total[s] / max(len(profile), 1):.2f}",
                  f"{100 * total[s] / grand:.1f} %")
    return t


@app.command()
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table.")] = False,
) -> None:
    """Run each scenario for K seeds, each next to its counterfactual (scoring off, same people
    and seed); write compare.json, compare.parquet and report.html to --out."""
    from .experiments import run_compare, write_comparison
    from .report import compare_report
    from .results.outputs import OutputError, check_out_dir
    from .scenario import ScenarioError

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
    try:
        check_out_dir(out)
    except OutputError as e:
        fail(str(e))
    total = len(scenarios) * seeds
    t0 = time.perf_counter()
    from .experiments.executors import make_executor

    ex = make_executor(executor, workers, threads, address)
    try:
        if not _show_progress(quiet):
            comp = run_compare(scenarios, seeds, agents, days, seed, set_ or [], ex,
                               workers, None, threads)
        else:
            with _progress_bar("runs (each with its counterfactual)") as bar:
                task = bar.add_task(f"comparing {len(scenarios)} scenarios x {seeds} seeds",
                                    total=total)
                comp = run_compare(scenarios, seeds, agents, days, seed, set_ or [], ex,
                                   workers, lambda i, r: bar.advance(task), threads)
    except (ScenarioError, ValueError, ConnectionError) as e:
        fail(str(e))
    command = _command()
    try:
        written = write_comparison(out, comp, compare_report(comp, command),
                                   {"command": command})
    except OutputError as e:
        fail(str(e))
    if not quiet:
        out_console.print(_compare_table(comp))
        out_console.print(f"wrote {', '.join(p.name for p in written)} to {out} "
                          f"in {time.perf_counter() - t0:.1f} s")


HEADLINE = {"chilling.overall": "chilling effect", "ever_sanctioned_frac": "ever sanctioned",
            "innocent_sanctioned_frac": "innocent sanctioned",
            "ever_sanctioned_by_cause.association": "sanctioned via association",
            "false_attributions_per_1000_per_year": "false attributions /1,000/yr"}


def _compare_table(comp) -> Table:
    from .report.html import interval_cells

    k = len(comp.seeds)
    title = f"mean over {k} seeds [95% interval]" if k > 1 else "one seed: values, no interval"
    if len(comp.labels) > 1:
        title += f"; differences against {comp.labels[0]}, paired by seed"
    t = Table(title=title, show_header=True,
              caption="all metrics: report.html, compare.json, compare.parquet")
    t.add_column("metric", no_wrap=True)
    for label in comp.labels:
        t.add_column(label, justify="right")
    for label in comp.labels[1:]:
        t.add_column(f"{label} - {comp.labels[0]}", justify="right")
    for metric, name in HEADLINE.items():
        t.add_row(name, *interval_cells(comp.summary, comp.labels, metric, "-"))
    return t


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from .scenario import builtin_scenarios

    t = Table(show_header=True)
    t.add_column("name")
    t.add_column("what it models")
    for name, desc in builtin_scenarios().items():
        t.add_row(name, desc)
    out_console.print(t)


@app.command()
def validate(
    file: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a value.")] = None,
) -> None:
    """Check a scenario file (and overrides) and exit: 0 if valid, 2 with the error if not."""
    from .scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(file, set_ or [])
    except ScenarioError as e:
        fail(str(e))
    out_console.print(f"{file}: valid scenario '{sc.name}' with {len(sc.behaviours)} behaviours, "
                      f"{len(sc.sanctions)} sanctions, {len(sc.timeline)} timeline changes")


@app.command()
def version() -> None:
    """Print the version."""
    from . import __version__

    out_console.print(__version__)


from .cli_calibrate import calibrate  # noqa: E402
from .cli_scale import plan  # noqa: E402

app.command()(calibrate)
app.command()(plan)
from .cli_sweep import query, sweep  # noqa: E402

app.command()(sweep)
app.command()(query)


def main() -> None:  # pragma: no cover
    app()
