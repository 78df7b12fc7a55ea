"""Shared fixtures for the engine tests: minimal scenarios, prepared stage inputs, tolerances.

Every population here is SYNTHETIC. Seeds are fixed; statistical tolerances are 5 standard
errors, so a correct engine fails a given check about once in 3.5 million runs.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from scoresim import Sim, build_population, load_scenario
from scoresim.engine.compile import Names, Plan, compile_plan, names_of
from scoresim.engine.state import State, init_state
from scoresim.scenario import Scenario
from scoresim.sim import Population

Z = 5.0  # standard errors allowed in every statistical check

# summary fields that measure the machine, not the model
TIMING_FIELDS = ("wall_seconds", "build_seconds", "run_seconds", "agent_days_per_second")

DELETE = object()  # a value in minimal_scenario's overrides that removes the key


def deep_merge(base: dict, over: dict) -> dict:
    """``base`` with ``over`` merged in, recursively (mappings merge, other values replace)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if v is DELETE:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def minimal_scenario(**over: Any) -> dict:
    """The smallest useful scenario: one region, one group, no layers, one behaviour ``bad``
    (rate 0.01) seen by a records channel that sees every act, no points, no responses.
    Keyword arguments are deep-merged in (``DELETE`` removes a key)."""
    base = {
        "name": "minimal",
        "population": {"regions": {"all": {"share": 1.0}}},
        "channels": {"rec": {"observe": 1.0}},
        "behaviours": {"bad": {"rate": 0.01, "channel": "rec"}},
        "scoring": {"initial": 1000, "recovery_per_day": 0.0, "rules": {}},
    }
    return deep_merge(base, over)


@dataclass
class Prepared:
    """Everything a stage function takes, built the way Sim.run builds it."""

    scenario: Scenario
    pop: Population
    params: Plan
    state: State
    names: Names

    @property
    def n(self) -> int:
        return self.pop.n

    @property
    def people(self):
        return self.pop.people

    @property
    def net(self):
        return self.pop.network


def prepare(scenario: dict | str, agents: int, seed: int = 0, scoring: bool = True) -> Prepared:
    sc = load_scenario(scenario)
    pop = build_population(sc, agents, seed)
    params = compile_plan(sc, pop.people.max_propensity, scoring, int(pop.network.group_off[-1]))
    nm = names_of(sc)
    state = init_state(pop.n, params, len(nm.lists), len(nm.sanctions),
                       n_groups=len(pop.people.group_names),
                       tie_slots=int(pop.network.tie_indices.shape[0]))
    return Prepared(sc, pop, params, state, nm)


def one_day(day: int, seed: int, plan: Plan, pop: Population, state: State, names: Names,
            previous: Plan | None = None):
    """Run one day of the whole population in one process; returns its ``DayRecord``."""
    from scoresim.engine.context import Day, Span
    from scoresim.engine.day import run_day
    from scoresim.engine.record import DayRecord

    d = Day(day, seed, plan, previous, pop.people, pop.network, state,
            Span(pop.n, 0, pop.n), DayRecord.zeros(names))
    run_day(d)
    return d.record


def run_sim(scenario: dict | str, agents: int, days: int, seed: int = 0, **kw: Any):
    return Sim(scenario, agents=agents, days=days, seed=seed, **kw).run()


def assert_near(observed: float, expected: float, se: float, what: str = "") -> None:
    """|observed - expected| <= Z standard errors (plus a hair for float rounding)."""
    tol = Z * se + 1e-9 * max(1.0, abs(expected))
    assert abs(observed - expected) <= tol, (
        f"{what}: observed {observed!r}, expected {expected!r} +- {tol:.4g} "
        f"({(observed - expected) / se if se > 0 else math.inf:+.2f} SE)"
    )


def assert_binomial(count: int, trials: float, p: float, what: str = "") -> None:
    """``count`` is consistent with Binomial(trials, p)."""
    assert_near(count, trials * p, math.sqrt(max(trials * p * (1 - p), 1e-12)), what)


def chi_square_bound(df: int) -> float:
    """An upper bound for a chi-square statistic with ``df`` degrees of freedom that a correct
    sampler exceeds with probability of order 1e-6 (Wilson-Hilferty at z = 5)."""
    z = Z
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def binom_pmf(k: int, n: int, p: float) -> float:
    return math.comb(n, k) * p**k * (1 - p) ** (n - k)


