"""One run: build the population, loop the days (applying the timeline), account."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .core.memory import Window
from .core.version import __version__
from .engine.compile import Names, Plan, compile_plan, for_the_run, names_of
from .engine.context import Day, Span
from .engine.day import STAGE_NAMES, run_day, stage_table
from .engine.record import DayRecord
from .engine.state import State, init_state
from .network import network_summary
from .population import Network, People, build_network, build_people
from .results.accounts import account, final_metrics, overseas_metrics
from .results.columns import daily_row
from .scenario import Scenario, load_scenario, scenario_hash
from .scenario.timeline import plan_timeline

Progress = Callable[[int, int], None]


@dataclass
class Population:
    """A built population: the agents and their network (reusable across runs of one seed)."""

    people: People
    network: Network
    build_seconds: float
    # the agents this population holds in memory (a partition's range; default everyone)
    window: Window | None = None
    _network_summary: dict | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        """The number of agents (of the whole population, in a partition too)."""
        return self.people.n

    @property
    def span(self) -> Span:
        """The agents held, as kernels take them."""
        w = self.window or Window(self.n, 0, self.n)
        return Span(self.n, w.lo, min(w.hi, self.n))

    def nbytes(self) -> int:
        """Bytes held by the people and their network (of its range, in a partition)."""
        return self.people.nbytes(self.window) + self.network.nbytes()

    def network_summary(self) -> dict[str, dict[str, Any]]:
        """summary.json's ``network``: each layer's mean degree and, for tie layers, the
        realised share of each group's ties within the group and within the region."""
        if self._network_summary is None:
            self._network_summary = network_summary([self.network_counts()], self.n,
                                                    self.people.group_names)
        return self._network_summary

    def network_counts(self) -> dict:
        """The integer totals of ``network_summary`` over the network's range."""
        return self.network.counts()


def build_population(scenario: Scenario, agents: int, seed: int,
                     window: Window | None = None) -> Population:
    """The synthetic people of a scenario and their network. ``window``: the range of agents
    to hold (a partition's, core/memory.py; default everyone): the build is the same draw for
    draw, but only the range's traits, tie rows and state are kept."""
    t0 = time.perf_counter()
    people = build_people(scenario, agents, seed, window)
    network = build_network(scenario, people, seed, window)
    return Population(people, network, time.perf_counter() - t0, window)


@dataclass
class Results:
    """What one run produced.

    Attributes:
        summary: summary.json's contents: the run's settings, timings, network and final
            metrics.
        daily: one row per day of the day's counts and levels.
        scenario: the scenario run (validated, overrides applied).
        profile: seconds per stage per day, when the run was profiled.
        state: the agents' state at the end of the run (None for a partitioned run).
        counterfactual: the same people and seed with scoring off, when the run carries it.
    """

    summary: dict[str, Any]
    daily: pd.DataFrame
    scenario: Scenario
    profile: pd.DataFrame | None = None
    state: State | None = field(default=None, repr=False)
    # the same population and seed with scoring off, when the run carries its counterfactual
    # (scoresim.experiments.run_with_counterfactual); the chilling effect is measured against it
    counterfactual: Results | None = field(default=None, repr=False)

    # set by the package's API (scoresim/__init__.py): plotting is the report floor's, above
    # this one, so a run never imports it
    plotter: ClassVar[Callable[[Results, str | Path | None], Any] | None] = None

    def plot(self, path: str | Path | None = None) -> Any:
        """An overview figure (a matplotlib Figure) of the run; saved to ``path`` if given."""
        if Results.plotter is None:
            raise RuntimeError("plotting needs the report module: import scoresim first")
        return Results.plotter(self, path)


