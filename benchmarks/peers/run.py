"""The peers reference workload, side by side: scoresim, Starsim and Mesa, plus the machine bound.

    python benchmarks/peers/run.py --agents 1000000 [--mesa-agents 10000] [--days 100]

Each implementation runs in its own subprocess (so its peak memory is its own); scoresim's
kernels are compiled (or loaded from Numba's cache) by a small warm-up run first, and every
timing is of the simulated days alone (building the population and network is reported
apart). Prints one table (agent-days per second, the ratio of scoresim's rate to each, the
sanity outputs and peak RSS), whether the sanity outputs agree, the machine's streaming
bandwidth and random-draw cost, and how far scoresim is from the bound they set. Appends JSON
lines to benchmarks/results/peers.jsonl. The workload is described in workload.yaml; Starsim
and Mesa come with the optional ``peers`` extra (``pip install -e '.[peers]'``).
SYNTHETIC agents only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE / "workload.yaml"
RESULTS = HERE.parent / "results" / "peers.jsonl"
# "-skip": the same model with its neighbour pass skipped on days when nobody is sanctioned
IMPLEMENTATIONS = ("scoresim", "starsim", "starsim-skip", "mesa", "mesa-skip")

# Workload constants used by the agreement test and the bound estimate (see workload.yaml)
OWN, SPILL, DEGREE = 30.0, 5.0, 20.0
# A penalty lands on the agent and its ~20 neighbours, so agents' scores are correlated and
# the mean score varies more than sd^2 / n says: by the design effect
# (own + degree * spill)^2 / (own^2 + degree * spill^2), about 12 (see BENCHMARKS.md).
DESIGN_EFFECT = (OWN + DEGREE * SPILL) ** 2 / (OWN**2 + DEGREE * SPILL**2)
Z_AGREE = 4.0  # agree when the difference is within 4 standard errors

# Bytes per agent and day of the scoresim engine's full sweeps on this workload, read off the
# kernels (src/scoresim/engine): the event-driven parts (a few thousandths of the agents a
# day) are left out. Used for the estimate of how far the engine is from the bound. Since
# 27 November only recover sweeps everyone; it also marks the sanction stage's busy agents and
# takes the day's score measurements in the same pass. respond visits only the blocks where
# caution can change (none here, bar a sanctioned agent's neighbours), and the sanctioned
# agents per group are kept up to date by the sanction stage.
SWEEP_BYTES = {
    "recover": 10,  # score int32 read and written, own_mask read, busy mark written
}
# What the workload itself needs per agent and day when swept densely: score read and written
# (8), caution read and written (8), the sanctioned-ties counter (2) and a flag byte (2) --
# the "about 20 bytes" of DESIGN.md's performance model.
MIN_BYTES = 20
# Random draws per agent and day: candidate gaps at the bound 0.002 (plus one ending draw per
# block of 4096 agents), one acceptance draw per candidate, one observation draw per act.
DRAWS = {"gap": 0.002 + 1 / 4096, "uniform": 0.002 + 0.002}


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ------------------------------------------------------------------ one implementation
def one_scoresim(agents: int, days: int, seed: int, threads: int | None) -> dict:
    import numba

    if threads:
        numba.set_num_threads(threads)
    import scoresim
    from scoresim.sim import build_population

    scenario = scoresim.load_scenario(WORKLOAD)
    scoresim.Sim(scenario, agents=10_000, days=5, seed=seed).run()  # compile / load kernels
    t0 = time.perf_counter()
    sim = scoresim.Sim(scenario, agents=agents, days=days, seed=seed, profile=True)
    pop = build_population(sim.scenario, agents, seed)
    sim.population = pop
    t1 = time.perf_counter()
    res = sim.run()
    t2 = time.perf_counter()
    f = res.summary["final"]
    score = res.state.score / 100.0
    prof = res.profile.drop(columns="day")
    steady = prof.iloc[1:] if len(prof) > 1 else prof
    return {
        "implementation": "scoresim", "version": scoresim.__version__,
        "threads": numba.get_num_threads(), "threading_layer": numba.threading_layer(),
        "agents": agents, "days": days, "seed": seed,
        "build_seconds": t1 - t0, "run_seconds": t2 - t1,
        "mean_score": f["mean_score"], "sd_score": float(score.std()),
        "sanctioned_share": f["sanctioned_frac"], "mean_caution": f["mean_caution"],
        "observed_per_agent_day": float(res.daily["observed_infraction"].sum()) / (agents * days),
        "mean_degree": res.summary["network"]["peers"]["mean_degree"],
        "bytes_per_agent": res.summary["bytes_per_agent"],
        "stage_ms_per_day": {k: 1e3 * float(v) for k, v in steady.median().items()},
        "stage_seconds_total": {k: float(v) for k, v in prof.sum().items()},
    }


def one(impl: str, agents: int, days: int, seed: int, threads: int | None) -> dict:
    if impl == "scoresim":
        row = one_scoresim(agents, days, seed, threads)
    elif impl in ("starsim", "starsim-skip"):
        sys.path.insert(0, str(HERE))
        import starsim_peers

        row = starsim_peers.run(agents, days, seed, skip_idle=impl.endswith("-skip"))
    elif impl in ("mesa", "mesa-skip"):
        sys.path.insert(0, str(HERE))
        import mesa_peers

        row = mesa_peers.run(agents, days, seed, skip_idle=impl.endswith("-skip"))
    elif impl == "machine":
        sys.path.insert(0, str(HERE))
        import machine

        return {"implementation": "machine", **machine.measure(), "peak_rss_bytes": peak_rss()}
    else:
        raise SystemExit(f"unknown implementation {impl!r}")
    row["agent_days_per_second"] = agents * row["days"] / row["run_seconds"]
    row["peak_rss_bytes"] = peak_rss()
    return row


# ------------------------------------------------------------------ the side-by-side run
def child(impl: str, agents: int, days: int, seed: int, threads: int | None) -> dict:
    cmd = [sys.executable, __file__, "--one", impl, "--agents", str(agents), "--days", str(days),
           "--seed", str(seed)]
    if threads:
        cmd += ["--threads", str(threads)]
    load = os.getloadavg()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        return {"implementation": impl, "agents": agents, "error": tail}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["loadavg_before"] = [round(x, 2) for x in load]
    return row


def best_of(impl, agents, days, seed, threads, repeat) -> dict:
    """The faster of ``repeat`` runs (all runs' times are kept in ``all_run_seconds``)."""
    rows = [child(impl, agents, days, seed, threads) for _ in range(repeat)]
    ok = [r for r in rows if "error" not in r]
    if not ok:
        return rows[0]
    key = "triad_gbps" if impl == "machine" else "agent_days_per_second"
    best = max(ok, key=lambda r: r[key])
    if impl != "machine":
        best["all_run_seconds"] = [round(r["run_seconds"], 3) for r in ok]
    else:
        best["all_triad_gbps"] = [round(r["triad_gbps"], 1) for r in ok]
    return best


def agreement(a: dict, b: dict) -> dict:
    """Do two runs' sanity outputs agree within Z_AGREE standard errors?"""
    out = {}
    var = DESIGN_EFFECT * (a["sd_score"] ** 2 / a["agents"] + b["sd_score"] ** 2 / b["agents"])
    d = a["mean_score"] - b["mean_score"]
    out["mean_score"] = {"diff": d, "se": math.sqrt(var),
                         "agree": abs(d) <= Z_AGREE * math.sqrt(var) + 1e-9}
    na, nb = a["agents"], b["agents"]
    p = (a["sanctioned_share"] * na + b["sanctioned_share"] * nb) / (na + nb)
    se = math.sqrt(p * (1 - p) * (1 / na + 1 / nb))
    d = a["sanctioned_share"] - b["sanctioned_share"]
    out["sanctioned_share"] = {"diff": d, "se": se, "agree": abs(d) <= Z_AGREE * se + 1e-12}
    ka, kb = na * a["days"], nb * b["days"]
    p = (a["observed_per_agent_day"] * ka + b["observed_per_agent_day"] * kb) / (ka + kb)
    se = math.sqrt(p * (1 - p) * (1 / ka + 1 / kb))
    d = a["observed_per_agent_day"] - b["observed_per_agent_day"]
    out["observed_per_agent_day"] = {"diff": d, "se": se, "agree": abs(d) <= Z_AGREE * se}
    return out


def bound(ss_row: dict, m: dict) -> dict:
    """How far scoresim is from the machine's bound on this workload (see BENCHMARKS.md)."""
    bw = m["triad_gbps"] * 1e9
    draw_ns = DRAWS["gap"] * m["ns_per_gap_draw"] + DRAWS["uniform"] * m["ns_per_draw"]
    ns_min = MIN_BYTES / bw * 1e9 + draw_ns
    swept = sum(SWEEP_BYTES.values())
    ns_swept = swept / bw * 1e9 + draw_ns
    ns_actual = 1e9 / ss_row["agent_days_per_second"]
    per_day = ss_row["stage_ms_per_day"]
    n = ss_row["agents"]
    stage_gbps = {k: b * n / (per_day[k] / 1e3) / 1e9 for k, b in SWEEP_BYTES.items()
                  if per_day.get(k, 0) > 0}
    return {
        "bytes_per_agent_day_min": MIN_BYTES, "bytes_per_agent_day_swept": swept,
        "draws_per_agent_day": sum(DRAWS.values()), "draw_ns_per_agent_day": draw_ns,
        "bound_agent_days_per_second": 1e9 / ns_min,
        "swept_bound_agent_days_per_second": 1e9 / ns_swept,
        "ns_per_agent_day": ns_actual, "bound_ns_per_agent_day": ns_min,
        "times_the_bound": ns_actual / ns_min, "times_the_swept_bound": ns_actual / ns_swept,
        "stage_effective_gbps": stage_gbps,
    }


def fmt_rate(x: float) -> str:
    return f"{x / 1e6:,.1f} M" if x >= 1e6 else f"{x / 1e3:,.1f} k"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1_000_000, help="scoresim's (and Starsim's)")
    ap.add_argument("--starsim-agents", type=int, default=None, help="default: --agents")
    ap.add_argument("--mesa-agents", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the faster is kept")
    ap.add_argument("--skip", nargs="*", default=[], choices=[*IMPLEMENTATIONS, "machine"])
    ap.add_argument("--threads", type=int, default=None, help="scoresim's Numba threads")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--no-save", action="store_true", help="do not append to peers.jsonl")
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.agents, a.days, a.seed, a.threads)))
        return

    st_n = a.starsim_agents or a.agents
    sizes = {"scoresim": a.agents, "starsim": st_n, "starsim-skip": st_n,
             "mesa": a.mesa_agents, "mesa-skip": a.mesa_agents}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    command = " ".join(["python", *sys.argv])
    rows = {}
    for impl in IMPLEMENTATIONS:
        if impl not in a.skip:
            print(f"running {impl} ({sizes[impl]:,} agents x {a.days} days) ...",
                  file=sys.stderr, flush=True)
            rows[impl] = best_of(impl, sizes[impl], a.days, a.seed, a.threads, a.repeat)
    m = None
    if "machine" not in a.skip:
        print("measuring the machine ...", file=sys.stderr, flush=True)
        m = best_of("machine", 0, 0, 0, a.threads, a.repeat)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    ss_row = rows.get("scoresim")
    ok_ss = ss_row is not None and "error" not in ss_row
    print(f"\npeers workload, {a.days} days; {uptime}")
    print("| implementation | agents | days | seconds | agent-days/s | scoresim x |"
          " final mean score | sanctioned share | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for impl, r in rows.items():
        if "error" in r:
            print(f"| {impl} | {r['agents']:,} | - | failed: {r['error'].splitlines()[-1]} |")
            continue
        ratio = ss_row["agent_days_per_second"] / r["agent_days_per_second"] if ok_ss else None
        label = impl + (f" ({r['threads']} threads)" if impl == "scoresim" else "")
        print(f"| {label} | {r['agents']:,} | {r['days']} | {r['run_seconds']:.2f} | "
              f"{fmt_rate(r['agent_days_per_second'])} | "
              f"{'-' if ratio is None else f'{ratio:,.1f}'} | {r['mean_score']:.3f} | "
              f"{r['sanctioned_share']:.2e} | {r['peak_rss_bytes'] / 2**20:,.0f} MiB |")

    summary = {"kind": "comparison", "time": stamp, "command": command, "uptime": uptime}
    if ok_ss:
        print("\nsanity (agree: within 4 standard errors; the mean score's error allows for the "
              f"correlation a spilled penalty makes, design effect {DESIGN_EFFECT:.1f}):")
        checks = {}
        for impl, r in rows.items():
            if impl == "scoresim" or "error" in r:
                continue
            checks[impl] = agreement(ss_row, r)
            parts = [f"{k} diff {v['diff']:+.3g} (se {v['se']:.2g}) "
                     f"{'agrees' if v['agree'] else 'DISAGREES'}" for k, v in checks[impl].items()]
            print(f"  scoresim vs {impl}: " + "; ".join(parts))
        summary["agreement"] = checks
        goals = {}
        rate = ss_row["agent_days_per_second"]
        for impl, r in rows.items():
            if impl == "scoresim" or "error" in r:
                continue
            key = impl.replace("-", "_")
            goals[f"{key}_ratio"] = rate / r["agent_days_per_second"]
            if impl.startswith("starsim") and r["agents"] == ss_row["agents"] == 1_000_000:
                goals[f"ge_40x_{key}_at_1M"] = goals[f"{key}_ratio"] >= 40
            if impl.startswith("mesa"):
                goals[f"ge_1000x_{key}"] = goals[f"{key}_ratio"] >= 1000
        if ss_row["agents"] >= 10_000_000:
            goals["ge_300M_agent_days_per_s_at_10M"] = rate >= 300e6
        summary["goals"] = goals
        print("goals: " + ", ".join(f"{k} = {v:.1f}" if isinstance(v, float) else f"{k}: {v}"
                                    for k, v in goals.items()))
        print("\nscoresim, ms per simulated day by stage (median over days 2..): " + ", ".join(
            f"{k} {v:.2f}" for k, v in ss_row["stage_ms_per_day"].items()))
    if m is not None and "error" not in m:
        print(f"\nmachine: streaming triad {m['triad_gbps']:.1f} GB/s with {m['threads']} threads "
              f"({m['triad_gbps_1thread']:.1f} on one); a counter-based draw "
              f"{m['ns_per_draw']:.2f} ns ({m['ns_per_draw_1thread']:.2f} on one thread), a "
              f"candidate gap (draw and logarithm) {m['ns_per_gap_draw']:.2f} ns")
        if ok_ss:
            b = bound(ss_row, m)
            summary["bound"] = b
            print(f"bound: {b['bytes_per_agent_day_min']} bytes and "
                  f"{b['draws_per_agent_day']:.4f} draws per agent-day -> "
                  f"{b['bound_ns_per_agent_day']:.2f} ns per agent-day, "
                  f"{fmt_rate(b['bound_agent_days_per_second'])} agent-days/s; scoresim "
                  f"{b['ns_per_agent_day']:.2f} ns = {b['times_the_bound']:.1f}x the bound "
                  f"({b['times_the_swept_bound']:.1f}x the bound of the "
                  f"{b['bytes_per_agent_day_swept']} bytes its sweeps touch)")
            print("  effective GB/s of the sweeping stages: " + ", ".join(
                f"{k} {v:.1f}" for k, v in b["stage_effective_gbps"].items()))

    if not a.no_save:
        RESULTS.parent.mkdir(exist_ok=True)
        meta = {"time": stamp, "command": command, "uptime": uptime,
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
        with open(RESULTS, "a") as fh:
            for r in [*rows.values(), *([m] if m else [])]:
                fh.write(json.dumps({**meta, **r}) + "\n")
            fh.write(json.dumps({**meta, **summary}) + "\n")
        print(f"\nappended to {RESULTS.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
