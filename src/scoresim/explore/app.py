"""The explorer's web application (Dash on Flask) and its server.

Dash serves every script the page needs from the installed packages (React, Plotly.js, its
components) and this package's ``assets/``: the page asks nothing of any other host. The
server is Werkzeug's threaded server on loopback by default: one thread per request, so a
visitor's run can wait for its answer while other visitors' requests are served.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
from collections.abc import Callable
from pathlib import Path

from dash import Dash
from flask import Response, abort
from werkzeug.serving import (
    WSGIRequestHandler,
    get_sockaddr,
    make_server,
    select_address_family,
)

from .callbacks import register
from .downloads import make
from .layout import page
from .pool import Pool
from .service import Explorer

HERE = Path(__file__).parent


class _QuietHandler(WSGIRequestHandler):
    """No line per request (the page polls while a run goes on)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def create_app(explorer: Explorer) -> Dash:
    """The Dash application of an explorer (its pool may still be warming up)."""
    app = Dash(__name__, assets_folder=str(HERE / "assets"), title="scoresim explorer",
               update_title=None, serve_locally=True, compress=False)
    app.index_string = (HERE / "templates" / "index.html").read_text(encoding="utf-8")
    app.layout = page
    register(app, explorer)

    @app.server.route("/download/<rid>/<name>")
    def download(rid: str, name: str) -> Response:
        result = explorer.result(rid)
        made = make(result, name) if result is not None else None
        if made is None:
            abort(404)
        body, media = made
        return Response(body, mimetype=media,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: any free one); raises OSError."""
    family = select_address_family(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(get_sockaddr(host, port, family))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _log_to(say: Callable[[str], None]) -> None:
    """The explorer's log lines (cancellations, failed tasks) go where its messages go."""
    class Say(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            say(self.format(record))

    log = logging.getLogger("scoresim.explore")
    log.setLevel(logging.INFO)
    log.addHandler(Say())
    log.propagate = False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(host: str = "127.0.0.1", port: int = 8050, workers: int = 2,
          threads: int | None = None, cores: int = 2,
          say: Callable[[str], None] = print) -> None:
    """Start the pool and serve the explorer until interrupted (``threads`` None: the
    ``cores`` shared among the runs in progress)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    _log_to(say)
    listening = listen(host, port)  # an OSError (port in use) before anything starts
    pool = Pool(workers, threads, cores, say)
    server = make_server(host, port, create_app(Explorer(pool)).server, threaded=True,
                         request_handler=_QuietHandler, fd=listening.fileno())
    listening.close()  # the server holds its own copy
    signal.signal(signal.SIGTERM, _interrupt)  # stop the workers on `kill` too
    try:
        pool.start()
        shown = f"[{host}]" if ":" in host else host
        each = (f"{threads} thread{'s' * (threads > 1)} each" if threads else
                f"{cores} cores shared among the runs in progress")
        say(f"scoresim explorer at http://{shown}:{server.server_address[1]}/ ({workers} "
            f"worker{'s' * (workers > 1)}, {each})")
        if is_loopback(host):
            say("listening on loopback only: other machines cannot reach it (--host to "
                "change)")
        else:
            say(f"listening on {host}: anyone who can reach this address can run "
                "simulations here")
        say("press Ctrl-C to stop")
        server.serve_forever()
    except KeyboardInterrupt:
        say("stopping")
    finally:
        server.server_close()
        pool.close()
