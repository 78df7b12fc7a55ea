"""One population across K Ray actors: ``scoresim run --partitions K [--address ADDRESS]``.

The agents are split into K contiguous ranges (``engine.partitions.split``: whole regions, or
4,096-agent blocks when there are fewer regions than K), each held by one actor
(``PartitionWorker``). Each day is five exchange rounds, driven from here; the driver routes
each round's messages to their partitions and reduces the counts. The result is bit-identical
to ``Sim.run`` with the same seed (see ``docs/partitions.md``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ..engine.compile import FIXED
from ..engine.day import DayCounts
from ..engine.measure import totals
from ..engine.partitions import global_order, owner, split
from ..engine.state import COUNTS, State
from ..population.people import largest_remainder, shares
from ..results.accounts import daily_row
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

    def nbytes(self) -> int:
        return self.pop_bytes


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
                    workers: list | None = None) -> Results:
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
    workers = start_workers(partitions, address) if own else workers[:partitions]
    run = (sim.scenario, sim.agents, sim.days, sim.seed, sim.scoring, bounds)
    try:
        ray.get([w.setup.remote(*run, j, threads) for j, w in enumerate(workers)])
        infos = ray.get([w.info.remote() for w in workers])
        t1 = time.perf_counter()
        rows = []
        for day in range(sim.days):
            rows.append(daily_row(day, _day(ray, workers, day, sim.agents, bounds),
                                  infos[0]["names"]))
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
    state = _assemble(finals)
    view = _PopulationView(
        sim.agents, SimpleNamespace(region=np.concatenate([f["region"] for f in finals]),
                                    group=np.concatenate([f["group"] for f in finals])),
        SimpleNamespace(mean_degree=lambda: infos[0]["mean_degree"]),
        max(i["build_seconds"] for i in infos), infos[0]["pop_bytes"])
    summary = sim._summary(view, infos[0]["names"], finals[0]["params"], state, rows, t0, t1, t2)
    return Results(summary, pd.DataFrame(rows), sim.scenario, None, state)


def _day(ray, workers: list, day: int, n: int, bounds: np.ndarray) -> DayCounts:
    """One day: five rounds (six with venues abroad), each a call on every actor."""
    k = len(workers)
    r1 = ray.get([w.begin_day.remote(day) for w in workers])
    scoring, L = r1[0]["scoring"], r1[0]["lists"]
    abroad: dict = {}
    sent_ties = [r["ties"] for r in r1]
    if scoring and r1[0]["visits"] is not None:
        visits = tuple(np.concatenate(x) for x in zip(*[r["visits"] for r in r1], strict=True))
        rv = ray.get([w.venues.remote(visits) for w in workers])
        for r, v in zip(r1, rv, strict=True):
            r["target"], r["status"] = v["target"], v["status"]
        abroad = {key: sum(v["abroad"][key] for v in rv) for key in ABROAD_SUMS}
        victims = [[v["victims"][j] for v in rv] for j in range(k)]
    else:
        victims = [[] for _ in range(k)]
    listings = delistings = listed_now = None
    observed = np.zeros(len(r1[0]["acts"]), np.int64)
    false_attr = dismissed = spilled = appeals_won = 0
    reach = [None] * k
    if scoring:
        order = global_order([r["beh"] for r in r1])
        acts = [np.concatenate([r[x] for r in r1])[order]
                for x in ("agent", "beh", "target", "status")]
        event = np.arange(order.shape[0], dtype=np.int64)
        by_actor, by_target = owner(acts[0], bounds), owner(acts[2], bounds)
        mine = [(by_actor == j) | ((acts[2] >= 0) & (by_target == j)) for j in range(k)]
        r2 = ray.get([w.score.remote(tuple(a[m] for a in (*acts, event)), victims[j])
                      for j, (w, m) in enumerate(zip(workers, mine, strict=True))])
        c = sum(r["counts"] for r in r2)
        B = len(observed)
        observed, false_attr, dismissed = c[:B], int(c[B]), int(c[B + 1])
        listings, delistings = c[B + 2: B + 2 + L].copy(), c[B + 2 + L:].copy()
        spilled = sum(int(r["hits"]) for r in r2)
        r3 = ray.get([w.sanction.remote([r["spill"][j] for r in r2],
                                        [r["firms"][j] for r in r2])
                      for j, w in enumerate(workers)])
        tot = sum(r["tot"] for r in r3)
        listings += sum(r["firm_listings"] for r in r3) + tot[3: 3 + L]
        delistings += tot[3 + L: 3 + 2 * L]
        listed_now, appeals_won = tot[3 + 2 * L: 3 + 3 * L], int(tot[2])
        reach = [[r["reach"][j] for r in r3] for j in range(k)]
    r4 = ray.get([w.settle.remote(reach[j]) for j, w in enumerate(workers)])
    sent_ties += [r["ties"] for r in r4]
    ties = [[t[j] for t in sent_ties if t is not None] for j in range(k)]
    r5 = ray.get([w.end_day.remote(ties[j]) for j, w in enumerate(workers)])
    zeros = np.zeros(L, np.int64)
    S = r4[0]["sanctioned"].shape[0] - 1
    # integer totals of every range add up to the single process's (engine/measure.py)
    bounds_k = r5[0]["bounds"]
    mean_score, mean_caution, grades, by_group = totals(sum(r["counts"] for r in r5), n,
                                                        bounds_k)
    if not bounds_k:
        grades = grades[:0]  # no grades declared: nothing to count
    return DayCounts(
        acts=sum(r["acts"] for r in r1), observed=observed, false_attributions=false_attr,
        dismissed_by_review=dismissed, spill_penalties=spilled,
        listings=zeros if listings is None else listings,
        delistings=zeros if delistings is None else delistings,
        listed_now=zeros if listed_now is None else listed_now,
        sanctioned=sum(r["sanctioned"] for r in r4)[: S + 1],
        newly_sanctioned=sum(r["by_cause"] for r in r4), appeals_won=appeals_won,
        requests=sum(r["requests"] for r in r4), denied=sum(r["denied"] for r in r4),
        mean_score=mean_score / FIXED, mean_caution=mean_caution,
        grades=grades, sanctioned_by_group=by_group,
        expression_by_group=sum(r["expression"] for r in r1), abroad=abroad,
    )


def _assemble(finals: list[dict[str, Any]]) -> State:
    """The whole population's final state from the partitions' slices."""
    out = {}
    for f in fields(State):
        parts = [x[f.name] for x in finals]
        if f.name in COUNTS:
            out[f.name] = sum(parts)
        elif f.name == "live":  # a block may change where any partition marked it
            out[f.name] = np.bitwise_or.reduce(parts)
        elif f.name == "firm_rating":
            rating = np.zeros(sum(p.shape[0] for p in parts), np.int32)
            for x in finals:
                rating[x["firms"]] = x["firm_rating"]
            out[f.name] = rating
        else:
            out[f.name] = np.concatenate(parts, axis=-1)
    return State(**out)
