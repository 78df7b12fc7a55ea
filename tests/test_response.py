"""How people respond (docs/model.md, "How people respond"): caution settles at the equation's
steady state, whatever the run's length; a salience shock chills at once (the calibrated
``chilling-shock``); attitudes scale the response (Stoycheff's interaction, a sign test over
seeds); avoidance cuts ties to the sanctioned, and off it changes nothing; harsher penalties
never raise acts (a property over random scenarios). SYNTHETIC people only.

Chilling under common random numbers: the scored run and its counterfactual draw the same
candidates and the same acceptance numbers, so they differ only in the acts that caution
removed; their count is about Poisson, and the chilling effect's standard error is
sqrt(chilling / counterfactual acts).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, t

from conftest import Z, deep_merge, minimal_scenario, one_day, run_sim
from scoresim import Sim, build_population
from scoresim.engine.context import Day, Span
from scoresim.engine.day import DAY, rounds, run_stages
from scoresim.engine.record import DayRecord
from scoresim.engine.stages.avoid import is_cut
from scoresim.engine.state import ISOLATED
from scoresim.experiments import run_with_counterfactual
from scoresim.network.ties import tie_at


def _chilling(res, behaviour: str, days: slice) -> tuple[float, float]:
    """The fall in a behaviour's acts over some days, and its standard error (CRN)."""
    a = res.daily[f"acts_{behaviour}"].to_numpy(float)[days].sum()
    c = res.counterfactual.daily[f"acts_{behaviour}"].to_numpy(float)[days].sum()
    chill = 1 - a / c
    return chill, math.sqrt(max(chill, 1e-12) / c)


def _speech(**over) -> dict:
    """One expression behaviour, ``speech`` (rate 0.05, sensitivity 0.8), not scored."""
    base = minimal_scenario(behaviours={"speech": {"rate": 0.05, "channel": "rec",
                                                   "deterrability": 0.8, "expression": True}})
    return deep_merge(base, over)


# ================================================================ the steady state
def test_salience_alone_settles_at_the_equation():
    """Salience sigma from day 0 and nothing else: everyone's caution about speech is
    k_t = sigma (1 - (1 - lambda)^(t+1)) at the end of day t, and the acts of day t fall by
    exactly delta k_{t-1} in expectation: chilling settles at delta sigma."""
    sigma, delta, h, n, days = 0.25, 0.8, 4.0, 40_000, 40
    sc = _speech(behaviours={"bad": {"rate": 0.0}},
                 responses={"salience": {"speech": sigma}, "caution_half_life_days": h})
    res = run_with_counterfactual(Sim(sc, agents=n, days=days, seed=3))
    lam = 1 - 2 ** (-1 / h)
    k = sigma * (1 - (1 - lam) ** np.arange(1, days + 1))
    np.testing.assert_allclose(res.daily["salience_caution_speech"], k, atol=1e-8)
    assert (res.daily["salience_caution_bad"] == 0).all()
    assert (res.daily["mean_caution"] == 0).all()  # nobody's own caution moves
    late = slice(20, days)
    chill, se = _chilling(res, "speech", late)
    expected = delta * np.r_[0.0, k[:-1]][late].mean()  # day t acts on k_{t-1}
    assert abs(chill - expected) < Z * se, (chill, expected, se)
    assert expected == pytest.approx(delta * sigma, rel=0.02)


