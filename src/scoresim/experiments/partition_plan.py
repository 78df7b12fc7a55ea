"""Plan a partitioned run: what each actor holds, its build's peak, and what crosses per day.

A partition's actor holds its range of agents (core/memory.py): its state, its people's traits
and tie rows, plus the region and group of every agent (2 bytes an agent: effects name agents
anywhere) and the group layers of the regions its range reaches (a work team may straddle a
cut). A small sample is split into the same K ranges and run for a few days in this process
(the actors' code, without Ray), which measures each of these per agent and the bytes of
effects sent to other ranges per agent-day; the plan scales them to the requested size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scale.plan import tie_bytes_per_agent
from ..scenario import Scenario
from ..sim import Sim
from .partition_worker import PartitionWorker
from .partitioned import exchange_day, partition_bounds

SAMPLE_PER_RANGE = 32_768  # agents per range in the sample (8 act blocks)
# a Ray actor's own memory (the worker process with Ray's libraries, NumPy, Numba and the
# compiled kernels) on top of its arrays: measured here (BENCHMARKS.md, partitions)
ACTOR_OVERHEAD = 700 * 2**20
ENVELOPE = 1.6  # effects sent and received, with their routing copies, held at once


@dataclass
class ActorPlan:
    """Memory per actor and traffic per day of a run of ``agents`` split into ``k``."""

    scenario: str
    agents: int
    k: int
    range_agents: int  # the largest range
    held_agents: int  # the agents of the regions the largest range reaches
    range_bytes_per_agent: float  # state, traits and tie rows, per agent of the range
    group_bytes_per_agent: float  # group layers, per agent of the regions reached
    global_bytes_per_agent: float  # region and group of everyone, per agent of the population
    build_peak_bytes: float  # transient at the build, above the arrays
    sent_bytes_per_agent_day: float  # effects sent to other ranges, per agent of the range

    @property
    def array_bytes(self) -> float:
        """What the largest actor holds in arrays."""
        return (self.range_bytes_per_agent * self.range_agents
                + self.group_bytes_per_agent * self.held_agents
                + self.global_bytes_per_agent * self.agents)

    @property
    def message_bytes_per_day(self) -> float:
        """The effects the largest actor sends in a day (what it receives is alike)."""
        return self.sent_bytes_per_agent_day * self.range_agents

    @property
    def exchange_bytes_per_day(self) -> float:
        """The effects all actors send each other in a day."""
        return self.sent_bytes_per_agent_day * self.agents

    @property
    def peak_bytes(self) -> float:
        """The largest actor's memory at its peak, with its process's own."""
        return (self.array_bytes + max(self.build_peak_bytes,
                                       ENVELOPE * self.message_bytes_per_day)
                + ACTOR_OVERHEAD)

    def refusal(self, memory_per_actor: float) -> str | None:
        """None if each actor fits in ``memory_per_actor`` bytes, else the reason."""
        return check_partitions_fit(self, memory_per_actor)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON."""
        return {"scenario": self.scenario, "agents": self.agents, "partitions": self.k,
                "range_agents": self.range_agents, "held_agents": self.held_agents,
                "array_bytes_per_actor": self.array_bytes,
                "build_peak_bytes_per_actor": self.build_peak_bytes,
                "message_bytes_per_day_per_actor": self.message_bytes_per_day,
                "exchange_bytes_per_day": self.exchange_bytes_per_day,
                "peak_bytes_per_actor": self.peak_bytes}


def _held_agents(sim: Sim, bounds: np.ndarray) -> list[int]:
    """Per range, the agents of the regions it reaches."""
    from ..population.people import largest_remainder, shares

    n_r = largest_remainder(sim.agents, shares(sim.scenario)[0])
    rs = np.concatenate([[0], np.cumsum(n_r)])
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        reached = [r for r in range(len(n_r)) if rs[r] < hi and rs[r + 1] > lo and n_r[r]]
        out.append(int(rs[reached[-1] + 1] - rs[reached[0]]) if reached else 0)
    return out


def plan_partitions(scenario: Scenario, agents: int, k: int, seed: int = 0,
                    days: int = 4) -> ActorPlan:
    """Measure a K-way split on a sample and scale it to ``agents``."""
    sample = max(k * SAMPLE_PER_RANGE, 4096 * k)
    sim = Sim(scenario, agents=sample, days=days, seed=seed)
    bounds = partition_bounds(sim, k)
    workers = [PartitionWorker(sim.scenario, sample, days, seed, True, bounds, j)
               for j in range(k)]
    for day in range(days):
        exchange_day(lambda r, inbox, d=day: [w.run_round(d, r, inbox[j])
                                               for j, w in enumerate(workers)], k)
    ranges = np.diff(bounds)
    held = _held_agents(sim, bounds)
    range_bytes, group_bytes = [], []
    for w, size, h in zip(workers, ranges, held, strict=True):
        net, people = w.pop.network, w.pop.people
        groups = net.nbytes() - (w.window.nbytes(net.tie_indptr) + net.tie_indices.nbytes
                                 + net.tie_base.nbytes + net.tie_count.nbytes)
        ties = net.nbytes() - groups
        range_bytes.append((w.s.nbytes(w.window) + ties + w.window.nbytes(people.propensity))
                           / max(size, 1))
        group_bytes.append(groups / max(h, 1))
    sent = sum(w.work.get("sent_bytes", 0) for w in workers) / (sample * days)
    # scale the sample's tie rows to the planned size (far ties take more slots)
    ratio = tie_bytes_per_agent(sim.scenario, agents) / max(
        tie_bytes_per_agent(sim.scenario, sample), 1e-12)
    ties_per_agent = float(np.mean([(w.pop.network.tie_indices.nbytes) / max(size, 1)
                                    for w, size in zip(workers, ranges, strict=True)]))
    big = Sim(scenario, agents=agents, days=1, seed=seed)
    big_bounds = partition_bounds(big, k)
    big_held = _held_agents(big, big_bounds)
    j = int(np.argmax(np.diff(big_bounds)))
    # the build's transient: a region's member permutation (4 bytes an agent of the regions
    # reached) and a chunk of trait draws
    build_peak = 4.0 * big_held[j] + 8 * 2**20
    return ActorPlan(scenario.name, agents, k, int(np.diff(big_bounds)[j]), big_held[j],
                     float(np.max(range_bytes)) + ties_per_agent * (ratio - 1.0),
                     float(np.max(group_bytes)), 2.0, build_peak, sent)


def check_partitions_fit(plan: ActorPlan, memory_per_actor: float) -> str | None:
    """None if each actor fits in ``memory_per_actor`` bytes, else the reason."""
    if plan.peak_bytes <= memory_per_actor:
        return None
    return (f"{plan.agents:,} agents over {plan.k} partitions need about "
            f"{plan.peak_bytes / 2**30:.1f} GiB per actor ({plan.array_bytes / 2**30:.1f} GiB "
            f"of arrays for {plan.range_agents:,} agents) but {memory_per_actor / 2**30:.1f} "
            f"GiB is there for each; use more partitions or machines (see `scoresim plan "
            f"--partitions K`)")


__all__ = ["ActorPlan", "check_partitions_fit", "plan_partitions"]
