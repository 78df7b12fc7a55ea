"""Scenario -> plain arrays and numbers for the kernels (FLAME GPU 2's description/execution split).

Kernels never see a Scenario: they take the fields of ``Params`` as arguments. Scores and points
are integer fixed point (points x 100) so that sums are exact in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario.schema import Scenario

FIXED = 100  # fixed-point scale of scores and points
NEVER = np.iinfo(np.int32).max


def to_fixed(points: float) -> int:
    return int(round(points * FIXED))


@dataclass(frozen=True)
class Names:
    """The order of every named thing; array index i of a kind is the i-th name here."""

    behaviours: list[str]
    channels: list[str]
    lists: list[str]
    sanctions: list[str]
    services: list[str]
    regions: list[str]
    groups: list[str]
    traits: list[str]
    group_layers: list[str]
    tie_layers: list[str]
    grades: list[str]
    venues: list[str]  # "<city>_<venue kind>"


@dataclass(frozen=True)
class Params:
    scoring_enabled: bool
    # behaviours
    b_rate: np.ndarray  # float64[B]
    b_bound: np.ndarray  # float64[B]: the highest probability any agent can have (thinning)
    b_prop: np.ndarray  # int64[B]: trait row, -1 for none
    b_deter: np.ndarray  # float64[B]
    b_requires: np.ndarray  # int64[B]: list index, -1 for none
    b_channel: np.ndarray  # int64[B]
    b_points: np.ndarray  # int32[R, B]: points in each region, fixed point; 0 when protected
    b_penalised: np.ndarray  # uint8[R, B]: a "scored act" there (negative points or a listing)
    b_enter: np.ndarray  # uint8[B]: bitmask of lists the act puts the agent on
    b_leave: np.ndarray  # uint8[B]: bitmask of lists the act takes the agent off
    b_expression: np.ndarray  # bool[B]
    # channels, regions, groups
    c_observe: np.ndarray  # float64[C]; -1 means the region's camera coverage
    c_recognition: np.ndarray
    c_false_match: np.ndarray
    c_review: np.ndarray  # uint8[C]: a second, independent observation must confirm
    r_coverage: np.ndarray  # float64[R]
    r_abroad: np.ndarray  # bool[R]: a city abroad
    g_watch: np.ndarray  # float64[G]
    g_false_match: np.ndarray  # float64[G]
    g_enrolled: np.ndarray  # bool[G]: in the home gallery; acts pinned on others are dropped
    # lists
    l_grace: np.ndarray  # int64[L]
    l_expire: np.ndarray  # int64[L]; 0 = never
    # sanctions
    s_list: np.ndarray  # int64[S]; -1 for grade sanctions
    s_threshold: np.ndarray  # int64[S]: a grade sanction is active while score < threshold
    s_reach: np.ndarray  # int64[S]: group layer index the sanction reaches, -1 none
    s_min_days: np.ndarray  # int64[S]
    s_min_row: np.ndarray  # int64[S]: row in State.since, -1 when min_days is 0
    visible_bits: int
    reach_bits: int
    # services
    v_demand: np.ndarray  # float64[V]
    v_denied_by: np.ndarray  # uint8[V]: bitmask of sanctions that deny the service
    # scoring, spill, responses, safeguards
    initial: int
    recovery: int
    grade_bounds: np.ndarray  # int64[grades - 1]: fixed-point lower bounds, highest grade first
    g_spill: np.ndarray  # float64[Lg]
    g_rating_weight: np.ndarray  # float64[Lg]: 0 where the layer's groups have no rating
    g_rating_threshold: np.ndarray  # int64[Lg], fixed point
    g_rating_lists: np.ndarray  # uint8[Lg]: lists an owner enters when the rating falls
    group_count: int  # groups over all group layers (sizes the rating array)
    # venues abroad, one row per kind of venue (see scenario/overseas.py)
    v_region: np.ndarray  # int64[K]: the city (a region)
    v_count: np.ndarray  # int64[K]: venues of this kind
    v_tables: np.ndarray  # int64[K]: tables per venue
    v_capture: np.ndarray  # float64[K]: a patron is captured by the cameras
    v_open: np.ndarray  # float64[K]: share of days open
    v_feed: np.ndarray  # bool[K]: the feed reaches the home system
    v_act_share: np.ndarray  # float64[K]: share of a visit day's acts done at the venue
    v_visit: np.ndarray  # float64[K, G]: daily visit probability by group
    v_channel: np.ndarray  # int64[K]: the channel of the venue cameras
    t_spill: np.ndarray  # float64[Lt]
    association: bool
    caution_from_penalty: float
    caution_from_sanction: float
    caution_from_ties: float
    caution_decay: float
    appeals: bool
    appeal_success: float
    appeal_delay: int


def names_of(scenario: Scenario) -> Names:
    return Names(
        behaviours=list(scenario.behaviours),
        channels=list(scenario.channels),
        lists=list(scenario.lists),
        sanctions=list(scenario.sanctions),
        services=list(scenario.services),
        regions=scenario.region_names(),
        groups=scenario.group_names(),
        traits=list(scenario.population.traits),
        group_layers=[k for k, v in scenario.layers.items() if v.kind == "group"],
        tie_layers=[k for k, v in scenario.layers.items() if v.kind == "ties"],
        grades=list(scenario.scoring.grades),
        venues=[f"{c}_{v}" for c, city in scenario.overseas.items() for v in city.venues],
    )


def _grade_threshold(scenario: Scenario, grade: str) -> int:
    """Active while score < the lower bound of the grade just above ``grade``."""
    names = list(scenario.scoring.grades)
    k = names.index(grade)
    if k == 0:
        return NEVER  # at most the top grade: everyone
    return to_fixed(scenario.scoring.grades[names[k - 1]])


def _venues(scenario: Scenario, nm: Names) -> dict[str, np.ndarray]:
    rows = [(c, city, v) for c, city in scenario.overseas.items() for v in city.venues.values()]
    visit = np.zeros((len(rows), len(nm.groups)))
    for k, (_, _, v) in enumerate(rows):
        for g, rate in v.visit.items():
            visit[k, nm.groups.index(g)] = rate
    return dict(
        v_region=np.array([nm.regions.index(c) for c, _, _ in rows], np.int64),
        v_count=np.array([v.count for _, _, v in rows], np.int64),
        v_tables=np.array([v.tables for _, _, v in rows], np.int64),
        v_capture=np.array([v.capture_probability() for _, _, v in rows], np.float64),
        v_open=np.array([v.open_share for _, _, v in rows], np.float64),
        v_feed=np.array([v.feed_home for _, _, v in rows], np.bool_),
        v_act_share=np.array([v.act_share for _, _, v in rows], np.float64),
        v_visit=visit,
        v_channel=np.array([nm.channels.index(city.channel) for _, city, _ in rows], np.int64),
    )


def compile_params(scenario: Scenario, max_propensity: np.ndarray, scoring: bool = True,
                   group_count: int = 0) -> Params:
    """``max_propensity[t]`` is the population's largest value of trait t (for thinning);
    ``group_count`` the number of groups over all group layers (for corporate ratings)."""
    nm = names_of(scenario)
    protected = set(scenario.safeguards.protected)
    lists = {name: k for k, name in enumerate(nm.lists)}

    B = len(nm.behaviours)
    b_enter = np.zeros(B, np.uint8)
    b_leave = np.zeros(B, np.uint8)
    for name, spec in scenario.lists.items():
        bit = 1 << lists[name]
        if spec.enter_on is not None and spec.enter_on not in protected:
            b_enter[nm.behaviours.index(spec.enter_on)] |= bit
        if spec.leave_on is not None:
            b_leave[nm.behaviours.index(spec.leave_on)] |= bit
    sc = scenario.scoring
    def points(region: str, b: str) -> int:
        if b in protected:
            return 0
        return to_fixed(sc.regional_rules.get(region, {}).get(b, sc.rules.get(b, 0.0)))

    b_points = np.array([[points(r, b) for b in nm.behaviours] for r in nm.regions],
                        np.int32).reshape(len(nm.regions), B)
    b_penalised = ((b_points < 0) | (b_enter != 0)[None, :]).astype(np.uint8)

    behs = [scenario.behaviours[b] for b in nm.behaviours]
    b_prop = np.array([nm.traits.index(b.propensity) if b.propensity else -1 for b in behs],
                      np.int64)
    b_rate = np.array([b.rate for b in behs], np.float64)
    b_deter = np.array([b.deterrability for b in behs], np.float64)
    top_m = np.array([max_propensity[p] if p >= 0 else 1.0 for p in b_prop], np.float64)
    b_bound = np.minimum(1.0, b_rate * top_m * np.maximum(1.0, 1.0 - b_deter))

    chans = [scenario.channels[c] for c in nm.channels]
    review = scenario.safeguards.human_review
    c_observe = np.array([-1.0 if c.observe == "coverage" else c.observe for c in chans])
    c_review = np.array(
        [review and (c.false_match_probability() > 0 or c.observe == "coverage")
         for c in chans], np.uint8)

    sans = [scenario.sanctions[s] for s in nm.sanctions]
    s_list = np.array([lists[s.when.on_list] if s.when.on_list else -1 for s in sans], np.int64)
    s_threshold = np.array(
        [_grade_threshold(scenario, s.when.grade_at_most) if s.when.grade_at_most else NEVER
         for s in sans], np.int64)
    s_reach = np.array(
        [nm.group_layers.index(s.reaches) if s.reaches else -1 for s in sans], np.int64)
    s_min_days = np.array([s.min_days for s in sans], np.int64)
    s_min_row = np.full(len(sans), -1, np.int64)
    s_min_row[s_min_days > 0] = np.arange(int(np.sum(s_min_days > 0)))
    bits = lambda pred: sum(1 << k for k, s in enumerate(sans) if pred(s))  # noqa: E731

    v_denied_by = np.zeros(len(nm.services), np.uint8)
    for k, s in enumerate(sans):
        for svc in s.denies:
            v_denied_by[nm.services.index(svc)] |= 1 << k

    pop, resp, safe = scenario.population, scenario.responses, scenario.safeguards
    glayers = [scenario.layers[x] for x in nm.group_layers]
    return Params(
        scoring_enabled=bool(scoring and scenario.scoring_enabled),
        b_rate=b_rate, b_bound=b_bound, b_prop=b_prop, b_deter=b_deter,
        b_requires=np.array(
            [lists[b.requires.on_list] if b.requires else -1 for b in behs], np.int64),
        b_channel=np.array([nm.channels.index(b.channel) for b in behs], np.int64),
        b_points=b_points, b_penalised=b_penalised, b_enter=b_enter, b_leave=b_leave,
        b_expression=np.array([b.expression for b in behs], np.bool_),
        c_observe=c_observe,
        c_recognition=np.array([c.recognition for c in chans], np.float64),
        c_false_match=np.array([c.false_match_probability() for c in chans], np.float64),
        c_review=c_review,
        # home cameras do not see abroad: a city's acts are seen only at its venues
        r_coverage=np.array([pop.regions[r].camera_coverage if r in pop.regions else 0.0
                             for r in nm.regions], np.float64),
        r_abroad=np.array([r not in pop.regions for r in nm.regions], np.bool_),
        g_watch=np.array([scenario.group(g).watch_multiplier for g in nm.groups], np.float64),
        g_false_match=np.array(
            [scenario.group(g).false_match_multiplier for g in nm.groups], np.float64),
        g_enrolled=np.array([scenario.group(g).enrolled for g in nm.groups], np.bool_),
        l_grace=np.array([scenario.lists[x].grace_days for x in nm.lists], np.int64),
        l_expire=np.array([scenario.lists[x].expire_days or 0 for x in nm.lists], np.int64),
        s_list=s_list, s_threshold=s_threshold, s_reach=s_reach,
        s_min_days=s_min_days, s_min_row=s_min_row,
        visible_bits=bits(lambda s: s.visible), reach_bits=bits(lambda s: s.reaches is not None),
        v_demand=np.array([scenario.services[v].demand for v in nm.services], np.float64),
        v_denied_by=v_denied_by,
        initial=to_fixed(scenario.scoring.initial),
        grade_bounds=np.array([to_fixed(b) for b in scenario.scoring.grades.values()
                               if b is not None], np.int64),
        recovery=to_fixed(scenario.scoring.recovery_per_day),
        g_spill=np.array([scenario.layers[x].spillover for x in nm.group_layers], np.float64),
        g_rating_weight=np.array([la.rating.weight if la.rating else 0.0 for la in glayers]),
        g_rating_threshold=np.array([to_fixed(la.rating.threshold) if la.rating else 0
                                     for la in glayers], np.int64),
        g_rating_lists=np.array(
            [sum(1 << k for k, x in enumerate(nm.lists)
                 if scenario.lists[x].enter_on_rating == name) for name in nm.group_layers],
            np.uint8),
        group_count=group_count,
        **_venues(scenario, nm),
        t_spill=np.array([scenario.layers[x].spillover for x in nm.tie_layers], np.float64),
        association=bool(safe.association_penalties),
        caution_from_penalty=resp.caution_from_penalty,
        caution_from_sanction=resp.caution_from_sanction,
        caution_from_ties=resp.caution_from_sanctioned_ties,
        caution_decay=resp.caution_decay,
        appeals=bool(safe.appeals.enabled),
        appeal_success=safe.appeals.success,
        appeal_delay=safe.appeals.delay_days,
    )
