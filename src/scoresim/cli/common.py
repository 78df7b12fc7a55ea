"""What every command shares: the consoles, the one-line error, progress bars, threads."""

from __future__ import annotations

import os
import shlex
import sys

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

out_console = Console()
err_console = Console(stderr=True)

EXIT_USAGE = 2


def fail(message: str) -> None:
    """A clear error, no traceback, exit code 2."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


def set_threads(threads: int | None) -> None:
    if threads is None:
        return
    import numba

    if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
        fail(f"--threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}")
    numba.set_num_threads(threads)


def show_progress(quiet: bool) -> bool:
    return not quiet and (err_console.is_terminal or os.environ.get("SCORESIM_PROGRESS") == "1")


def progress_bar(unit: str) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn(unit), TimeRemainingColumn(), console=err_console, transient=True)


def command_line() -> str:
    return "scoresim " + " ".join(shlex.quote(a) for a in sys.argv[1:])


