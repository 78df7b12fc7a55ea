"""Recognition as NIST measures it: watch lists with a prevalence, false alerts from faces not
on them (FPIR from the per-comparison FMR and the gallery), human review of the same match,
the same pipeline at venues abroad, and the two field trials rebuilt from their ingredients.

Every population is SYNTHETIC; seeds are fixed and tolerances are 5 standard errors
(conftest.Z) unless a published figure's 10% is the test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import Z, assert_binomial, assert_near, deep_merge, minimal_scenario, run_sim
from scoresim import Sim, build_population, load_scenario
from scoresim.core.constants import FIXED
from scoresim.engine.state import ASSOC_PENALISED, FALSE_ATTRIBUTED


def _total(final: dict, key: str, group: str | None = None) -> int:
    v = final[key]
    return int(v[group]) if group else int(sum(v.values()))


def crowd(channel: dict, groups: dict | None = None, **over) -> dict:
    """A crowd in which every agent's face passes the camera once a day (rate 1), nothing
    scored: the recognition pipeline on its own."""
    sc = minimal_scenario(channels={"cam": {"observe": 1.0, **channel}},
                          behaviours={"bad": {"rate": 1.0, "channel": "cam"}})
    if groups:
        sc["population"]["groups"] = groups
    return deep_merge(sc, over)


# ---------------------------------------------------------------- the field trials
def _trial(name: str, agents: int, seeds: int) -> dict[str, np.ndarray]:
    rows = {"alerts": [], "true_alerts": [], "false_alerts": []}
    for seed in range(seeds):
        f = Sim(name, agents=agents, days=1, seed=seed).run().summary["final"]
        for k in rows:
            rows[k].append(_total(f, k))
    return {k: np.array(v, float) for k, v in rows.items()}


def _expected(name: str, faces: int) -> dict[str, float]:
    """The trial's expected counts from its ingredients alone (closed form)."""
    cam = load_scenario(name).channels["camera"]
    listed = faces * cam.watch_list
    fpir = cam.false_alert_rate()
    true = listed * cam.recognition
    false = (faces - listed) * fpir + listed * (1 - cam.recognition) * fpir
    return {"alerts": true + false, "true_alerts": true, "false_alerts": false}


@pytest.mark.parametrize("name,faces,seeds,reported", [
    ("cardiff-2017", 170_000, 30, {"alerts": 2470, "true_alerts": 173, "false_alerts": 2297}),
    ("met-2019", 42_500, 400, {"alerts": 42, "true_alerts": 8, "false_alerts": 34}),
])
def test_field_trials_follow_from_their_ingredients(name, faces, seeds, reported):
    """Over seeds, each trial's alerts, true and false alerts land within 10% of the reported
    figures, and within sampling error of what its ingredients imply (docs/validation.md)."""
    got, want = _trial(name, faces, seeds), _expected(name, faces)
    for key, value in reported.items():
        mean, se = got[key].mean(), got[key].std(ddof=1) / math.sqrt(seeds)
        assert abs(mean - value) <= 0.1 * value, f"{name} {key}: {mean:.1f} vs reported {value}"
        assert_near(mean, want[key], se, f"{name} {key} against its ingredients")
        assert Z * se < 0.1 * value  # the seeds are enough for the 10% to mean something


# ---------------------------------------------------------------- demographic differentials
@pytest.mark.parametrize("m", [1, 10, 100])
def test_false_alerts_fall_on_a_group_as_share_times_multiplier(m):
    """A group of share g whose FMR multiplier is m carries g m / (g m + 1 - g) of the false
    alerts (faces not on the list: FPIR given directly, so linear in m); the people those
    alerts name are drawn with the face's own group weighted by m, the others' faces naming
    the gallery uniformly."""
    g, f, n, days = 0.2, 0.002, 400_000, 5
    sc = crowd({"false_match": f, "watch_list": 0.01},
               {"maj": {"share": 1 - g}, "min": {"share": g, "false_match_multiplier": m}})
    fin = run_sim(sc, n, days, seed=31).summary["final"]
    fa_min, fa_maj = _total(fin, "false_alerts", "min"), _total(fin, "false_alerts", "maj")
    total = fa_min + fa_maj
    share = g * m / (g * m + 1 - g)
    assert_binomial(fa_min, total, share, f"false alerts on the group's faces (m={m})")
    # whom they name: the face's own group with weight m per member
    named_min = _total(fin, "falsely_named", "min")
    own = g * m / (g * m + 1 - g)
    expected = fa_min * own + fa_maj * g
    var = fa_min * own * (1 - own) + fa_maj * g * (1 - g)
    assert_near(named_min, expected, math.sqrt(var), f"false alerts naming the group (m={m})")


