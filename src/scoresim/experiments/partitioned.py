"""One population across K Ray actors: ``scoresim run --partitions K [--address ADDRESS]``.

The agents are split into K contiguous ranges (``engine.partitions.split``: whole regions, or
4,096-agent blocks when there are fewer regions than K), each held by one actor
(``PartitionWorker``). Each day is a few exchange rounds (``engine.day.rounds``), driven from
here: the driver hands each round's effects to the actors they are addressed to and adds up
the day's records. The result is bit-identical
to ``Sim.run`` with the same seed (see ``docs/partitions.md``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..engine.partitions import split
from ..engine.record import DayRecord
from ..network import network_summary
from ..population.people import largest_remainder, shares
from ..results.accounts import combine
from ..results.columns import daily_row
from ..sim import Progress, Results, Sim
from .partition_worker import PartitionWorker

ABROAD_SUMS = ("visits", "identified", "false_matches", "records", "associations",
               "acts_at_venues", "observed_at_venues", "pinned_at_venues")


def partition_bounds(sim: Sim, k: int) -> np.ndarray:
    """The K + 1 agent boundaries of a run, from the scenario's region sizes (no build)."""
    n_r = largest_remainder(sim.agents, shares(sim.scenario)[0])
    return split(np.concatenate([[0], np.cumsum(n_r)]), k)


@dataclass
class _PopulationView:
    """What the summary reads of a population, without holding one at the driver."""

    n: int
    people: Any
    network: Any
    build_seconds: float
    pop_bytes: int = field(repr=False, default=0)
    network_info: dict = field(repr=False, default_factory=dict)
    window: None = None

    def nbytes(self) -> int:
        """Bytes held by one actor's population."""
        return self.pop_bytes

    def network_summary(self) -> dict:
        """summary.json's ``network``, as an actor measured it."""
        return self.network_info


def _ray(address: str | None):
    import ray

    from .ray_local import ray_init

    return ray, ray_init(address, num_cpus=os.cpu_count() or 1)


def start_workers(partitions: int, address: str | None = None) -> list:
    """``partitions`` idle partition actors (Ray started locally unless ``address`` names a
    cluster or Ray is already initialised), for ``run_partitioned(..., workers=...)``: runs
    that reuse them skip the actors' start-up. The caller ends them (``ray.kill``)."""
    ray, _ = _ray(address)
    # no CPU reservation, so that K actors fit on a machine with fewer cores (each uses the
    # Numba threads it is given); on a cluster, spread them over the nodes
    actor = ray.remote(num_cpus=0)(PartitionWorker)
    if address:
        actor = actor.options(scheduling_strategy="SPREAD")
    return [actor.remote() for _ in range(partitions)]


def run_partitioned(sim: Sim, partitions: int, address: str | None = None,
                    progress: Progress | None = None, threads: int | None = None,
                    workers: list | None = None, plan=None) -> Results:
    """Run ``sim`` with its agents split across ``partitions`` Ray actors (a local Ray
    instance unless ``address`` names a cluster, or Ray is already initialised).

    ``threads``: Numba threads per actor (default: this machine's cores / partitions when
    local, all of the node's cores on a cluster). ``workers``: actors from ``start_workers``
    to run on (the first ``partitions``), left alive after the run; else the run starts its
    own and ends them."""
    t0 = time.perf_counter()
    bounds = partition_bounds(sim, partitions)
    ray, owns = _ray(address)
    if threads is None and not address:
        threads = max(1, (os.cpu_count() or 1) // partitions)
    own = workers is None
    if not own and len(workers) < partitions:
        raise ValueError(f"{partitions} partitions need {partitions} workers, not {len(workers)}")
    if address and plan is not None:  # the actors spread over the cluster's nodes
        _check_cluster(ray, plan)
    workers = start_workers(partitions, address) if own else workers[:partitions]
    run = (sim.scenario, sim.agents, sim.days, sim.seed, sim.scoring, bounds)
    try:
        ray.get([w.setup.remote(*run, j, threads) for j, w in enumerate(workers)])
        infos = ray.get([w.info.remote() for w in workers])
        names = infos[0]["names"]
        t1 = time.perf_counter()
        rows = []
        for day in range(sim.days):
            call = lambda r, inbox, d=day: ray.get(  # noqa: E731
                [w.run_round.remote(d, r, inbox[j]) for j, w in enumerate(workers)])
            rows.append(daily_row(day, exchange_day(call, len(workers)), names, sim.agents))
            if progress is not None:
                progress(day + 1, sim.days)
        t2 = time.perf_counter()
        finals = ray.get([w.final.remote() for w in workers])
    finally:
        if own:
            for w in workers:
                ray.kill(w)
            if owns:
                ray.shutdown()
    view = _PopulationView(
        sim.agents, None, None, max(i["build_seconds"] for i in infos),
        sum(i["pop_bytes"] for i in infos),
        network_summary([i["network"] for i in infos], sim.agents, names.groups))
    held = _Held(sum(f["held_bytes"] for f in finals) - view.pop_bytes)
    summary = sim._summary(view, names, finals[0]["plan"], held, rows, t0, t1, t2,
                           acc=combine([f["accounts"] for f in finals]))
    summary["partitions"] = {
        "k": partitions, "bounds": [int(b) for b in bounds],
        "peak_rss": [int(f["peak_rss"]) for f in finals],
        "sent_bytes_per_day": [f["work"].get("sent_bytes", 0) / max(sim.days, 1)
                               for f in finals]}
    return Results(summary, pd.DataFrame(rows), sim.scenario, None, None)


@dataclass
class _Held:
    """What the actors' states hold in memory, for the summary's bytes per agent."""

    bytes: int

    def nbytes(self) -> int:
        """Bytes of every actor's state."""
        return self.bytes


def _check_cluster(ray, plan) -> None:
    """Refuse a split whose actors will not fit on the cluster's nodes (the actors spread
    evenly; each node's memory for tasks, as Ray reports it). ``plan``: an
    ``ActorPlan`` (experiments/partition_plan.py)."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if not nodes:
        return
    per_node = -(-plan.k // len(nodes))
    memory = min(float(n.get("Resources", {}).get("memory", 0.0)) for n in nodes)
    too_big = plan.refusal(memory / per_node) if memory else None
    if too_big:
        raise MemoryError(too_big)


def exchange_day(call, k: int) -> DayRecord:
    """One day across k ranges: each round is a call on every range (``call(r, inboxes)``
    returns each range's (effects by destination, record or None)); the effects each range
    emitted go to the ranges they are addressed to (no model logic here: engine/day.py says
    what a round runs, engine/partitions.py how effects are split and merged)."""
    inbox: list[dict[str, list]] = [{} for _ in range(k)]
    r = 0
    while True:
        sent = call(r, inbox)
        inbox = [{} for _ in range(k)]
        for out, _ in sent:  # in range order: a receiver merges them in that order
            for kind, per_dest in out.items():
                for j in range(k):
                    inbox[j].setdefault(kind, []).append(per_dest[j])
        records = [record for _, record in sent]
        if records[0] is not None:  # the day's last round
            return sum(records[1:], records[0])
        r += 1
