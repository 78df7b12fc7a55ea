"""``scoresim explore``: the what-if explorer in a browser."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import err_console, fail, out_console


def explore(
    port: Annotated[int, typer.Option(
        min=0, max=65535, help="Port to listen on (0: any free port).")] = 8050,
    host: Annotated[str, typer.Option(
        help="Address to listen on; the default is reachable from this machine only.")
    ] = "127.0.0.1",
    workers: Annotated[int | None, typer.Option(
        min=1, help="Worker processes for runs (default: one per core).")] = None,
    threads: Annotated[int | None, typer.Option(
        min=1, help="Numba threads per run (default: the cores shared among the runs in "
        "progress, so a lone run uses them all).")] = None,
) -> None:
    """Start the explorer (a local web app) and print its address."""
    from ..experiments.executors import cpu_count

    try:
        from ..explore.app import serve
    except ImportError as exc:  # pragma: no cover - an install without the web dependencies
        fail(f"the explorer needs its web dependencies ({exc.name}): pip install scoresim")

    def say(text: str) -> None:
        out_console.print(text, highlight=False, soft_wrap=True)
        out_console.file.flush()  # a line at a time, also into a pipe or a file

    try:
        serve(host, port, workers or cpu_count(), threads, cpu_count(), say)
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] cannot listen on {host}:{port}: {exc.strerror}",
                          highlight=False)
        raise typer.Exit(2) from None
