"""Plan a run before allocating it: memory per array, build peak, and time per day.

Every array scoresim holds grows linearly with the number of agents (ties with the mean
degree, groups with the mean group size), so a small sample measures the bytes per agent of
each array exactly; the one exception, the tie rows (a near neighbour takes 2 bytes, a far one
6: engine.ties), is scaled by the expected share of far ties at the planned size; the
build's transient peak is measured on the sample with tracemalloc (NumPy reports its
allocations to it), and the time per agent-day by running the sample for a few days with
warm kernels. A plan scales those to the requested size, so nothing big is
allocated to find out that it will not fit.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from ..engine.compile import compile_plan, names_of
from ..engine.state import init_state
from ..network.ties import NEAR
from ..scenario import Scenario
from ..sim import Sim, build_population

SAMPLE = 200_000
OVERHEAD = 400 * 2**20  # the interpreter, NumPy, Numba and compiled kernels (measured here)
# a day's working arrays and the end-of-run accounting come on top of the state: the peak of
# a 100M-agent run was 1.04 to 1.16 times its arrays (benchmarks/results/history.jsonl); the
# margin keeps the larger ratio
RUN_MARGIN = 1.12


@dataclass
class Plan:
    """A run planned from a sample: the bytes per agent of each array, the build's peak per
    agent and the seconds per agent-day, scaled to ``agents`` agents of ``scenario``."""

    scenario: str
    agents: int
    arrays: list[tuple[str, str, float]]  # (array, dtype, bytes per agent)
    build_peak_per_agent: float  # bytes per agent at the build's highest point
    seconds_per_agent_day: float
    threads: int
    sample: int = 0  # the agents the arrays were measured on (tie rows are rescaled from it)

    @property
    def bytes_per_agent(self) -> float:
        """Bytes per agent of every array the run holds."""
        return sum(b for _, _, b in self.arrays)

    @property
    def steady_bytes(self) -> float:
        """Bytes the built run holds: its arrays and the fixed overhead."""
        return self.bytes_per_agent * self.agents + OVERHEAD

    @property
    def peak_bytes(self) -> float:
        """The run's highest memory: the build's peak or the arrays with the run's working
        margin, whichever is larger, and the fixed overhead."""
        per_agent = max(self.build_peak_per_agent, self.bytes_per_agent * RUN_MARGIN)
        return per_agent * self.agents + OVERHEAD

    def seconds_per_day(self, agents: int | None = None) -> float:
        """Seconds a simulated day takes at ``agents`` agents (default: the plan's)."""
        return self.seconds_per_agent_day * (agents or self.agents)

    def partitions_needed(self, memory: float) -> int:
        """Machines of ``memory`` bytes needed to hold the run, split by region."""
        return max(1, int(np.ceil(self.peak_bytes / max(memory - OVERHEAD, 1))))

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON data (``scoresim plan --json``)."""
        return {
            "scenario": self.scenario, "agents": self.agents, "threads": self.threads,
            "bytes_per_agent": self.bytes_per_agent,
            "build_peak_bytes_per_agent": self.build_peak_per_agent,
            "steady_bytes": self.steady_bytes, "peak_bytes": self.peak_bytes,
            "seconds_per_day": self.seconds_per_day(),
            "arrays": [{"array": a, "dtype": d, "bytes_per_agent": b} for a, d, b in self.arrays],
        }


def tie_bytes_per_agent(scenario: Scenario, agents: int) -> float:
    """Expected bytes per agent of the tie rows at this size (all tie layers)."""
    return sum(tie_layer_bytes(scenario, agents))


def tie_layer_bytes(scenario: Scenario, agents: int) -> list[float]:
    """Expected bytes per agent of each tie layer's rows: 2 per tie, 6 per far tie (more
    than NEAR places away). A tie to another (region, group) cell is far; within the agent's
    own cell, local ties are near, and a random tie in a cell of w agents joins agents x and y
    uniformly, near with probability NEAR (2w - NEAR - 1) / (w (w - 1)) once w > NEAR (the sum
    over x of the partners within NEAR on either side). A local tie wraps around the cell's
    ends (far, once w > NEAR + h) with probability about h / 2w, h being half the window."""
    shares = np.array([r.share for r in scenario.population.regions.values()], np.float64)
    shares = shares / shares.sum()
    groups = np.array([g.share for g in scenario.population.groups.values()], np.float64)
    groups = groups / groups.sum()
    R, G = len(shares), len(groups)
    size = np.outer(shares, groups).ravel() * agents  # each (region, group) cell, in layout
    start = np.concatenate([[0.0], np.cumsum(size)])
    near = np.array([[_near(start[c], start[c + 1], start[d], start[d + 1])
                      for d in range(R * G)] for c in range(R * G)])
    out = []
    for layer in scenario.layers.values():
        if layer.kind != "ties":
            continue
        h = layer.local_window // 2
        local = layer.local_share if h <= NEAR else 0.0
        mix = layer.assortativity
        far = 0.0
        for c in range(R * G):
            r, g = divmod(c, G)
            # where a tie the cell's members start lands: a cell of their own region, or of
            # any home region, then their own group or any
            region = mix.region * (np.arange(R) == r) + (1 - mix.region) * shares
            group = mix.group * (np.arange(G) == g) + (1 - mix.group) * groups
            to = np.outer(region, group).ravel()
            w = size[c]
            wrap = h / 2 / w if w > NEAR + h else 0.0
            own_near = local * (1 - wrap) + (1 - local) * near[c, c]
            p_near = float(np.sum(to * near[c])) - to[c] * near[c, c] + to[c] * own_near
            far += size[c] / agents * (1.0 - p_near)
        out.append(layer.mean_degree * 2.0 * (1.0 + 2.0 * far))
    return out


def _near(a0: float, a1: float, b0: float, b1: float, points: int = 256) -> float:
    """P(|x - y| <= NEAR) for x uniform in [a0, a1) and y uniform in [b0, b1)."""
    if a1 <= a0 or b1 <= b0:
        return 1.0
    x = a0 + (np.arange(points) + 0.5) * (a1 - a0) / points
    overlap = np.clip(np.minimum(b1, x + NEAR) - np.maximum(b0, x - NEAR), 0.0, None)
    return float(np.mean(overlap / (b1 - b0)))


def _array_sizes(objs: dict[str, Any], n: int) -> list[tuple[str, str, float]]:
    out = []
    for prefix, obj in objs.items():
        for f in fields(obj):
            a = getattr(obj, f.name)
            if isinstance(a, np.ndarray) and a.nbytes:
                out.append((f"{prefix}.{f.name}", str(a.dtype), a.nbytes / n))
    return out


def _sample(scenario: Scenario, sample: int, seed: int):
    """Build a sample population, with the build's peak traced (kernels already loaded)."""
    build_population(scenario, 1_000, seed)  # load the build kernels outside the trace
    tracemalloc.start()
    pop = build_population(scenario, sample, seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    params = compile_plan(scenario, pop.people.max_propensity,
                          firms=int(pop.network.group_off[-1]))
    nm = names_of(scenario)
    state = init_state(pop.n, params, len(nm.lists), len(nm.sanctions),
                       n_groups=len(pop.people.group_names))
    arrays = _array_sizes({"people": pop.people, "network": pop.network, "state": state},
                          sample)
    return pop, arrays, peak / sample


def _rescale_ties(scenario: Scenario, arrays, sample: int, agents: int):
    """The measured arrays, with the tie rows scaled from the sample's size to ``agents``, and
    the row offsets widened to int64 where a layer will pass 2**31 slots (2 bytes each)."""
    if not sample:
        return arrays
    ratio = tie_bytes_per_agent(scenario, agents) / max(
        tie_bytes_per_agent(scenario, sample), 1e-12)
    wide = max(tie_layer_bytes(scenario, agents), default=0.0) / 2 * agents >= 2**31 - 1
    out = []
    for a, d, b in arrays:
        if a == "network.tie_indices":
            b *= ratio
        elif a == "network.tie_indptr" and wide and d == "int32":
            d, b = "int64", 2 * b
        out.append((a, d, b))
    return out


def _seconds_per_day(scenario: Scenario, agents: int, days: int, seed: int) -> float:
    pop = build_population(scenario, agents, seed)
    t0 = time.perf_counter()
    Sim(scenario, agents=agents, days=days, seed=seed, population=pop).run()
    return (time.perf_counter() - t0) / days


def measure(scenario: Scenario, seed: int = 0, sample: int = SAMPLE, days: int = 10,
            timing: tuple[int, int] = (250_000, 1_000_000)) -> Plan:
    """Measure bytes per array and the build peak on ``sample`` agents, and the time per
    agent-day from two sizes (a day has a fixed cost too; the slope is what scales). The
    larger size is past the processor's caches, as big runs are."""
    import numba

    _, arrays, peak = _sample(scenario, sample, seed)
    Sim(scenario, agents=1_000, days=2, seed=seed).run()  # compile or load the day's kernels
    small, large = timing
    t_small = _seconds_per_day(scenario, small, days, seed)
    t_large = _seconds_per_day(scenario, large, days, seed)
    per = max((t_large - t_small) / (large - small), t_large / large / 4)
    return Plan(scenario.name, sample, arrays, peak, per, numba.get_num_threads(), sample)


def for_agents(plan: Plan, agents: int, scenario: Scenario | None = None) -> Plan:
    """The plan at another size; with the scenario, the tie rows are rescaled to it."""
    arrays = (_rescale_ties(scenario, plan.arrays, plan.sample, agents) if scenario is not None
              else plan.arrays)
    return Plan(plan.scenario, agents, arrays, plan.build_peak_per_agent,
                plan.seconds_per_agent_day, plan.threads,
                agents if scenario is not None else plan.sample)


def _cgroup_headroom(root: Path, path: str, limit: str, usage: str, inactive: str
                     ) -> float | None:
    """The smallest headroom (limit - usage, reclaimable page cache not counted) of the
    cgroup at ``root``/``path`` and of its ancestors up to ``root``; None if none has a
    limit (in a container, ``path`` may not exist below ``root``: its ancestors still do)."""
    best = None
    folder = root / path.strip("/")
    while True:
        try:
            cap = (folder / limit).read_text().strip()
            if cap != "max" and int(cap) < 2**60:  # v1 writes "no limit" as a huge number
                used = int((folder / usage).read_text())
                stat = dict(line.split() for line in (folder / "memory.stat").read_text()
                            .splitlines() if line.count(" ") == 1)
                room = int(cap) - max(0, used - int(stat.get(inactive, 0)))
                best = room if best is None else min(best, room)
        except (OSError, ValueError):
            pass
        if folder == root or root not in folder.parents:
            return best
        folder = folder.parent


def memory_limits() -> dict[str, float]:
    """Bytes this process can still allocate, by what limits it: ``host`` (the machine's
    available memory), ``address space`` (RLIMIT_AS, as set by ``prlimit --as`` or
    ``ulimit -v``, less the address space in use), ``data`` (RLIMIT_DATA) and ``cgroup``
    (a container's or a service's memory limit, v1 or v2, less its usage)."""
    out = {"host": float(psutil.virtual_memory().available)}
    info = psutil.Process().memory_info()
    for name, which, used in (("address space", resource.RLIMIT_AS, info.vms),
                              ("data", resource.RLIMIT_DATA, getattr(info, "data", 0))):
        soft = resource.getrlimit(which)[0]
        if soft != resource.RLIM_INFINITY:
            out[name] = float(max(0, soft - used))
    room = cgroup_headroom()
    if room is not None:
        out["cgroup"] = float(room)
    return out


def cgroup_headroom(membership: Path = Path("/proc/self/cgroup"),
                    mount: Path = Path("/sys/fs/cgroup")) -> float | None:
    """Bytes left under the memory limits of this process's cgroups (v1 and v2, and their
    ancestors), or None if none is limited. ``membership`` and ``mount`` are the kernel's
    files unless a test gives others."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    found = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2 (unified; also mounted at unified/ in hybrid)
            found += [_cgroup_headroom(root, path, "memory.max", "memory.current",
                                       "inactive_file")
                      for root in (mount, mount / "unified")]
        elif "memory" in controllers.split(","):
            found.append(_cgroup_headroom(mount / "memory", path, "memory.limit_in_bytes",
                                          "memory.usage_in_bytes", "total_inactive_file"))
    rooms = [r for r in found if r is not None]
    return float(min(rooms)) if rooms else None


def available_memory() -> float:
    """Bytes this process can still allocate: the smallest of memory_limits()."""
    return min(memory_limits().values())


def check_fits(plan: Plan, memory: float | None = None, copies: int = 1) -> str | None:
    """None if ``copies`` runs of the plan fit in memory at once, else the reason they do not
    (``memory``: bytes available; default: the smallest of memory_limits())."""
    limits = memory_limits() if memory is None else {"given": memory}
    which = min(limits, key=limits.__getitem__)
    memory = limits[which]
    need = plan.peak_bytes * copies
    if need <= memory:
        return None
    what = "" if which in ("given", "host") else f" (the {which} limit)"
    runs = f" for {copies} runs at once" if copies > 1 else ""
    return (f"{plan.agents:,} agents need about {need / 2**30:.1f} GiB{runs} at the build's "
            f"peak ({plan.bytes_per_agent:.0f} bytes per agent when built, plus the day's "
            f"working arrays) but {memory / 2**30:.1f} GiB is available{what}; use fewer "
            "agents (see `scoresim plan`)")


def memory_refusal(scenarios: Scenario | list[Scenario], agents: int, seed: int = 0,
                   copies: int = 1) -> str | None:
    """Up front, before anything big is allocated: None if ``copies`` runs of ``agents``
    agents (of the most demanding of ``scenarios``) fit in memory now, else the one-line
    reason. Every command that runs a model calls this first."""
    items = scenarios if isinstance(scenarios, list) else [scenarios]
    plans = [quick_estimate(sc, agents, seed) for sc in items]
    return check_fits(max(plans, key=lambda p: p.peak_bytes), None, max(1, copies))


def quick_estimate(scenario: Scenario, agents: int, seed: int = 0) -> Plan:
    """A cheap plan for the memory check before a run: a small sample, no timing."""
    _, arrays, peak = _sample(scenario, 20_000, seed)
    return Plan(scenario.name, agents, _rescale_ties(scenario, arrays, 20_000, agents), peak,
                0.0, 0, agents)
