"""Analytic limits: with feedback switched off the model reduces to binomial counts, and its
outputs must match the closed forms (DESIGN.md, "The model, one simulated day").

One behaviour at daily probability p, seen with probability q, no caution, no recovery:
each agent's observed acts over T days are Binomial(T, p q), independently.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import (
    assert_binomial,
    assert_near,
    binom_pmf,
    chi_square_bound,
    deep_merge,
    minimal_scenario,
    run_sim,
)
from scoresim import Sim, build_population, load_scenario
from scoresim.engine.compile import FIXED

N, T, P, Q = 50_000, 40, 0.05, 0.4
PQ = P * Q


def _binomial_scenario(**over):
    base = minimal_scenario(
        channels={"online": {"observe": Q}},
        behaviours={"bad": {"rate": P, "channel": "online"}},
        scoring={"rules": {"bad": -1}, "grades": {"A": 997.5, "B": None}},
        sanctions={"low": {"when": {"grade_at_most": "B"}}})  # active from 3 observed acts
    return deep_merge(base, over)


@pytest.fixture(scope="module")
def binomial_run():
    return run_sim(_binomial_scenario(), N, T, seed=11)


def _deficits(res) -> np.ndarray:
    """Points each agent has lost (the initial score is 1000)."""
    d = 1000 * FIXED - res.state.score.astype(np.int64)
    assert np.all(d % FIXED == 0), "every deficit is a whole number of 1-point penalties"
    return d // FIXED


def test_observed_acts_per_agent_are_binomial(binomial_run):
    res = binomial_run
    f = res.summary["final"]
    assert_binomial(f["acts"]["bad"], N * T, P, "acts")
    assert_binomial(f["observed"]["bad"], f["acts"]["bad"], Q, "observed of acts")
    k = _deficits(res)
    assert k.sum() == f["observed"]["bad"]  # each observation cost exactly one point
    counts = np.bincount(k, minlength=T + 1)
    pmf = np.array([binom_pmf(j, T, PQ) for j in range(T + 1)])
    big = N * pmf >= 5
    for j in np.flatnonzero(big):
        assert_binomial(int(counts[j]), N, float(pmf[j]), f"agents with {j} observed acts")
    # chi-square over the well-filled values plus the pooled tail
    last = int(np.flatnonzero(big)[-1])
    obs = np.r_[counts[: last + 1], counts[last + 1 :].sum()]
    exp = N * np.r_[pmf[: last + 1], pmf[last + 1 :].sum()]
    keep = exp > 0.5
    chi2 = float(np.sum((obs[keep] - exp[keep]) ** 2 / exp[keep]))
    assert chi2 < chi_square_bound(int(keep.sum()) - 1), f"chi-square {chi2:.1f}"
    assert_near(k.mean(), T * PQ, math.sqrt(T * PQ * (1 - PQ) / N), "mean deficit")
    var = T * PQ * (1 - PQ)
    mu4 = sum(binom_pmf(j, T, PQ) * (j - T * PQ) ** 4 for j in range(T + 1))
    assert_near(k.var(), var, math.sqrt((mu4 - var**2) / N), "deficit variance")


def test_sanctioned_share_is_the_binomial_tail(binomial_run):
    res = binomial_run
    f = res.summary["final"]
    k = _deficits(res)
    tail = 1 - sum(binom_pmf(j, T, PQ) for j in range(3))
    assert_binomial(round(f["sanctioned_frac"] * N), N, tail, "sanctioned share")
    # exactly the agents with 3 or more observed acts; no recovery, so ever == now
    assert round(f["sanctioned_frac"] * N) == int(np.sum(k >= 3))
    assert f["ever_sanctioned_frac"] == f["sanctioned_frac"]
    assert f["ever_sanctioned_by_cause"]["own"] == f["ever_sanctioned_frac"]
    assert f["ever_sanctioned_by_cause"]["false_match"] == 0
    assert f["ever_sanctioned_by_cause"]["association"] == 0
    assert f["never_acted_sanctioned_frac"] == 0.0
    # and along the way: on day t the share is the tail of Binomial(t + 1, p q)
    daily = res.daily["sanctioned_any"].to_numpy()
    for t in (4, 14, 29):
        tail_t = 1 - sum(binom_pmf(j, t + 1, PQ) for j in range(3))
        assert_binomial(int(daily[t]), N, tail_t, f"sanctioned on day {t}")
    assert np.all(np.diff(daily) >= 0)


def test_listing_share_is_one_minus_survival():
    n, t, p = 20_000, 30, 0.01
    res = run_sim(minimal_scenario(behaviours={"bad": {"rate": p}},
                                   lists={"L": {"enter_on": "bad"}}), n, t, seed=12)
    f = res.summary["final"]
    share = 1 - (1 - p) ** t
    assert_binomial(f["ever_listed"]["L"], n, share, "ever listed")
    assert f["listed_now"]["L"] == f["ever_listed"]["L"]
    assert int(res.daily["listings_L"].sum()) == f["ever_listed"]["L"]
    assert f["committed_scored_act_frac"] == pytest.approx(f["ever_listed"]["L"] / n)


def _spill_run(layers: dict, points: float, seed: int, n: int = 40_000, days: int = 30):
    sc = load_scenario(_binomial_scenario(layers=layers, scoring={"rules": {"bad": points}}))
    pop = build_population(sc, n, seed)
    res = Sim(sc, agents=n, days=days, seed=seed, population=pop).run()
    return sc, pop, res


@pytest.mark.parametrize("spill,points,degree", [(0.25, -4, 8), (0.1234, -5, 6)])
def test_spill_on_one_tie_layer_scales_the_mean_fall(spill, points, degree):
    """Mean fall = T p q |points| (1 + s d), with s the rounded fixed-point share."""
    days = 30
    sc, pop, res = _spill_run({"kin": {"kind": "ties", "mean_degree": degree,
                                       "spillover": spill}}, points, seed=13, days=days)
    n = pop.n
    own = -round(points * FIXED)
    amount = -round(points * FIXED * spill)  # what each neighbour loses per observed act
    deg = pop.network.degrees(0).astype(np.float64)
    d = deg.mean()
    assert abs(d - degree) < 1e-3
    fall = 1000 - res.summary["final"]["mean_score"]
    expected = days * PQ * (own + amount * d) / FIXED
    # each agent's observed acts ~ Binomial(T, pq); each costs own + amount * deg_i in total
    var = np.sum(days * PQ * (1 - PQ) * ((own + amount * deg) / FIXED) ** 2)
    assert_near(fall, expected, math.sqrt(var) / n, "mean fall")
    # exact accounting: every fixed-point unit lost is an own penalty or a spilled one
    total = int(np.sum(1000 * FIXED - res.state.score.astype(np.int64)))
    f = res.summary["final"]
    assert total == f["observed"]["bad"] * own + f["spill_penalties"] * amount
    assert_near(f["spill_penalties"], f["observed"]["bad"] * d,
                math.sqrt(f["observed"]["bad"] * deg.var()) + 1, "spilled penalties")


def test_spill_on_a_group_layer_reaches_the_other_members():
    sc, pop, res = _spill_run({"household": {"kind": "group", "size": {3: 1.0},
                                             "spillover": 0.5}}, -2, seed=14)
    net = pop.network
    hh = net.groups_of(0)
    others = np.bincount(hh)[hh] - 1  # other members of each agent's household
    assert np.sum(others != 2) <= 2  # households of 3 (the last one may be cut)
    f = res.summary["final"]
    total = int(np.sum(1000 * FIXED - res.state.score.astype(np.int64)))
    assert total == f["observed"]["bad"] * 200 + f["spill_penalties"] * 100
    # the mean fall of agents is T p q (2 + 1 * (members - 1)) in points
    per = (200 + 100 * others) / FIXED
    expected = 30 * PQ * per.mean()
    var = np.sum(30 * PQ * (1 - PQ) * per**2)
    assert_near(1000 - f["mean_score"], expected, math.sqrt(var) / pop.n, "mean fall")


def test_false_attributions_by_group_match_the_multipliers():
    """Camera false alerts with every mate missed (recognition 0): each observed act raises a
    false alert with probability f x the face's multiplier m_a and names someone else, in
    the face's own group with weight m_a per member (share s_a m_a / (s_a m_a + 1 - s_a)),
    uniformly within the group chosen; so a member of group g is named at the daily rate
    lam_g = p q f sum_a s_a m_a w_ag / s_g, and never named with probability exp(-T lam_g)."""
    n, days, f = 60_000, 30, 0.02
    share, mult = {"maj": 0.8, "min": 0.2}, {"maj": 1.0, "min": 10.0}
    sc = minimal_scenario(
        population={"groups": {"maj": {"share": 0.8},
                               "min": {"share": 0.2, "false_match_multiplier": 10}}},
        channels={"cam": {"observe": Q, "recognition": 0.0, "false_match": f}},
        behaviours={"bad": {"rate": P, "channel": "cam"}})
    res = run_sim(sc, n, days, seed=15)
    fin = res.summary["final"]

    def named_share(a: str, g: str) -> float:  # a false alert on a face of a names g
        own = share[a] * mult[a] / (share[a] * mult[a] + 1 - share[a])
        return own if g == a else (1 - own)

    for g in share:
        size = fin["by_group"][g]["agents"]
        lam = PQ * f * sum(share[a] * mult[a] * named_share(a, g) for a in share) / share[g]
        hit = 1 - math.exp(-days * lam)
        assert_near(fin["by_group"][g]["falsely_attributed_frac"], hit,
                    math.sqrt(hit * (1 - hit) / size), f"{g}: falsely attributed share")
    lam_total = days * PQ * f * (0.8 * 1 + 0.2 * 10) * n
    assert_near(fin["false_attributions"], lam_total, math.sqrt(lam_total), "false attributions")
    ratio = fin["by_group"]["min"]["falsely_attributed_frac"] / \
        fin["by_group"]["maj"]["falsely_attributed_frac"]
    assert ratio > 4  # the disparity the model exists to show