# ---------------------------------------------------------------- gallery and prevalence
def _precision(fin: dict) -> float:
    return _total(fin, "true_alerts") / _total(fin, "alerts")


def test_doubling_the_gallery_doubles_false_alerts_and_lowers_precision():
    """FPIR = 1 - (1 - FMR)^N is about N FMR: with the same faces (common random numbers),
    twice the gallery gives twice the false alerts (2 - FPIR times) and a lower precision."""
    n, fmr, N = 200_000, 1e-8, 100_000
    runs = {}
    for size in (N, 2 * N):
        sc = crowd({"fmr": fmr, "gallery": size, "watch_list": 0.02, "recognition": 0.9})
        runs[size] = run_sim(sc, n, 3, seed=8).summary["final"]
    one, two = runs[N], runs[2 * N]
    assert _total(one, "true_alerts") == _total(two, "true_alerts")
    fpir = 1 - (1 - fmr) ** N
    a, b = _total(one, "false_alerts"), _total(two, "false_alerts")
    assert b >= a  # a false alert at N is one at 2N
    assert_near(b / a, 2 - fpir, math.sqrt((b - a) * (1 - fpir)) / a, "false alerts ratio")
    assert _precision(two) < _precision(one)


def test_a_higher_watch_list_prevalence_raises_precision():
    """Precision = p (1 - FNIR) / (p (1 - FNIR) + (1 - p (1 - FNIR)) FPIR) rises with the
    share p of faces on the list."""
    n, r, fpir = 200_000, 0.9, 0.01
    prec = {}
    for p in (0.005, 0.05):
        fin = run_sim(crowd({"false_match": fpir, "watch_list": p, "recognition": r}),
                      n, 3, seed=9).summary["final"]
        want = p * r / (p * r + (1 - p * r) * fpir)
        alerts = _total(fin, "alerts")
        prec[p] = _precision(fin)
        assert_near(prec[p], want, math.sqrt(want * (1 - want) / alerts), f"precision at {p}")
    assert prec[0.05] > prec[0.005] + 0.3


# ---------------------------------------------------------------- human review
REVIEW = {"sensitivity": 0.9, "specificity": 0.75}


def _check_review(off: dict, on: dict, what: str) -> None:
    """Alerts unchanged; actions on false alerts cut by the specificity, actions on true
    alerts kept at the sensitivity (binomially)."""
    for key in ("faces_scanned", "alerts", "true_alerts", "false_alerts"):
        assert off[key] == on[key], f"{what}: review changed {key}"
    for key in ("true_actions", "false_actions"):
        assert off[key] == {g: off[key.replace("actions", "alerts")][g] for g in off[key]}
    true, false = _total(on, "true_alerts"), _total(on, "false_alerts")
    assert true > 500 and false > 500, (true, false)
    assert_binomial(_total(on, "true_actions"), true, REVIEW["sensitivity"],
                    f"{what}: actions on true alerts")
    assert_binomial(_total(on, "false_actions"), false, 1 - REVIEW["specificity"],
                    f"{what}: actions on false alerts")


def test_review_at_home_checks_the_same_match():
    sc = crowd({"false_match": 0.05, "watch_list": 0.3, "recognition": 0.9},
               scoring={"rules": {"bad": -1}})
    runs = [run_sim(deep_merge(sc, {"safeguards": {"human_review": on, "review": REVIEW}}),
                    50_000, 4, seed=12).summary["final"] for on in (False, True)]
    _check_review(*runs, "at home")
    on = runs[1]
    assert on["dismissed_by_review"] == (_total(on, "alerts") - _total(on, "true_actions")
                                         - _total(on, "false_actions"))
    # what is not acted on is not scored: fewer false attributions under review
    assert runs[1]["false_attributions"] == _total(runs[1], "false_actions")
    assert runs[1]["false_attributions"] < runs[0]["false_attributions"] / 2


