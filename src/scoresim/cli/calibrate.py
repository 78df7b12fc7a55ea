"""``scoresim calibrate``: fit a scenario's unknowns to published aggregates (Optuna)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import (
    announce_compiling,
    command_line,
    fail,
    note,
    out_console,
    progress_bar,
    refuse_if_too_big,
    set_threads,
    show_progress,
)


def calibrate(
    scenario: Annotated[str, typer.Argument(help="Built-in name or YAML file.")],
    targets: Annotated[str, typer.Option(
        "--targets", help="Targets file, or a built-in one (e.g. national-spc): the parameters "
        "to fit, with ranges, and the published figures.", show_default=False)],
    trials: Annotated[int, typer.Option("--trials", "-k", min=1, help="Optuna trials.")] = 30,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "out/calibrate"),
    agents: Annotated[int | None, typer.Option(
        "--agents", "-n", min=1, help="Agents (default: the targets file's, else 100,000).")
    ] = None,
    days: Annotated[int | None, typer.Option(
        "--days", "-t", min=1, help="Days (default: the last day a target reads).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", "-s", min=0, help="Seed of the runs and the sampler.")] = None,
    seeds: Annotated[int, typer.Option(
        "--seeds", min=1, help="Runs per trial (seed, seed+1, ...); metrics are averaged.")
    ] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a value before fitting: path.to.key=value.")] = None,
    sampler: Annotated[str, typer.Option(
        help="auto (CMA-ES for 2+ parameters, else TPE), cmaes or tpe.")] = "auto",
    step: Annotated[float | None, typer.Option(
        help="CMA-ES initial step, a share of each range (default: the file's, else 1/6).")
    ] = None,
    threads: Annotated[int | None, typer.Option(
        help="Worker threads (default: all cores).")] = None,
    allow_exact: Annotated[bool, typer.Option(
        "--allow-exact", help="Fit even with as many free parameters as fitted targets, or "
        "more (the fit can then be exact by construction).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table.")] = False,
) -> None:
    """Fit the parameters a targets file names to its aggregate targets (Optuna); print the fit
    and write the calibrated scenario.yaml, fit.json and the best run to --out."""
    import optuna

    from ..experiments.calibrate import calibrate as fit
    from ..experiments.calibrate import write_calibration
    from ..experiments.targets import TargetsError, load_targets
    from ..report import calibrate_report_files
    from ..results.outputs import OutputError, check_out_dir
    from ..scenario import ScenarioError, load_scenario

    set_threads(threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    args = dict(agents=agents, days=days, seed=seed, seeds=seeds, overrides=set_ or [],
                sampler=sampler, step=step, allow_exact=allow_exact)
    try:  # everything checked before the first trial: files, output folder, memory
        ts = load_targets(targets)
        base = load_scenario(scenario, set_ or [])
        recovered = check_out_dir(out)
    except (ScenarioError, TargetsError, OutputError) as e:
        fail(str(e))
    if recovered:
        note(recovered)
    # one population per seed is built and kept for the whole fit
    refuse_if_too_big(base, int(agents or ts.agents or 100_000),
                      seed if seed is not None else ts.seed or 0, seeds)
    announce_compiling(quiet)
    t0 = time.perf_counter()
    try:
        if not show_progress(quiet):
            cal = fit(scenario, ts, trials, **args)
        else:
            with progress_bar("trials") as bar:
                task = bar.add_task(f"calibrating {scenario}", total=trials)

                def progress(done: int, total: int, value: float, best: float) -> None:
                    bar.update(task, completed=done,
                               description=f"calibrating {scenario}: best loss {best:.4g}")

                cal = fit(scenario, ts, trials, progress=progress, **args)
        written = write_calibration(out, cal, command_line(),
                                    calibrate_report_files(cal, command_line()))
    except (ScenarioError, TargetsError, OutputError, ValueError) as e:
        fail(str(e))
    if not quiet:
        out_console.print(_fit_table(cal))
        out_console.print(f"wrote {', '.join(p.name for p in written)} to {out} "
                          f"in {time.perf_counter() - t0:.1f} s")


def _targets_table(cal, held_out: bool) -> Table:
    """The fitted targets, or the held-out ones, against the simulated values."""
    from ..experiments.targets import split_errors

    pop = cal.targets.population
    e = split_errors(cal.fit)["held_out" if held_out else "fitted"]
    rms = "undefined" if e["rms"] is None else f"{e['rms']:.1%}"
    head = (f"held out (never fitted): {e['targets']} targets" if held_out else
            f"{cal.source} fitted to {cal.targets.file}: {cal.agents:,} agents x {cal.days} days,"
            f" seed {cal.seed}" + (f"-{cal.seed + cal.seeds - 1} (mean)" if cal.seeds > 1
                                   else "") + f", {len(cal.trials)} trials, {cal.sampler} "
            f"(loss {cal.loss:.4g}); fitted: {e['targets']} targets")
    t = Table(title=f"{head}, root mean square error {rms}", show_header=True)
    for col in ("target", "target value", "simulated", "relative error"):
        t.add_column(col, justify="left" if col == "target" else "right", no_wrap=col != "target")
    for r in cal.fit:
        if r.held_out != held_out:
            continue
        scale = pop if r.per_capita and pop else 1.0
        fmt = (lambda x: f"{x / 1e6:,.3f} M") if scale > 1 else (lambda x: f"{x:.4g}")  # noqa: E731
        t.add_row(r.name, fmt(r.target * scale), fmt(r.simulated * scale), f"{r.rel_error:+.1%}")
    return t


def _fit_table(cal) -> Table:
    t = _targets_table(cal, held_out=False)
    p = Table(title="fitted values", show_header=True)
    for col in ("parameter", "path", "was", "now"):
        p.add_column(col, justify="left" if col in ("parameter", "path") else "right",
                     no_wrap=col not in ("parameter", "path"))
    for name, spec in cal.targets.parameters.items():
        p.add_row(name, spec.path, f"{cal.start[name]:.4g}", f"{cal.values[name]:.4g}")
    for path, expr in cal.targets.derived.items():
        p.add_row(f"= {expr}", path, "", f"{cal.applied[path]:.4g}")
    grid = Table.grid()
    grid.add_row(t)
    if any(r.held_out for r in cal.fit):
        grid.add_row(_targets_table(cal, held_out=True))
    grid.add_row(p)
    return grid
