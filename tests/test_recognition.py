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
from scoresim import Sim, build_population, load_scenario
from scoresim.core import rng
from scoresim.core.constants import FIXED
from scoresim.engine.stages.observe import (
    ALERT,
    DISMISSED,
    FALSE,
    OBSERVED,
    SCANNED,
    UNIDENTIFIED,
)
from scoresim.engine.state import ASSOC_PENALISED, FALSE_ATTRIBUTED
from scoresim.scenario import ScenarioError

SEED = 20240611


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


# ---------------------------------------------------------------- the search, one act at a time
def test_watch_multipliers_apply_to_the_channels_they_name():
    """A mapping of watch multipliers applies to each named channel; unnamed channels: 1."""
    n = 100_000
    pp = prepare(minimal_scenario(
        population={"groups": {"maj": {"share": 0.5},
                               "min": {"share": 0.5,
                                       "watch_multiplier": {"online": 2.0, "rec": 0.5}}}},
        channels={"online": {"observe": 0.3}, "rec": {"observe": 0.8},
                  "paper": {"observe": 0.4}},
        behaviours={"bad": {"rate": 0.5, "channel": "online"},
                    "fee": {"rate": 0.5, "channel": "rec"},
                    "form": {"rate": 0.5, "channel": "paper"}}), n)
    agent, beh, _, status = observe_all(pp, 0, SEED)
    group = pp.people.group[agent]
    seen = (status & OBSERVED) != 0
    for b, q in enumerate((0.6, 0.4, 0.4)):  # minority: 0.3 x 2, 0.8 x 0.5, 0.4 x 1
        sel = (beh == b) & (group == 1)
        assert_binomial(int(np.sum(seen & sel)), int(sel.sum()), q, f"behaviour {b}")
    with pytest.raises(ScenarioError, match="watch_multiplier.radio: unknown channel"):
        load_scenario(minimal_scenario(population={"groups": {
            "all": {"share": 1.0, "watch_multiplier": {"radio": 2.0}}}}))


def _listed(pp, c, agents, seed=SEED):
    """Whether each agent is on channel c's watch list (the engine's own draw)."""
    p = pp.params.observe.watch_list[c]
    key = rng.stream(seed, 0, rng.WATCH_LIST, c)
    return np.array([p >= 1 or rng.uniform(key, int(i), 0) < p for i in agents])


