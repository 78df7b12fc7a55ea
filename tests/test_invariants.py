"""Invariants of whole runs: reproducibility (seeds, threads), common random numbers,
monotonicity, the counterfactual with scoring off, the timeline, and consistency of the final
state with the daily and summary accounts."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import TIMING_FIELDS, minimal_scenario, one_day, run_sim
from scoresim import ScenarioError, Sim, build_population, load_scenario
from scoresim.engine.compile import FIXED, compile_plan
from scoresim.engine.measure import measure_counts, measured
from scoresim.engine.state import (
    COMMITTED,
    EVER_ASSOC,
    EVER_FALSE,
    EVER_OWN,
    EVER_SANCTIONED,
    FALSE_ATTRIBUTED,
    LIVE_SHIFT,
)

# the default scenario made busier, so that lists, appeals, review and minimum durations all
# happen in a short run
BUSY = {
    "behaviours.debt_default.rate": 0.003,
    "behaviours.debt_repayment.rate": 0.05,
    "lists.dishonest_debtors.grace_days": 2,
    "lists.dishonest_debtors.expire_days": 6,
    "channels.camera.watch_list": 0.5,  # half the faces are not on the list: false alerts
    "safeguards.appeals.enabled": True,
    "safeguards.appeals.delay_days": 2,
    "sanctions.loan_denial.min_days": 3,
    "scoring.grades.A": 995,
    "scoring.grades.B": 990,
}


PEERS = Path(__file__).parents[1] / "benchmarks" / "peers" / "workload.yaml"


def _strip(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in TIMING_FIELDS}


def _state_arrays(res) -> dict[str, np.ndarray]:
    s = res.state
    return {k: getattr(s, k) for k in ("score", "caution", "flags", "list_state", "eff_mask",
                                       "own_mask", "reach_mask", "sanctioned_ties")}


# ================================================================ seeds
@pytest.fixture(scope="module")
def busy_pair():
    a = run_sim("default", 30_000, 25, seed=7, overrides=BUSY)
    b = run_sim("default", 30_000, 25, seed=7, overrides=BUSY)
    return a, b


def test_same_seed_gives_identical_results(busy_pair):
    a, b = busy_pair
    assert _strip(a.summary) == _strip(b.summary)
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)
    for k, v in _state_arrays(a).items():
        np.testing.assert_array_equal(v, _state_arrays(b)[k], err_msg=k)
    # the run did something worth comparing
    f = a.summary["final"]
    assert f["ever_listed"]["dishonest_debtors"] > 0 and f["appeals_won"] > 0
    assert f["ever_sanctioned_by_cause"]["association"] > 0
    assert f["false_attributions"] > 0 and sum(f["denied"].values()) > 0


def test_a_prebuilt_population_gives_the_same_run(busy_pair):
    a, _ = busy_pair
    sc = load_scenario("default", BUSY)
    pop = build_population(sc, 30_000, 7)
    c = Sim(sc, agents=30_000, days=25, seed=7, population=pop).run()
    pd.testing.assert_frame_equal(a.daily, c.daily, check_exact=True)


def test_different_seeds_differ(busy_pair):
    a, _ = busy_pair
    c = run_sim("default", 30_000, 25, seed=8, overrides=BUSY)
    assert _strip(a.summary) != _strip(c.summary)
    acts = [col for col in a.daily.columns if col.startswith("acts_")]
    assert not a.daily[acts].equals(c.daily[acts])
    assert not np.array_equal(a.state.score, c.state.score)


# ================================================================ threads
_THREAD_SCRIPT = textwrap.dedent("""
    import hashlib, pickle, sys
    import numba
    import numpy as np
    from scoresim import Sim

    busy = pickle.loads(bytes.fromhex(sys.argv[2]))
    out = {"threads": numba.get_num_threads()}
    # the peers workload: far ties, respond's skipped blocks, sanctions seen by ties
    peers = (sys.argv[3], {"behaviours.infraction.rate": 0.02})
    for name, scenario, agents, over in (("default", "default", 150_000, None),
                                         ("busy", "default", 100_000, busy),
                                         ("peers", peers[0], 100_000, peers[1])):
        r = Sim(scenario, agents=agents, days=12, seed=21, overrides=over).run()
        s = r.state
        out[name] = {
            "daily": r.daily,
            "final": r.summary["final"],
            "state": {k: hashlib.sha256(np.ascontiguousarray(getattr(s, k)).tobytes()).hexdigest()
                      for k in ("score", "caution", "flags", "list_state", "eff_mask",
                                "sanctioned_ties")},
        }
    with open(sys.argv[1], "wb") as f:
        pickle.dump(out, f)
