"""``scoresim scenarios [show NAME]``, ``validate`` and ``version``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from .common import EXIT_USAGE, err_console, fail, out_console, print_error


def scenarios(
    action: Annotated[str | None, typer.Argument(
        help="'show' to print a built-in scenario's YAML.", show_default=False)] = None,
    name: Annotated[str | None, typer.Argument(
        help="With show: the built-in scenario.", show_default=False)] = None,
) -> None:
    """List the built-in scenarios; `scoresim scenarios show NAME` prints one's YAML file (its
    sources and comments included), a starting point for your own:
    `scoresim scenarios show default > mine.yaml`."""
    from ..scenario import ScenarioError, builtin_scenarios
    from ..scenario.source import builtin_text

    if action is None:
        t = Table(show_header=True)
        t.add_column("name", no_wrap=True)
        t.add_column("what it models")
        for n, desc in builtin_scenarios().items():
            t.add_row(n, desc)
        out_console.print(t)
        return
    if action != "show" or name is None:
        fail("usage: scoresim scenarios, or scoresim scenarios show NAME")
    try:
        text = builtin_text(str(name))
    except ScenarioError as e:
        fail(str(e))
    sys.stdout.write(text)
    sys.stdout.flush()


def validate(
    file: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a value.")] = None,
) -> None:
    """Check a scenario file (and overrides) with every check a run makes, and exit: 0 if
    valid, 2 with every error found (one line each) if not."""
    from ..scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(file, set_ or [])
    except ScenarioError as e:
        errors = e.all_errors()
        for err in errors:
            print_error(err.headline())
        if len(errors) > 1:
            err_console.print(f"{len(errors)} errors", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    out_console.print(f"{file}: valid scenario '{sc.name}' with {len(sc.behaviours)} behaviours, "
                      f"{len(sc.sanctions)} sanctions, {len(sc.timeline)} timeline changes",
                      highlight=False, markup=False)


def version() -> None:
    """Print the version."""
    from ..core.version import __version__

    out_console.print(__version__)
