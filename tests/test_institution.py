"""Lists and services as institutions (docs/model.md, "Lists" and "Services"): names published
at launch, courts coming online, terms and extensions, repeat cases, removals, exits by route;
demand spread by a propensity, same-day retries, giving up while barred, switching to an open
service. Every population is SYNTHETIC; statistical checks allow 5 standard errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import assert_binomial, assert_near, minimal_scenario, prepare, run_sim
from conftest import score_of as score_and_list
from conftest import service_counts_of as services
from scoresim import ScenarioError, load_scenario
from scoresim.core.constants import NEVER
from scoresim.engine.compile import compile_plan
from scoresim.engine.stages.observe import OBSERVED

N = 100_000


def _list(**spec) -> dict:
    return minimal_scenario(lists={"L": {"enter_on": "bad", **spec}})


# ---------------------------------------------------------------- lists
def test_names_published_at_launch_are_listed_on_day_zero():
    res = run_sim(_list(initial_share=0.1), N, 2, seed=3,
                  overrides={"behaviours.bad.rate": 0.0})
    d = res.daily
    assert_binomial(int(d["listings_L"].iloc[0]), N, 0.1, "listed at launch")
    assert d["listings_L"].iloc[1] == 0 and d["listed_L"].iloc[1] == d["listings_L"].iloc[0]
    assert res.summary["final"]["ever_listed"]["L"] == d["listings_L"].iloc[0]


def test_courts_coming_online_publish_a_logistic_share_of_new_cases():
    """A case reaches the list with probability 1 / (1 + exp(-(day - midpoint) / width)); a
    case against an agent already listed is a repeat case, published alike."""
    mid, width, days = 6.0, 2.0, 14
    d = run_sim(_list(publication={"midpoint": mid, "width": width}), N, days, seed=5,
                overrides={"behaviours.bad.rate": 0.02}).daily
    share = 1 / (1 + np.exp(-(np.arange(days) - mid) / width))
    published = (d["listings_L"] + d["repeat_cases_L"]).to_numpy()
    acts = d["acts_bad"].to_numpy()
    for day in (0, 6, 13):
        assert_binomial(int(published[day]), acts[day], share[day], f"published on day {day}")
    var = float(np.sum(acts * share * (1 - share)))
    assert_near(published.sum(), float(np.sum(acts * share)), math.sqrt(var), "all published")
    assert published[0] < 0.05 * acts[0] and published[13] > 0.95 * acts[13]


def test_a_share_of_listings_has_a_term_and_some_are_extended():
    """Everyone listed on day 0: a term of 10 days for 30%, extended by 5-9 days for half of
    those; the rest until repaired. Terms end on their day, counted as expiries."""
    sc = _list(initial_share=1.0, expire_days=10, term_share=0.3,
               extension={"share": 0.5, "days": [5, 9]})
    res = run_sim(sc, N, 1, seed=2, overrides={"behaviours.bad.rate": 0.0})
    end = res.state.list_state[0]
    assert np.all(end != 0)
    open_ = end == NEVER
    assert_binomial(int(np.sum(~open_)), N, 0.3, "listings with a term")
    plain = end == 11  # day 0 + 10 days + 1 (state.py's encoding)
    assert_binomial(int(plain.sum()), int(np.sum(~open_)), 0.5, "terms not extended")
    extra = end[~open_ & ~plain] - 11
    assert set(np.unique(extra)) == {5, 6, 7, 8, 9}
    counts = np.bincount(extra)[5:]
    for c in counts:  # even over the five lengths
        assert_binomial(int(c), extra.size, 0.2, "extension length")
    d = run_sim(sc, N, 25, seed=2, overrides={"behaviours.bad.rate": 0.0}).daily
    assert int(d["delistings_L__expired"].sum()) == int(np.sum(~open_))
    assert int(d["delistings_L__expired"].iloc[10]) == int(plain.sum())  # the 10th day is the last
    assert int(d["listed_L"].iloc[-1]) == int(open_.sum())


def test_the_court_removes_listings_at_a_daily_rate():
    days, rate = 40, 0.01
    d = run_sim(_list(initial_share=1.0, removal_rate=rate), N, days, seed=4,
                overrides={"behaviours.bad.rate": 0.0}).daily
    assert_binomial(int(d["listed_L"].iloc[-1]), N, (1 - rate) ** days, "still listed")
    assert int(d["delistings_L__removed"].sum()) == N - int(d["listed_L"].iloc[-1])
    assert d["delistings_L"].equals(d["delistings_L__removed"])


def test_a_repeat_case_renews_a_term_and_leaves_an_open_listing_open():
    pp = prepare(_list(expire_days=10, grace_days=0), 50)
    st = pp.state
    st.list_state[0, :] = 0
    st.list_state[0, 0] = 12  # listed until day 10 (encoded + 1)
    st.list_state[0, 1] = NEVER
    st.list_state[0, 2] = -9  # pending
    agents = np.array([0, 1, 2], np.int32)
    _, c = score_and_list(pp, agents, np.zeros(3, np.uint8), agents,
                          np.full(3, OBSERVED, np.uint8), day=5)
    assert st.list_state[0, 0] == 5 + 10 + 1  # renewed from the new case's day
    assert st.list_state[0, 1] == NEVER and st.list_state[0, 2] == -9
    assert c.repeats.tolist() == [2] and c.listings.tolist() == [0]


def test_exits_by_route_add_up_to_the_delistings():
    sc = _list(grace_days=3, leave_on="pay", expire_days=20, term_share=0.5, removal_rate=0.002)
    sc["behaviours"]["pay"] = {"rate": 0.02, "channel": "rec", "requires": {"on_list": "L"}}
    d = run_sim(sc, 50_000, 60, seed=1).daily
    routes = sum(d[f"delistings_L__{r}"] for r in ("repaid", "expired", "removed", "appealed"))
    assert d["delistings_L"].equals(routes)
    assert all(d[f"delistings_L__{r}"].sum() > 0 for r in ("repaid", "expired", "removed"))


@pytest.mark.parametrize("spec, message", [
    ({"term_share": 0.5}, "need expire_days"),
    ({"extension": {"share": 0.5, "days": [3, 2]}, "expire_days": 5}, "low <= high"),
    ({"publication": {"midpoint": 5, "width": 0}}, "greater than 0"),
])
def test_bad_list_dynamics_are_refused(spec, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(_list(**spec))


# ---------------------------------------------------------------- services
def _travel(flight: dict, rail: dict | None = None, **over) -> dict:
    services = {"flight": flight, **({"rail": rail} if rail else {})}
    return minimal_scenario(lists={"L": {"enter_on": "bad"}}, services=services,
                            sanctions={"ban": {"when": {"on_list": "L"},
                                               "denies": over.pop("denies", ["flight"])}},
                            **over)


def _banned(pp, share: float = 1.0) -> None:
    k = int(pp.n * share)
    pp.state.eff_mask[:k] = 1


def test_demand_follows_the_propensity():
    """A service spread by a trait: each person asks with probability demand x propensity
    (the trait over its mean)."""
    sc = _travel({"demand": 0.02, "propensity": "travel"},
                 population={"groups": {"a": {"share": 0.5}, "b": {"share": 0.5}},
                             "traits": {"travel": {"uniform": [0.0, 2.0]}}})
    pp = prepare(sc, N)
    a = pp.people.group == 0
    pp.people.propensity[0, a], pp.people.propensity[0, ~a] = 0.2, 1.8  # mean 1
    pp.params = compile_plan(pp.scenario, pp.people.propensity.max(axis=1))
    c = services(pp, 0, seed=7)
    for g, prop in ((0, 0.2), (1, 1.8)):
        assert_binomial(int(c.requests[0, g]), int(np.sum(pp.people.group == g)), 0.02 * prop,
                        f"requests of group {g}")


def test_a_denied_request_is_tried_again_the_same_day():
    retry = 0.8
    pp = prepare(_travel({"demand": 0.1, "retry": retry}), N)
    _banned(pp)
    c = services(pp, 0, seed=1)
    people = int(c.blocked[0])
    assert_binomial(people, N, 0.1, "people turned away")
    assert c.requests.sum() == c.denied.sum()
    mean, sd = 1 / (1 - retry), math.sqrt(retry) / (1 - retry)  # tries: geometric
    assert_near(c.denied.sum() / people, mean, sd / math.sqrt(people), "tries per person")


def test_a_person_turned_away_gives_up_while_barred_and_asks_again_once_free():
    pp = prepare(_travel({"demand": 1.0, "give_up": 1.0}), 20_000)
    _banned(pp)
    first = services(pp, 0, seed=1)
    assert int(first.blocked[0]) == pp.n == int(first.denied.sum())
    again = services(pp, 1, seed=1)  # everyone knows: nobody asks
    assert int(again.requests.sum()) == 0 and int(again.blocked[0]) == 0
    pp.state.eff_mask[:] = 0  # the ban lifted: served, and no longer marked
    free = services(pp, 2, seed=1)
    assert int(free.requests.sum()) == pp.n and int(free.denied.sum()) == 0
    assert not pp.state.blocked.any()
    half = prepare(_travel({"demand": 1.0, "give_up": 0.5}), 20_000)
    _banned(half)
    services(half, 0, seed=1)
    assert_binomial(int(services(half, 1, seed=1).requests.sum()), half.n, 0.5, "ask again")


def test_a_denied_request_switches_to_a_service_that_is_open():
    flight = {"demand": 0.1, "switch_to": "rail", "switch": 1.0, "retry": 0.5}
    pp = prepare(_travel(flight, {"demand": 0.0}), N)
    _banned(pp)
    c = services(pp, 0, seed=3)
    assert int(c.switched[0]) == int(c.blocked[0]) > 0  # every refused trip goes by rail
    assert int(c.requests[1].sum()) == int(c.switched[0]) and int(c.denied[1].sum()) == 0
    both = prepare(_travel(flight, {"demand": 0.0}, denies=["flight", "rail"]), N)
    _banned(both)
    c = services(both, 0, seed=3)
    assert int(c.switched.sum()) == 0 and int(c.requests[1].sum()) == 0  # rail is barred too


@pytest.mark.parametrize("service, message", [
    ({"demand": 0.1, "propensity": "nope"}, "unknown trait"),
    ({"demand": 0.1, "switch_to": "boat"}, "unknown service"),
    ({"demand": 0.1, "switch_to": "flight"}, "itself"),
    ({"demand": 0.1, "retry": 1.0}, "less than or equal to 0.999"),
])
def test_bad_services_are_refused(service, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(minimal_scenario(services={"flight": service}))