def test_own_penalties_settle_at_the_equation():
    """Penalties at a constant rate rho on a behaviour caution does not deter: own risk, so
    caution, settles at a rho / (1 - 2^(-1/h_own)) along the expected path of the equations,
    and speech (sensitivity delta, never scored) falls by delta times it."""
    rho, a, h_own, h, delta, n, days = 0.02, 0.05, 20.0, 5.0, 0.8, 50_000, 200
    sc = _speech(behaviours={"bad": {"rate": rho}}, scoring={"rules": {"bad": -1}},
                 responses={"risk_from_penalty": a, "own_risk_half_life_days": h_own,
                            "caution_half_life_days": h})
    res = run_with_counterfactual(Sim(sc, agents=n, days=days, seed=4))
    keep, lam = 2 ** (-1 / h_own), 1 - 2 ** (-1 / h)
    steady = a * rho / (1 - keep)
    o = c = 0.0
    path = []  # the expected caution at the end of each day
    for _ in range(days):
        o = keep * o + a * rho
        c = c + lam * (o - c)
        path.append(c)
    path = np.array(path)
    assert path[-1] == pytest.approx(steady, rel=0.002)
    late = slice(150, days)
    caution = res.daily["mean_caution"].to_numpy()[late].mean()
    # own risk is shot noise: its variance is at most a^2 rho / (1 - keep^2) per agent
    se = math.sqrt(a * a * rho / (1 - keep * keep) / n)
    assert abs(caution - path[late].mean()) < Z * se, (caution, path[late].mean(), se)
    assert res.daily["mean_perceived_risk"].to_numpy()[late].mean() == pytest.approx(
        steady, abs=Z * se)
    chill, se_c = _chilling(res, "speech", late)
    expected = delta * np.r_[0.0, path[:-1]][late].mean()  # day t acts on day t-1's caution
    assert abs(chill - expected) < Z * se_c + delta * Z * se, (chill, expected)


def _stationary(**over) -> dict:
    """Constant rules with every process stationary: speech is scored and lists the speaker
    for 60 days (visibly), so own penalties, own sanctions and sanctioned ties all count."""
    sc = {
        "name": "stationary",
        "population": {"regions": {"all": {"share": 1.0}},
                       "traits": {"dissent": {"beta": [1.2, 12]}}},
        "layers": {"kin": {"kind": "ties", "mean_degree": 8, "spillover": 0.0}},
        "channels": {"online": {"observe": 0.3}},
        "behaviours": {"speech": {"rate": 0.01, "channel": "online", "propensity": "dissent",
                                  "deterrability": 0.9, "expression": True}},
        "scoring": {"rules": {"speech": -20}, "recovery_per_day": 1.0},
        "lists": {"watch": {"enter_on": "speech", "expire_days": 60}},
        "sanctions": {"watched": {"when": {"on_list": "watch"}, "visible": True}},
        "responses": {"risk_from_penalty": 0.2, "risk_from_sanction": 0.5,
                      "risk_from_sanctioned_ties": 1.0},
    }
    return deep_merge(sc, over)


def test_chilling_in_years_two_and_three_agrees_with_constant_rules():
    """Chilling does not depend on run length: with constant rules, years 2 and 3 of a long
    run agree within the seeds' interval (and year 1, while caution builds up, is lower)."""
    years = []
    for seed in range(8):
        res = run_with_counterfactual(Sim(_stationary(), agents=4000, days=3 * 365, seed=seed))
        years.append([_chilling(res, "speech", slice(y * 365, (y + 1) * 365))[0]
                      for y in range(3)])
    y = np.array(years)
    diff = y[:, 2] - y[:, 1]
    half = t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
    assert abs(diff.mean()) <= half, (y, diff.mean(), half)
    assert abs(diff.mean()) < 0.1 * y[:, 1].mean()
    assert (y[:, 1] > 0.05).all() and (y[:, 0] < y[:, 1]).all()


# ================================================================ chilling-shock
@pytest.fixture(scope="module")
def shock():
    return run_with_counterfactual(Sim("chilling-shock", agents=30_000, days=730, seed=1))


def test_chilling_shock_falls_about_20_and_5_percent_at_once(shock):
    """Penney 2016: about 20% fewer views of the sensitive articles in the month after the
    revelation; Marthews & Tucker 2017: about 5% fewer government-sensitive searches
    (docs/validation.md, section 8). Before it, nothing is chilled at all."""
    for b in ("sensitive_reading", "broad_search"):
        d, c = shock.daily[f"acts_{b}"], shock.counterfactual.daily[f"acts_{b}"]
        assert (d[:365] == c[:365]).all()  # no risk before the shock: the same acts
    sensitive, _ = _chilling(shock, "sensitive_reading", slice(365, 395))
    broad, _ = _chilling(shock, "broad_search", slice(365, 395))
    assert 0.17 < sensitive < 0.23, sensitive
    assert 0.035 < broad < 0.065, broad
    # perceived risk rose on the day of the shock, before its first penalty could count
    risk = shock.daily["salience_caution_sensitive_reading"]
    assert risk[364] == 0 and risk[365] > 0


