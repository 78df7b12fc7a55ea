"""``scoresim run``: one scenario into an output folder."""

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


def _summary_table(summary: dict) -> Table:
    f = summary["final"]
    t = Table(title=f"{summary['scenario']}: {summary['agents']:,} agents x {summary['days']} days"
              f" (seed {summary['seed']})", show_header=True)
    t.add_column("metric")
    t.add_column("value", justify="right", no_wrap=True)
    pct = lambda x: f"{100 * x:.3f} %"  # noqa: E731
    t.add_row("ever sanctioned", pct(f["ever_sanctioned_frac"]))
    t.add_row("  through own scored acts", pct(f["ever_sanctioned_by_cause"]["own"]))
    t.add_row("  through false matches", pct(f["ever_sanctioned_by_cause"]["false_match"]))
    t.add_row("  through association", pct(f["ever_sanctioned_by_cause"]["association"]))
    t.add_row("sanctioned for others' acts (own acts alone would not have done it)",
              pct(f["sanctioned_for_others_acts_frac"]))
    t.add_row("sanctioned for lawful speech", pct(f["sanctioned_for_expression_frac"]))
    t.add_row("sanctioned, never having committed a scored act",
              pct(f["never_acted_sanctioned_frac"]))
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
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the previous result in --out.")] = False,
) -> None:
    """Run one scenario and write summary.json, daily.parquet, scenario.yaml and report.html
    to --out (default out/NAME; a previous result there is replaced only with --force)."""
    from ..experiments import run_with_counterfactual
    from ..report import run_report_files
    from ..results.outputs import OutputError, check_out_dir, write_run
    from ..scenario import ScenarioError, scenario_to_yaml
    from ..sim import Sim

    set_threads(threads)
    out = out or Path("out") / Path(scenario).stem
    try:
        sim = Sim(scenario, agents=agents, days=days, seed=seed, overrides=set_ or [],
                  profile=profile)
        recovered = check_out_dir(out, replace=force)
    except (ScenarioError, OutputError, ValueError) as e:
        fail(str(e))
    if recovered:
        note(recovered)
    if partitions:
        if counterfactual or profile:
            fail("--partitions runs neither --counterfactual nor --profile")
        from ..experiments.partition_plan import check_partitions_fit, plan_partitions
        from ..experiments.partitioned import partition_bounds, run_partitioned

        try:
            partition_bounds(sim, partitions)
        except ValueError as e:
            fail(str(e))
        split = plan_partitions(sim.scenario, agents, partitions, seed)
        if not address:  # the K actors share this machine (on a cluster: checked at start)
            from ..scale.plan import available_memory

            too_big = check_partitions_fit(split, available_memory() / partitions)
            if too_big:
                fail(too_big)
    else:
        refuse_if_too_big(sim.scenario, agents, seed)
    announce_compiling(quiet)

    t0 = time.perf_counter()
    if partitions:
        def go(s, p=None):
            try:
                return run_partitioned(s, partitions, address, p, threads, plan=split)
            except MemoryError as e:  # a cluster whose nodes cannot hold the actors
                fail(str(e))
    else:
        go = run_with_counterfactual if counterfactual else (lambda s, p=None: s.run(p))
    if not show_progress(quiet):
        results = go(sim)
    else:
        total = 2 * days if counterfactual else days
        with progress_bar("days") as bar:
            task = bar.add_task(f"{sim.scenario.name}: building {agents:,} agents", total=total)

            def progress(done: int, total: int) -> None:
                what = "counterfactual day" if counterfactual and done <= days else "day"
                bar.update(task, completed=done, total=total,
                           description=f"{sim.scenario.name}: {what} {(done - 1) % days + 1}")

            results = go(sim, progress)
    summary = dict(results.summary)
    summary["command"] = command_line()
    summary["overrides"] = list(set_ or [])
    cf_daily = results.counterfactual.daily if results.counterfactual is not None else None
    extra = run_report_files(summary, results.daily, results.scenario, cf_daily)
    if cf_daily is not None:
        extra["counterfactual.parquet"] = lambda p: cf_daily.to_parquet(p, index=False)
    try:
        written = write_run(out, summary, results.daily, scenario_to_yaml(results.scenario),
                            results.profile, extra, replace=force)
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
        t.add_column(col, justify="right" if col != "stage" else "left", no_wrap=True)
    grand = float(total.sum()) or 1.0
    for s in stages:
        t.add_row(s, f"{total[s]:.3f}", f"{1000 * total[s] / max(len(profile), 1):.2f}",
                  f"{100 * total[s] / grand:.1f} %")
    return t