class Sim:
    """One simulation: ``Sim(scenario, agents=..., days=..., seed=...).run()``.

    Args:
        scenario: a Scenario, a built-in scenario's name, a YAML file or a mapping.
        agents: the number of synthetic agents.
        days: the number of days simulated.
        seed: the seed every random draw comes from, in [0, 2**63).
        overrides: ``--set``-style overrides (``"path=value"`` texts, or a mapping of path to
            value) applied to the scenario.
        scoring: False runs the same people with the scoring system switched off.
        profile: time each stage of each day (``Results.profile``).
        population: a population already built for this scenario and seed, to reuse.

    Raises:
        ValueError: agents, days or seed out of range.
        ScenarioError: the scenario or an override is invalid.
    """

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
                       firms: int) -> dict[int, Plan]:
        """The plan from day 0 and from each change day. Optional state (minimum-duration
        clocks, appeals) is laid out once for the whole run, so a change can switch it on."""
        plans = {0: self.scenario, **self._timeline}
        return for_the_run({d: compile_plan(sc, max_prop, self.scoring, firms)
                            for d, sc in plans.items()})

    def prepare(self, pop: Population) -> tuple[Names, dict[int, Plan], State]:
        """The names, the plan from each change day on, and a fresh state."""
        people, net = pop.people, pop.network
        max_prop = people.max_propensity
        nm = names_of(self.scenario)
        plans = self._compile_plans(max_prop, len(nm.sanctions), int(net.group_off[-1]))
        plan = plans[0]
        state = init_state(people.n, plan, len(nm.lists), len(nm.sanctions), window=pop.window,
                           since_rows=int(np.sum(plan.sanction.min_row >= 0)),
                           appeals=any(p.sanction.appeals for p in plans.values()),
                           ratings=any(bool(p.rating.weight.any()) for p in plans.values()),
                           paths=any(bool(np.any(p.sanction.on_list < 0)) or p.sanction.appeals
                                     for p in plans.values()),
                           n_groups=len(people.group_names),
                           tie_slots=int(net.tie_indices.shape[0]))
        return nm, plans, state

    @property
    def stages(self) -> pd.DataFrame:
        """The day's stages in order: what each reads, writes, receives and emits, and in
        which exchange round it runs on day 0 of this simulation (0: it does not run)."""
        sc = self.scenario
        nm = names_of(sc)
        plan = compile_plan(sc, np.ones(len(nm.traits)), self.scoring)
        return stage_table(Day(0, self.seed, plan, None, None, None, None, Span(0, 0, 0), None))

    def run(self, progress: Progress | None = None) -> Results:
        """Build the population (unless given), run every day and return the Results.

        Args:
            progress: called with (days done, days) after each day.
        """
        t0 = time.perf_counter()
        pop = self.population or build_population(self.scenario, self.agents, self.seed)
        people, net = pop.people, pop.network
        nm, plans, state = self.prepare(pop)
        plan = plans[0]
        span = pop.span
        t1 = time.perf_counter()
        rows, stage_times = [], []
        for day in range(self.days):
            previous = None
            if day in self._timeline and day > 0:
                previous, plan = plan, plans[day]
            d = Day(day, self.seed, plan, previous, people, net, state, span,
                    DayRecord.zeros(nm))
            seconds = run_day(d, self.profile)
            rows.append(daily_row(day, d.record, nm, people.n))
            if self.profile:
                stage_times.append({"day": day, **seconds})
            if progress is not None:
                progress(day + 1, self.days)
        t2 = time.perf_counter()
        daily = pd.DataFrame(rows)
        summary = self._summary(pop, nm, plan, state, rows, t0, t1, t2)
        profile = None
        if self.profile:
            profile = pd.DataFrame(stage_times, columns=["day", *STAGE_NAMES]).fillna(0.0)
        return Results(summary, daily, self.scenario, profile, state)

    def _summary(self, pop: Population, nm: Names, plan: Plan, state: State, rows: list,
                 t0: float, t1: float, t2: float, acc: dict | None = None) -> dict[str, Any]:
        """summary.json of a run (``acc``: the accounts of every range, when not this
        population's alone)."""
        n = pop.n
        acc = accounts_of(pop, state, nm, plan) if acc is None else acc
        agent_days = n * self.days
        return {
            "scenario": self.scenario.name,
            "scenario_hash": scenario_hash(self.scenario),
            "agents": n,
            "days": self.days,
            "seed": self.seed,
            "scoring": plan.scoring_enabled,
            "version": __version__,
            "wall_seconds": round(t2 - t0, 4),
            "build_seconds": round(pop.build_seconds, 4),
            "run_seconds": round(t2 - t1, 4),
            "agent_days_per_second": agent_days / (t2 - t1) if t2 > t1 else None,
            "bytes_per_agent": (pop.nbytes() + state.nbytes()) / max(n, 1),
            "network": pop.network_summary(),
            "groups": nm.groups,
            **outcome(acc, n, nm, plan, rows),
        }


def accounts_of(pop: Population, state: State, nm: Names, plan: Plan) -> dict:
    """The integer totals of a run's final metrics, over the agents the population holds."""
    span = pop.span
    return account(state, pop.people, nm, plan.observe.abroad, plan.observe.enrolled,
                   span.lo, span.hi)


def outcome(acc: dict, n: int, nm: Names, plan: Plan, rows: list) -> dict[str, Any]:
    """summary.json's ``final`` (and ``overseas``) from the accounts of every range."""
    out: dict[str, Any] = {"final": final_metrics(acc, n, nm, rows)}
    if "overseas" in acc:
        out["overseas"] = overseas_metrics(acc, plan.observe.enrolled, nm, rows)
    return out
