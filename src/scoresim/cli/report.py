"""``scoresim report DIR``: rebuild the report of any output folder (run, compare, sweep or
calibrate) from its files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import fail, out_console


def report(
    folder: Annotated[Path, typer.Argument(
        help="An output folder of run, compare, sweep or calibrate.", show_default=False)],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Rebuild DIR/report.html and DIR/figures/ (each figure as SVG, 300 dpi PNG and the CSV
    of its data) from the folder's files."""
    from ..report import ReportError, rebuild_report

    try:
        written = rebuild_report(folder)
    except ReportError as e:
        fail(str(e))
    if not quiet:
        figures = sorted((folder / "figures").glob("*.svg"))
        out_console.print(f"wrote {', '.join(p.name for p in written)} ({len(figures)} "
                          f"figures) to {folder}")
