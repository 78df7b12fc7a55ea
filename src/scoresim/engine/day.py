"""One simulated day: the eight stages, in the order that is part of the model's contract.

    1 act -> 2 observe -> 3 score and list -> 4 spill -> 5 recover -> 6 sanction
    -> 7 use services -> 8 respond

With the scoring system switched off (a counterfactual), people still act and ask for
services; nothing is observed to any consequence, so stages 2-6 and the responses are skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .compile import FIXED, Params
from .measure import measure, totals
from .stages.act import act
from .stages.firms import rate_firms
from .stages.observe import observe
from .stages.recover import recover
from .stages.respond import respond
from .stages.sanction import sanction
from .stages.score import score_and_list
from .stages.services import use_services
from .stages.spill import spill
from .stages.venues import venue_day
from .state import State

STAGES = ("act", "observe", "score", "spill", "recover", "sanction", "services", "respond")
# the profile's columns: the stages, then the rest of the day's measurements (on a scored day
# the scores are measured in recover's pass, caution in respond's: engine/measure.py)
TIMED = (*STAGES, "measure")


@dataclass
class DayCounts:
    acts: np.ndarray  # int64[B]
    observed: np.ndarray  # int64[B]
    false_attributions: int
    dismissed_by_review: int
    spill_penalties: int
    listings: np.ndarray  # int64[L]
    delistings: np.ndarray  # int64[L]
    listed_now: np.ndarray  # int64[L]
    sanctioned: np.ndarray  # int64[S + 1], last: under any sanction
    newly_sanctioned: np.ndarray  # int64[3]: own, false match, association
    appeals_won: int
    requests: np.ndarray  # int64[V, G]
    denied: np.ndarray  # int64[V, G]
    mean_score: float
    mean_caution: float
    grades: np.ndarray  # int64[grades]: agents per grade, highest first (empty without grades)
    sanctioned_by_group: np.ndarray  # int64[G]
    expression_by_group: np.ndarray  # int64[G]: expression acts by the actor's group
    abroad: dict = field(default_factory=dict)  # the venues abroad (stages/venues.py)
    stage_seconds: dict[str, float] = field(default_factory=dict)


class _Clock:
    """Time per stage, for ``--profile``; costs two clock reads per stage."""

    def __init__(self, on: bool):
        self.on, self.t, self.out = on, time.perf_counter(), {}

    def lap(self, stage: str) -> None:
        if self.on:
            now = time.perf_counter()
            self.out[stage] = now - self.t
            self.t = now


def run_day(day: int, seed: int, p: Params, people, net, s: State, profile: bool = False):
    n, L = people.n, s.list_state.shape[0]
    if s.sanctioned_group.shape[0] != len(people.group_names):  # its counts are indexed by group
        raise ValueError(f"the state counts {s.sanctioned_group.shape[0]} groups, the people "
                         f"{len(people.group_names)}: init_state(..., n_groups=...)")
    B, S = p.b_rate.shape[0], p.s_list.shape[0]
    clock = _Clock(profile)
    agent, beh, acts = act(n, seed, day, p, people.propensity, s.caution, s.list_state)
    clock.lap("act")
    observed = np.zeros(B, np.int64)
    false_attr = dismissed = spilled = appeals_won = 0
    listings, delistings = np.zeros(L, np.int64), np.zeros(L, np.int64)
    listed_now, newly = np.zeros(L, np.int64), np.zeros(3, np.int64)
    abroad: dict = {}
    if p.scoring_enabled:
        target, status = observe(agent, beh, seed, day, p, people)
        abroad = venue_day(agent, beh, target, status, seed, day, p, people, s)
        clock.lap("observe")
        pen_agent, pen_points, c = score_and_list(agent, beh, target, status, day, p, s,
                                                  people.region)
        observed, false_attr, dismissed = c[:B], int(c[B]), int(c[B + 1])
        listings, delistings = c[B + 2 : B + 2 + L].copy(), c[B + 2 + L :].copy()
        clock.lap("score")
        spilled = spill(pen_agent, pen_points, p, net, s, people)
        listings += rate_firms(pen_agent, pen_points, day, p, net, s)
        clock.lap("spill")
        # the same pass marks the agents the sanction stage looks at and measures the scores
        busy, measured = recover(p, s)
        clock.lap("recover")
        sc = sanction(day, seed, p, net, s, L, people.group, busy)
        measured += sc["measured"]  # points restored by appeals
        listings += sc["listings"]
        delistings += sc["expiries"]
        listed_now, newly, appeals_won = sc["listed_now"], sc["newly_sanctioned"], sc["appeals_won"]
        clock.lap("sanction")
    requests, denied = use_services(n, seed, day, p, people, s)
    clock.lap("services")
    G = len(people.group_names)
    if p.scoring_enabled:
        measured += respond(p, net, s)  # caution, and the sanctioned per group
        mean_score, mean_caution, grades, by_group = totals(measured, n,
                                                            p.grade_bounds.shape[0])
    else:
        mean_score, mean_caution, grades, by_group = measure(p.grade_bounds, G, s, people.group)
    clock.lap("respond")
    if not p.grade_bounds.shape[0]:
        grades = grades[:0]  # no grades declared: nothing to count
    expression = np.bincount(people.group[agent[p.b_expression[beh]]], minlength=G)
    clock.lap("measure")
    return DayCounts(
        acts=acts, observed=observed, false_attributions=false_attr,
        dismissed_by_review=dismissed, spill_penalties=spilled, listings=listings,
        delistings=delistings, listed_now=listed_now, sanctioned=s.sanctioned_count[: S + 1].copy(),
        newly_sanctioned=newly, appeals_won=appeals_won, requests=requests, denied=denied,
        mean_score=mean_score / FIXED, mean_caution=mean_caution, grades=grades,
        sanctioned_by_group=by_group, expression_by_group=expression, abroad=abroad,
        stage_seconds=clock.out,
    )
