"""Benchmark the explorer: time from a click on Run to every chart redrawn, warm.

    python benchmarks/bench_explore.py --agents 10000 100000 1000000 --days 365

Starts `scoresim explore` on a free loopback port, opens it in headless Chromium (Debian's,
through Playwright) and, for each size, opens the page once (kernels compiled, population
built: the cold run, not counted) and then clicks Run ``--repeats`` times. The time is taken
in the page: from the click to the frame after every chart shows the new result (its id is in
each figure's layout). Each click re-runs the whole year and its counterfactual on the warm
pool. Results: one JSON line per size in benchmarks/results/explore.jsonl, and a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
CHARTS = ["chilling", "causes", "denials", "lists", "disparity"]

# resolves with the milliseconds from the click to the first frame after every chart shows
# a new result; it waits on the page's own events (a result id appearing, Plotly's
# plotly_afterplot), not on a loop of frames, which would keep headless Chromium drawing
CLICK = """async (charts) => {
  const rid = () => document.querySelector('#result-id').textContent;
  const old = rid();
  const shown = () => rid() !== old && charts.every(c => {
    const gd = document.querySelector('#fig-' + c + ' .js-plotly-plot');
    return gd && gd.layout && gd.layout.meta === rid(); });
  let t0;
  await new Promise(done => {
    const check = () => { if (shown()) { observer.disconnect(); done(); } };
    const observer = new MutationObserver(check);
    observer.observe(document.getElementById('results'),
                     {childList: true, subtree: true, characterData: true, attributes: true});
    for (const c of charts) {
      document.querySelector('#fig-' + c + ' .js-plotly-plot').on('plotly_afterplot', check);
    }
    t0 = performance.now();
    document.getElementById('run').click();
  });
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - t0;
}"""


def start_server(workers: int, threads: int | None) -> tuple[subprocess.Popen, str]:
    """`scoresim explore` on a free port, once its kernels are ready; and its address."""
    script = Path(sys.executable).with_name("scoresim")
    more = ["--threads", str(threads)] if threads else []
    proc = subprocess.Popen([str(script), "explore", "--port", "0", "--workers", str(workers),
                             *more], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        print("  server:", line.rstrip())
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        url = found.group(1) if found else url
        if "kernels ready" in line:
            return proc, url or ""
    raise SystemExit("the explorer stopped before its kernels were ready")


def cpu_model() -> str:
    """The processor's name, for the record."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(page, url: str, agents: int, days: int, repeats: int) -> dict:
    """Open the page at a size (the cold run), then time ``repeats`` clicks on Run."""
    page.goto(f"{url}?agents={agents}&days={days}&seed=0")
    page.wait_for_function("document.querySelector('#result-id')?.textContent.length > 0",
                           timeout=0, polling=200)  # the cold run: kernels and population
    load0 = os.getloadavg()
    clicks, server = [], []
    for _ in range(repeats):
        clicks.append(page.evaluate(CLICK, CHARTS) / 1000)
        done = re.search(r"done in ([\d.]+) s", page.inner_text("#status"))
        server.append(float(done.group(1)) if done else None)
    return {
        "agents": agents, "days": days, "repeats": repeats,
        "click_to_charts_seconds": [round(c, 3) for c in clicks],
        "median_seconds": round(statistics.median(clicks), 3),
        "server_seconds": server, "load_average_before": load0,
        "load_average_after": os.getloadavg(),
    }


def main() -> None:
    """Measure every size and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None,
                    help="threads per run (default: the explorer's, the cores shared)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "explore.jsonl")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    import scoresim

    proc, url = start_server(a.workers, a.threads)
    rows = []
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                viewport={"width": 1400, "height": 1100})
            page = ctx.new_page()
            for agents in a.agents:
                row = measure(page, url, agents, a.days, a.repeats)
                row.update({
                    "workers": a.workers, "threads_per_run": a.threads or "cores shared",
                    "version": scoresim.__version__, "python": platform.python_version(),
                    "machine": f"{cpu_model()}, {os.cpu_count()} cores",
                    "date": dt.datetime.now().isoformat(timespec="seconds")})
                rows.append(row)
                print(json.dumps(row))
            ctx.close()
    finally:
        proc.terminate()
        proc.wait()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with a.out.open("a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print("\n| agents x days | click to charts (median) | all clicks (s) | on the server (s) |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['agents']:,} x {r['days']} | {r['median_seconds']:.2f} s | "
              f"{', '.join(f'{c:.2f}' for c in r['click_to_charts_seconds'])} | "
              f"{', '.join(f'{s:.2f}' for s in r['server_seconds'] if s is not None)} |")


if __name__ == "__main__":
    main()