def test_chilling_shock_flattens_the_trend(shock):
    """After the shock the sensitive reading stops rising while the counterfactual keeps
    rising 5% a quarter (Penney 2016: the trend turned flat or falling)."""
    a = shock.daily["acts_sensitive_reading"].to_numpy(float)
    c = shock.counterfactual.daily["acts_sensitive_reading"].to_numpy(float)
    month = lambda x, k: x[365 + 30 * k:395 + 30 * k].sum()  # noqa: E731
    months = np.arange(1, 12)
    slope = np.polyfit(months, [month(a, k) for k in months], 1)[0]
    slope_cf = np.polyfit(months, [month(c, k) for k in months], 1)[0]
    pre = np.polyfit(np.arange(12), [a[30 * k:30 * k + 30].sum() for k in range(12)], 1)[0]
    assert slope_cf > 0 and pre > 0
    assert abs(slope) < 0.3 * slope_cf, (slope, slope_cf)
    broad, _ = _chilling(shock, "broad_search", slice(700, 730))
    assert broad < 0.15  # the broad searches are hardly touched by enforcement


# ================================================================ attitudes (Stoycheff)
def _acts_by_agent(sim: Sim, behaviour: str) -> tuple[np.ndarray, np.ndarray]:
    """Each agent's acts of one behaviour over the run, and its attitude trait (the stages
    run as Sim.run runs them; the acts are read where the act stage leaves them)."""
    pop = build_population(sim.scenario, sim.agents, sim.seed)
    nm, plans, state = sim.prepare(pop)
    b = nm.behaviours.index(behaviour)
    counts, plan = np.zeros(pop.n, np.int64), plans[0]
    for day in range(sim.days):
        previous = None
        if day in plans and day > 0:
            previous, plan = plan, plans[day]
        d = Day(day, sim.seed, plan, previous, pop.people, pop.network, state,
                Span(pop.n, 0, pop.n), DayRecord.zeros(nm))
        for stage in (s for r in rounds(d) for s in r):
            run_stages(d, [stage])
            if stage.name == "act":
                acts = d.work["acts"]
                np.add.at(counts, acts.agent[acts.beh == b], 1)
    attitude = pop.people.propensity[nm.traits.index("justified")]
    return counts, attitude


def test_priming_chills_those_who_find_surveillance_justified_more():
    """Stoycheff 2016: with surveillance primed (a salience shock, nothing enforced), reading
    falls more among agents who find surveillance justified than among those who oppose it,
    in every one of 8 seeds (a sign test: p = 0.004 if the sign were a coin toss)."""
    over = {"timeline": [{"day": 5, "set": {"responses.salience.sensitive_reading": 0.27}}]}
    signs = []
    for seed in range(8):
        counts = {}
        for scoring in (True, False):
            sim = Sim("chilling-shock", agents=20_000, days=35, seed=seed, overrides=over,
                      scoring=scoring)
            counts[scoring], w = _acts_by_agent(sim, "sensitive_reading")
        acts, cf = counts[True], counts[False]
        approve = w > np.median(w)
        fall = [1 - acts[m].sum() / cf[m].sum() for m in (approve, ~approve)]
        assert fall[0] > 0
        signs.append(fall[0] > fall[1])
    assert binomtest(sum(signs), len(signs), 0.5, alternative="greater").pvalue < 0.01, signs


