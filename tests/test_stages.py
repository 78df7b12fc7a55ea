"""The engine's pieces on their own: counter-based draws and each stage of a day.

Stages are called directly on small prepared populations where that isolates them; timing
rules (grace, expiry, repayment) go through Sim with a timeline, which makes them exact.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numba as nb
import numpy as np
import pytest

from conftest import (
    DELETE,
    Z,
    assert_binomial,
    assert_near,
    chi_square_bound,
    deep_merge,
    minimal_scenario,
    observe_all,
    prepare,
    run_sim,
)
from conftest import act_of as act
from conftest import recover_of as recover
from conftest import respond_of as respond
from conftest import sanction_of as sanction
from conftest import score_of as score_and_list
from conftest import services_of as use_services
from conftest import spill_of as spill
from scoresim.core import rng
from scoresim.core.constants import FIXED, NEVER
from scoresim.engine.measure import CAUTION_UNIT
from scoresim.engine.stages.observe import (
    ALERT,
    DISMISSED,
    FALSE,
    OBSERVED,
)
from scoresim.engine.state import (
    ASSOC_PENALISED,
    COMMITTED,
    EVER_ASSOC,
    EVER_FALSE,
    EVER_OWN,
    EVER_SANCTIONED,
    FALSE_ATTRIBUTED,
    PENALISED_TODAY,
    SANCTIONED_TODAY,
)

SEED = 20240611


# ================================================================ rng
@nb.njit
def _draws(seed, day, stage, sub, n, draw, start):
    key = rng.stream(seed, day, stage, sub)
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(key, start + i, draw)
    return out


M = 1_000_000


def test_rng_same_key_same_value():
    a = _draws(7, 3, rng.ACT, 2, 1000, 0, 0)
    b = _draws(7, 3, rng.ACT, 2, 1000, 0, 0)
    np.testing.assert_array_equal(a, b)
    assert _draws(7, 3, rng.ACT, 2, 5, 0, 11)[0] == a[11]  # the same draw at another offset
    assert np.all((a >= 0) & (a < 1))
    key = rng.stream(7, 3, rng.ACT, 2)
    assert rng.stream(7, 3, rng.ACT, 2) == key
    assert rng.uniform(np.uint64(key), 11, 0) == a[11]


def test_rng_python_caller_gets_the_kernel_value():
    """A draw is a pure function of its key, whoever asks: a Python caller (a partition
    coordinator, a test) that passes the key stream() returned gets the kernel's number."""
    a = _draws(7, 3, rng.ACT, 2, 2000, 0, 0)
    key = rng.stream(7, 3, rng.ACT, 2)  # boxed by Numba as a Python int
    got = np.array([rng.uniform(key, i, 0) for i in range(2000)])
    assert_near(got.mean(), 0.5, math.sqrt(1 / 12 / 2000), "mean of Python-called draws")
    np.testing.assert_array_equal(got, a)


def test_rng_uniform_moments_and_histogram():
    u = _draws(12345, 17, rng.OBSERVE, 0, M, 0, 0)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert_near(u.mean(), 0.5, math.sqrt(1 / 12 / M), "mean")
    assert_near(u.var(), 1 / 12, math.sqrt((1 / 80 - 1 / 144) / M), "variance")
    bins = np.bincount((u * 100).astype(np.int64), minlength=100)
    chi2 = float(np.sum((bins - M / 100) ** 2 / (M / 100)))
    assert chi2 < chi_square_bound(99), f"chi-square {chi2:.1f} over 100 bins"
    # pairs of successive draws fill the unit square evenly (10 x 10 cells)
    cells = np.bincount((u[0::2] * 10).astype(np.int64) * 10 + (u[1::2] * 10).astype(np.int64),
                        minlength=100)
    chi2 = float(np.sum((cells - M / 200) ** 2 / (M / 200)))
    assert chi2 < chi_square_bound(99), f"pair chi-square {chi2:.1f}"


# (seed, day, stage, sub, draw, start) of a base stream and of variants of one key word each
_BASE = (5, 10, rng.ACT, 0, 0, 0)
_VARIANTS = {
    "seed+1": (6, 10, rng.ACT, 0, 0, 0),
    "day+1": (5, 11, rng.ACT, 0, 0, 0),
    "stage": (5, 10, rng.ACT_ACCEPT, 0, 0, 0),
    "sub+1": (5, 10, rng.ACT, 1, 0, 0),
    "draw+1": (5, 10, rng.ACT, 0, 1, 0),
    "index+1": (5, 10, rng.ACT, 0, 0, 1),
    "seed+2**32": (5 + 2**32, 10, rng.ACT, 0, 0, 0),
}


@pytest.mark.parametrize("variant", sorted(_VARIANTS))
def test_rng_different_keys_are_uncorrelated(variant):
    a = _draws(*_BASE[:4], M, _BASE[4], _BASE[5])
    s, d, st, sub, draw, start = _VARIANTS[variant]
    b = _draws(s, d, st, sub, M, draw, start)
    corr = float(np.corrcoef(a, b)[0, 1])
    assert abs(corr) < Z / math.sqrt(M), f"{variant}: correlation {corr:.5f}"
    # and no shared values, as a shifted or equal stream would have
    assert np.count_nonzero(a == b) == 0
    # their difference mod 1 is uniform too (catches a constant offset between streams)
    diff = np.mod(a - b, 1.0)
    assert_near(diff.mean(), 0.5, math.sqrt(1 / 12 / M), f"{variant}: mean of difference")


# ================================================================ act
def _act_days(pp, days, caution=None, list_state=None, seed=SEED):
    """Acts over several days: (list of (agent, beh) per day, per-behaviour totals)."""
    s = pp.state
    cz = s.caution if caution is None else caution
    ls = s.list_state if list_state is None else list_state
    out, totals = [], np.zeros(len(pp.names.behaviours), np.int64)
    for day in range(days):
        agent, beh, per = act(pp, day, seed, cz, ls)
        assert per.sum() == len(agent) == len(beh)
        out.append((agent, beh))
        totals += per
    return out, totals


