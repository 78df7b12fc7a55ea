"""Compare builds of scoresim back to back: the same workload, interleaved rounds.

    python benchmarks/ab.py --trees ../before . --agents 1000000 --days 100 --rounds 8

Each tree is a checkout (a git worktree of a commit, say). In each round every tree runs in a
process of its own (the order reversed every other round), with that tree's ``src`` first on
the path: the process warms up (10,000 agents × 5 days: kernels compiled or loaded), builds
the population once and times ``--runs`` runs of it; its median is the round's figure. The
summary gives each tree's median over rounds, its ratio to the first tree's, in how many
rounds it was slower, and a bootstrap 95% interval of the ratio (scipy). Raw lines are
appended to benchmarks/results/ab.jsonl.

One process per tree on purpose: two builds imported into one process interfere (Numba tells
named tuples apart by class and field names, so a second build's bundles can be taken for the
first's types and dispatched slowly).

The workload is the tree's own peers workload (``--scenario peers``) or a built-in scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "ab.jsonl"

CHILD = """
import json, statistics, sys, time
from pathlib import Path
import numba, scoresim
from scoresim.sim import build_population
tree, scenario, agents, days, runs, seed = sys.argv[1:7]
agents, days, runs, seed = int(agents), int(days), int(runs), int(seed)
if scenario == "peers":
    scenario = scoresim.load_scenario(Path(tree) / "benchmarks/peers/workload.yaml")
scoresim.Sim(scenario, agents=10_000, days=5, seed=seed).run()
sim = scoresim.Sim(scenario, agents=agents, days=days, seed=seed)
pop = build_population(sim.scenario, agents, seed)
seconds = []
for _ in range(runs):
    sim = scoresim.Sim(scenario, agents=agents, days=days, seed=seed)
    sim.population = pop
    t = time.perf_counter()
    sim.run()
    seconds.append(time.perf_counter() - t)
print(json.dumps({"run_seconds": seconds, "threads": numba.get_num_threads()}))
"""


def _commit(tree: Path) -> str:
    out = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True).stdout.strip()
    return (out.stdout.strip() or "?") + ("+" if dirty else "")


def one(tree: Path, a: argparse.Namespace) -> dict:
    """One process of one tree: its runs' seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    if a.threads:
        env["NUMBA_NUM_THREADS"] = str(a.threads)
    out = subprocess.run([sys.executable, "-c", CHILD, str(tree), a.scenario, str(a.agents),
                          str(a.days), str(a.runs), str(a.seed)],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"ab.py: {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def interval(base: list[float], other: list[float]) -> tuple[float, float]:
    """A bootstrap 95% interval of median(other) / median(base) over rounds."""
    from scipy.stats import bootstrap

    res = bootstrap((np.array(other), np.array(base)),
                    lambda o, b, axis=-1: np.median(o, axis=axis) / np.median(b, axis=axis),
                    vectorized=True, paired=False, n_resamples=4000, confidence_level=0.95,
                    method="percentile", random_state=np.random.default_rng(0))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trees", nargs="+", type=Path, required=True,
                    help="checkouts to compare; the first is the reference")
    ap.add_argument("--scenario", default="peers", help="'peers' (the tree's peers workload) "
                    "or a built-in scenario")
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per process")
    ap.add_argument("--threads", type=int, default=None, help="Numba threads (default: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args()
    trees = [t.resolve() for t in a.trees]
    for t in trees:
        if not (t / "src" / "scoresim").is_dir():
            sys.exit(f"ab.py: {t} holds no src/scoresim")
    commits = {t: _commit(t) for t in trees}
    medians: dict[Path, list[float]] = {t: [] for t in trees}
    for r in range(a.rounds):
        for t in trees if r % 2 == 0 else trees[::-1]:
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            row = one(t, a)
            medians[t].append(statistics.median(row["run_seconds"]))
            line = {"tree": t.name, "commit": commits[t], "scenario": a.scenario,
                    "agents": a.agents, "days": a.days, "round": r + 1, **row,
                    "load": os.getloadavg()[0], "start": started}
            print(json.dumps(line), flush=True)
            if not a.no_save:
                RESULTS.parent.mkdir(parents=True, exist_ok=True)
                with RESULTS.open("a") as f:
                    f.write(json.dumps(line) + "\n")
    base = medians[trees[0]]
    print(f"\n| tree | commit | median of {a.rounds} rounds | ratio | slower rounds | "
          "95% interval |\n|---|---|---|---|---|---|")
    for t in trees:
        m = medians[t]
        ratio = statistics.median(m) / statistics.median(base)
        slower = sum(x > y for x, y in zip(m, base, strict=True))
        lo, hi = interval(base, m) if t != trees[0] and a.rounds > 1 else (1.0, 1.0)
        print(f"| {t.name} | {commits[t]} | {statistics.median(m):.4f} s | {ratio:.3f} | "
              f"{slower} of {a.rounds} | {lo:.2f}–{hi:.2f} |")


if __name__ == "__main__":
    main()