def test_false_alerts_name_someone_else_on_the_list_anywhere_in_the_gallery():
    """Faces not on the watch list raise false alerts with FPIR x the group's multiplier; the
    person named is on the list, never the face, drawn among the whole gallery (any region),
    the face's own group weighted by its multiplier and uniformly within the group chosen."""
    n, p, f, m = 100_000, 0.5, 0.04, 4.0
    pp = prepare(minimal_scenario(
        population={"regions": {"all": DELETE, "a": {"share": 0.5}, "b": {"share": 0.5}},
                    "groups": {"maj": {"share": 0.8},
                               "min": {"share": 0.2, "false_match_multiplier": m}}},
        channels={"cam": {"observe": 1.0, "false_match": f, "watch_list": p}},
        behaviours={"bad": {"rate": 1.0, "channel": "cam"}}), n)
    agent, beh, target, status = observe_all(pp, 0, SEED)
    ppl = pp.people
    assert len(agent) == n and np.all(status & SCANNED)
    cam = pp.names.channels.index("cam")
    listed = _listed(pp, cam, agent)
    assert_binomial(int(listed.sum()), n, p, "on the list")
    wrong = (status & FALSE) != 0
    np.testing.assert_array_equal(target[~wrong & listed], agent[~wrong & listed])
    assert np.all(target[wrong] != agent[wrong]) and np.all(target[wrong] >= 0)
    assert np.all(_listed(pp, cam, target[wrong]))
    group = ppl.group[agent]
    for g, fg in ((0, f), (1, f * m)):
        sel = (group == g) & ~listed
        assert_binomial(int(np.sum(wrong & sel)), int(sel.sum()), fg, f"false alerts, group {g}")
        assert not np.any(wrong & (group == g) & listed)  # recognition 1: no mate is missed
    # the named person's group: the face's own with share x m / (share x m + 1 - share)
    named = ppl.group[target[wrong]]
    for g, own in ((0, 0.8 / (0.8 + 0.2)), (1, 0.2 * m / (0.2 * m + 0.8))):
        sel = group[wrong] == g
        assert_binomial(int(np.sum(named[sel] == g)), int(sel.sum()), own,
                        f"named in the face's own group {g}")
    # any region: named in the other region about half the time
    other = ppl.region[target[wrong]] != ppl.region[agent[wrong]]
    assert_binomial(int(other.sum()), int(wrong.sum()), 0.5, "named in another region")
    # uniform within the group chosen: positions of the named majority members in cell 0
    lo, hi = ppl.cell_start[0], ppl.cell_start[1]
    t = target[wrong][(named == 0) & (ppl.region[target[wrong]] == 0)]
    bins = np.bincount(((t - lo) * 20 // (hi - lo)).astype(np.int64), minlength=20)
    exp = t.size / 20
    chi2 = float(np.sum((bins - exp) ** 2 / exp))
    assert chi2 < chi_square_bound(19), f"named position chi-square {chi2:.1f}"


def test_a_false_alert_never_names_the_face():
    """Every mate missed (recognition 0) and every search alerting: each face names someone
    else; where the only enrolled person is the face itself, the alert names no one."""
    pp = prepare(minimal_scenario(
        channels={"cam": {"observe": 1.0, "recognition": 0.0, "false_match": 1.0}},
        behaviours={"bad": {"rate": 1.0, "channel": "cam"}}), 2000)
    agent, _, target, status = observe_all(pp, 0, SEED)
    assert np.all(status & FALSE) and np.all(target != agent) and np.all(target >= 0)
    pp = prepare(minimal_scenario(
        population={"groups": {"out": {"share": 0.999, "enrolled": False},
                               "lone": {"share": 0.001}}},
        channels={"cam": {"observe": 1.0, "recognition": 0.0, "false_match": 1.0}},
        behaviours={"bad": {"rate": 1.0, "channel": "cam"}}), 1000)
    agent, _, target, status = observe_all(pp, 0, SEED)
    lone = np.flatnonzero(pp.people.group == 1)
    assert len(lone) == 1
    k = np.flatnonzero(agent == lone[0])[0]
    assert target[k] == -1 and status[k] & FALSE and status[k] & UNIDENTIFIED
    others = agent != lone[0]
    assert np.all(target[others] == lone[0]) and np.all(status[others] & FALSE)


def test_human_review_checks_the_same_match():
    """Review leaves every alert as it was and rejects true ones with 1 - sensitivity^k and
    false ones with specificity (all k reviewers must confirm); other channels: no review."""
    n, sens, spec = 200_000, 0.9, 0.7
    sc = minimal_scenario(
        channels={"cam": {"observe": 0.5, "recognition": 0.8, "false_match": 0.3}},
        behaviours={"bad": {"rate": 1.0, "channel": "cam"},
                    "paper": {"rate": 0.2, "channel": "rec"}})
    agent, beh, target, status = observe_all(prepare(sc, n), 0, SEED)
    for k in (1, 2):
        on = deep_merge(sc, {"safeguards": {"human_review": True, "review": {
            "sensitivity": sens, "specificity": spec, "reviewers": k}}})
        agent2, beh2, target2, status2 = observe_all(prepare(on, n), 0, SEED)
        np.testing.assert_array_equal(agent2, agent)
        np.testing.assert_array_equal(target2, target)
        np.testing.assert_array_equal(status2 & (255 ^ DISMISSED), status)  # the same alerts
        dismissed = (status2 & DISMISSED) != 0
        alert = (status & ALERT) != 0
        false = alert & ((status & FALSE) != 0)
        true_ = alert & ~false
        assert_binomial(int(np.sum(dismissed & true_)), int(true_.sum()), 1 - sens**k,
                        f"true alerts rejected, {k} reviewers")
        assert_binomial(int(np.sum(dismissed & false)), int(false.sum()), 1 - (1 - spec)**k,
                        f"false alerts rejected, {k} reviewers")
        assert not np.any(dismissed & ~alert) and not np.any(dismissed[beh == 1])


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
            "safeguards.review.reviewers": 2, "responses.risk_from_penalty": 0.0,
            "responses.risk_from_sanction": 0.0,
            "responses.risk_from_sanctioned_ties": 0.0}
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