""")


def test_thread_count_does_not_change_results(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_THREAD_SCRIPT)
    procs, outs = [], {}
    for threads in (1, 2):
        out = tmp_path / f"out{threads}.pkl"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        procs.append((threads, out, subprocess.Popen(
            [sys.executable, str(script), str(out), pickle.dumps(BUSY).hex(), str(PEERS)],
            env=env,
            stderr=subprocess.PIPE)))
    for threads, out, p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
        with open(out, "rb") as f:
            outs[threads] = pickle.load(f)
    assert outs[1]["threads"] == 1 and outs[2]["threads"] == 2
    for name in ("default", "busy", "peers"):
        one, two = outs[1][name], outs[2][name]
        # daily.parquet holds exactly this frame: compare it bit for bit, floats included
        pd.testing.assert_frame_equal(one["daily"], two["daily"], check_exact=True)
        for col in ("mean_score", "mean_caution"):
            assert one["daily"][col].to_numpy().tobytes() == two["daily"][col].to_numpy().tobytes()
        assert one["state"] == two["state"], name
        assert json.dumps(one["final"], sort_keys=True) == json.dumps(two["final"], sort_keys=True)


# ================================================================ monotonicity and CRN
def test_harsher_criticism_penalty_never_gives_more_criticism():
    rules = (0, -30, -200)
    sc = load_scenario("default")
    for seed in (1, 2, 3):
        pop = build_population(sc, 20_000, seed)
        totals = []
        for r in rules:
            res = Sim("default", agents=20_000, days=40, seed=seed, population=pop,
                      overrides={"scoring.rules.online_criticism": r}).run()
            totals.append(res.summary["final"]["acts"]["online_criticism"])
        assert all(a >= b for a, b in zip(totals, totals[1:], strict=False)), (seed, totals)
        assert totals[0] > totals[-1], "the harshest rule should chill some criticism"


@pytest.fixture(scope="module")
def on_off():
    on = run_sim("default", 30_000, 40, seed=5)
    off = run_sim("default", 30_000, 40, seed=5, scoring=False)
    return on, off


def test_scoring_off_has_no_consequences(on_off):
    _, off = on_off
    f, d = off.summary["final"], off.daily
    assert off.summary["scoring"] is False
    assert f["sanctioned_frac"] == f["ever_sanctioned_frac"] == 0
    assert f["never_acted_sanctioned_frac"] == 0 and f["mean_caution"] == 0
    assert all(v == 0 for v in f["ever_sanctioned_by_cause"].values())
    assert all(v == 0 for v in f["denied"].values()) and sum(f["requests"].values()) > 0
    assert all(v == 0 for v in f["observed"].values())
    assert f["false_attributions"] == 0 and f["spill_penalties"] == 0
    assert f["listed_now"]["dishonest_debtors"] == 0 and f["mean_score"] == 1000.0
    assert (d["mean_caution"] == 0).all() and (d["mean_score"] == 1000.0).all()
    assert d.filter(like="denied_").to_numpy().sum() == 0
    assert d.filter(like="sanctioned_").to_numpy().sum() == 0
    assert np.all(off.state.score == 1000 * FIXED) and np.all(off.state.caution == 0)


def test_scoring_enabled_false_in_the_scenario_is_the_same_counterfactual(on_off):
    _, off = on_off
    again = run_sim("default", 30_000, 40, seed=5, overrides={"scoring_enabled": False})
    pd.testing.assert_frame_equal(off.daily, again.daily, check_exact=True)


def test_common_random_numbers_between_scoring_on_and_off(on_off):
    """Same seed: the same service requests every day, and caution can only thin acts that
    caution deters (and only add acts that it encourages), day by day."""
    on, off = on_off
    sc = on.scenario
    for col in [c for c in on.daily.columns if c.startswith("requests_")]:
        np.testing.assert_array_equal(on.daily[col], off.daily[col], err_msg=col)
    for name, b in sc.behaviours.items():
        if b.requires is not None:
            assert off.daily[f"acts_{name}"].sum() == 0  # nobody is on a list
            continue
        a_on, a_off = on.daily[f"acts_{name}"].to_numpy(), off.daily[f"acts_{name}"].to_numpy()
        if b.deterrability > 0:
            assert np.all(a_on <= a_off), name
        elif b.deterrability < 0:
            assert np.all(a_on >= a_off), name
        else:
            np.testing.assert_array_equal(a_on, a_off, err_msg=name)
    # the system chills expression
    expr = [n for n, b in sc.behaviours.items() if b.expression]
    assert sum(on.summary["final"]["acts"][n] for n in expr) < \
        sum(off.summary["final"]["acts"][n] for n in expr)


# ================================================================ timeline
def test_a_rule_change_takes_effect_on_its_day():
    d0, days, n = 6, 10, 20_000
    base = minimal_scenario(behaviours={"bad": {"rate": 0.05}}, scoring={"rules": {"bad": 0}})
    changed = dict(base, timeline=[{"day": d0, "set": {"scoring.rules.bad": -3}}])
    a = run_sim(base, n, days, seed=3)
    b = run_sim(changed, n, days, seed=3)
    ms = b.daily["mean_score"].to_numpy()
    assert np.all(ms[:d0] == 1000.0), "no score change before the change day"
    # from the change day on, each observed act costs 3 points, exactly
    lost = np.cumsum(np.where(np.arange(days) >= d0, b.daily["observed_bad"] * 3, 0)) / n
    np.testing.assert_allclose(1000.0 - ms, lost, rtol=0, atol=1e-9)
    assert ms[d0] < 1000.0
    # the change touches nothing else: same acts, same observations (common random numbers)
    for col in ("acts_bad", "observed_bad"):
        np.testing.assert_array_equal(a.daily[col], b.daily[col])
    pd.testing.assert_frame_equal(a.daily.iloc[:d0], b.daily.iloc[:d0], check_exact=True)


def test_a_rate_change_takes_effect_on_its_day():
    d0, days, n = 4, 8, 50_000
    base = minimal_scenario(behaviours={"bad": {"rate": 0.01}})
    changed = dict(base, timeline=[{"day": d0, "set": {"behaviours.bad.rate": 0.05}}])
    a = run_sim(base, n, days, seed=4)
    b = run_sim(changed, n, days, seed=4)
    pd.testing.assert_frame_equal(a.daily.iloc[:d0], b.daily.iloc[:d0], check_exact=True)
    acts = b.daily["acts_bad"].to_numpy()
    assert acts[:d0].max() < 0.02 * n < acts[d0:].min()


@pytest.mark.parametrize("before,after", [(False, True), (True, False)])
def test_a_visibility_change_keeps_neighbour_counts_consistent(before, after):
    """A sanction made visible (or hidden) mid-run: tie neighbours count the agents whose
    sanctions are visible now, and nothing when nobody is sanctioned any more."""
    n = 2000
    sc = minimal_scenario(
        behaviours={"bad": {"rate": 1.0}}, scoring={"rules": {"bad": -1}},
        layers={"kin": {"kind": "ties", "mean_degree": 4}},
        lists={"L": {"enter_on": "bad", "expire_days": 10}},
        sanctions={"S": {"when": {"on_list": "L"}, "visible": before}},
        responses={"risk_from_sanctioned_ties": 0.01},
        timeline=[{"day": 1, "set": {"behaviours.bad.rate": 0.0}},
                  {"day": 5, "set": {"sanctions.S.visible": after}}])
    res = run_sim(sc, n, 15, seed=2)
    d = res.daily
    assert d["sanctioned_S"].tolist() == [n] * 10 + [0] * 5
    # nobody is sanctioned at the end, so nobody has a visibly sanctioned neighbour
    ties = res.state.sanctioned_ties
    assert int(ties.max()) == 0, f"sanctioned tie counts left over: max {int(ties.max())}"
    caution = d["mean_caution"].to_numpy()
    assert np.all(caution <= 1.0)
    visible_days = np.repeat([before, after, False], 5)  # days 0-4, 5-9 (listed), 10-14
    # caution grows exactly on the days a visible sanction is in view (toward the share of
    # ties visibly sanctioned), and otherwise falls back or stays at 0
    grows = np.diff(np.r_[0.0, caution]) > 0
    np.testing.assert_array_equal(grows, visible_days)


_TIMELINE_SCRIPT = textwrap.dedent("""
    import json, sys
    from scoresim import Sim, ScenarioError

    change = json.loads(sys.argv[1])
    sc = {
        "name": "t",
        "population": {"regions": {"all": {"share": 1.0}}},
        "channels": {"cam": {"observe": 1.0, "false_match": 0.5, "watch_list": 0.5}},
        "behaviours": {"bad": {"rate": 0.05, "channel": "cam"}},
        "scoring": {"rules": {"bad": -1}},
        "lists": {"L": {"enter_on": "bad", "expire_days": 3}},
        "sanctions": {"S": {"when": {"on_list": "L"}}},
        "timeline": [{"day": 2, "set": change}],
    }
    try:
        sim = Sim(sc, agents=50_000, days=10, seed=1)
    except ScenarioError as exc:
        print(json.dumps({"refused": str(exc)}))
        sys.exit(0)
    res = sim.run()
    print(json.dumps({"final": res.summary["final"],
                      "sanctioned": res.daily["sanctioned_S"].tolist()}))
