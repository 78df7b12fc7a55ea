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
    threads: Annotated[int | None, typer.Option(
        help="Worker threads (default: all cores).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table.")] = False,
) -> None:
    """Run one scenario and write summary.json, daily.parquet and scenario.yaml to --out."""
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

    t0 = time.perf_counter()
    if quiet or not err_console.is_terminal and os.environ.get("SCORESIM_PROGRESS") != "1":
        results = sim.run()
    else:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("days"), TimeRemainingColumn(), console=err_console,
                      transient=True) as bar:
            task = bar.add_task(f"{sim.scenario.name}: building {agents:,} agents", total=days)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, description=f"{sim.scenario.name}: day {done}")

            results = sim.run(progress)
    summary = dict(results.summary)
    summary["command"] = "scoresim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        written = write_run(out, summary, results.daily, scenario_to_yaml(results.scenario),
                            results.profile)
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


def main() -> None:  # pragma: no cover
    app()
