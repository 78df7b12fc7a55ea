"""Benchmark the default scenario: build time, pipeline time, agent-days per second, memory.

    python benchmarks/bench_default.py --agents 1000000 10000000 --days 365

Each size runs in its own process so that its peak memory is its own. Kernels are compiled
(or loaded from Numba's cache) by a small warm-up run first, so pipeline time excludes
compilation. Results: one JSON line per size in benchmarks/results/, and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(agents: int, days: int, seed: int, scenario: str) -> dict:
    import numba

    import scoresim
    from scoresim.sim import build_population

    scoresim.Sim(scenario, agents=10_000, days=5, seed=seed).run()  # compile / load kernels
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    sim = scoresim.Sim(scenario, agents=agents, days=days, seed=seed)
    pop = build_population(sim.scenario, agents, seed)
    build = time.perf_counter() - t0
    rss_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sim.population = pop
    t1 = time.perf_counter()
    res = sim.run()
    pipeline = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    f = res.summary["final"]
    return {
        "scenario": scenario, "agents": agents, "days": days, "seed": seed,
        "threads": numba.get_num_threads(),
        "build_seconds": round(build, 2), "pipeline_seconds": round(pipeline, 2),
        "agent_days_per_second": agents * days / pipeline,
        "bytes_per_agent": round(res.summary["bytes_per_agent"], 1),
        "peak_rss_bytes": peak, "build_peak_rss_bytes": rss_build, "baseline_rss_bytes": rss0,
        "ever_sanctioned_frac": f["ever_sanctioned_frac"],
        "never_acted_sanctioned_frac": f["never_acted_sanctioned_frac"],
        "version": scoresim.__version__, "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def _commit() -> str | None:
    """The checkout's commit (with "+" when it has uncommitted changes), if it is a git one."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=HERE,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", default="default")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.agents[0], a.days, a.seed, a.scenario)))
        return
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    rows = []
    for n in a.agents:
        cmd = [sys.executable, __file__, "--one", "--agents", str(n), "--days", str(a.days),
               "--seed", str(a.seed), "--scenario", a.scenario]
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        row = json.loads(line.strip().splitlines()[-1])
        # when, under what load, and at which commit: the raw history BENCHMARKS.md cites
        row["date"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        row["load"] = list(os.getloadavg())
        row["commit"] = _commit()
        rows.append(row)
        with open(out / "default.jsonl", "a") as fh:
            fh.write(json.dumps(row) + "\n")
    print("| agents | days | build s | pipeline s | agent-days/s | bytes/agent | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['agents']:,} | {r['days']} | {r['build_seconds']} | {r['pipeline_seconds']}"
              f" | {r['agent_days_per_second'] / 1e6:.1f} M | {r['bytes_per_agent']}"
              f" | {r['peak_rss_bytes'] / 2**30:.2f} GiB |")


if __name__ == "__main__":
    main()
