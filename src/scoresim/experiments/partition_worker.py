"""One partition of a population: the agents [lo, hi) of one run, held by one Ray actor.

Each method is one exchange round of the day (see ``experiments/partitioned.py`` for the
driver and ``docs/partitions.md`` for the protocol): it applies the messages the other
partitions sent, computes this range's part of the next stages, and returns its counts and
the messages for the others, already split by destination. Plain Python (Ray wraps it), so
it can be tested and profiled without a cluster.

Memory: the worker builds the whole (deterministic) population and allocates full-size state
arrays, but it only ever reads and writes its own agents' state: everything outside [lo, hi)
stays at its initial value (``outside_untouched`` checks it).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from ..engine import partitions as pt
from ..engine.stages.sanction import appeals_row, apply_ties
from ..engine.stages.services import use_services
from ..engine.stages.spill import apply_hits
from ..engine.stages.venues import table_associations, venue_observe, venue_visits
from ..engine.state import IDENTIFIED_ABROAD, NOT_PER_AGENT, State
from ..scenario import Scenario
from ..sim import Sim, build_population

Messages = list[tuple[np.ndarray, ...]]  # one tuple of arrays per destination partition


class PartitionWorker:
    """A partition's state and its part of each round; ``setup`` (re)starts it on a run, so
    one actor can serve several runs in turn."""

    def __init__(self, *run: Any):
        if run:
            self.setup(*run)

    def setup(self, scenario: Scenario, agents: int, days: int, seed: int, scoring: bool,
              bounds: np.ndarray, index: int, threads: int | None = None) -> None:
        if threads:
            import numba

            numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        self.sim = Sim(scenario, agents=agents, days=days, seed=seed, scoring=scoring)
        self.pop = build_population(self.sim.scenario, agents, seed)
        self.nm, self.plans, self.s = self.sim.prepare(self.pop)
        self.people, self.net = self.pop.people, self.pop.network
        self.p = self.plans[0]
        self.bounds = np.asarray(bounds, np.int64)
        self.j, self.k = index, len(bounds) - 1
        self.lo, self.hi = int(bounds[index]), int(bounds[index + 1])
        self.firm_part = (pt.firm_owners(self.net, self.bounds) if self.s.firm_rating.shape[0]
                          else np.zeros(0, np.int64))
        self.firms = np.flatnonzero(self.firm_part == index)
        self.seed = seed
        self.work: dict[str, int] = {}  # what this partition computed and sent (for tests)
        self._empty_ties: tuple[np.ndarray, ...] = (np.zeros(0, np.int32),) * 2

    # ------------------------------------------------------------ helpers
    def _count(self, key: str, amount: int) -> None:
        self.work[key] = self.work.get(key, 0) + int(amount)

    def _route(self, what: str, agents: np.ndarray, *rest: np.ndarray) -> Messages:
        dest = pt.owner(agents, self.bounds)
        self._count(f"sent_{what}", int(np.count_nonzero(dest != self.j)))
        return pt.route(dest, self.k, agents, *rest)

    def info(self) -> dict[str, Any]:
        return {"lo": self.lo, "hi": self.hi, "pop_bytes": self.pop.nbytes(),
                "mean_degree": self.net.mean_degree(), "build_seconds": self.pop.build_seconds,
                "names": self.nm}

    # ------------------------------------------------------------ round 1
    def begin_day(self, day: int) -> dict[str, Any]:
        """Timeline, act, observe (and the visits abroad) of this range's agents."""
        self.day, ties = day, None
        if day in self.plans and day > 0:
            before, self.p = self.p, self.plans[day]
            if self.p.visible_bits != before.visible_bits:
                tie, delta = pt.recount_part(self.p, self.net, self.s, self.lo, self.hi)
                ties = self._route("visibility", tie, delta)
        p, people = self.p, self.people
        agent, beh, acts, target, status = pt.act_observe(day, self.seed, p, people, self.s,
                                                          self.lo, self.hi)
        self.acts = [agent, beh, target, status]
        self._count("acts", agent.shape[0])
        G = len(people.group_names)
        expression = np.bincount(people.group[agent[p.b_expression[beh]]], minlength=G)
        venues = p.scoring_enabled and p.v_region.shape[0] > 0
        visits = venue_visits(self.seed, day, p, people, self.lo, self.hi) if venues else None
        return {"acts": acts, "expression": expression, "agent": agent, "beh": beh,
                "target": target, "status": status, "visits": visits, "ties": ties,
                "scoring": p.scoring_enabled, "initial": p.initial,
                "lists": self.s.list_state.shape[0]}

    def venues(self, visits: tuple[np.ndarray, ...]) -> dict[str, Any]:
        """Identification at the venues abroad (given every partition's visits) and the
        acts this range's agents did there."""
        agent, beh, target, status = self.acts
        out, victims = venue_observe(visits, agent, beh, target, status, self.seed, self.day,
                                     self.p, self.people, self.s, self.lo, self.hi)
        out["associations"] = table_associations(visits, self.p) if self.j == 0 else 0
        return {"abroad": out, "target": target, "status": status,
                "victims": self._route("victims", victims)}

    # ------------------------------------------------------------ round 2
    def score(self, acts: tuple[np.ndarray, ...], victims: Messages) -> dict[str, Any]:
        """Score and list: the acts done by or pinned on this range's agents, in the single
        process's order; spill and rate firms from the penalties landing here."""
        if victims:
            (v,) = pt.gather(victims)
            self.s.flags[v] |= IDENTIFIED_ABROAD
        p, net = self.p, self.net
        self._count("acts_scored", acts[0].shape[0])
        pen_agent, pen_points, pen_event, counts = pt.score_part(
            acts, self.day, p, self.people, self.s, self.lo, self.hi)
        hits, out = pt.spill_part(pen_agent, pen_points, p, net, self.s, self.people,
                                  self.lo, self.hi)
        firms = pt.firm_messages(pen_agent, pen_points, pen_event, p, net, self.firm_part,
                                 self.k)
        self._count("sent_firm_penalties", sum(f[0].shape[0] for j, f in enumerate(firms)
                                               if j != self.j))
        return {"counts": counts, "hits": hits, "spill": self._route("spill", *out),
                "firms": firms}

    # ------------------------------------------------------------ round 3
    def sanction(self, spill: Messages, firms: Messages) -> dict[str, Any]:
        """Spilled penalties and firm ratings land; recover; own sanctions of this range."""
        p, s, L = self.p, self.s, self.s.list_state.shape[0]
        apply_hits(*pt.gather(spill), s.score, s.flags)
        listings = np.zeros(L, np.int64)
        if s.firm_rating.shape[0]:
            listings = pt.rate_part(pt.gather(firms), self.day, p, self.net, s, self.lo,
                                    self.hi)
        busy, self.measured = pt.recover_part(p, s, self.lo, self.hi, self.firms)
        tot, self.changed, (pm, pbit) = pt.sanction_begin(self.day, self.seed, p, self.net, s,
                                                          L, busy)
        self.measured = self.measured + appeals_row(tot, L)
        return {"firm_listings": listings, "tot": tot, "reach": self._route("reach", pm, pbit)}

    # ------------------------------------------------------------ round 4
    def settle(self, reach: Messages | None) -> dict[str, Any]:
        """Reach, effective sanctions and their accounting; then the services."""
        s, by_cause, ties = self.s, np.zeros(3, np.int64), None
        if reach is not None:
            by_cause, (tie, delta) = pt.sanction_end(self.day, self.p, self.net, s,
                                                     self.changed, pt.gather(reach),
                                                     self.lo, self.hi, self.people.group)
            ties = self._route("visibility", tie, delta)
        requests, denied = use_services(self.people.n, self.seed, self.day, self.p,
                                        self.people, s, self.lo, self.hi)
        return {"by_cause": by_cause, "sanctioned": s.sanctioned_count.copy(),
                "requests": requests, "denied": denied, "ties": ties}

    # ------------------------------------------------------------ round 5
    def end_day(self, ties: Messages) -> dict[str, Any]:
        """Visibility changes land; respond; this range's measurements."""
        s, p, lo, hi = self.s, self.p, self.lo, self.hi
        if ties:
            apply_ties(*pt.gather(ties), s.sanctioned_ties, s.live)
        G, group = len(self.people.group_names), self.people.group
        if p.scoring_enabled:
            counts = self.measured + pt.respond_part(p, self.net, s, lo, hi)
        else:
            counts = pt.measure_part(p, s, group, G, lo, hi)
        self._count("agent_days", hi - lo)
        return {"counts": counts, "bounds": p.grade_bounds.shape[0]}

    # ------------------------------------------------------------ the end
    def final(self) -> dict[str, Any]:
        """This range's slice of every per-agent array, the firms rated here, the params."""
        s, lo, hi = self.s, self.lo, self.hi
        out: dict[str, Any] = {}
        for f in fields(State):
            a = getattr(s, f.name)
            if f.name in NOT_PER_AGENT:
                out[f.name] = a.copy() if f.name != "firm_rating" else a[self.firms]
            else:
                out[f.name] = a[..., lo:hi].copy()
        out["firms"] = self.firms
        out["region"] = self.people.region[lo:hi].copy()
        out["group"] = self.people.group[lo:hi].copy()
        out["params"] = self.p
        out["work"] = dict(self.work)
        return out

    def outside_untouched(self) -> bool:
        """True when no agent outside [lo, hi) has been touched here: its state is still the
        initial state (every effect on it went out as a message)."""
        fresh = self.sim.prepare(self.pop)[2]
        lo, hi = self.lo, self.hi
        for f in fields(State):
            a, b = getattr(self.s, f.name), getattr(fresh, f.name)
            if f.name in NOT_PER_AGENT:
                continue
            if a.shape[-1:] and (not np.array_equal(a[..., :lo], b[..., :lo])
                                 or not np.array_equal(a[..., hi:], b[..., hi:])):
                return False
        others = np.setdiff1d(np.arange(self.s.firm_rating.shape[0]), self.firms)
        return bool(np.all(self.s.firm_rating[others] == self.p.initial))
