"""``scoresim plan``: memory and time of a run before anything big is allocated."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import fail, out_console

GiB = 2**30



def _gib(x: float) -> str:
    return f"{x / GiB:,.2f} GiB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.1f} h"


def plan(
    scenario: Annotated[str, typer.Argument(help="Built-in name or YAML file.")] = "default",
    agents: Annotated[int, typer.Option("--agents", "-n", min=1, help="Agents to plan for.")]
    = 10_000_000,
    days: Annotated[int, typer.Option("--days", "-t", min=0, help="Days to plan for.")] = 365,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0)] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a value.")] = None,
    partitions: Annotated[int, typer.Option(
        min=1, help="Also plan the run split across K actors: memory per actor and the "
        "effects exchanged per day.")] = 1,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the plan here.")] = None,
) -> None:
    """Bytes per agent for each array, memory at build and during the run, and the expected
    time per simulated day on this machine (from a short calibration run)."""
    from ..results.outputs import OutputError, write_json
    from ..scale.plan import for_agents, measure, memory_limits
    from ..scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario, set_ or [])
    except ScenarioError as e:
        fail(str(e))
    if json_out is not None and (json_out.is_dir() or not json_out.parent.is_dir()):
        fail(f"{json_out}: --json takes a file in an existing folder")
    measured = measure(sc, seed=seed)
    p = for_agents(measured, agents, sc)
    t = Table(title=f"{sc.name}: memory for {agents:,} agents", show_header=True)
    for col in ("array", "dtype", "bytes per agent", "total"):
        t.add_column(col, justify="left" if col in ("array", "dtype") else "right",
                     no_wrap=col != "array")
    for name, dtype, b in p.arrays:
        if b * agents >= 2**20 or b >= 0.01:
            t.add_row(name, dtype, f"{b:.2f}", _gib(b * agents))
    t.add_row("[bold]all arrays", "", f"[bold]{p.bytes_per_agent:.1f}",
              f"[bold]{_gib(p.bytes_per_agent * agents)}")
    out_console.print(t)
    limits = memory_limits()
    binding = min(limits, key=limits.__getitem__)
    mem = limits[binding]
    s = Table(show_header=False, title="the run")
    s.add_column("what")
    s.add_column("value", justify="right", no_wrap=True)
    s.add_row("memory while running (with the interpreter)", _gib(p.steady_bytes))
    s.add_row("memory at the peak (build, or a day's working arrays)", _gib(p.peak_bytes))
    s.add_row("memory available now" + ("" if binding == "host" else f" ({binding} limit)"),
              _gib(mem))
    s.add_row("fits on this machine", "yes" if p.peak_bytes <= mem else
              f"no: needs {p.partitions_needed(mem)} machines like it")
    s.add_row(f"time per day ({p.threads} threads, measured now)",
              _duration(p.seconds_per_day()))
    s.add_row(f"time for {days} days", _duration(p.seconds_per_day() * days))
    split = None
    if partitions > 1:
        from ..experiments.partition_plan import plan_partitions

        split = plan_partitions(sc, agents, partitions, seed)
        s.add_row(f"K = {partitions} actors: agents in the largest range",
                  f"{split.range_agents:,}")
        s.add_row("  arrays per actor (its range, its regions' groups, everyone's region "
                  "and group)", _gib(split.array_bytes))
        s.add_row("  build peak above the arrays (a region's permutation, trait draws)",
                  _gib(split.build_peak_bytes))
        s.add_row("  effects sent per day per actor (received: alike)",
                  _gib(split.message_bytes_per_day))
        s.add_row("  memory per actor at the peak (with its process)", _gib(split.peak_bytes))
        s.add_row("  exchange between actors per day, all together",
                  _gib(split.exchange_bytes_per_day))
        s.add_row(f"  time per day (K = {partitions}, compute only)",
                  _duration(p.seconds_per_day() / partitions))
    out_console.print(s)
    if json_out is not None:
        try:
            write_json(json_out, {**p.to_dict(), "available_bytes": mem, "days": days,
                                  "partitions": partitions,
                                  **({"split": split.to_dict()} if split else {})})
        except OutputError as e:
            fail(str(e))