def test_act_count_is_binomial():
    n, T, p = 200_000, 5, 0.01
    pp = prepare(minimal_scenario(behaviours={"bad": {"rate": p}}), n)
    days, totals = _act_days(pp, T)
    assert_binomial(int(totals[0]), n * T, p, "acts")
    for agent, beh in days:
        assert np.all(np.diff(agent) > 0), "one act per agent, behaviour and day, in order"
        assert np.all(beh == 0)
        assert_binomial(len(agent), n, p, "acts in one day")
    # different days give different acts (keys include the day)
    assert not np.array_equal(days[0][0][:100], days[1][0][:100])


def test_act_is_uniform_over_agents_and_block_positions():
    """Candidates come in fixed blocks of agents: no position in a block may be favoured."""
    from scoresim.engine.stages.candidates import BLOCK

    n, T, p = BLOCK * 10 + 123, 20, 0.05
    pp = prepare(minimal_scenario(behaviours={"bad": {"rate": p}}), n)
    days, totals = _act_days(pp, T)
    per_agent = np.zeros(n, np.int64)
    for agent, _ in days:
        per_agent[agent] += 1
    # position within the block, 64 bins of 64 agents (full blocks only)
    full = per_agent[: BLOCK * 10].reshape(10, 64, BLOCK // 64).sum(axis=(0, 2))
    exp = T * p * 10 * BLOCK / 64
    chi2 = float(np.sum((full - exp) ** 2 / exp))
    assert chi2 < chi_square_bound(63), f"block-position chi-square {chi2:.1f}"
    # the very first and last agents of blocks, and the short last block
    assert_binomial(int(per_agent[: BLOCK * 10 : BLOCK].sum()), 10 * T, p, "first of block")
    assert_binomial(int(per_agent[BLOCK - 1 : BLOCK * 10 : BLOCK].sum()), 10 * T, p,
                    "last of block")
    assert_binomial(int(per_agent[BLOCK * 10 :].sum()), 123 * T, p, "short last block")
    # per-agent counts ~ Binomial(T, p): the share never acting
    assert_binomial(int(np.sum(per_agent == 0)), n, (1 - p) ** T, "agents who never act")


def test_act_two_behaviours_are_ordered_and_independent():
    n = 100_000
    pp = prepare(minimal_scenario(behaviours={"bad": {"rate": 0.02},
                                              "good": {"rate": 0.03, "channel": "rec"}}), n)
    (agent, beh), = _act_days(pp, 1)[0]
    assert np.all(np.diff(beh.astype(np.int64)) >= 0), "ordered by behaviour"
    for b, rate in ((0, 0.02), (1, 0.03)):
        sel = agent[beh == b]
        assert np.all(np.diff(sel) > 0)
        assert_binomial(len(sel), n, rate, f"behaviour {b}")
    both = np.intersect1d(agent[beh == 0], agent[beh == 1])
    assert_binomial(len(both), n, 0.02 * 0.03, "agents doing both")


@pytest.mark.parametrize("rate", [0.02, 0.8])
def test_act_propensity_scales_the_rate(rate):
    """p = rate * trait / mean(trait), clipped to 1: expected acts are sum_i min(1, rate m_i)."""
    n, T = 100_000, 4
    pp = prepare(minimal_scenario(
        population={"traits": {"dissent": {"uniform": [0.0, 2.0]}}},
        behaviours={"bad": {"rate": rate, "propensity": "dissent"}}), n, seed=2)
    m = pp.people.propensity[0].astype(np.float64)
    assert_near(m.mean(), 1.0, math.sqrt(1 / 3 / n), "m is trait / mean(trait)")
    probs = np.minimum(1.0, rate * m)
    days, totals = _act_days(pp, T)
    var = T * float(np.sum(probs * (1 - probs)))
    assert_near(int(totals[0]), T * float(probs.sum()), math.sqrt(var), "acts")
    # the keen half acts more, as its own expectation says
    keen = m > 1.0
    count = sum(int(np.sum(keen[a])) for a, _ in days)
    pk = probs[keen]
    assert_near(count, T * pk.sum(), math.sqrt(T * np.sum(pk * (1 - pk))), "keen half's acts")


@pytest.mark.parametrize("deter", [0.8, -1.0])
def test_act_deterrability_and_caution(deter):
    n, T, rate, c = 200_000, 3, 0.02, 0.5
    pp = prepare(minimal_scenario(behaviours={"bad": {"rate": rate, "deterrability": deter}}), n)
    caution = np.zeros(n, np.float32)
    caution[1::2] = c  # odd agents are cautious
    days, _ = _act_days(pp, T, caution=caution)
    agents = np.concatenate([a for a, _ in days])
    odd = int(np.sum(agents % 2 == 1))
    even = len(agents) - odd
    assert_binomial(even, n // 2 * T, rate, "acts of agents without caution")
    assert_binomial(odd, n // 2 * T, rate * (1 - deter * c), "acts of cautious agents")


def test_act_probability_is_clipped():
    n = 10_000
    pp = prepare(minimal_scenario(behaviours={"bad": {"rate": 0.1, "deterrability": 1.0},
                                              "good": {"rate": 0.5, "channel": "rec",
                                                       "deterrability": -10}}), n)
    caution = np.ones(n, np.float32)
    (agent, beh), = _act_days(pp, 1, caution=caution)[0]
    assert np.count_nonzero(beh == 0) == 0, "deterrability 1 at full caution: no acts"
    np.testing.assert_array_equal(agent[beh == 1], np.arange(n))  # 0.5 * 11 -> 1


def test_act_requires_on_list_only_for_listed_or_pending():
    n = 5000
    pp = prepare(minimal_scenario(
        behaviours={"repay": {"rate": 1.0, "channel": "rec", "requires": {"on_list": "L"}},
                    "maybe": {"rate": 0.5, "channel": "rec", "requires": {"on_list": "L"}}},
        lists={"L": {"enter_on": "bad"}}), n)
    ls = np.zeros((1, n), np.int32)
    listed, pending = np.arange(10, 20), np.arange(3000, 3007)
    ls[0, listed] = 100  # listed until day 99
    ls[0, pending] = -5  # listing due on day 4
    (agent, beh), = _act_days(pp, 1, list_state=ls)[0]
    b = pp.names.behaviours
    assert np.count_nonzero(beh == b.index("bad")) > 0  # unconditioned behaviour is unaffected
    np.testing.assert_array_equal(agent[beh == b.index("repay")],
                                  np.sort(np.r_[listed, pending]))
    assert np.all(np.isin(agent[beh == b.index("maybe")], np.r_[listed, pending]))


def test_act_overflow_path_gives_the_same_acts(monkeypatch):
    """The act stage writes into pre-sized room and redoes the day when a task overflows it;
    forcing the redo (no room at all) must give exactly the same acts."""
    import scoresim.engine.stages.act as act_mod

    n = 30_000
    pp = prepare(minimal_scenario(behaviours={"bad": {"rate": 0.05},
                                              "good": {"rate": 0.5, "channel": "rec"}}), n)
    want, _ = _act_days(pp, 2)
    monkeypatch.setattr(act_mod, "_room",
                        lambda n, bound: np.zeros(len(bound) * ((n + 4095) // 4096), np.int64),
                        raising=False)
    got, _ = _act_days(pp, 2)
    for (a1, b1), (a2, b2) in zip(want, got, strict=True):
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(b1, b2)


# ================================================================ observe
def _observe_all(pp, day=0, seed=SEED):
    return observe_all(pp, day, seed)


def test_observation_probability_by_channel_region_and_group():
    """A camera captures an act with the region's coverage times the group's watch
    multiplier (capped); the face is then recognised with 1 - FNIR. A single watch multiplier
    applies to the camera channels only: online monitoring sees everyone alike."""
    n = 200_000
    pp = prepare(minimal_scenario(
        population={"regions": {"all": DELETE, "east": {"share": 0.4, "camera_coverage": 0.6},
                                "west": {"share": 0.6, "camera_coverage": 0.2}},
                    "groups": {"maj": {"share": 0.8},
                               "min": {"share": 0.2, "watch_multiplier": 3.0}}},
        channels={"cam": {"observe": "coverage", "recognition": 0.9},
                  "online": {"observe": 0.3}},
        behaviours={"bad": {"rate": 0.3, "channel": "cam"},
                    "post": {"rate": 0.3, "channel": "online"}}), n)
    agent, beh, target, status = _observe_all(pp)
    region, group = pp.people.region[agent], pp.people.group[agent]
    seen = (status & OBSERVED) != 0
    alert = (status & ALERT) != 0
    cam = beh == 0
    named = alert | (seen & ~cam)  # online knows whom it sees; a camera names its alerts
    np.testing.assert_array_equal(target[named], agent[named])
    assert np.all(target[~named] == -1) and not np.any(status & (FALSE | DISMISSED))
    assert not np.any(alert[~cam])
    cover, watch = (0.6, 0.2), (1.0, 3.0)
    for b, name in enumerate(pp.names.behaviours):
        for r in range(2):
            for g in range(2):
                sel = (beh == b) & (region == r) & (group == g)
                if name == "bad":  # camera: region coverage x watch (capped)
                    q = min(1.0, cover[r] * watch[g])
                    assert_binomial(int(np.sum(alert & sel)), int(np.sum(seen & sel)), 0.9,
                                    f"cam recognised in region {r} group {g}")
                else:  # online: a fixed probability, no camera multiplier
                    q = 0.3
                assert_binomial(int(np.sum(seen & sel)), int(sel.sum()), q,
                                f"{name} seen in region {r} group {g} (q={q:.3f})")


def test_observation_draws_are_independent_across_many_behaviours():
    """Each act has its own observation draws, however many behaviours a scenario declares
    (the schema sets no limit): with 70 behaviours seen with probability 1/2, whether agent
    i's act of behaviour 64 is seen must not repeat whether agent i+1's act of behaviour 0 is."""
    n, B = 2000, 70
    beh = {f"b{k}": {"rate": 1.0, "channel": "half"} for k in range(B)}
    pp = prepare(minimal_scenario(channels={"half": {"observe": 0.5}},
                                  behaviours={"bad": DELETE, **beh}), n)
    agent, b, _, status = _observe_all(pp)
    assert len(agent) == n * B
    seen = np.zeros((B, n), bool)
    seen[b.astype(np.int64), agent] = (status & OBSERVED) != 0
    for k in range(B):
        assert_binomial(int(seen[k].sum()), n, 0.5, f"behaviour {k} seen")
    same = np.mean(seen[64, :-1] == seen[0, 1:])
    assert_near(same, 0.5, np.sqrt(0.25 / (n - 1)), "agreement of unrelated sightings")


# ================================================================ score and list
def _score_setup():
    sc = minimal_scenario(
        behaviours={"bad": {"rate": 0.0}, "good": {"rate": 0.0, "channel": "rec"},
                    "prot": {"rate": 0.0, "channel": "rec"},
                    "fee": {"rate": 0.0, "channel": "rec"}},
        scoring={"rules": {"bad": -10, "good": 5, "prot": -7, "fee": -2.5}},
        lists={"L": {"enter_on": "bad", "grace_days": 2, "expire_days": 10}},
        safeguards={"protected": ["prot"]})
    return prepare(sc, 12)


def test_score_applies_points_to_the_attributed_agent():
    pp = _score_setup()
    s = pp.state
    bad, good, prot, fee = (pp.names.behaviours.index(x) for x in ("bad", "good", "prot", "fee"))
    O, F, D = OBSERVED, FALSE, DISMISSED
    agent = np.array([0, 1, 2, 3, 4, 5, 6], np.int32)
    beh = np.array([bad, bad, good, prot, bad, bad, fee], np.uint8)
    target = np.array([0, -1, 2, 3, 7, 5, 6], np.int32)
    status = np.array([O, 0, O, O, O | F, O | D, O], np.uint8)
    before = s.score.copy()
    pen, counts = score_and_list(pp, agent, beh, target, status, 4)
    pen_agent, pen_points = pen.agent, pen.points
    delta = (s.score - before).tolist()
    assert delta == [-1000, 0, 500, 0, 0, 0, -250, -1000, 0, 0, 0, 0]
    assert sorted(zip(pen_agent.tolist(), pen_points.tolist(), strict=True)) == \
        [(0, -1000), (6, -250), (7, -1000)]
    # observed counts by behaviour include dismissed sightings; false and dismissed counted
    obs = counts.observed
    assert obs[bad] == 3 and obs[good] == 1 and obs[prot] == 1 and obs[fee] == 1
    assert counts.attributions.tolist() == [1, 1]  # one false attribution, one dismissed
    # a scored act marks its actor whether or not it was seen; protected acts are not scored
    committed = (s.flags & COMMITTED) != 0
    assert committed.tolist() == [True, True, False, False, True, True, True] + [False] * 5
    assert s.flags[7] & FALSE_ATTRIBUTED and not s.flags[4] & FALSE_ATTRIBUTED
    # caution does not answer to penalties here: no marks (they would only cost respond work)
    assert not np.any(s.today) and not np.any(s.live)
    marked = _score_setup()
    plan = replace(marked.params, score=marked.params.score._replace(mark=True))
    score_and_list(marked, agent, beh, target, status, 4, plan)
    today = (marked.state.today & PENALISED_TODAY) != 0
    assert np.flatnonzero(today).tolist() == [0, 6, 7]
    assert marked.state.live[0] == 1  # the block is visited by respond
    # listing: pending until day 4 + 2 for the attributed agents of 'bad', not on day 4
    assert np.flatnonzero(s.list_state[0]).tolist() == [0, 7]
    assert s.list_state[0, 0] == s.list_state[0, 7] == -(4 + 2 + 1)
    assert s.list_cause[7] & 1 and not s.list_cause[0] & 1
    assert counts.listings[0] == 0  # not listed yet: grace


def test_score_lists_at_once_without_grace_and_leaves_on_repayment():
    pp = prepare(minimal_scenario(
        behaviours={"pay": {"rate": 0.0, "channel": "rec", "requires": {"on_list": "L"}}},
        lists={"L": {"enter_on": "bad", "leave_on": "pay", "expire_days": 30},
               "M": {"enter_on": "bad"}}), 5)
    s = pp.state
    O = OBSERVED
    a = np.array([1, 3], np.int32)
    _, c = score_and_list(pp, a, np.zeros(2, np.uint8), a, np.array([O, O], np.uint8), 7)
    assert s.list_state[0].tolist() == [0, 7 + 30 + 1, 0, 7 + 30 + 1, 0]
    assert s.list_state[1].tolist() == [0, NEVER, 0, NEVER, 0]
    assert c.listings.tolist() == [2, 2] and s.ever_listed[1] == 3
    a = np.array([3], np.int32)
    _, c = score_and_list(pp, a, np.ones(1, np.uint8), a, np.array([O], np.uint8), 9)
    assert s.list_state[0, 3] == 0 and s.list_state[1, 3] == NEVER  # pay leaves L only
    assert c.delistings.tolist() == [1, 0]


def _once_scenario(**over):
    """Everyone commits 'bad' on day 0 (rate 1) and never again (timeline: rate 0 on day 1)."""
    base = minimal_scenario(
        behaviours={"bad": {"rate": 1.0}},
        scoring={"rules": {"bad": -1}},
        timeline=[{"day": 1, "set": {"behaviours.bad.rate": 0.0}}])
    return deep_merge(base, over)


@pytest.mark.parametrize("grace,expire", [(3, 5), (0, 4), (2, None)])
def test_list_grace_and_expiry_timing_is_exact(grace, expire):
    n, days = 300, 12
    lst = {"enter_on": "bad", "grace_days": grace}
    if expire:
        lst["expire_days"] = expire
    res = run_sim(_once_scenario(lists={"L": lst},
                                 sanctions={"S": {"when": {"on_list": "L"}}}), n, days)
    d = res.daily
    last = grace + expire if expire else days  # first day off the list
    on = [grace <= t < last for t in range(days)]
    assert d["listed_L"].tolist() == [n if x else 0 for x in on]
    assert d["sanctioned_S"].tolist() == [n if x else 0 for x in on]
    assert d["listings_L"].tolist() == [n if t == grace else 0 for t in range(days)]
    assert d["delistings_L"].tolist() == [n if t == last else 0 for t in range(days)]
    assert d["sanction_activations_by_own"].tolist() == [
        n if t == grace else 0 for t in range(days)]
    assert d["new_sanctioned_people_S"].tolist() == d["sanction_activations_S"].tolist()
    assert res.summary["final"]["ever_listed"]["L"] == n


def test_repayment_ends_a_listing_and_a_pending_listing():
    n, days = 200, 10
    sc = _once_scenario(
        behaviours={"pay": {"rate": 0.0, "channel": "rec", "requires": {"on_list": "L"}},
                    "pay2": {"rate": 0.0, "channel": "rec", "requires": {"on_list": "P"}}},
        lists={"L": {"enter_on": "bad", "leave_on": "pay"},
               "P": {"enter_on": "bad", "grace_days": 5, "leave_on": "pay2"}},
        timeline=[{"day": 1, "set": {"behaviours.bad.rate": 0.0}},
                  {"day": 4, "set": {"behaviours.pay.rate": 1.0, "behaviours.pay2.rate": 1.0}}])
    d = run_sim(sc, n, days).daily
    assert d["listed_L"].tolist() == [n] * 4 + [0] * 6
    assert d["delistings_L"].tolist() == [0] * 4 + [n] + [0] * 5
    assert d["acts_pay"].tolist() == [0] * 4 + [n] + [0] * 5  # off the list: nothing to repay
    # a pending listing repaid during its grace never starts
    assert d["acts_pay2"].tolist() == [0] * 4 + [n] + [0] * 5
    assert d["listed_P"].sum() == 0 and d["listings_P"].sum() == 0 and d["delistings_P"].sum() == 0


# ================================================================ spill
def _spill_setup(association=True):
    sc = minimal_scenario(
        layers={"household": {"kind": "group", "size": {3: 1.0}, "spillover": 0.3},
                "work": {"kind": "group", "size": {4: 1.0}, "spillover": 0.5, "coverage": 0.5},
                "kin": {"kind": "ties", "mean_degree": 4, "spillover": 0.1},
                "friends": {"kind": "ties", "mean_degree": 2, "spillover": 0.0333},
                "weak": {"kind": "ties", "mean_degree": 2, "spillover": 0.00001}},
        safeguards={"association_penalties": association})
    return prepare(sc, 3000, seed=4)


def _members(net, layer, a):
    """The other members of a's group in a group layer (by group id: the semantic truth)."""
    g = net.groups_of(layer)[a]
    if g < 0:
        return np.zeros(0, np.int64)
    m = np.flatnonzero(net.groups_of(layer) == g)
    return m[m != a]


def _neighbours(net, layer, a):
    return net.neighbours(layer, a)


def test_spill_lands_exact_amounts_on_group_members_and_tie_neighbours():
    pp = _spill_setup()
    net, s = pp.net, pp.state
    work = net.group_layers.index("work")
    in_work = np.flatnonzero(net.groups_of(work) >= 0)
    out_work = np.flatnonzero(net.groups_of(work) < 0)
    a, b = int(in_work[10]), int(out_work[10])
    pen_agent = np.array([a, b], np.int32)
    pen_points = np.array([-2000, -500], np.int32)  # -20 and -5 points
    expected = np.zeros(pp.n, np.int64)
    hits = 0
    for who, pts in ((a, -2000), (b, -500)):
        for layer, sp in ((0, 0.3), (1, 0.5)):
            m = _members(net, layer, who)
            expected[m] += round(pts * sp)
            hits += len(m)
        for layer, sp in ((0, 0.1), (1, 0.0333)):
            nb_ = _neighbours(net, layer, who)
            np.add.at(expected, nb_, round(pts * sp))  # a repeated tie counts twice
            hits += len(nb_)
        # 'weak': round(pts * 1e-5) == 0, no spill and no hits
    before = s.score.copy()
    got = spill(pp, pen_agent, pen_points)
    np.testing.assert_array_equal(s.score.astype(np.int64) - before, expected)
    assert got == hits
    assert round(-2000 * 0.0333) == -67  # the fixed-point rounding actually exercised
    hit = np.flatnonzero(expected != 0)
    assert np.all(s.flags[hit] & ASSOC_PENALISED)
    untouched = np.setdiff1d(np.arange(pp.n), np.r_[hit, a, b])
    assert np.all(s.flags[untouched] == 0)


@pytest.mark.parametrize("threads", [1, 2])
def test_spill_of_many_penalties_equals_the_reference(threads):
    """Hundreds of penalties (some on one agent twice), far ties (a random network over
    100,000 agents: most neighbours take the three-slot encoding), households and work teams:
    each receiver gets the sum of its hits and the association mark, whatever the number of
    threads (each lands its own stripe of receivers)."""
    sc = minimal_scenario(layers={
        "household": {"kind": "group", "size": {3: 1.0}, "spillover": 0.3},
        "work": {"kind": "group", "size": {4: 1.0}, "spillover": 0.5, "coverage": 0.5},
        "kin": {"kind": "ties", "mean_degree": 6, "spillover": 0.1, "local_share": 0.0}})
    pp = prepare(sc, 100_000, seed=8)
    net, s = pp.net, pp.state
    gen = np.random.default_rng(5)
    pen_agent = gen.integers(0, pp.n, 600).astype(np.int32)
    pen_agent[1] = pen_agent[0]
    pen_points = (-100 * gen.integers(1, 50, 600)).astype(np.int32)
    expected, hits, far = np.zeros(pp.n, np.int64), 0, 0
    for who, pts in zip(pen_agent.tolist(), pen_points.tolist(), strict=True):
        for layer, sp in ((0, 0.3), (1, 0.5)):
            m = _members(net, layer, who)
            expected[m] += round(pts * sp)
            hits += len(m)
        nb_ = _neighbours(net, 0, who)
        np.add.at(expected, nb_, round(pts * 0.1))
        hits += len(nb_)
        far += int(np.sum(np.abs(nb_ - who) > 32767))
    before = s.score.copy()
    old = nb.get_num_threads()
    nb.set_num_threads(threads)
    try:
        got = spill(pp, pen_agent, pen_points)
    finally:
        nb.set_num_threads(old)
    np.testing.assert_array_equal(s.score.astype(np.int64) - before, expected)
    assert got == hits and far > hits // 4
    hit = expected != 0
    assert np.all(s.flags[hit] & ASSOC_PENALISED) and not np.any(s.flags[~hit])


def test_spill_is_off_without_association_penalties():
    pp = _spill_setup(association=False)
    before = pp.state.score.copy()
    got = spill(pp, np.array([5], np.int32), np.array([-2000], np.int32))
    assert got == 0
    np.testing.assert_array_equal(pp.state.score, before)


# ================================================================ recover
def test_recovery_moves_toward_initial_and_never_overshoots():
    pp = prepare(minimal_scenario(scoring={"recovery_per_day": 1.5}), 9)
    s, init = pp.state, 1000 * FIXED
    offsets = np.array([-1000, -300, -151, -150, -149, 0, 100, 150, 1000])
    s.score[:] = init + offsets
    recover(pp)
    assert (s.score - init).tolist() == [-850, -150, -1, 0, 0, 0, 0, 0, 850]
    for _ in range(6):
        recover(pp)
    assert np.all(s.score == init)


def test_no_recovery_leaves_scores_alone():
    pp = prepare(minimal_scenario(), 3)
    pp.state.score[:] = [1, 100000, 200000]
    recover(pp)
    assert pp.state.score.tolist() == [1, 100000, 200000]


# ================================================================ sanction
def _grade_setup(min_days=0):
    sc = minimal_scenario(
        layers={"household": {"kind": "group", "size": {2: 1.0}, "spillover": 0.5}},
        scoring={"grades": {"A": 900, "B": 800, "C": 700, "D": None}, "rules": {"bad": -10}},
        sanctions={"atA": {"when": {"grade_at_most": "A"}},
                   "atB": {"when": {"grade_at_most": "B"}},
                   "atC": {"when": {"grade_at_most": "C"}, "min_days": min_days},
                   "atD": {"when": {"grade_at_most": "D"}}})
    return prepare(sc, 8)


def _masks(pp, *names):
    bits = [1 << pp.names.sanctions.index(x) for x in names]
    return [[bool(m & b) for b in bits] for m in pp.state.eff_mask]


def test_grade_sanctions_switch_at_the_grade_bounds():
    pp = _grade_setup()
    s = pp.state
    # the last penalty of agent 4 is its own act, of 5 a false match (agent 0's act), of 6 a
    # penalty spilled from its household partner 7; the others have had no penalty
    a = np.array([4, 0], np.int32)
    score_and_list(pp, a, np.zeros(2, np.uint8), np.array([4, 5], np.int32),
                   np.array([OBSERVED, OBSERVED | FALSE], np.uint8), 0)
    assert pp.net.groups_of(0)[6] == pp.net.groups_of(0)[7]
    assert spill(pp, np.array([7], np.int32), np.array([-1000], np.int32)) == 1
    s.today[:] = 0
    s.score[:] = [100000, 90000, 89999, 80000, 79999, 70000, 69999, 0]
    # the but-for paths of these scores: every agent's deficit its own, but agent 5's (a
    # false match's) and agent 6's (spilled onto it)
    deficit = 100000 - s.score
    s.paths[:, :3] = deficit[:, None]
    s.paths[:, 3] = 0
    s.paths[5, 0] = 0
    s.paths[6, :2] = 0
    out = sanction(pp, 0, SEED)
    got = _masks(pp, "atA", "atB", "atC", "atD")
    # at most A: everyone; at most B: < 900; at most C: < 800; at most D: < 700
    assert [g[1] for g in got] == [False, False, True, True, True, True, True, True]
    assert [g[2] for g in got] == [False, False, False, False, True, True, True, True]
    assert [g[3] for g in got] == [False, False, False, False, False, False, True, True]
    assert all(g[0] for g in got)
    np.testing.assert_array_equal(s.eff_mask, s.own_mask)
    S = len(pp.names.sanctions)
    assert s.sanctioned_count[:S].tolist() == [8, 6, 4, 2] and s.sanctioned_count[S] == 8
    # a grade sanction's cause is but-for: own when its own path alone is below the bound
    assert s.flags[5] & EVER_FALSE and s.flags[6] & EVER_ASSOC and s.flags[4] & EVER_OWN
    # (and "at most A" holds for everyone, whatever they did: own, vacuously)
    assert not s.flags[5] & EVER_ASSOC and not s.flags[6] & EVER_FALSE
    # no caution answers to a new sanction here: no marks for respond (see the caution path)
    assert np.all(s.flags & EVER_SANCTIONED) and not np.any(s.today)
    assert out["activations"].tolist() == [8, 6, 4, 2]
    assert out["new_people"].tolist() == [8, 6, 4, 2, 8]  # people apart from activations
    assert s.sanctioned_group.tolist() == [8]  # one group: everyone is sanctioned
    # scores back up: the grade sanctions lift, the count follows
    s.score[:] = 100000
    sanction(pp, 1, SEED)
    assert s.sanctioned_count[:S].tolist() == [8, 0, 0, 0]
    assert all(g == [True, False, False, False] for g in _masks(pp, "atA", "atB", "atC", "atD"))


def test_min_days_keeps_a_sanction_on():
    pp = _grade_setup(min_days=3)
    s = pp.state
    c = pp.names.sanctions.index("atC")
    s.score[:] = 100000
    s.score[2] = 0
    active = []
    for day in range(6):
        if day == 1:
            s.score[2] = 100000  # back above the bound on day 1
        sanction(pp, day, SEED)
        active.append(bool(s.eff_mask[2] & (1 << c)))
    assert active == [True, True, True, False, False, False]


def test_sanction_reaching_the_household_is_by_association():
    sc = minimal_scenario(
        layers={"household": {"kind": "group", "size": {4: 1.0}}},
        lists={"L": {"enter_on": "bad"}},
        sanctions={"S": {"when": {"on_list": "L"}, "reaches": "household"},
                   "T": {"when": {"on_list": "L"}}})
    pp = prepare(sc, 40)
    s, net = pp.state, pp.net
    hh = net.groups_of(0)
    a, b = 5, 6
    assert hh[a] == hh[b]  # households are contiguous blocks of 4
    fam = np.flatnonzero(hh == hh[a])
    others = np.setdiff1d(fam, [a])
    S_, T_ = 1 << 0, 1 << 1
    s.list_state[0, a] = NEVER
    out = sanction(pp, 0, SEED)
    assert s.eff_mask[a] == S_ | T_
    assert np.all(s.eff_mask[others] == S_), "only the reaching sanction reaches"
    assert np.count_nonzero(s.eff_mask) == 4
    assert s.flags[a] & EVER_OWN and not s.flags[a] & EVER_ASSOC
    assert np.all(s.flags[others] & EVER_ASSOC) and not np.any(s.flags[others] & EVER_OWN)
    # a: S and T (own); three relatives: S (association decisive); four people
    assert out["by_cause"].tolist() == [2, 0, 3, 0]
    assert out["new_people"].tolist() == [4, 1, 4]
    assert out["new_by_cause"].tolist() == [1, 0, 3, 3, 0]
    assert s.sanctioned_count.tolist() == [4, 1, 4]
    # b gets listed too: b's own sanction replaces the association, a stays reached by b
    s.list_state[0, b] = NEVER
    sanction(pp, 1, SEED)
    s.list_state[0, a] = 0
    sanction(pp, 2, SEED)
    assert s.eff_mask[a] == S_ and s.eff_mask[b] == S_ | T_
    assert s.sanctioned_count.tolist() == [4, 1, 4]
    s.list_state[0, b] = 0
    sanction(pp, 3, SEED)
    assert np.count_nonzero(s.eff_mask) == 0 and s.sanctioned_count.tolist() == [0, 0, 0]


def test_visible_sanctions_are_pushed_to_tie_neighbours():
    sc = minimal_scenario(
        layers={"kin": {"kind": "ties", "mean_degree": 6}},
        lists={"L": {"enter_on": "bad"}},
        sanctions={"S": {"when": {"on_list": "L"}, "visible": True}})
    pp = prepare(sc, 2000, seed=8)
    s, net = pp.state, pp.net
    who = np.array([3, 40, 41, 900])
    s.list_state[0, who] = NEVER
    sanction(pp, 0, SEED)
    expected = np.zeros(pp.n, np.int64)
    for a in who:
        np.add.at(expected, _neighbours(net, 0, a), 1)
    np.testing.assert_array_equal(s.sanctioned_ties.astype(np.int64), expected)
    s.list_state[0, who] = 0
    sanction(pp, 1, SEED)
    assert np.all(s.sanctioned_ties == 0)


@pytest.mark.parametrize("success", [1.0, 0.0])
def test_appeals_lift_false_match_sanctions_after_the_delay(success):
    """Every sighting is a false alert (every mate missed, false_match 1): each wrongly listed
    agent appeals; after delay_days a successful appeal restores the points and ends the
    listing."""
    n, delay, days = 1000, 3, 8
    res = run_sim(_once_scenario(
        channels={"cam": {"observe": 1.0, "recognition": 0.0, "false_match": 1.0}},
        behaviours={"bad": {"channel": "cam"}}, scoring={"rules": {"bad": -10}},
        lists={"L": {"enter_on": "bad"}},
        sanctions={"S": {"when": {"on_list": "L"}}},
        safeguards={"appeals": {"enabled": True, "success": success, "delay_days": delay}}),
        n, days, seed=3)
    d, f = res.daily, res.summary["final"]
    k = int(d["sanctioned_S"].iloc[0])
    assert 0.5 * n < k < n  # the distinct agents hit by 1000 random false matches
    assert d["false_attributions"].iloc[0] == n
    assert d["sanction_activations_by_false_match"].tolist() == [k] + [0] * (days - 1)
    assert f["ever_sanctioned_by_cause"]["false_match"] == k / n
    assert f["ever_sanctioned_by_cause"]["own"] == 0
    if success == 1.0:
        assert d["sanctioned_S"].tolist() == [k] * delay + [0] * (days - delay)
        assert d["appeals_won"].tolist() == [0] * delay + [k] + [0] * (days - delay - 1)
        assert d["delistings_L"].tolist() == [0] * delay + [k] + [0] * (days - delay - 1)
        assert np.all(res.state.score == 1000 * FIXED), "restored false-match points"
        assert d["mean_score"].iloc[delay] == 1000.0 > d["mean_score"].iloc[delay - 1]
    else:
        assert d["sanctioned_S"].tolist() == [k] * days
        assert d["appeals_won"].sum() == 0
        assert f["mean_score"] == 1000 - 10


# ================================================================ services
def test_services_are_denied_only_to_agents_under_a_denying_sanction():
    n = 100_000
    sc = minimal_scenario(
        population={"groups": {"maj": {"share": 0.7}, "min": {"share": 0.3}}},
        lists={"L": {"enter_on": "bad"}},
        services={"flight": {"demand": 0.3}, "rail": {"demand": 1.0}, "loan": {"demand": 0.0}},
        sanctions={"ban": {"when": {"on_list": "L"}, "denies": ["flight", "loan"]},
                   "shame": {"when": {"on_list": "L"}}})
    pp = prepare(sc, n)
    s = pp.state
    banned = np.arange(0, n, 7)
    s.eff_mask[banned] = 0b01
    s.eff_mask[np.arange(3, n, 11)] |= 0b10  # a sanction that denies nothing
    req, den = use_services(pp, 0, SEED)
    G = 2
    assert req.shape == (3, G) and den.shape == (3, G)
    v = pp.names.services
    fl, ra, lo = v.index("flight"), v.index("rail"), v.index("loan")
    assert_binomial(int(req[fl].sum()), n, 0.3, "flight requests")
    assert_binomial(int(den[fl].sum()), len(banned), 0.3, "flight denials")
    assert req[ra].tolist() == np.bincount(pp.people.group, minlength=G).tolist()
    assert den[ra].sum() == 0 and req[lo].sum() == 0 and den[lo].sum() == 0
    # denials by group add up to the banned agents of each group (with demand 1)
    pp2 = prepare(minimal_scenario(
        population={"groups": {"maj": {"share": 0.7}, "min": {"share": 0.3}}},
        lists={"L": {"enter_on": "bad"}}, services={"rail": {"demand": 1.0}},
        sanctions={"ban": {"when": {"on_list": "L"}, "denies": ["rail"]}}), n)
    pp2.state.eff_mask[banned] = 1
    _, den2 = use_services(pp2, 0, SEED)
    assert den2[0].tolist() == np.bincount(pp2.people.group[banned], minlength=G).tolist()


def test_services_request_draws_do_not_depend_on_sanctions():
    """Common random numbers: the same requests whatever the sanctions."""
    n = 50_000
    sc = minimal_scenario(lists={"L": {"enter_on": "bad"}}, services={"rail": {"demand": 0.1}},
                          sanctions={"ban": {"when": {"on_list": "L"}, "denies": ["rail"]}})
    pp = prepare(sc, n)
    r0, d0 = use_services(pp, 3, SEED)
    pp.state.eff_mask[:] = 1
    r1, d1 = use_services(pp, 3, SEED)
    assert d0.sum() == 0
    np.testing.assert_array_equal(r0, r1)
    np.testing.assert_array_equal(d1, r1)


# ================================================================ respond
def test_caution_follows_the_respond_formula():
    """One day of the respond stage on random states: own risk, perceived risk and caution
    exactly as docs/model.md writes them, and the day's sums by group."""
    sc = minimal_scenario(
        population={"groups": {"a": {"share": 0.7}, "b": {"share": 0.3}}},
        layers={"kin": {"kind": "ties", "mean_degree": 4},
                "friends": {"kind": "ties", "mean_degree": 3}},
        responses={"risk_from_penalty": 0.2, "risk_from_sanction": 0.5,
                   "risk_from_sanctioned_ties": 0.6, "own_risk_half_life_days": 30,
                   "caution_half_life_days": 5})
    n = 5000
    pp = prepare(sc, n, seed=6)
    s, net = pp.state, pp.net
    rng_ = np.random.default_rng(1)
    deg = (net.degrees(0) + net.degrees(1)).astype(np.int64)
    s.caution[:] = rng_.choice([0.0, 1e-5, 0.005, 0.3, 0.9, 1.0], n).astype(np.float32)
    s.own_risk[:] = rng_.choice([0.0, 1e-5, 0.1, 0.7, 1.0], n).astype(np.float32)
    s.today[:] = rng_.integers(0, 4, n).astype(np.uint8)
    st = np.minimum(deg, rng_.integers(0, 4, n))
    s.sanctioned_ties[:] = st
    c0, o0, today = (s.caution.astype(np.float64), s.own_risk.astype(np.float64),
                     s.today.copy())
    keep, follow = 2 ** (-1 / 30), 1 - 2 ** (-1 / 5)
    o = o0 * keep + 0.2 * ((today & PENALISED_TODAY) != 0) + 0.5 * ((today & SANCTIONED_TODAY)
                                                                      != 0)
    o = np.minimum(o, 1.0)
    o = np.where(o >= 2**-16, o, 0.0).astype(np.float32).astype(np.float64)
    risk = np.minimum(1.0, o + np.where(deg > 0, 0.6 * st / np.maximum(deg, 1), 0.0))
    c = c0 + follow * (risk - c0)
    expected = np.where(c >= 2**-16, c, 0.0).astype(np.float32)
    s.mark_live()  # caution, today and ties were set by hand, not by the stages
    out = respond(pp)
    np.testing.assert_allclose(s.own_risk, o, rtol=0, atol=1e-7)
    np.testing.assert_allclose(s.caution, expected, rtol=0, atol=1e-6)
    assert np.all(s.today == 0)
    assert out.row[1] / CAUTION_UNIT / n == pytest.approx(float(s.caution.mean(dtype=np.float64)))
    group = pp.people.group
    for g in range(2):
        ours = group == g
        assert out.by_group[g, 2] == ours.sum()
        assert out.by_group[g, 0] / CAUTION_UNIT == pytest.approx(
            float(s.caution[ours].sum(dtype=np.float64)), abs=1e-4)
        assert out.by_group[g, 1] / CAUTION_UNIT == pytest.approx(float(risk[ours].sum()),
                                                                  abs=1e-3)
    # both ends exercised: caution set to 0 below the floor, and perceived risk capped at 1
    assert np.any((c0 > 0) & (expected == 0)) and np.any(risk == 1.0)


def test_caution_path_on_a_deterministic_run():
    """Everyone is penalised and listed (visibly sanctioned) on day 0 only, for 3 days: own
    risk jumps by 0.2 + 0.5 on day 0 and halves every 10 days; an agent with ties perceives
    the share of them visibly sanctioned (all of them) on days 0-2; caution closes
    1 - 2**(-1/4) of the gap each day."""
    n, days = 3000, 40
    res = run_sim(_once_scenario(
        layers={"kin": {"kind": "ties", "mean_degree": 4}},
        lists={"L": {"enter_on": "bad", "expire_days": 3}},
        sanctions={"S": {"when": {"on_list": "L"}, "visible": True}},
        responses={"risk_from_penalty": 0.2, "risk_from_sanction": 0.5,
                   "risk_from_sanctioned_ties": 0.4, "own_risk_half_life_days": 10,
                   "caution_half_life_days": 4}), n, days, seed=9)
    deg = _kin_degrees(res)
    keep, follow = 2 ** (-1 / 10), 1 - 2 ** (-1 / 4)
    c, o, expected, risk = np.zeros(n), 0.0, [], []
    for t in range(days):
        o = float(np.float32(o * keep + (0.7 if t == 0 else 0.0)))
        r = np.minimum(1.0, o + np.where((deg > 0) & (t < 3), 0.4, 0.0))
        c = c + follow * (r - c)
        expected.append(c.mean())
        risk.append(r.mean())
    np.testing.assert_allclose(res.daily["mean_caution"], expected, rtol=1e-5)
    np.testing.assert_allclose(res.daily["mean_perceived_risk"], risk, rtol=1e-5)
    assert res.daily["sanctioned_S"].tolist() == [n, n, n] + [0] * (days - 3)


def _kin_degrees(res):
    """The kin layer's degrees in a finished run (rebuilt from its scenario and seed)."""
    from scoresim import build_population

    pop = build_population(res.scenario, res.summary["agents"], res.summary["seed"])
    return pop.network.degrees(0)


# ================================================================ regional rules
def test_regional_rules_score_by_region_until_merged_on_the_timeline():
    """A regional pilot's own points apply to agents of that region; a timeline change that
    empties scoring.regional_rules merges the pilots into the national rule on its day."""
    n, T, d0, rate = 40_000, 40, 20, 0.02
    sc = minimal_scenario(
        population={"regions": {"all": DELETE, "a": {"share": 0.5}, "b": {"share": 0.5}}},
        behaviours={"bad": {"rate": rate}},
        scoring={"rules": {"bad": -10}, "regional_rules": {"b": {"bad": -30}}},
        timeline=[{"day": d0, "set": {"scoring.regional_rules": {}}}])
    res = run_sim(sc, n, T, seed=3)
    d = res.daily
    acts = d["acts_bad"].to_numpy()
    fall = -np.diff(np.concatenate([[1000.0], d["mean_score"].to_numpy()])) * n
    # before the merge: half the agents lose 10 points an act, half 30 (exact expectation 20)
    assert_near(fall[:d0].sum(), 20 * acts[:d0].sum(), 20 * math.sqrt(acts[:d0].sum()) * 1.0,
                "pilot period")
    assert np.allclose(fall[d0:], 10 * acts[d0:])  # merged: everyone loses exactly 10 an act


# ================================================================ corporate ratings
def test_firm_rating_lists_its_owner_when_it_falls_below_threshold():
    """Firms of 5 members: each member act costs the firm 5 points; with a threshold of 990
    the owner is listed once the firm has had 3 penalised acts. Acts are Bernoulli(0.01) per
    member and day, so a firm's count over T days is Binomial(5T, 0.01)."""
    n, T, rate = 20_000, 60, 0.01
    sc = minimal_scenario(
        layers={"work": {"kind": "group", "size": {5: 1.0},
                         "rating": {"weight": 1.0, "threshold": 990}}},
        behaviours={"bad": {"rate": rate}}, scoring={"rules": {"bad": -5}},
        lists={"firms": {"enter_on_rating": "work", "expire_days": 1000}},
        sanctions={"exec_ban": {"when": {"on_list": "firms"}}})
    res = run_sim(sc, n, T, seed=2)
    f = res.summary["final"]
    firms = n // 5
    p3 = 1 - sum(math.comb(5 * T, k) * rate**k * (1 - rate) ** (5 * T - k) for k in range(3))
    assert_binomial(f["ever_listed"]["firms"], firms, p3, "owners listed")
    by = f["ever_sanctioned_by_cause"]
    assert by["false_match"] == 0
    assert by["own"] + by["association"] == pytest.approx(f["ever_listed"]["firms"] / n)
    assert by["association"] > by["own"] > 0  # mostly tipped by someone else's act
    # with association penalties off, a firm's rating never moves and no owner is listed
    off = run_sim(deep_merge(sc, {"safeguards": {"association_penalties": False}}), n, T, seed=2)
    assert off.summary["final"]["ever_listed"]["firms"] == 0
