"""Scenario -> the plan: typed parameter bundles of plain arrays and numbers, one per stage
(FLAME GPU 2's description/execution split).

Kernels never see a Scenario: each stage takes its bundle (declared beside the stage's code,
as Starsim's ``define_pars``). Scores and points are integer fixed point (points x 100) so
that sums are exact in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.constants import FIXED, NEVER
from ..scenario.schema import Scenario
from .stages.act import ActParams
from .stages.firms import RatingParams
from .stages.listing import ListParams
from .stages.observe import ObserveParams
from .stages.recover import ScoringParams
from .stages.respond import RespondParams
from .stages.sanction import SanctionParams
from .stages.score import ScoreParams
from .stages.services import ServiceParams
from .stages.spill import SpillParams
from .stages.venues import VenueParams


def to_fixed(points: float) -> int:
    """Points in fixed point."""
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
    expression: list[str]  # the expression behaviours (speech)


@dataclass(frozen=True)
class Plan:
    """The scenario as the stages read it: one bundle per stage."""

    act: ActParams
    observe: ObserveParams
    venues: VenueParams
    score: ScoreParams
    lists: ListParams
    spill: SpillParams
    rating: RatingParams
    scoring: ScoringParams
    sanction: SanctionParams
    services: ServiceParams
    respond: RespondParams
    firms: int  # groups over all group layers (sizes the rating array)

    @property
    def scoring_enabled(self) -> bool:
        """The scoring system is on (a counterfactual run has it off)."""
        return self.scoring.enabled


def names_of(scenario: Scenario) -> Names:
    """The names of a scenario's things, in the order of the plan's arrays."""
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
        expression=[b for b, spec in scenario.behaviours.items() if spec.expression],
    )


def _grade_threshold(scenario: Scenario, grade: str) -> int:
    """Active while score < the lower bound of the grade just above ``grade``."""
    names = list(scenario.scoring.grades)
    k = names.index(grade)
    if k == 0:
        return NEVER  # at most the top grade: everyone
    return to_fixed(scenario.scoring.grades[names[k - 1]])


def _act(scenario: Scenario, nm: Names, max_propensity: np.ndarray) -> ActParams:
    behs = [scenario.behaviours[b] for b in nm.behaviours]
    trait = np.array([nm.traits.index(b.propensity) if b.propensity else -1 for b in behs],
                     np.int64)
    rate = np.array([b.rate for b in behs], np.float64)
    deter = np.array([b.deterrability for b in behs], np.float64)
    top = np.array([max_propensity[p] if p >= 0 else 1.0 for p in trait], np.float64)
    attitude = scenario.responses.attitude
    a = nm.traits.index(attitude) if attitude is not None else -1
    # the most an attitude scales a response: an encouraged behaviour's highest probability
    w = float(max_propensity[a]) if a >= 0 else 1.0
    return ActParams(
        rate=rate, bound=np.minimum(1.0, rate * top * np.maximum(1.0, 1.0 - deter * w)),
        trait=trait, deterrability=deter, attitude=a,
        requires=np.array([nm.lists.index(b.requires.on_list) if b.requires else -1
                           for b in behs], np.int64),
        expression=np.array([b.expression for b in behs], np.bool_))


def _watch(scenario: Scenario, nm: Names) -> np.ndarray:
    """float64[C, G]: a group's watch multiplier on each channel (a single number applies to
    the camera channels, a mapping to the channels it names; 1 elsewhere)."""
    out = np.ones((len(nm.channels), len(nm.groups)))
    for g, name in enumerate(nm.groups):
        mult = scenario.group(name).watch_multiplier
        for c, chan in enumerate(nm.channels):
            if isinstance(mult, dict):
                out[c, g] = mult.get(chan, 1.0)
            elif scenario.channels[chan].observe == "coverage":
                out[c, g] = mult
    return out


def _name_tries(prevalence: float) -> int:
    """Draws allowed to find a listed person for a false alert to name: with prevalence p, a
    draw misses the list with probability 1 - p, so 40 / p draws all miss with e^-40."""
    return 64 if prevalence >= 1 else int(min(1_000_000, np.ceil(40 / prevalence)))


def _observe(scenario: Scenario, nm: Names) -> ObserveParams:
    chans = [scenario.channels[c] for c in nm.channels]
    search = [c.recognises_faces() for c in chans]
    review = scenario.safeguards.review if scenario.safeguards.human_review else None
    mult = [scenario.group(g).false_match_multiplier for g in nm.groups]
    pop = scenario.population
    return ObserveParams(
        channel=np.array([nm.channels.index(scenario.behaviours[b].channel)
                          for b in nm.behaviours], np.int64),
        observe=np.array([-1.0 if c.observe == "coverage" else c.observe for c in chans],
                         np.float64),
        search=np.array(search, np.bool_),
        recognition=np.array([c.recognition for c in chans], np.float64),
        fpir=np.array([[c.false_alert_rate(m) if s else 0.0 for m in mult]
                       for c, s in zip(chans, search, strict=True)],
                      np.float64).reshape(len(chans), len(mult)),
        watch_list=np.array([c.watch_list for c in chans], np.float64),
        tries=np.array([_name_tries(c.watch_list) for c in chans], np.int64),
        action=np.array([c.action for c in chans], np.float64),
        confirm=np.array([[review.confirms(True), review.confirms(False)]
                          if review and s else [1.0, 1.0] for s in search],
                         np.float64).reshape(len(chans), 2),
        # home cameras do not see abroad: a city's acts are seen only at its venues
        coverage=np.array([pop.regions[r].camera_coverage if r in pop.regions else 0.0
                           for r in nm.regions], np.float64),
        watch=_watch(scenario, nm),
        false_match_multiplier=np.array(mult, np.float64),
        enrolled=np.array([scenario.group(g).enrolled for g in nm.groups], np.bool_),
        abroad=np.array([r not in pop.regions for r in nm.regions], np.bool_))


def _venues(scenario: Scenario, nm: Names) -> VenueParams:
    rows = [(c, city, v) for c, city in scenario.overseas.items() for v in city.venues.values()]
    visit = np.zeros((len(rows), len(nm.groups)))
    for k, (_, _, v) in enumerate(rows):
        for g, rate in v.visit.items():
            visit[k, nm.groups.index(g)] = rate
    return VenueParams(
        region=np.array([nm.regions.index(c) for c, _, _ in rows], np.int64),
        count=np.array([v.count for _, _, v in rows], np.int64),
        tables=np.array([v.tables for _, _, v in rows], np.int64),
        capture=np.array([v.capture_probability() for _, _, v in rows], np.float64),
        open=np.array([v.open_share for _, _, v in rows], np.float64),
        feed=np.array([v.feed_home for _, _, v in rows], np.bool_),
        act_share=np.array([v.act_share for _, _, v in rows], np.float64),
        visit=visit,
        channel=np.array([nm.channels.index(city.channel) for _, city, _ in rows], np.int64))


def _score_and_lists(scenario: Scenario, nm: Names, mark: bool,
                     recovery: int) -> tuple[ScoreParams, ListParams]:
    protected = set(scenario.safeguards.protected)
    B = len(nm.behaviours)
    enter, leave = np.zeros(B, np.uint8), np.zeros(B, np.uint8)
    for k, spec in enumerate(scenario.lists.values()):
        bit = 1 << k
        if spec.enter_on is not None and spec.enter_on not in protected:
            enter[nm.behaviours.index(spec.enter_on)] |= bit
        if spec.leave_on is not None:
            leave[nm.behaviours.index(spec.leave_on)] |= bit
    sc = scenario.scoring

    def points(region: str, b: str) -> int:
        if b in protected:
            return 0
        return to_fixed(sc.regional_rules.get(region, {}).get(b, sc.rules.get(b, 0.0)))

    pts = np.array([[points(r, b) for b in nm.behaviours] for r in nm.regions],
                   np.int32).reshape(len(nm.regions), B)
    penalised = ((pts < 0) | (enter != 0)[None, :]).astype(np.uint8)
    lists = _lists(scenario, nm)
    expression = np.array([scenario.behaviours[b].expression for b in nm.behaviours], np.bool_)
    return ScoreParams(pts, penalised, enter, leave, expression, bool(mark), recovery), lists


def _lists(scenario: Scenario, nm: Names) -> ListParams:
    specs = [scenario.lists[x] for x in nm.lists]
    ext = [s.extension for s in specs]
    pub = [s.publication for s in specs]
    return ListParams(
        grace=np.array([s.grace_days for s in specs], np.int64),
        expire=np.array([s.expire_days or 0 for s in specs], np.int64),
        term_share=np.array([s.term_share for s in specs], np.float64),
        extend_share=np.array([e.share if e else 0.0 for e in ext], np.float64),
        extend_min=np.array([e.days[0] if e else 0 for e in ext], np.int64),
        extend_max=np.array([e.days[1] if e else 0 for e in ext], np.int64),
        removal=np.array([s.removal_rate for s in specs], np.float64),
        publish_mid=np.array([p.midpoint if p else 0.0 for p in pub], np.float64),
        publish_width=np.array([p.width if p else 0.0 for p in pub], np.float64),
        initial=np.array([s.initial_share for s in specs], np.float64))


def _sanction(scenario: Scenario, nm: Names, grade_bounds: np.ndarray, mark: bool,
              score: ScoreParams, initial: int) -> SanctionParams:
    sans = [scenario.sanctions[s] for s in nm.sanctions]
    bits = lambda pred: sum(1 << k for k, s in enumerate(sans) if pred(s))  # noqa: E731
    min_days = np.array([s.min_days for s in sans], np.int64)
    min_row = np.full(len(sans), -1, np.int64)
    min_row[min_days > 0] = np.arange(int(np.sum(min_days > 0)))
    appeals = scenario.safeguards.appeals
    return SanctionParams(
        on_list=np.array([nm.lists.index(s.when.on_list) if s.when.on_list else -1
                          for s in sans], np.int64),
        threshold=np.array(
            [_grade_threshold(scenario, s.when.grade_at_most) if s.when.grade_at_most
             else NEVER for s in sans], np.int64),
        reach=np.array([nm.group_layers.index(s.reaches) if s.reaches else -1 for s in sans],
                       np.int64),
        min_days=min_days, min_row=min_row,
        visible_bits=int(bits(lambda s: s.visible)),
        reach_bits=int(bits(lambda s: s.reaches is not None)),
        grade_bounds=grade_bounds, initial=initial, recovery=score.recovery,
        list_expression=np.array(
            [bool(score.expression[[k for k in range(len(nm.behaviours))
                                    if score.enter[k] & (1 << ll)]].any())
             for ll in range(len(nm.lists))], np.bool_),
        expression_scored=expression_scored(score),
        appeals=bool(appeals.enabled), appeal_success=float(appeals.success),
        appeal_delay=int(appeals.delay_days), mark=bool(mark))


def _respond(scenario: Scenario, nm: Names, scoring: bool) -> RespondParams:
    """The responses (with the scoring system off nobody responds: no own risk or marks are
    kept)."""
    r = scenario.responses
    avoid = r.avoidance
    return RespondParams(
        from_penalty=float(r.risk_from_penalty), from_sanction=float(r.risk_from_sanction),
        from_ties=float(r.risk_from_sanctioned_ties),
        keep=float(2.0 ** (-1.0 / r.own_risk_half_life_days)),
        follow=float(1.0 - 2.0 ** (-1.0 / r.caution_half_life_days)),
        salience=np.array([r.salience.get(b, 0.0) for b in nm.behaviours], np.float64),
        avoid=float(avoid.daily_probability), avoiding=bool(avoid.enabled),
        lost_share=float(avoid.lost_share), own_risk=scoring and r.uses_own_risk(),
        cut_marks=scoring and bool(avoid.enabled))


def _services(scenario: Scenario, nm: Names, max_propensity: np.ndarray) -> ServiceParams:
    denied_by = np.zeros(len(nm.services), np.uint8)
    for k, name in enumerate(nm.sanctions):
        for svc in scenario.sanctions[name].denies:
            denied_by[nm.services.index(svc)] |= 1 << k
    svcs = [scenario.services[v] for v in nm.services]
    demand = np.array([v.demand for v in svcs], np.float64)
    trait = np.array([nm.traits.index(v.propensity) if v.propensity else -1 for v in svcs],
                     np.int64)
    top = np.array([max_propensity[t] if t >= 0 else 1.0 for t in trait], np.float64)
    return ServiceParams(
        demand=demand, denied_by=denied_by, trait=trait,
        bound=np.minimum(1.0, demand * top),
        retry=np.array([v.retry for v in svcs], np.float64),
        give_up=np.array([v.give_up for v in svcs], np.float64),
        switch_to=np.array([nm.services.index(v.switch_to) if v.switch_to else -1
                            for v in svcs], np.int64),
        switch=np.array([v.switch for v in svcs], np.float64))


def expression_scored(score: ScoreParams) -> bool:
    """Whether any penalty or listing falls on an expression behaviour."""
    hit = (score.points < 0).any(axis=0) | (score.enter != 0)
    return bool((hit & score.expression).any())


def compile_plan(scenario: Scenario, max_propensity: np.ndarray, scoring: bool = True,
                 firms: int = 0) -> Plan:
    """The plan of a scenario. ``max_propensity[t]``: the population's largest value of trait
    t (for thinning); ``firms``: the number of groups over all group layers (for corporate
    ratings); ``scoring``: False for a counterfactual run (the system switched off)."""
    nm = names_of(scenario)
    safe = scenario.safeguards
    respond = _respond(scenario, nm, bool(scoring and scenario.scoring_enabled))
    grade_bounds = np.array([to_fixed(b) for b in scenario.scoring.grades.values()
                             if b is not None], np.int64)
    recovery = to_fixed(scenario.scoring.recovery_per_day)
    initial = to_fixed(scenario.scoring.initial)
    score, lists = _score_and_lists(scenario, nm, respond.from_penalty != 0, recovery)
    glayers = [scenario.layers[x] for x in nm.group_layers]
    abroad = np.array([r not in scenario.population.regions for r in nm.regions], np.bool_)
    return Plan(
        act=_act(scenario, nm, max_propensity),
        observe=_observe(scenario, nm),
        venues=_venues(scenario, nm),
        score=score, lists=lists,
        spill=SpillParams(
            group_layers=np.array([scenario.layers[x].spillover for x in nm.group_layers],
                                  np.float64),
            tie_layers=np.array([scenario.layers[x].spillover for x in nm.tie_layers],
                                np.float64),
            association=bool(safe.association_penalties), recovery=recovery,
            paths_take_spill=expression_scored(score), abroad=abroad,
            any_abroad=bool(abroad.any())),
        rating=RatingParams(
            weight=np.array([la.rating.weight if la.rating else 0.0 for la in glayers],
                            np.float64),
            threshold=np.array([to_fixed(la.rating.threshold) if la.rating else 0
                                for la in glayers], np.int64),
            lists=np.array([sum(1 << k for k, x in enumerate(nm.lists)
                                if scenario.lists[x].enter_on_rating == name)
                            for name in nm.group_layers], np.uint8)),
        scoring=ScoringParams(
            enabled=bool(scoring and scenario.scoring_enabled),
            initial=initial, recovery=recovery, grade_bounds=grade_bounds),
        sanction=_sanction(scenario, nm, grade_bounds, respond.from_sanction != 0, score,
                           initial),
        services=_services(scenario, nm, max_propensity),
        respond=respond,
        firms=int(firms),
    )


def for_the_run(plans: dict[int, Plan]) -> dict[int, Plan]:
    """The plans of a run's timeline, with what is laid out once for the whole run: the
    sanctions' rows in ``State.since`` (when any plan has a minimum duration), spilled
    penalties kept in the but-for path without expression from day 0 when speech is penalised
    on any day, and the agents' own risk and the cut ties' marks when any plan needs them."""
    n_sanctions = plans[0].sanction.on_list.shape[0]
    track_since = any(bool(np.any(p.sanction.min_days > 0)) for p in plans.values())
    rows = (np.arange(n_sanctions) if track_since else np.full(n_sanctions, -1)).astype(np.int64)
    spill = any(p.spill.paths_take_spill for p in plans.values())
    own = any(p.respond.own_risk for p in plans.values())
    cut = any(p.respond.cut_marks for p in plans.values())
    return {d: replace(p, sanction=p.sanction._replace(min_row=rows),
                       spill=p.spill._replace(paths_take_spill=spill),
                       respond=p.respond._replace(own_risk=own, cut_marks=cut))
            for d, p in plans.items()}
