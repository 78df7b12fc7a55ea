"""One partition of a population: the agents [lo, hi) of one run, held by one Ray actor.

The worker runs the day's stages (engine/day.py) on its range, one exchange round at a time
(``engine.day.rounds``): it takes the effects the other ranges sent it, runs the round's
stages, and returns the effects its stages emitted, split by destination range. It holds no
model logic of its own. Plain Python (Ray wraps it), so it can be tested without a cluster.

Memory: the worker holds its range alone (core/memory.py): its people's traits, the tie rows
of its agents (the ties other ranges start toward them are drawn again from the same
counter-based draws), the group layers of the regions its range reaches, and the state of its
agents. Every array keeps the whole population's shape, so kernels index agents by their
global number; an agent outside the range is mapped with no access, and touching it would
fault. Region and group are kept for everyone (2 bytes an agent): effects name agents
anywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.memory import Window
from ..engine import partitions as pt
from ..engine.context import Day, Span, join
from ..engine.day import rounds, run_stages
from ..engine.record import DayRecord
from ..scenario import Scenario
from ..sim import Sim, accounts_of, build_population

Inbox = dict[str, list[Any]]  # kind -> the records every range sent here, in range order


class PartitionWorker:
    """A partition's state and its part of each round; ``setup`` (re)starts it on a run, so
    one actor can serve several runs in turn. Given a run's arguments (those of ``setup``),
    it starts on that run at once."""

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
        self.bounds = np.asarray(bounds, np.int64)
        self.j = index
        lo, hi = int(bounds[index]), int(bounds[index + 1])
        self.window = Window(agents, lo, hi)
        self.pop = build_population(self.sim.scenario, agents, seed, self.window)
        self.nm, self.plans, self.s = self.sim.prepare(self.pop)
        self.plan = self.plans[0]
        self.span = Span(agents, lo, hi)
        self.firms = (np.flatnonzero(pt.firm_owners(self.pop.network, self.bounds) == index)
                      if self.s.firm_rating.shape[0] else np.zeros(0, np.int64))
        self.seed = seed
        self.work: dict[str, int] = {}  # effects this range sent elsewhere (for tests)

    def info(self) -> dict[str, Any]:
        """What the driver's summary needs of the population, and what this actor holds."""
        return {"lo": self.span.lo, "hi": self.span.hi, "pop_bytes": self.pop.nbytes(),
                "state_bytes": self.s.nbytes(self.window),
                "network": self.pop.network_counts(), "peak_rss": peak_rss(),
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
            away = [x for j, x in enumerate(out[kind]) if j != self.j]
            self._count(f"sent_{kind}", sum(x[0].shape[0] for x in away))
            self._count("sent_bytes", sum(sum(a.nbytes for a in x) for x in away))
        d.outbox.clear()
        if r < len(self.rounds) - 1:
            return out, None
        self._count("agent_days", self.span.hi - self.span.lo)
        self._count("acts", int(d.record.acts.sum()))
        return out, d.record

    def _count(self, key: str, amount: int) -> None:
        self.work[key] = self.work.get(key, 0) + int(amount)

    def final(self) -> dict[str, Any]:
        """This range's accounts (integer totals: the driver adds them up), the plan in force
        at the end, what it sent, and its peak memory."""
        return {"accounts": accounts_of(self.pop, self.s, self.nm, self.plan),
                "plan": self.plan, "work": dict(self.work), "peak_rss": peak_rss(),
                "held_bytes": self.pop.nbytes() + self.s.nbytes(self.window)}


def peak_rss() -> int:
    """This process's peak resident memory so far, in bytes."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
