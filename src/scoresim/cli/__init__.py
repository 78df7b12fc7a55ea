"""The command line: one module per command, the shared helpers in ``common``.

Only this package knows the terminal; every command imports the floors below it lazily, so
``scoresim --help`` starts quickly.
"""

from __future__ import annotations

import typer

from .calibrate import calibrate
from .common import OneLineErrors
from .compare import compare
from .explore import explore
from .plan import plan
from .report import report
from .run import run
from .scenarios import scenarios, validate, version
from .stages import stages
from .sweep import query, sweep
from .validation import validation

app = typer.Typer(
    cls=OneLineErrors, add_completion=False, no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Simulate surveillance-driven social scoring systems on synthetic populations.",
)
for command in (run, compare, scenarios, validate, stages, calibrate, plan, sweep, query, report,
                validation, version):
    app.command()(command)
app.command()(explore)


def main() -> None:  # pragma: no cover
    """Entry point of the ``scoresim`` console script."""
    app()