""")


@pytest.mark.parametrize("change", [
    {"safeguards.appeals.enabled": True, "safeguards.appeals.delay_days": 1},
    {"sanctions.S.min_days": 20},
], ids=["appeals", "min_days"])
def test_a_timeline_change_of_safeguards_is_applied_or_refused(tmp_path, change):
    """Switching on appeals or a minimum sanction duration mid-run needs state that the run
    did not allocate at the start: the engine must either allocate it or refuse the change
    with a ScenarioError, never read or write outside its arrays (run in a subprocess, since
    that crashes the interpreter)."""
    script = tmp_path / "t.py"
    script.write_text(_TIMELINE_SCRIPT)
    p = subprocess.run([sys.executable, str(script), json.dumps(change)], capture_output=True,
                       timeout=300)
    assert p.returncode == 0, f"crashed with {p.returncode}: {p.stderr.decode()[-2000:]}"
    out = json.loads(p.stdout.decode().strip().splitlines()[-1])
    if "refused" in out:
        return
    if "safeguards.appeals.enabled" in change:
        assert out["final"]["appeals_won"] > 0
    else:  # a sanction, once on after day 2, lasts at least 20 days: to the end of the run
        s = out["sanctioned"]
        assert all(b >= a for a, b in zip(s[2:], s[3:], strict=False))


def test_switching_scoring_off_mid_run_is_refused_before_anything_runs():
    """Switching the whole system off mid-run would leave sanctions and lowered scores in a
    state the model does not define; the timeline refuses it with a clear error instead."""
    sc = minimal_scenario(timeline=[{"day": 5, "set": {"scoring_enabled": False}}])
    with pytest.raises(ScenarioError, match="scoring_enabled cannot change"):
        Sim(sc, agents=100, days=10, seed=1)


# ================================================================ state and accounts
def _recount_sanctioned_ties(res, pop) -> np.ndarray:
    sc = res.scenario
    names = list(sc.sanctions)
    visible = sum(1 << k for k, s in enumerate(names) if sc.sanctions[s].visible)
    net = pop.network
    out = np.zeros(pop.n, np.int64)
    on = np.flatnonzero(res.state.eff_mask & visible)
    for l in range(len(net.tie_layers)):
        for a in on:
            np.add.at(out, net.neighbours(l, a), 1)
    return out


def test_final_state_is_consistent(busy_pair):
    res, _ = busy_pair
    sc = res.scenario
    s, n = res.state, res.summary["agents"]
    pop = build_population(sc, n, 7)
    names = list(sc.sanctions)
    S = len(names)
    params = compile_plan(sc, pop.people.max_propensity)
    np.testing.assert_array_equal(s.eff_mask, s.own_mask | s.reach_mask)
    for k in range(S):
        assert s.sanctioned_count[k] == np.count_nonzero(s.eff_mask & (1 << k)), names[k]
    assert s.sanctioned_count[S] == np.count_nonzero(s.eff_mask)
    lists = list(sc.lists)
    for k, name in enumerate(names):
        spec, own = sc.sanctions[name], (s.own_mask & (1 << k)) != 0
        if spec.when.on_list is not None:
            cond = s.list_state[lists.index(spec.when.on_list)] > 0
        else:
            cond = s.score < params.sanction.threshold[k]
        if spec.min_days == 0:
            np.testing.assert_array_equal(own, cond, err_msg=name)
        else:
            assert np.all(own[cond]), name  # held on for its minimum duration: a superset
    # a sanction that reaches the household is on all other members, and only on them
    k = names.index("school_ban")
    hh = pop.network.groups_of(0)
    reachers = np.flatnonzero(s.own_mask & (1 << k))
    expected = np.zeros(n, bool)
    for a in reachers:
        fam = np.flatnonzero(hh == hh[a])
        expected[fam[fam != a]] = True
    np.testing.assert_array_equal((s.reach_mask & (1 << k)) != 0, expected)
    assert len(reachers) > 0
    np.testing.assert_array_equal(s.sanctioned_ties.astype(np.int64),
                                  _recount_sanctioned_ties(res, pop))
    f = s.flags
    ever = (f & EVER_SANCTIONED) != 0
    np.testing.assert_array_equal(ever, (f & (EVER_OWN | EVER_FALSE | EVER_ASSOC)) != 0)
    assert np.all(ever[s.eff_mask != 0])
    assert np.all(f[(f & EVER_OWN) != 0] & COMMITTED), "own cause without an own scored act"
    assert np.all(f[(f & EVER_FALSE) != 0] & FALSE_ATTRIBUTED)
    for k in range(len(lists)):
        assert np.all(s.ever_listed[s.list_state[k] > 0] & (1 << k))
    assert np.all((s.caution >= 0) & (s.caution <= 1))
    fin = res.summary["final"]
    assert fin["never_acted_sanctioned_frac"] == np.count_nonzero(ever & ((f & COMMITTED) == 0)) / n
    assert fin["sanctioned_frac"] == np.count_nonzero(s.eff_mask) / n
    assert fin["mean_score"] == pytest.approx(float(s.score.astype(np.int64).sum()) / FIXED / n)


@pytest.mark.parametrize("scenario", ["default", "peers"])
def test_the_days_measurements_equal_a_sweep_of_the_state(scenario):
    """The day's figures are taken where their data passes (scores in recover's pass plus what
    appeals restore, caution in respond's pass over the live blocks, sanctioned agents per
    group kept by the sanction stage): each day they equal one sweep over the state, and each
    block that respond may skip has no caution, no mark today and no sanctioned tie."""
    path = PEERS if scenario == "peers" else scenario
    n, days, seed = 30_000, 20, 7
    sim = Sim(str(path), agents=n, days=days, seed=seed,
              overrides=BUSY if scenario == "default" else
              {"behaviours.infraction.rate": 0.02})
    pop = build_population(sim.scenario, n, seed)
    nm, plans, s = sim.prepare(pop)
    p, people, G = plans[0], pop.people, len(pop.people.group_names)
    bounds = p.scoring.grade_bounds
    appeals = skipped = 0
    for day in range(days):
        c = one_day(day, seed, p, pop, s, nm)
        m = measured(measure_counts(bounds, G, s.score, s.caution, s.eff_mask, people.group),
                     bounds.shape[0])
        assert c.score_sum == m.score_sum and c.caution_units == m.caution_units
        np.testing.assert_array_equal(c.grades, m.grades[: len(c.grades)])
        np.testing.assert_array_equal(c.sanctioned_by_group, m.sanctioned_group)
        np.testing.assert_array_equal(
            s.sanctioned_group, np.bincount(people.group[s.eff_mask != 0], minlength=G))
        idle = np.repeat(s.live == 0, 1 << LIVE_SHIFT)[:n]
        assert not np.any(s.caution[idle]) and not np.any(s.today[idle])
        assert not np.any(s.sanctioned_ties[idle])
        appeals += c.appeals_won
        skipped += int(idle.sum())
    if scenario == "default":
        assert appeals > 0 and s.caution.max() > 0  # appeals and caution exercised
    else:
        assert skipped > 0 and s.sanctioned_ties.max() > 0  # blocks skipped, ties in view


def test_daily_counts_agree_with_the_summary(busy_pair):
    res, _ = busy_pair
    d, f, n = res.daily, res.summary["final"], res.summary["agents"]
    sc = res.scenario
    assert d["day"].tolist() == list(range(res.summary["days"]))
    for b in sc.behaviours:
        assert int(d[f"acts_{b}"].sum()) == f["acts"][b]
        assert int(d[f"observed_{b}"].sum()) == f["observed"][b]
        assert np.all(d[f"observed_{b}"] <= d[f"acts_{b}"])
    for v in sc.services:
        assert int(d[f"denied_{v}"].sum()) == f["denied"][v]
        assert np.all(d[f"denied_{v}"] <= d[f"requests_{v}"])
        per_group = sum(d[f"denied_{v}__{g}"] for g in sc.population.groups)
        np.testing.assert_array_equal(per_group, d[f"denied_{v}"])
    assert int(d["sanctioned_any"].iloc[-1]) == round(f["sanctioned_frac"] * n)
    for name in sc.sanctions:
        assert np.all(d[f"sanctioned_{name}"] <= d["sanctioned_any"])
    for name in sc.lists:
        assert int(d[f"listed_{name}"].iloc[-1]) == f["listed_now"][name]
        assert f["listed_now"][name] <= f["ever_listed"][name]
        assert int(d[f"listings_{name}"].sum()) >= f["ever_listed"][name]  # relisting counts
    assert f["false_attributions"] == int(d["false_attributions"].sum())
    acts = d[[f"sanction_activations_by_{c}" for c in ("own", "false_match", "association")]]
    people = int(d["new_sanctioned_people_any"].sum())
    assert people == round(f["ever_sanctioned_frac"] * n)  # each person once
    assert int(acts.to_numpy().sum()) == int(d[[f"sanction_activations_{s}"
                                                for s in sc.sanctions]].to_numpy().sum())
    for s_name in sc.sanctions:
        assert f["sanction_activations"][s_name] >= f["ever_sanctioned_people"][s_name]
    for c in ("own", "false_match", "association"):
        assert int(d[f"new_sanctioned_people_by_{c}"].sum()) == round(
            f["ever_sanctioned_by_cause"][c] * n)
    assert int(d["new_sanctioned_people_by_for_others_acts"].sum()) == round(
        f["sanctioned_for_others_acts_frac"] * n)
    by = f["ever_sanctioned_by_cause"]
    assert max(by.values()) <= f["ever_sanctioned_frac"] <= sum(by.values()) + 1e-12
    others = f["sanctioned_for_others_acts_by_cause"]
    # a person sanctioned for others' acts twice may have had either cause decisive each time
    assert max(others.values()) <= f["sanctioned_for_others_acts_frac"] <= sum(
        others.values()) + 1e-12
    assert f["never_acted_sanctioned_frac"] <= f["sanctioned_for_others_acts_frac"] + 1e-12
    assert d["mean_score"].iloc[-1] == pytest.approx(f["mean_score"])
    assert d["mean_caution"].iloc[-1] == pytest.approx(f["mean_caution"])
    assert len(res.summary["network"]) == len(sc.layers)


def test_conservation_of_points_without_recovery():
    """Every fixed-point unit a score moves is an observed act's points or a spilled share."""
    sc = minimal_scenario(
        behaviours={"bad": {"rate": 0.03}, "good": {"rate": 0.02, "channel": "rec"}},
        scoring={"rules": {"bad": -7, "good": 3}},
        layers={"household": {"kind": "group", "size": {2: 0.5, 4: 0.5}, "spillover": 0.2}})
    res = run_sim(sc, 20_000, 20, seed=6)
    f = res.summary["final"]
    total = int(np.sum(res.state.score.astype(np.int64) - 1000 * FIXED))
    assert total == f["observed"]["bad"] * -700 + f["observed"]["good"] * 300 + \
        f["spill_penalties"] * round(-700 * 0.2)
    assert f["spill_penalties"] > 0
