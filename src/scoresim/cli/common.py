"""What every command shares: the consoles, the one-line error, progress bars, threads, the
memory check before a run, the note that kernels are compiling, and tables (or CSV, JSON)
that fit the terminal."""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
)
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from ..scenario.errors import one_line

out_console = Console()
err_console = Console(stderr=True)

EXIT_USAGE = 2
FORMATS = ("table", "csv", "json")
# Compiling every kernel when Numba's cache is cold: 16 s on an idle 2-core machine, up to
# 40 s when other work shares it (measured on the development machine, November 2025)
COMPILE_SECONDS = 20


def print_error(message: str) -> None:
    """"error: ..." on stderr, as one line."""
    err_console.print(f"[bold red]error:[/] {escape(one_line(message))}", highlight=False,
                      soft_wrap=True)


def fail(message: str) -> None:
    """A clear error on one line, no traceback, exit code 2."""
    print_error(message)
    raise typer.Exit(EXIT_USAGE)


def note(message: str) -> None:
    """A remark on stderr (stdout stays the command's result)."""
    err_console.print(one_line(message), highlight=False, soft_wrap=True, markup=False)


def _usage_error(exc: BaseException) -> bool:
    """A click usage error (typer carries its own copy of click: matched by class name)."""
    names = [c.__name__ for c in type(exc).__mro__]
    return "ClickException" in names and "NoArgsIsHelpError" not in names


class OneLineErrors(TyperGroup):
    """The command group whose usage errors (a bad option value, an unknown option or
    command) are one line and exit code 2, like every other error."""

    def invoke(self, ctx: typer.Context) -> Any:  # noqa: D102 - click's hook
        try:
            return super().invoke(ctx)
        except Exception as e:
            if not _usage_error(e):
                raise
            command = " ".join(["scoresim", *filter(None, [ctx.invoked_subcommand])])
            print_error(f"{e.format_message()} (see {command} --help)")  # type: ignore
            raise typer.Exit(getattr(e, "exit_code", EXIT_USAGE)) from None


def set_threads(threads: int | None) -> None:
    """Cap Numba's threads (fail if outside 1..cores)."""
    if threads is None:
        return
    import numba

    if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
        fail(f"--threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}")
    numba.set_num_threads(threads)


def check_format(fmt: str) -> None:
    """Fail unless ``fmt`` is one of FORMATS."""
    if fmt not in FORMATS:
        fail(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]} (got {fmt!r})")


def refuse_if_too_big(scenarios: Any, agents: int, seed: int = 0, copies: int = 1) -> None:
    """Fail (exit 2) before anything big is allocated if ``copies`` runs of ``agents`` agents
    do not fit in the memory this process may use (scale.plan.memory_refusal)."""
    from ..scale.plan import memory_refusal

    reason = memory_refusal(scenarios, agents, seed, copies)
    if reason:
        fail(reason)


_compiling = {"listening": False, "wanted": False, "shown": False}


def announce_compiling(quiet: bool) -> None:
    """Say once, when Numba starts compiling a kernel (its cache is cold: a first run, or
    after an upgrade), that the wait is compilation and how long it takes."""
    from numba.core import event

    _compiling["wanted"] = not quiet
    if _compiling["listening"]:
        return

    class Notice(event.Listener):
        def on_start(self, ev: event.Event) -> None:
            if _compiling["wanted"] and not _compiling["shown"]:
                _compiling["shown"] = True
                note(f"compiling kernels (first run only, about {COMPILE_SECONDS} s)")

        def on_end(self, ev: event.Event) -> None:
            pass

    event.register("numba:compile", Notice())
    _compiling["listening"] = True


def show_progress(quiet: bool) -> bool:
    """Whether to draw progress bars (a terminal, or SCORESIM_PROGRESS=1)."""
    return not quiet and (err_console.is_terminal or os.environ.get("SCORESIM_PROGRESS") == "1")


