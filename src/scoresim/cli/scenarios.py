"""``scoresim scenarios``, ``validate`` and ``version``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .common import fail, out_console


def scenarios() -> None:
    """List the built-in scenarios."""
    from ..scenario import builtin_scenarios

    t = Table(show_header=True)
    t.add_column("name")
    t.add_column("what it models")
    for name, desc in builtin_scenarios().items():
        t.add_row(name, desc)
    out_console.print(t)


def validate(
    file: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a value.")] = None,
) -> None:
    """Check a scenario file (and overrides) and exit: 0 if valid, 2 with the error if not."""
    from ..scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(file, set_ or [])
    except ScenarioError as e:
        fail(str(e))
    out_console.print(f"{file}: valid scenario '{sc.name}' with {len(sc.behaviours)} behaviours, "
                      f"{len(sc.sanctions)} sanctions, {len(sc.timeline)} timeline changes")


def version() -> None:
    """Print the version."""
    from ..core.version import __version__

    out_console.print(__version__)


