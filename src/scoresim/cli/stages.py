"""``scoresim stages``: the day's stages in order, as the engine declares them."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import fail, out_console


def stages(
    scenario: Annotated[str, typer.Argument(help="Built-in name or YAML file.")] = "default",
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a value: path.to.key=value (repeatable).")] = None,
) -> None:
    """Print the day's stages in order: what each reads and writes of the agents' state, the
    effects on other agents it receives and emits, when it runs, and the exchange round it
    runs in for this scenario (across partitions, effects cross between rounds)."""
    from ..scenario import ScenarioError
    from ..sim import Sim

    try:
        sim = Sim(scenario, agents=1, days=0, overrides=set_ or [])
    except (ScenarioError, ValueError) as e:
        fail(str(e))
    df = sim.stages
    out_console.print(f"[bold]the day of {sim.scenario.name}[/]: {len(df)} stages, "
                      f"{df['round'].max()} exchange rounds across partitions", highlight=False)
    for row in df.itertuples(index=False):
        where = f"round {row.round}" if row.round else "off in this scenario"
        out_console.print(f"\n[bold]{row.order:>2} {row.stage}[/] (part of {row.part_of}; "
                          f"{row.when}; {where})", highlight=False)
        for what in ("reads", "writes", "receives", "emits"):
            if getattr(row, what):
                out_console.print(f"     {what:<9}{getattr(row, what)}", highlight=False)
