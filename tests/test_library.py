"""The scenario library: every built-in loads, validates and runs; each models what its header
says (Rongcheng's grade arithmetic through the engine, national's timeline, the safeguards, the
credit bureau's context firewall, the baseline with nothing scored). SYNTHETIC people only."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from scoresim import ScenarioError, Sim, build_population, load_scenario
from scoresim.engine.compile import compile_plan, names_of
from scoresim.scenario import apply_changes, builtin_scenarios

LIBRARY = ("none", "rongcheng", "national", "safeguarded", "credit-bureau", "national-points",
           "cardiff-2017", "met-2019", "chilling-shock")
LAUNCH = date(2013, 11, 1)  # national's day 0: the court list's launch


def _day(iso: str) -> int:
    return (date.fromisoformat(iso) - LAUNCH).days


def test_the_library_is_shipped():
    assert set(LIBRARY) | {"default"} <= set(builtin_scenarios())


@pytest.mark.parametrize("name", LIBRARY)
def test_builtin_loads_validates_and_runs(name):
    sc = load_scenario(name)
    assert sc.name == name and sc.description
    res = Sim(name, agents=3000, days=40, seed=2).run()
    f = res.summary["final"]
    assert len(res.daily) == 40 and res.summary["agents"] == 3000
    assert sum(f["acts"].values()) > 0
    for svc in sc.services:
        assert 0 <= f["denied"][svc] <= f["requests"][svc]
    assert 0 <= f["never_acted_sanctioned_frac"] <= f["ever_sanctioned_frac"] <= 1


def test_every_builtin_has_a_header_and_marks_its_assumptions():
    from importlib import resources

    for name in LIBRARY:
        text = resources.files("scoresim.scenario").joinpath(f"builtin/{name}.yaml").read_text()
        assert text.startswith(f'# scoresim built-in scenario "{name}"')
        assert "What it models" in text and "SYNTHETIC" in text
        assert "# assumption" in text and "SOURCES" in text


# ---------------------------------------------------------------- none
def test_none_is_the_default_people_with_nothing_scored():
    none, default = load_scenario("none"), load_scenario("default")
    assert none.scoring_enabled is False
    assert none.population == default.population
    assert none.layers == default.layers
    assert none.behaviours == default.behaviours
    assert none.services == default.services
    f = Sim("none", agents=5000, days=60, seed=1).run().summary["final"]
    assert sum(f["observed"].values()) == 0 and sum(f["denied"].values()) == 0
    assert f["ever_sanctioned_frac"] == 0 and sum(f["ever_listed"].values()) == 0
    assert sum(f["requests"].values()) > 0 and sum(f["acts"].values()) > 0


# ---------------------------------------------------------------- Rongcheng's arithmetic
ONLY_BREACH = {f"behaviours.{b}.rate": 0.0 for b in (
    "bank_arrears", "credit_obligation_default", "fraud_or_counterfeit", "utility_theft",
    "destroying_public_equipment", "volunteering", "donation", "online_criticism")}
ONLY_BREACH["behaviours.contract_breach.rate"] = 1.0  # every resident, every day


def _grades(days: int, **extra) -> dict[str, int]:
    """Agents per grade after ``days`` days in which every resident is found in breach of
    contract once a day (caution cannot deter: deterrability 0)."""
    ov = {**ONLY_BREACH, "behaviours.contract_breach.deterrability": 0.0, **extra}
    daily = Sim("rongcheng", agents=400, days=days, seed=0, overrides=ov).run().daily
    last = daily.iloc[-1]
    return {g: int(last[f"grade_{g}"]) for g in ("AAA", "AA", "A", "B", "C", "D")}


def test_rongcheng_bands_and_deductions():
    sc = load_scenario("rongcheng")
    assert sc.scoring.initial == 1000
    assert sc.scoring.grades == {"AAA": 1050, "AA": 1030, "A": 960, "B": 850, "C": 600,
                                 "D": None}
    assert sc.scoring.rules == {
        "bank_arrears": -10, "credit_obligation_default": -20, "fraud_or_counterfeit": -30,
        "contract_breach": -50, "utility_theft": -60, "destroying_public_equipment": -100,
        "volunteering": 5, "donation": 30}
    assert sc.scoring.recovery_per_day == 0


def test_rongcheng_start_is_grade_a():
    ov = {**ONLY_BREACH, "behaviours.contract_breach.rate": 0.0}
    daily = Sim("rongcheng", agents=300, days=1, seed=0, overrides=ov).run().daily
    assert int(daily["grade_A"].iloc[0]) == 300


def test_one_minus_50_deduction_moves_grade_a_to_b():
    assert _grades(1)["B"] == 400  # 1,000 - 50 = 950: B is 850-959


def test_grade_d_needs_at_least_401_points():
    assert _grades(8)["C"] == 400  # 8 x -50 = -400: 600 is still C
    assert _grades(9)["D"] == 400  # -450: D
    assert _grades(1, **{"scoring.rules.contract_breach": -400})["C"] == 400
    assert _grades(1, **{"scoring.rules.contract_breach": -401})["D"] == 400


def test_rongcheng_grades_bring_perks_and_restrictions():
    ov = {**ONLY_BREACH, "behaviours.contract_breach.deterrability": 0.0}
    f = Sim("rongcheng", agents=400, days=1, seed=0, overrides=ov).run().summary["final"]
    assert f["sanctioned_now"] == {"perks_lost": 400, "d_restrictions": 0}  # B loses perks
    f = Sim("rongcheng", agents=400, days=9, seed=0, overrides=ov).run().summary["final"]
    assert f["sanctioned_now"] == {"perks_lost": 400, "d_restrictions": 400}  # D: restricted


# ---------------------------------------------------------------- national
def _plans(name: str) -> dict[int, object]:
    sc = load_scenario(name)
    plans, current = {0: sc}, sc
    for change in sorted(sc.timeline, key=lambda c: c.day):
        current = plans[change.day] = apply_changes(current, change.set)
    return plans


def test_national_timeline_dates():
    plans = _plans("national")
    assert set(plans) == {0, _day("2014-07-01"), _day("2018-05-01"), _day("2019-01-01"),
                          _day("2020-01-06"), _day("2024-01-01")}
    first = plans[0]
    assert "flight" not in first.sanctions["joint_punishment"].denies  # before interception
    assert set(plans[242].sanctions["joint_punishment"].denies) == {
        "flight", "rail", "loan", "executive_post"}
    assert first.lists["dishonest_debtors"].grace_days == 0
    assert 30 <= plans[_day("2020-01-06")].lists["dishonest_debtors"].grace_days <= 90
    assert first.lists["dishonest_debtors"].expire_days == 730
    assert first.lists["dishonest_debtors"].leave_on == "debt_repayment"
    r2019 = plans[_day("2019-01-01")].behaviours["debt_default"].rate
    r2024 = plans[_day("2024-01-01")].behaviours["debt_default"].rate
    assert r2024 == pytest.approx(0.766 * r2019, rel=1e-3)  # -23.4% year on year


def test_national_points_are_kept_in_the_pilots_alone_all_along():
    """No national point system has been announced: in `national` only the demonstration
    cities score (criticism included), on every day; `national-points` (hypothetical) scores
    everywhere."""
    plans = _plans("national")
    assert all(sc.scoring.regional_rules for sc in plans.values())
    for name, pilot_only in (("national", True), ("national-points", False)):
        sc = load_scenario(name)
        nm = names_of(sc)
        p = compile_plan(sc, np.ones(len(nm.traits), np.float32))
        for behaviour in ("debt_default", "online_criticism", "offline_criticism"):
            b = nm.behaviours.index(behaviour)
            pts = {r: int(p.score.points[k, b]) for k, r in enumerate(nm.regions)}
            assert pts["pilot_cities"] < 0
            assert (pts["rest"] == 0) == pilot_only and (pts["dense_cities"] == 0) == pilot_only


def test_national_joint_punishment_corporate_ratings_and_cameras():
    sc = load_scenario("national")
    assert sc.sanctions["school_ban"].reaches == "household"
    assert sc.lists["dishonest_firms"].enter_on_rating == "work"
    assert sc.layers["work"].rating is not None
    assert sc.sanctions["owner_ban"].when.on_list == "dishonest_firms"
    cover = [r.camera_coverage for r in sc.population.regions.values()]
    assert len(set(cover)) == len(cover) > 1  # regional densities
    assert sc.channels["camera"].observe == "coverage"


def test_safeguarded_is_national_with_the_safeguards():
    nat, safe = load_scenario("national"), load_scenario("safeguarded")
    a, b = nat.model_dump(), safe.model_dump()
    for key in ("name", "description", "safeguards"):
        a.pop(key), b.pop(key)
    assert a["sanctions"]["school_ban"].pop("reaches") == "household"  # no reach: association
    assert b["sanctions"]["school_ban"].pop("reaches") is None
    assert a == b
    s = safe.safeguards
    expression = {k for k, v in nat.behaviours.items() if v.expression}
    assert set(s.protected) == expression == {"online_criticism", "offline_criticism"}
    assert s.association_penalties is False and s.human_review is True
    assert s.review.reviewers == 2  # AI Act Art. 14(5): two people verify
    assert s.appeals.enabled is True


def test_safeguards_stop_scoring_expression_and_association():
    f = Sim("safeguarded", agents=20_000, days=120, seed=4).run().summary["final"]
    assert f["ever_sanctioned_by_cause"]["association"] == 0
    assert f["ever_listed"]["dishonest_firms"] == 0
    g = Sim("national", agents=20_000, days=120, seed=4).run().summary["final"]
    assert g["observed"]["online_criticism"] > 0
    assert f["acts"]["online_criticism"] > g["acts"]["online_criticism"]  # less chilled


# ---------------------------------------------------------------- credit bureau
def test_credit_bureau_scores_only_debts_and_denies_only_loans():
    sc = load_scenario("credit-bureau")
    assert set(sc.scoring.rules) == {"missed_payment", "debt_default"}
    assert {s for x in sc.sanctions.values() for s in x.denies} == {"loan"}
    assert sc.safeguards.association_penalties is False
    assert all(la.spillover == 0 for la in sc.layers.values())
    f = Sim("credit-bureau", agents=20_000, days=365, seed=1).run().summary["final"]
    assert f["denied"]["flight"] == f["denied"]["rail"] == f["denied"]["private_school"] == 0
    assert f["ever_sanctioned_frac"] > 0 and f["never_acted_sanctioned_frac"] == 0


def test_household_sizes_follow_the_2020_census():
    """The validation in docs/validation.md: mean 2.62, one-person share about 25%."""
    sc = load_scenario("national")
    net = build_population(sc, 100_000, 1).network
    l = net.group_layers.index("household")
    sizes = np.diff(net.group_start[net.group_off[l] : net.group_off[l + 1] + 1])
    assert abs(sizes.mean() - 2.62) < 0.03
    assert abs(np.mean(sizes == 1) - 0.2539) < 0.01



def test_a_list_has_no_visibility_of_its_own():
    """What ties see of a listing is a visible sanction on the list: ``lists.<name>.visible``
    (accepted once, never compiled) is refused, naming the key."""
    with pytest.raises(ScenarioError, match="visible"):
        load_scenario("default", ["lists.dishonest_debtors.visible=true"])
    sc = load_scenario("default")
    assert sc.sanctions["travel_ban"].visible and \
        sc.sanctions["travel_ban"].when.on_list == "dishonest_debtors"
