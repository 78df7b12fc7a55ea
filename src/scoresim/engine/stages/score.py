"""Stage 3, score and list: each attributed act changes the attributed agent's score by the
rule's points and may start (or end) a listing.

Sequential over the day's acts, in their fixed order: acts are few, and one pass keeps every
update exact and independent of the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..prefetch import prefetch
from ..state import (
    CAUSE_SHIFT,
    COMMITTED,
    FALSE_ATTRIBUTED,
    FALSE_MATCH,
    KEEP_FLAGS,
    LIVE_SHIFT,
    OWN,
    PENALISED_TODAY,
)
from .listing import clear_cause, enter_list
from .observe import DISMISSED, FALSE, OBSERVED, UNIDENTIFIED

AHEAD = 16  # acts whose agents' state is prefetched ahead of the one scored


@nb.njit(cache=True)
def _score(agent, beh, target, status, day, region, b_points, b_penalised, b_enter,
           b_leave, l_grace, l_expire, score, flags, today, mark, live, list_state, list_cause,
           ever_listed, fm_penalty, pen_agent, pen_points, pen_event, counts, lo, hi):
    """counts: [observed per behaviour (B) | false | dismissed | listings L | delistings L].

    A partition [lo, hi) does the actor's part of the acts of its agents (committed, observed,
    dismissed) and the attributed agent's part of the acts pinned on its agents; pen_event[k]
    is the act (its position in ``agent``) behind the k-th penalty. ``mark``: penalties are
    marked in ``today`` (only when caution responds to them: state.py)."""
    B, L = b_points.shape[1], l_grace.shape[0]
    n_pen = 0
    k = agent.shape[0]
    for e in range(k):
        if e + AHEAD < k:  # an act further on: its actor's and target's lines in flight
            prefetch(flags, agent[e + AHEAD])
            prefetch(region, agent[e + AHEAD])
            if target[e + AHEAD] >= 0:
                prefetch(score, target[e + AHEAD])
                prefetch(flags, target[e + AHEAD])
        i, b, st = agent[e], beh[e], status[e]
        if lo <= i < hi:
            if b_penalised[region[i], b]:  # scored where the actor lives
                flags[i] |= COMMITTED
            if st & OBSERVED:
                counts[b] += 1
            if st & DISMISSED:
                counts[B + 1] += 1
        if not (st & OBSERVED) or (st & (DISMISSED | UNIDENTIFIED)):
            continue
        t = target[e]
        if not lo <= t < hi:
            continue
        wrong = (st & FALSE) != 0
        if wrong:
            flags[t] |= FALSE_ATTRIBUTED
            counts[B] += 1
        pts = b_points[region[t], b]  # the rules of the region that scores the attributed agent
        if pts != 0:
            score[t] += pts
            if pts < 0:
                cause = FALSE_MATCH if wrong else OWN
                flags[t] = (flags[t] & KEEP_FLAGS) | (cause << CAUSE_SHIFT)
                if mark:
                    today[t] |= PENALISED_TODAY
                    live[t >> LIVE_SHIFT] = 1
                if wrong and fm_penalty.shape[0] > 0:
                    fm_penalty[t] -= pts
                pen_agent[n_pen] = t
                pen_points[n_pen] = pts
                pen_event[n_pen] = e
                n_pen += 1
        for l in range(L):
            bit = 1 << l
            if b_enter[b] & bit:
                counts[B + 2 + l] += enter_list(l, t, day, FALSE_MATCH if wrong else OWN,
                                                l_grace, l_expire, list_state, list_cause,
                                                ever_listed)
            if b_leave[b] & bit and list_state[l, t] != 0:
                if list_state[l, t] > 0:
                    counts[B + 2 + L + l] += 1
                list_state[l, t] = 0
                clear_cause(l, t, list_cause)
    return n_pen


def score_and_list(agent, beh, target, status, day, p, s, region, lo=0, hi=None,
                   events=False):
    """Apply the day's attributed acts (the parts of agents [lo, hi), default all). Returns
    (penalties (agent, points), counts), and with ``events`` the act behind each penalty."""
    B, L = p.b_points.shape[1], p.l_grace.shape[0]
    counts = np.zeros(B + 2 + 2 * L, np.int64)
    pen_agent = np.empty(agent.shape[0], np.int32)
    pen_points = np.empty(agent.shape[0], np.int32)
    pen_event = np.empty(agent.shape[0], np.int64)
    hi = region.shape[0] if hi is None else hi
    k = _score(agent, beh, target, status, day, region, p.b_points, p.b_penalised, p.b_enter,
               p.b_leave, p.l_grace, p.l_expire, s.score, s.flags, s.today,
               p.caution_from_penalty != 0, s.live, s.list_state, s.list_cause, s.ever_listed,
               s.fm_penalty, pen_agent, pen_points, pen_event, counts, lo, hi)
    if events:
        return pen_agent[:k], pen_points[:k], counts, pen_event[:k]
    return pen_agent[:k], pen_points[:k], counts
