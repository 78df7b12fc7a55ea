"""Partitions that hold only their range: each actor's peak memory, the bytes its effects send
per day, and the time per day, for K = 1, 2, 4 actors on this machine, beside the single
process; then the plan for 1.4 billion agents over 16 machines, from the measured figures.

    python benchmarks/bench_partitions.py --agents 20000000 --days 10 --partitions 1 2 4

Each configuration runs in a fresh process (peak memory is per process); one line per run is
appended to benchmarks/results/partitions.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "partitions.jsonl"
GiB = 2**30

SINGLE = """
import json, resource, time
from scoresim import Sim
t0 = time.perf_counter()
res = Sim({scenario!r}, agents={agents}, days={days}, seed=1).run()
s = res.summary
print(json.dumps({{"k": 0, "build_seconds": s["build_seconds"],
                  "seconds_per_day": s["run_seconds"] / {days},
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "bytes_per_agent": s["bytes_per_agent"]}}))
"""

SPLIT = """
import json, os, resource, time
import ray
from scoresim import Sim
from scoresim.experiments.partitioned import run_partitioned
ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
res = run_partitioned(Sim({scenario!r}, agents={agents}, days={days}, seed=1), {k})
s = res.summary
print(json.dumps({{"k": {k}, "build_seconds": s["build_seconds"],
                  "seconds_per_day": s["run_seconds"] / {days},
                  "peak_rss": s["partitions"]["peak_rss"],
                  "sent_bytes_per_day": s["partitions"]["sent_bytes_per_day"],
                  "bounds": s["partitions"]["bounds"],
                  "driver_peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}}))
ray.shutdown()
"""


def _run(code: str) -> dict:
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "SCORESIM_PROGRESS": "0"})
    if p.returncode != 0:
        raise SystemExit(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def _machine() -> dict:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load": [round(x, 2) for x in load],
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=20_000_000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--partitions", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--scenario", default="default")
    args = ap.parse_args()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    # an actor's own memory (Ray's worker, the interpreter, NumPy, Numba and its kernels): the
    # actors of a small run hold next to no arrays
    small = _run(SPLIT.format(scenario=args.scenario, agents=4 * 32_768, days=2, k=4))
    overhead = max(small["peak_rss"])
    rows.append({**small, "overhead_probe": True})
    print(f"an actor's own memory (4 actors of 32,768 agents): {overhead / GiB:.2f} GiB")
    single = _run(SINGLE.format(scenario=args.scenario, agents=args.agents, days=args.days))
    rows.append(single)
    print(f"single process: peak {single['peak_rss'] / GiB:.2f} GiB, "
          f"{single['seconds_per_day']:.3f} s a day, build {single['build_seconds']:.0f} s")
    for k in args.partitions:
        r = _run(SPLIT.format(scenario=args.scenario, agents=args.agents, days=args.days, k=k))
        rows.append(r)
        budget = 1.3 * single["peak_rss"] / k + overhead
        r["budget"] = budget
        print(f"K = {k}: actor peaks {', '.join(f'{x / GiB:.2f}' for x in r['peak_rss'])} GiB "
              f"(budget 1.3 x single / K + an actor's own = {budget / GiB:.2f} GiB), "
              f"sent {sum(r['sent_bytes_per_day']) / 2**20:.1f} MiB a day, "
              f"{r['seconds_per_day']:.3f} s a day, build {r['build_seconds']:.0f} s")
    with RESULTS.open("a") as f:
        for r in rows:
            f.write(json.dumps({**r, "agents": args.agents, "days": args.days,
                                "scenario": args.scenario, **_machine()}) + "\n")


if __name__ == "__main__":
    main()