def layer_members(net, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """A group layer's members in group order, and its group sizes, read through the
    Network's storage contract: member position k is ``group_members[k - member_base]``, and
    positions below ``member_base`` are the agents themselves (households stored as runs)."""
    lo, hi = int(net.group_off[layer]), int(net.group_off[layer + 1])
    pos = np.arange(net.group_start[lo], net.group_start[hi], dtype=np.int64)
    base = int(getattr(net, "member_base", 0))
    members = np.where(pos < base, pos, 0)
    past = pos >= base
    members[past] = net.group_members[pos[past] - base]
    return members, np.diff(net.group_start[lo : hi + 1]).astype(np.int64)


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def scenario():
    """``scenario(**overrides)``: a minimal scenario dict (see minimal_scenario)."""
    return minimal_scenario


@pytest.fixture
def prepared():
    """``prepared(scenario, agents, seed=0, scoring=True)``: population, params and state."""
    return prepare


@pytest.fixture
def sim():
    """``sim(scenario, agents, days, seed=0, **kw)``: Sim(...).run()."""
    return run_sim


@pytest.fixture(scope="session")
def default_population():
    """The built-in default scenario's population: 200,000 agents, seed 3 (built once)."""
    sc = load_scenario("default")
    return sc, build_population(sc, 200_000, 3)


# ---------------------------------------------------------------- one stage at a time
# Each stage on a prepared population, the whole population as its range (tests call the
# stages' functions directly where that isolates them).
def _span(pp: Prepared):
    from scoresim.engine.context import Span

    return Span(pp.n, 0, pp.n)


def act_of(pp: Prepared, day: int, seed: int, caution=None, list_state=None):
    """(agent, behaviour, acts per behaviour) of one day."""
    from scoresim.engine.context import DayKey
    from scoresim.engine.stages.act import act

    s = pp.state
    return act(_span(pp), DayKey(seed, day), pp.params.act, pp.people.propensity,
               s.caution if caution is None else caution,
               s.list_state if list_state is None else list_state)


def observe_of(pp: Prepared, agent, beh, day: int, seed: int):
    """(target, status) of these acts."""
    from scoresim.engine.context import DayKey
    from scoresim.engine.stages.observe import observe

    return observe(agent, beh, DayKey(seed, day), pp.params.observe, pp.people.arrays)[:2]


def observe_all(pp: Prepared, day: int, seed: int):
    """(agent, behaviour, target, status) of a day's acts, observed."""
    agent, beh, _ = act_of(pp, day, seed)
    target, status = observe_of(pp, agent, beh, day, seed)
    return agent, beh, target, status


def score_of(pp: Prepared, agent, beh, target, status, day: int, plan: Plan | None = None,
             state: State | None = None, seed: int = 0):
    """(penalties, counts) of attributed acts."""
    from scoresim.engine.context import DayKey
    from scoresim.engine.stages.score import Acts, score_and_list

    p = plan or pp.params
    st = (state or pp.state).arrays
    return score_and_list(Acts(agent, beh, target, status), DayKey(seed, day), _span(pp),
                          p.score, p.lists, pp.people.region, st)


def spill_of(pp: Prepared, pen_agent, pen_points, day: int = 0, expression=None) -> int:
    """Spill these penalties on ``day``; returns the number of spilled penalties."""
    from scoresim.engine.stages.score import Penalties
    from scoresim.engine.stages.spill import spill

    k = pen_agent.shape[0]
    expr = np.zeros(k, np.bool_) if expression is None else np.asarray(expression, np.bool_)
    pen = Penalties(pen_agent, pen_points, np.arange(k, dtype=np.int64), expr)
    got, _ = spill(pen, day, _span(pp), pp.params.spill, pp.net.groups, pp.net.ties,
                   pp.people.region, pp.state.arrays)
    return got


def recover_of(pp: Prepared, state: State | None = None):
    """Recover one day; returns the busy agents and the scores' row of counts."""
    from scoresim.engine.stages.recover import recover

    p = pp.params
    return recover(_span(pp), p.scoring, p.sanction, (state or pp.state).arrays)


def sanction_of(pp: Prepared, day: int, seed: int, state: State | None = None) -> dict:
    """The sanction stage of one day (its busy agents found as recover finds them, without
    recovering): the counts by name."""
    from scoresim.engine.context import DayKey
    from scoresim.engine.stages.busy import busy_agents
    from scoresim.engine.stages.sanction import sanction_own, settle

    s, p = state or pp.state, pp.params
    busy, _ = busy_agents(_span(pp), p.scoring, p.sanction, s.arrays, 0)
    own = sanction_own(DayKey(seed, day), p.sanction, p.lists, pp.net.groups, s.arrays, busy,
                       len(pp.people.group_names))
    s.reached, counts, _ = settle(day, _span(pp), p.sanction, pp.net.ties, s.arrays,
                                  s.reached, own.changed, own.reach, pp.people.group)
    return {"appeals_won": own.appeals_won, "listings": own.listings,
            "expiries": own.expiries, "listed_now": own.listed_now,
            "activations": counts.activations, "new_people": counts.new_people,
            "by_cause": counts.by_cause, "new_by_cause": counts.new_by_cause}


def service_counts_of(pp: Prepared, day: int, seed: int, state: State | None = None):
    """The services' counts of one day (requests, denials, blocked, switched)."""
    from scoresim.engine.context import DayKey
    from scoresim.engine.stages.services import Asker, use_services

    s = state or pp.state
    who = Asker(pp.people.group, pp.people.propensity, s.eff_mask, s.blocked)
    return use_services(_span(pp), DayKey(seed, day), pp.params.services, who,
                        len(pp.people.group_names))


def services_of(pp: Prepared, day: int, seed: int, state: State | None = None):
    """(requests, denials) per service and group of one day."""
    c = service_counts_of(pp, day, seed, state)
    return c.requests, c.denied


def respond_of(pp: Prepared, state: State | None = None):
    """The respond stage of one day; returns its counts (``Responded``)."""
    from scoresim.engine.stages.respond import respond

    p = pp.params
    return respond(_span(pp), p.respond, p.scoring.grade_bounds.shape[0], pp.net.ties,
                   (state or pp.state).arrays, pp.people.arrays)
