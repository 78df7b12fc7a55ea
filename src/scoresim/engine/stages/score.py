"""Stage 3, score and list: each attributed act changes the attributed agent's score by the
rule's points and may start (or end) a listing.

Sequential over the day's acts, in their fixed order: acts are few, and one pass keeps every
update exact and independent of the number of threads.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core.prefetch import prefetch
from ..context import DayKey, Span
from ..state import (
    COMMITTED,
    FALSE_ATTRIBUTED,
    FALSE_MATCH,
    LIVE_SHIFT,
    OWN,
    PENALISED_TODAY,
)
from .listing import LISTED, REPEAT, clear_cause, enter_list
from .observe import DISMISSED, FALSE, NOT_ACTED, OBSERVED
from .paths import BY_FALSE_MATCH, BY_OWN, add_event

AHEAD = 16  # acts whose agents' state is prefetched ahead of the one scored


class ScoreParams(NamedTuple):
    """What the score stage reads: the rules of each region, and the lists acts enter and
    leave."""

    points: np.ndarray  # int32[R, B]: points in each region, fixed point; 0 when protected
    penalised: np.ndarray  # uint8[R, B]: a "scored act" there (negative points or a listing)
    enter: np.ndarray  # uint8[B]: bitmask of the lists the act puts the agent on
    leave: np.ndarray  # uint8[B]: bitmask of the lists the act takes the agent off
    expression: np.ndarray  # bool[B]: an expression behaviour (its penalties are on speech)
    mark: bool  # mark penalised agents for the respond stage (caution answers to penalties)
    recovery: int  # the score's recovery per day, fixed point (the but-for paths follow it)


class Acts(NamedTuple):
    """The day's acts, attributed: each act's actor, behaviour, the agent it is pinned on
    (-1: nobody) and its observation bits (stages/observe.py)."""

    agent: np.ndarray  # int32[k]
    beh: np.ndarray  # uint8[k]
    target: np.ndarray  # int32[k]
    status: np.ndarray  # uint8[k]


class Penalties(NamedTuple):
    """Penalties landed on agents today: whom, how many points (fixed point, < 0), the act
    behind each (its key, behaviour * n + actor: one order in every partition), and whether
    it was on an expression behaviour."""

    agent: np.ndarray  # int32[k]
    points: np.ndarray  # int32[k]
    event: np.ndarray  # int64[k]
    expression: np.ndarray  # bool[k]


class ScoreCounts(NamedTuple):
    """The score stage's counts of the day."""

    observed: np.ndarray  # int64[B]: acts observed (counted by the actor's partition)
    attributions: np.ndarray  # int64[2]: false attributions, observations dismissed by review
    listings: np.ndarray  # int64[L]: listings taking effect today (no grace)
    delistings: np.ndarray  # int64[L]: listings ended by a repair act
    repeats: np.ndarray  # int64[L]: further cases against agents already listed


@nb.njit(cache=True)
def _score(acts, key, span, sp, lp, region, st, out, counts):
    """A range [lo, hi) does the actor's part of the acts of its agents (committed, observed,
    dismissed) and the attributed agent's part of the acts pinned on its agents. Penalties go
    to ``out``; returns their number."""
    agent, beh, target, status = acts
    n, lo, hi = span
    day = key.day
    L = lp.grace.shape[0]
    n_pen = 0
    k = agent.shape[0]
    for e in range(k):
        if e + AHEAD < k:  # an act further on: its actor's and target's lines in flight
            prefetch(st.flags, agent[e + AHEAD])
            prefetch(region, agent[e + AHEAD])
            if target[e + AHEAD] >= 0:
                prefetch(st.score, target[e + AHEAD])
                prefetch(st.flags, target[e + AHEAD])
        i, b, s = agent[e], beh[e], status[e]
        if lo <= i < hi:
            if sp.penalised[region[i], b]:  # scored where the actor lives
                st.flags[i] |= COMMITTED
            if s & OBSERVED:
                counts.observed[b] += 1
            if s & DISMISSED:
                counts.attributions[1] += 1
        if not (s & OBSERVED) or (s & NOT_ACTED):
            continue
        t = target[e]
        if not lo <= t < hi:
            continue
        wrong = (s & FALSE) != 0
        if wrong:
            st.flags[t] |= FALSE_ATTRIBUTED
            counts.attributions[0] += 1
        pts = sp.points[region[t], b]  # the rules of the region that scores the attributed agent
        if pts != 0:
            st.score[t] += pts
            add_event(st.paths, t, day, sp.recovery, -np.int64(pts),
                      BY_FALSE_MATCH if wrong else BY_OWN, sp.expression[b])
            if pts < 0:
                if sp.mark:
                    st.today[t] |= PENALISED_TODAY
                    st.live[t >> LIVE_SHIFT] = 1
                out.agent[n_pen] = t
                out.points[n_pen] = pts
                out.event[n_pen] = np.int64(b) * n + i
                out.expression[n_pen] = sp.expression[b]
                n_pen += 1
        for l in range(L):
            bit = 1 << l
            if sp.enter[b] & bit:
                done = enter_list(l, t, key, FALSE_MATCH if wrong else OWN, lp, st)
                counts.listings[l] += done == LISTED
                counts.repeats[l] += done == REPEAT
            if sp.leave[b] & bit and st.list_state[l, t] != 0:
                if st.list_state[l, t] > 0:
                    counts.delistings[l] += 1
                st.list_state[l, t] = 0
                clear_cause(l, t, st.list_cause)
    return n_pen


def score_and_list(acts: Acts, key: DayKey, span: Span, sp: ScoreParams, lp,
                   region: np.ndarray, st) -> tuple[Penalties, ScoreCounts]:
    """Apply the day's attributed acts (the parts of agents [lo, hi)). Returns the penalties
    and the counts."""
    B, L = sp.points.shape[1], lp.grace.shape[0]
    counts = ScoreCounts(np.zeros(B, np.int64), np.zeros(2, np.int64),
                         *(np.zeros(L, np.int64) for _ in range(3)))
    k = acts.agent.shape[0]
    out = Penalties(np.empty(k, np.int32), np.empty(k, np.int32), np.empty(k, np.int64),
                    np.empty(k, np.bool_))
    m = _score(acts, key, span, sp, lp, region, st, out, counts)
    return Penalties(*(a[:m] for a in out)), counts
