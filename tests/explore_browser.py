"""Helpers of the explorer's browser tests: the server as a subprocess (``scoresim explore``),
and a visitor driving Debian's Chromium through Playwright.

Nothing here waits on a timer: the server's output is read line by line, and the page is
waited on for a condition (a new result id in every chart), with generous limits only as a
safety net against a hang.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# --headless comes from Playwright's headless=True; a fresh --user-data-dir from
# launch_persistent_context
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LIMIT_MS = 180_000  # a hang, not a slow machine, should reach this
POLL_MS = 100
RID = "(document.querySelector('#result-id')?.textContent || '')"
CHARTS = ("chilling", "causes", "denials", "lists", "disparity")


class Server:
    """``scoresim explore --port 0`` in a subprocess; its output lines, as they come."""

    def __init__(self, hold: Path, workers: int = 2):
        self.hold = hold
        env = {**os.environ, "SCORESIM_EXPLORE_HOLD": str(hold), "PYTHONUNBUFFERED": "1"}
        script = Path(sys.executable).with_name("scoresim")
        self.proc = subprocess.Popen(
            [str(script), "explore", "--port", "0", "--workers", str(workers)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_for(lambda ln: "scoresim explorer at" in ln)
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}/"
        self.wait_for(lambda ln: "kernels ready" in ln)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<exited>")
            self._changed.notify_all()

    def wait_for(self, test: Any, start: int = 0) -> str:
        """The first output line from ``start`` on that passes ``test``."""
        with self._changed:
            while True:
                for line in self.lines[start:]:
                    if test(line):
                        return line
                    if line == "<exited>":
                        raise AssertionError("the server stopped:\n" + "\n".join(self.lines))
                if not self._changed.wait(timeout=LIMIT_MS / 1000):
                    raise AssertionError("no such line:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        """Stop the server as `kill` does (it stops its workers)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Visitor:
    """One browser tab: what it logged, what it requested, and helpers to drive the page."""

    def __init__(self, context: Any, server: Server):
        self.server = server
        self.page = context.new_page()
        self.page.set_default_timeout(LIMIT_MS)
        self.console: list[tuple[str, str]] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, query: str) -> str:
        """Open the page at ``query`` (or a full address) and wait for its first result."""
        url = query if query.startswith("http") else self.server.url + "?" + query
        self.page.goto(url)
        return self.wait_result("")

    def result_id(self) -> str:
        """The id of the result the page shows ('' before the first)."""
        return self.page.evaluate(RID)

    def wait_result(self, old: str) -> str:
        """Wait until a result other than ``old`` is shown in every chart; its id."""
        # polled every 100 ms: polling every frame keeps headless Chromium drawing
        self.page.wait_for_function(f"{RID}.length > 0 && {RID} !== {json.dumps(old)}",
                                    polling=POLL_MS)
        rid = self.result_id()
        charts = json.dumps([f"#fig-{c} .js-plotly-plot" for c in CHARTS])
        self.page.wait_for_function(
            f"{charts}.every(s => {{ const gd = document.querySelector(s); "
            f"return gd && gd.layout && gd.layout.meta === {json.dumps(rid)}; }})",
            polling=POLL_MS)
        return rid

    def numbers(self) -> dict[str, float]:
        """The key numbers shown: summary.json path -> value."""
        pairs = self.page.evaluate(
            "Array.from(document.querySelectorAll('[data-path]'))"
            ".map(e => [e.dataset.path, e.dataset.value])")
        return {p: float(v) for p, v in pairs}

    def chart(self, name: str) -> list[list[Any]]:
        """The y values of a chart's traces."""
        return self.page.evaluate(
            f"document.querySelector('#fig-{name} .js-plotly-plot').data.map(t => t.y)")

    def knob(self, path: str) -> Any:
        """The control of the knob with this override path."""
        return self.page.locator(f"""[id*='"path":"{path}"']""")

    def set_knob(self, path: str, value: str) -> None:
        """Type a value into a slider's box and leave it (a slider takes it then)."""
        box = self.knob(path).locator("input[type=number]")
        box.fill(value)
        box.press("Tab")

    def download(self, selector: str) -> Path:
        """Click ``selector`` and save what it downloads under the name the page gave it."""
        with self.page.expect_download() as info:
            self.page.click(selector)
        folder = Path(tempfile.mkdtemp(prefix="explore-download-"))
        path = folder / info.value.suggested_filename
        info.value.save_as(path)
        return path

    def errors(self) -> list[tuple[str, str]]:
        """What the page logged as an error or a warning."""
        return [(t, m) for t, m in self.console if t in ("error", "pageerror", "warning")]

    def outside_requests(self) -> list[str]:
        """Every request the page made to anywhere but the explorer."""
        ours = self.server.url
        return [u for u in self.requests
                if not u.startswith(ours) and not u.startswith(("data:", "blob:"))]

    def shot(self, folder: Path, name: str, height: int | None = None) -> Path:
        """A screenshot for docs/explorer.md: the page's top ``height`` pixels (default: the
        window)."""
        path = folder / f"explorer-{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        clip = {"x": 0, "y": 0, "width": 1400, "height": height} if height else None
        self.page.screenshot(path=str(path), full_page=bool(height), clip=clip)
        assert path.stat().st_size > 20_000  # a page, not a blank window
        return path


def lookup(summary: dict, dotted: str) -> Any:
    """The value at a dotted path of summary.json."""
    node: Any = summary
    for part in dotted.split("."):
        node = node[part]
    return node