# ================================================================ avoidance
def _shunned(rate: float, avoid: bool, p: float = 0.05, **over) -> dict:
    """A list of the flagged, published (a visible sanction) for 60 days; speech deterred by
    caution from the ties alone."""
    sc = _speech(
        behaviours={"bad": {"rate": rate}},
        layers={"kin": {"kind": "ties", "mean_degree": 10, "spillover": 0.05}},
        scoring={"rules": {"bad": -10}},
        lists={"L": {"enter_on": "bad", "expire_days": 60}},
        sanctions={"S": {"when": {"on_list": "L"}, "visible": True}},
        responses={"risk_from_sanctioned_ties": 1.0, "caution_half_life_days": 5,
                   "avoidance": {"enabled": avoid, "daily_probability": p,
                                 "lost_share": 0.2}})
    return deep_merge(sc, over)


def test_ties_cut_rise_with_the_sanctioned_share():
    cut, share = [], []
    for rate in (0.0005, 0.002, 0.008):
        res = run_sim(_shunned(rate, True), 20_000, 90, seed=3)
        cut.append(res.summary["final"]["ties_cut"])
        share.append(res.daily["sanctioned_any"].mean() / 20_000)
    assert share[0] < share[1] < share[2]
    assert 0 < cut[0] < cut[1] < cut[2], cut


def test_chilling_through_ties_falls_as_ties_are_cut():
    """The same people, with and without avoidance: cutting ties to the listed lowers the
    perceived risk from ties, more the more ties are cut, and with it the chilling."""
    runs = {avoid: run_with_counterfactual(Sim(_shunned(0.003, avoid, p=0.1), agents=20_000,
                                               days=90, seed=5)) for avoid in (False, True)}
    off, on = (runs[a].daily for a in (False, True))
    ratio = on["mean_perceived_risk"] / off["mean_perceived_risk"]
    cut = on["ties_cut"].cumsum()
    assert cut.iloc[-1] > 0 and (off["ties_cut"] == 0).all()
    # ties are cut from the first listing on: the ratio falls as the cut ties add up
    assert ratio[20:30].mean() < ratio[5:10].mean() < 1 and ratio[60:].mean() < ratio[20:30].mean()
    chill = {a: _chilling(runs[a], "speech", slice(30, 90)) for a in runs}
    assert chill[True][0] + Z * chill[True][1] < chill[False][0], chill


def _neighbours(net, a: int):
    """(neighbour, slot, cut?) of each tie of agent a (whole-population network)."""
    ties = net.ties
    out = []
    for l in range(ties.indptr.shape[0]):
        k, end = ties.base[l] + ties.indptr[l, a], ties.base[l] + ties.indptr[l, a + 1]
        while k < end:
            slot = k
            b, k = tie_at(ties.indices, k, a)
            out.append((int(b), l, slot))
    return out


def test_cut_ties_are_cut_at_both_ends_and_counted_as_the_state_says():
    """Every cut tie is marked at both ends; each agent's count of visibly sanctioned ties is
    its uncut ties to visibly sanctioned agents; ISOLATED marks exactly those who lost at
    least the lost share of their ties; some isolated people were never sanctioned."""
    sim = Sim(_shunned(0.004, True, p=0.1), agents=6000, days=60, seed=2)
    res = sim.run()
    s = res.state
    net = build_population(sim.scenario, 6000, 2).network
    visible = s.eff_mask != 0
    for a in range(6000):
        row = _neighbours(net, a)
        cut = [(b, l) for b, l, k in row if is_cut(s.cut, k)]
        seen = sum(1 for b, l, k in row if visible[b] and not is_cut(s.cut, k))
        assert s.sanctioned_ties[a] == seen, a
        for b, l in set(cut):
            back = sum(1 for x, m, k in _neighbours(net, b) if x == a and m == l
                       and is_cut(s.cut, k))
            assert back == cut.count((b, l)), (a, b)
        lost = len(cut) >= 0.2 * len(row) if row else False
        assert bool(s.flags[a] & ISOLATED) == lost, a
    f = res.summary["final"]
    assert f["ties_cut"] > 0
    assert 0 < f["isolated_never_sanctioned_frac"] < f["isolated_frac"]