def clock(seconds: float | None) -> str:
    """H:MM:SS, or -:--:-- when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "-:--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def times_text(elapsed: float | None, done: float, total: float | None) -> str:
    """"elapsed 0:01:05, left 0:03:10": the time left is the elapsed time per unit done
    times the units still to do (unknown before the first is done)."""
    left = None
    if elapsed is not None and total is not None and done > 0:
        left = elapsed / done * max(total - done, 0)
    return f"elapsed {clock(elapsed)}, left {clock(left)}"


class TimesColumn(ProgressColumn):
    """Elapsed and remaining time, each labelled (see times_text)."""

    def render(self, task: Any) -> Text:  # noqa: D102 - rich's hook
        return Text(times_text(task.elapsed, task.completed, task.total), style="cyan")


def progress_bar(unit: str) -> Progress:
    """A transient progress bar on stderr: description, bar, n of N ``unit``, times."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn(unit), TimesColumn(), console=err_console, transient=True)


def command_line() -> str:
    """This command as typed (quoted for a shell); bytes that were not UTF-8 are written as
    escapes, so the text can be written to any output."""
    args = (a.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            for a in sys.argv[1:])
    return "scoresim " + " ".join(shlex.quote(a) for a in args)


# ---------------------------------------------------------------- tables, CSV, JSON
def _cell(x: Any) -> str:
    if x is None or isinstance(x, float) and math.isnan(x):
        return ""
    if isinstance(x, float):
        return f"{x:.6g}"
    return one_line(str(x))


def frame_table(df: Any, title: str | None = None, caption: str | None = None,
                max_rows: int | None = None) -> Table:
    """A DataFrame as a rich table: numbers right-aligned and never wrapped, text folded to
    fit, NULL/NaN blank."""
    t = Table(title=title, caption=caption, show_header=True)
    numeric = {c for c in df.columns if df[c].dtype.kind in "iuf"}
    for c in df.columns:
        t.add_column(one_line(str(c)), justify="right" if c in numeric else "left",
                     no_wrap=c in numeric, overflow="fold")
    rows = df.head(max_rows) if max_rows else df
    for row in rows.itertuples(index=False):
        t.add_row(*(_cell(x) for x in row))
    return t


def fits(table: Table, console: Console = out_console) -> bool:
    """Whether ``table`` fits the console's width without breaking its numbers."""
    wide = console.options.update_width(10**6)  # measure unclamped by the console's width
    return Measurement.get(console, wide, table).minimum <= console.width


def records_view(df: Any, title: str | None = None, caption: str | None = None,
                 max_rows: int | None = None) -> Table:
    """A frame too wide for the terminal, one record at a time: a "column  value" line each."""
    t = Table(title=title, caption=caption, show_header=False, box=None, padding=(0, 1))
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    rows = df.head(max_rows) if max_rows else df
    for i, row in enumerate(rows.itertuples(index=False)):
        if i:
            t.add_row("", "")
        for c, x in zip(df.columns, row, strict=True):
            t.add_row(one_line(str(c)), _cell(x))
    return t


def frame_json(df: Any) -> str:
    """Records as JSON (NaN -> null, timestamps as ISO text, numbers at full precision)."""
    plain = df.astype(object).where(df.notna(), None)
    return json.dumps(plain.to_dict(orient="records"), indent=1, default=str,
                      ensure_ascii=False)


def print_frame(df: Any, fmt: str = "table", title: str | None = None,
                caption: str | None = None, max_rows: int | None = None) -> None:
    """Print a DataFrame: a table that fits the terminal (records one by one when columns
    would not fit), or every row as CSV or JSON on stdout."""
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(frame_json(df) + "\n")
    else:
        table = frame_table(df, title, caption, max_rows)
        out_console.print(table if fits(table) else records_view(df, title, caption,
                                                                 max_rows))
    sys.stdout.flush()
