"""One partition of a population: the agents [lo, hi) of one run, held by one Ray actor.

The worker runs the day's stages (engine/day.py) on its range, one exchange round at a time
(``engine.day.rounds``): it takes the effects the other ranges sent it, runs the round's
stages, and returns the effects its stages emitted, split by destination range. It holds no
model logic of its own. Plain Python (Ray wraps it), so it can be tested without a cluster.

Memory: the worker builds the whole (deterministic) population and allocates full-size state
arrays, but it only ever reads and writes its own agents' state: everything outside [lo, hi)
stays at its initial value (``outside_untouched`` checks it).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from ..engine import partitions as pt
from ..engine.context import Day, Span, join
from ..engine.day import rounds, run_stages
from ..engine.record import DayRecord
from ..engine.state import NOT_PER_AGENT, State
from ..scenario import Scenario
from ..sim import Sim, build_population

Inbox = dict[str, list[Any]]  # kind -> the records every range sent here, in range order


class PartitionWorker:
    """A partition's state and its part of each round; ``setup`` (re)starts it on a run, so
    one actor can serve several runs in turn."""

    def __init__(self, *run: Any):
        if run:
            self.setup(*run)

    def setup(self, scenario: Scenario, agents: int, days: int, seed: int, scoring: bool,
              bounds: np.ndarray, index: int, threads: int | None = None) -> None:
        """Build the population and a fresh state for a run; this worker holds range
        ``index`` of ``bounds``."""
        if threads:
            import numba

            numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        self.sim = Sim(scenario, agents=agents, days=days, seed=seed, scoring=scoring)
        self.pop = build_population(self.sim.scenario, agents, seed)
        self.nm, self.plans, self.s = self.sim.prepare(self.pop)
        self.plan = self.plans[0]
        self.bounds = np.asarray(bounds, np.int64)
        self.j = index
        lo, hi = int(bounds[index]), int(bounds[index + 1])
        self.span = Span(agents, lo, hi)
        self.firms = (np.flatnonzero(pt.firm_owners(self.pop.network, self.bounds) == index)
                      if self.s.firm_rating.shape[0] else np.zeros(0, np.int64))
        self.seed = seed
        self.work: dict[str, int] = {}  # effects this range sent elsewhere (for tests)

    def info(self) -> dict[str, Any]:
        """What the driver's summary needs of the population."""
        return {"lo": self.span.lo, "hi": self.span.hi, "pop_bytes": self.pop.nbytes(),
                "network": self.pop.network_summary(),
                "build_seconds": self.pop.build_seconds, "names": self.nm}

    def _begin_day(self, day: int) -> None:
        """Start a day (the timeline's plan in force)."""
        previous = None
        if day in self.plans and day > 0:
            previous, self.plan = self.plan, self.plans[day]
        self.d = Day(day, self.seed, self.plan, previous, self.pop.people, self.pop.network,
                     self.s, self.span, DayRecord.zeros(self.nm), self.firms)
        self.rounds = rounds(self.d)

    def run_round(self, day: int, r: int, inbox: Inbox) -> tuple[dict[str, list[Any]], Any]:
        """Round r of a day (round 0 starts it): the effects sent here land in the inbox, the
        round's stages run. Returns the effects emitted, split by destination range, and
        after the day's last round the day's record of this range (else None)."""
        if r == 0:
            self._begin_day(day)
        d = self.d
        for kind, parts in inbox.items():
            d.inbox[kind] = join(d.inbox.get(kind), pt.merge(kind, parts))
        run_stages(d, self.rounds[r])
        out = {}
        for kind, record in d.outbox.items():
            out[kind] = pt.route(kind, record, self.bounds)
            sent = sum(x[0].shape[0] for j, x in enumerate(out[kind]) if j != self.j)
            self.work[f"sent_{kind}"] = self.work.get(f"sent_{kind}", 0) + sent
        d.outbox.clear()
        if r < len(self.rounds) - 1:
            return out, None
        for key, amount in (("agent_days", self.span.hi - self.span.lo),
                            ("acts", int(d.record.acts.sum()))):
            self.work[key] = self.work.get(key, 0) + amount
        return out, d.record

    def final(self) -> dict[str, Any]:
        """This range's slice of every per-agent array, the firms rated here, the plan."""
        s, (_, lo, hi) = self.s, self.span
        out: dict[str, Any] = {}
        for f in fields(State):
            a = getattr(s, f.name)
            if f.name in NOT_PER_AGENT:
                out[f.name] = a.copy() if f.name != "firm_rating" else a[self.firms]
            else:
                out[f.name] = a[..., lo:hi].copy()
        out["firms"] = self.firms
        out["region"] = self.pop.people.region[lo:hi].copy()
        out["group"] = self.pop.people.group[lo:hi].copy()
        out["plan"] = self.plan
        out["work"] = dict(self.work)
        return out

    def outside_untouched(self) -> bool:
        """True when no agent outside [lo, hi) has been touched here: its state is still the
        initial state (every effect on it went out as a message)."""
        fresh = self.sim.prepare(self.pop)[2]
        _, lo, hi = self.span
        for f in fields(State):
            a, b = getattr(self.s, f.name), getattr(fresh, f.name)
            if f.name in NOT_PER_AGENT:
                continue
            if a.shape[-1:] and (not np.array_equal(a[..., :lo], b[..., :lo])
                                 or not np.array_equal(a[..., hi:], b[..., hi:])):
                return False
        others = np.setdiff1d(np.arange(self.s.firm_rating.shape[0]), self.firms)
        return bool(np.all(self.s.firm_rating[others] == self.plan.scoring.initial))