def test_avoidance_that_cuts_nothing_changes_nothing():
    """Avoidance on with probability 0 (its stages run, its marks are kept and read) gives the
    run without it, bit for bit; off, its stages do not run and it keeps no mark."""
    off = Sim(_shunned(0.004, False), agents=8000, days=40, seed=6)
    on = Sim(_shunned(0.004, True, p=0.0), agents=8000, days=40, seed=6)
    a, b = off.run(), on.run()
    assert a.daily.equals(b.daily)
    assert a.summary["final"] == b.summary["final"]
    assert a.state.cut.shape == (0,) and b.state.cut.shape[0] > 0
    assert a.summary["final"]["sanctioned_frac"] > 0
    nm, plans, state = off.prepare(build_population(off.scenario, 8000, 6))
    d = Day(0, 6, plans[0], None, None, None, state, Span(8000, 0, 8000), None)
    active = {s.name for r in rounds(d) for s in r}
    assert {"avoid", "cut", "cut_back"} <= {s.name for s in DAY}
    assert not active & {"avoid", "cut", "cut_back"}


# ================================================================ monotone
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(rate=st.floats(0.005, 0.05), deter=st.floats(0.1, 1.0), seen=st.floats(0.1, 1.0),
       points=st.floats(1, 30), harsher=st.floats(1.5, 4.0), threshold=st.floats(5, 100),
       a_pen=st.floats(0, 0.3), a_san=st.floats(0, 0.6), a_ties=st.floats(0, 1),
       h_own=st.floats(5, 120), h=st.floats(1, 30), seed=st.integers(0, 1000))
def test_harsher_penalties_never_raise_acts(rate, deter, seen, points, harsher, threshold,
                                            a_pen, a_san, a_ties, h_own, h, seed):
    """Under common random numbers, harsher penalties on an expression behaviour (more points
    lost for each) never raise its acts, in random scenarios of rates, sensitivities, grade
    sanctions seen by ties, and responses."""
    def acts(pts: float) -> int:
        sc = {
            "name": "monotone",
            "population": {"regions": {"all": {"share": 1.0}}},
            "layers": {"kin": {"kind": "ties", "mean_degree": 6, "spillover": 0.1}},
            "channels": {"online": {"observe": seen}},
            "behaviours": {"speech": {"rate": rate, "channel": "online",
                                      "deterrability": deter, "expression": True}},
            "scoring": {"rules": {"speech": -pts}, "recovery_per_day": 0.5,
                        "grades": {"ok": 1000 - threshold, "low": None}},
            "sanctions": {"low": {"when": {"grade_at_most": "low"}, "visible": True}},
            "responses": {"risk_from_penalty": a_pen, "risk_from_sanction": a_san,
                          "risk_from_sanctioned_ties": a_ties,
                          "own_risk_half_life_days": h_own, "caution_half_life_days": h},
        }
        return run_sim(sc, 3000, 60, seed=seed).summary["final"]["acts"]["speech"]

    assert acts(points * harsher) <= acts(points)


# ================================================================ live blocks
def test_respond_skips_only_blocks_at_rest():
    """The respond stage visits only blocks marked live: visiting every block every day gives
    the same run, bit for bit (a block is skipped only where caution and own risk are 0 and
    stay 0), with own risk, sanctioned ties and avoidance all moving."""
    sc = _shunned(0.00005, True, p=0.05, responses={"risk_from_penalty": 0.2,
                                                    "risk_from_sanction": 0.5})
    sim = Sim(sc, agents=50_000, days=40, seed=8)
    pop = build_population(sim.scenario, sim.agents, sim.seed)
    runs, live = [], []
    for every in (False, True):
        nm, plans, state = sim.prepare(pop)
        for day in range(sim.days):
            if every:
                state.mark_live()
            else:
                live.append(state.live.mean())
            one_day(day, sim.seed, plans[0], pop, state, nm)
        runs.append(state)
    for name in ("caution", "own_risk", "sanctioned_ties", "cut", "flags", "score"):
        np.testing.assert_array_equal(getattr(runs[0], name), getattr(runs[1], name), name)
    assert 0 < min(live[1:]) < 0.5  # on some days most blocks were at rest, and skipped
    assert (runs[0].own_risk > 0).any() and (runs[0].cut != 0).any()
