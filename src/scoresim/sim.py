"""One run: build the population, loop the days (applying the timeline), account."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .engine.compile import Names, Params, compile_params, names_of
from .engine.day import TIMED, run_day
from .engine.stages.sanction import recount_visible_ties
from .engine.state import State, init_state
from .population import Network, People, build_network, build_people
from .results.accounts import daily_row, final_metrics, overseas_metrics
from .scenario import Scenario, load_scenario, scenario_hash
from .scenario.timeline import plan_timeline

Progress = Callable[[int, int], None]


@dataclass
class Population:
    """A built population: the agents and their network (reusable across runs of one seed)."""

    people: People
    network: Network
    build_seconds: float

    @property
    def n(self) -> int:
        return self.people.n

    def nbytes(self) -> int:
        return self.people.nbytes() + self.network.nbytes()


def build_population(scenario: Scenario, agents: int, seed: int) -> Population:
    t0 = time.perf_counter()
    people = build_people(scenario, agents, seed)
    network = build_network(scenario, people, seed)
    return Population(people, network, time.perf_counter() - t0)


@dataclass
class Results:
    summary: dict[str, Any]
    daily: pd.DataFrame
    scenario: Scenario
    profile: pd.DataFrame | None = None
    state: State | None = field(default=None, repr=False)
    # the same population and seed with scoring off, when the run carries its counterfactual
    # (scoresim.experiments.run_with_counterfactual); the chilling effect is measured against it
    counterfactual: Results | None = field(default=None, repr=False)

    def plot(self, path: str | Path | None = None) -> Any:
        """An overview figure (a matplotlib Figure) of the run; saved to ``path`` if given.

        Imported lazily: plotting belongs to the report floor, which a plain run never needs.
        """
        from .report.plots import overview

        fig = overview(self.summary, self.daily,
                       None if self.counterfactual is None else self.counterfactual.daily)
        if path is not None:
            fig.savefig(path, dpi=100, bbox_inches="tight")
        return fig


class Sim:
    """One simulation: ``Sim(scenario, agents=..., days=..., seed=...).run()``."""

    def __init__(
        self,
        scenario: Scenario | str | Path | dict = "default",
        agents: int = 100_000,
        days: int = 365,
        seed: int = 0,
        overrides: Sequence[str] | dict[str, Any] | None = None,
        scoring: bool = True,
        profile: bool = False,
        population: Population | None = None,
    ):
        if agents < 1:
            raise ValueError("agents must be at least 1")
        if days < 0:
            raise ValueError("days must be >= 0")
        if not 0 <= seed < 2**63:
            raise ValueError("seed must be in [0, 2**63)")
        self.scenario = load_scenario(scenario, overrides)
        self.agents, self.days, self.seed = int(agents), int(days), int(seed)
        self.scoring, self.profile = scoring, profile
        self.population = population
        self._timeline = plan_timeline(self.scenario)  # checked before anything runs

    def _compile_plans(self, max_prop: np.ndarray, n_sanctions: int,
                       group_count: int) -> dict[int, Params]:
        """Parameters from day 0 and from each change day. Optional state (minimum-duration
        clocks, appeals) is laid out once for the whole run, so a change can switch it on."""
        plans = {0: self.scenario, **self._timeline}
        compiled = {d: compile_params(sc, max_prop, self.scoring, group_count)
                    for d, sc in plans.items()}
        track_since = any(bool(np.any(p.s_min_days > 0)) for p in compiled.values())
        rows = np.arange(n_sanctions) if track_since else np.full(n_sanctions, -1)
        return {d: replace(p, s_min_row=rows.astype(np.int64)) for d, p in compiled.items()}

    def prepare(self, pop: Population) -> tuple[Names, dict[int, Params], State]:
        """The names, the parameters from each change day on, and a fresh state."""
        people, net = pop.people, pop.network
        max_prop = (people.propensity.max(axis=1) if people.propensity.shape[0]
                    else np.zeros(0, np.float32))
        nm = names_of(self.scenario)
        plans = self._compile_plans(max_prop, len(nm.sanctions), int(net.group_off[-1]))
        params = plans[0]
        state = init_state(people.n, params, len(nm.lists), len(nm.sanctions),
                           since_rows=int(np.sum(params.s_min_row >= 0)),
                           appeals=any(p.appeals for p in plans.values()),
                           ratings=any(bool(p.g_rating_weight.any()) for p in plans.values()),
                           n_groups=len(people.group_names))
        return nm, plans, state

    def run(self, progress: Progress | None = None) -> Results:
        t0 = time.perf_counter()
        pop = self.population or build_population(self.scenario, self.agents, self.seed)
        people, net = pop.people, pop.network
        nm, plans, state = self.prepare(pop)
        params = plans[0]
        t1 = time.perf_counter()
        rows, stage_times = [], []
        for day in range(self.days):
            if day in self._timeline and day > 0:
                before, params = params, plans[day]
                if params.visible_bits != before.visible_bits:
                    recount_visible_ties(params, net, state)
            counts = run_day(day, self.seed, params, people, net, state, self.profile)
            rows.append(daily_row(day, counts, nm))
            if self.profile:
                stage_times.append({"day": day, **counts.stage_seconds})
            if progress is not None:
                progress(day + 1, self.days)
        t2 = time.perf_counter()
        daily = pd.DataFrame(rows)
        summary = self._summary(pop, nm, params, state, rows, t0, t1, t2)
        profile = None
        if self.profile:
            profile = pd.DataFrame(stage_times, columns=["day", *TIMED]).fillna(0.0)
        return Results(summary, daily, self.scenario, profile, state)

    def _summary(self, pop: Population, nm: Names, params: Params, state: State, rows: list,
                 t0: float, t1: float, t2: float) -> dict[str, Any]:
        n = pop.n
        agent_days = n * self.days
        return {
            "scenario": self.scenario.name,
            "scenario_hash": scenario_hash(self.scenario),
            "agents": n,
            "days": self.days,
            "seed": self.seed,
            "scoring": params.scoring_enabled,
            "version": __version__,
            "wall_seconds": round(t2 - t0, 4),
            "build_seconds": round(pop.build_seconds, 4),
            "run_seconds": round(t2 - t1, 4),
            "agent_days_per_second": agent_days / (t2 - t1) if t2 > t1 else None,
            "bytes_per_agent": (pop.nbytes() + state.nbytes()) / max(n, 1),
            "network": {
                name: {"mean_degree": d} for name, d in pop.network.mean_degree().items()
            },
            "groups": nm.groups,
            "final": final_metrics(state, pop.people.group, nm, rows),
            **({"overseas": overseas_metrics(
                state, pop.people.region, pop.people.group, params.r_abroad, params.g_enrolled,
                nm, rows)} if self.scenario.overseas else {}),
        }