def venue_scenario(**over) -> dict:
    """Nobody seen at home; a city abroad whose locals (not enrolled) and diaspora (enrolled)
    visit one venue every day, every face captured and fed home, every act done there (scored
    -10), households at home that share penalties."""
    base = minimal_scenario(
        population={"regions": {"all": {"share": 1.0, "camera_coverage": 0.0}}},
        layers={"household": {"kind": "group", "size": {2: 1.0}, "spillover": 0.5}},
        channels={"street": {"observe": "coverage"},
                  "venue_camera": {"observe": 1.0, "recognition": 0.9, "false_match": 0.2}},
        behaviours={"bad": {"rate": 0.5, "channel": "street"}},
        scoring={"rules": {"bad": -10}},
        overseas={"city": {
            "share": 0.1, "channel": "venue_camera",
            "groups": {"local": {"share": 0.5, "enrolled": False}, "diaspora": {"share": 0.5}},
            "venues": {"restaurant": {"count": 2, "tables": 30, "capture": 1.0, "act_share": 1.0,
                                      "visit": {"local": 1.0, "diaspora": 1.0}}}}})
    return deep_merge(base, over)


def test_review_at_a_venue_checks_the_same_match():
    runs = [run_sim(venue_scenario(safeguards={"human_review": on, "review": REVIEW}),
                    40_000, 3, seed=13).summary["final"] for on in (False, True)]
    _check_review(*runs, "at a venue")
    # faces at the venue: locals raise only false alerts, the diaspora true ones (0.9)
    assert runs[0]["true_alerts"]["local"] == 0
    assert runs[0]["false_alerts"]["local"] > 0 and runs[0]["true_alerts"]["diaspora"] > 0


def test_a_false_alert_at_a_venue_pins_the_event_on_someone_at_home():
    """Locals' acts at the venue are pinned on the enrolled people their false alerts name,
    most of them at home (the gallery is everyone enrolled), with the penalties and the
    spillover to their households that follow."""
    res = run_sim(venue_scenario(), 40_000, 3, seed=14)
    st = res.state
    home = build_population(load_scenario(venue_scenario()), 40_000, 14).people.region == 0
    victims = (st.flags & FALSE_ATTRIBUTED) != 0
    assert victims[home].sum() > 0.8 * victims.sum() > 0
    assert np.all(st.score[victims & home] < 1000 * FIXED)
    assert np.any((st.flags[home] & ASSOC_PENALISED) != 0)  # their households share it
    fin = res.summary["final"]
    assert fin["ever_sanctioned_by_cause"]["false_match"] == 0  # no sanctions declared
    o = res.summary["overseas"]
    assert o["acts_abroad_pinned_on_others"] > 0 and o["false_matches_onto_enrolled"] > 0


# ---------------------------------------------------------------- population size
def _per_capita(fin: dict, n: int) -> dict[str, float]:
    keys = ("faces_scanned", "alerts", "false_alerts", "false_actions", "falsely_named")
    out = {k: _total(fin, k) / n for k in keys}
    out["falsely_attributed_frac"] = fin["falsely_attributed_frac"]
    out["false_attributions"] = fin["false_attributions"] / n
    return out


def test_per_capita_results_do_not_depend_on_the_population_size():
    """The default system with half the faces off the watch list and two-person review
    (responses off, so acts do not depend on sanctions): every per-capita recognition result
    at 50,000 and 400,000 agents agrees within the seed-to-seed intervals."""
    over = {"channels.camera.watch_list": 0.5, "safeguards.human_review": True,
            "safeguards.review.reviewers": 2, "responses.caution_from_penalty": 0.0,
            "responses.caution_from_sanction": 0.0,
            "responses.caution_from_sanctioned_ties": 0.0}
    stats = {}
    for n, seeds in ((50_000, 6), (400_000, 3)):
        rows = [_per_capita(Sim("default", agents=n, days=30, seed=s, overrides=over)
                            .run().summary["final"], n) for s in range(seeds)]
        stats[n] = {k: (np.mean([r[k] for r in rows]),
                        np.var([r[k] for r in rows], ddof=1) / seeds) for k in rows[0]}
    small, big = stats[50_000], stats[400_000]
    assert small["false_actions"][0] > 0 and small["falsely_attributed_frac"][0] > 0
    for k in small:
        (a, va), (b, vb) = small[k], big[k]
        assert_near(b, a, math.sqrt(va + vb), f"{k} per capita, 400,000 vs 50,000")
