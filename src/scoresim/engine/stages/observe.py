"""Stage 2, observe: each act is seen through its behaviour's channel, and attributed.

A camera observation goes to the wrong person with the channel's false-match probability times
the actor's group multiplier (recognition errors are demographic: NISTIR 8280); the wrongly
matched person is drawn among the other agents of the actor's region and group. Under human
review a second, independent observation must name the same person before anyone acts on it.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import rng
from ..prefetch import prefetch

OBSERVED, FALSE, DISMISSED = 1, 2, 4
UNIDENTIFIED = 8  # observed, but of no one in the home gallery: nothing to act on
AT_VENUE = 16  # done at a venue abroad (seen, or missed, by its cameras)
AHEAD = 16  # acts whose actors' attributes are prefetched ahead of the one observed


@nb.njit(inline="always", cache=True)
def _other_in_cell(i, lo, hi, u):
    """Someone other than i in [lo, hi), uniformly."""
    width = hi - lo
    return lo + (i - lo + 1 + int(u * (width - 1))) % width


@nb.njit(parallel=True, cache=True)
def _observe(agent, beh, seed, day, b_channel, c_observe, c_recognition, c_false_match,
             c_review, r_coverage, g_watch, g_false_match, g_enrolled, region, group,
             cell_start, target, status):
    G = g_watch.shape[0]
    k = agent.shape[0]
    for e in nb.prange(k):
        if e + AHEAD < k:  # the attributes of an actor further on: many misses in flight
            prefetch(group, agent[e + AHEAD])
            prefetch(region, agent[e + AHEAD])
        i, b = agent[e], beh[e]
        c = b_channel[b]
        key = rng.stream(seed, day, rng.OBSERVE, b)  # one act per agent, behaviour and day
        idx = i
        q = c_observe[c] if c_observe[c] >= 0 else r_coverage[region[i]]
        q = min(1.0, q * g_watch[group[i]]) * c_recognition[c]
        st, t = 0, -1
        if rng.uniform(key, idx, 0) < q:
            st, t = OBSERVED, i
            f = min(1.0, c_false_match[c] * g_false_match[group[i]])
            cell = region[i] * G + group[i]
            lo, hi = cell_start[cell], cell_start[cell + 1]
            if f > 0 and hi - lo > 1 and rng.uniform(key, idx, 1) < f:
                t = _other_in_cell(i, lo, hi, rng.uniform(key, idx, 2))
                st |= FALSE
            if c_review[c]:
                ok = rng.uniform(key, idx, 3) < q
                if ok:
                    second_false = f > 0 and hi - lo > 1 and rng.uniform(key, idx, 4) < f
                    if st & FALSE:
                        ok = second_false and _other_in_cell(i, lo, hi,
                                                             rng.uniform(key, idx, 5)) == t
                    else:
                        ok = not second_false
                if not ok:
                    st |= DISMISSED
            if not g_enrolled[group[t]]:
                st |= UNIDENTIFIED  # not in the home gallery: no one to pin it on
        target[e], status[e] = t, st


def observe(agent, beh, seed, day, p, people):
    """Per act: the agent it is attributed to (-1 if unseen) and its status bits."""
    k = agent.shape[0]
    target, status = np.empty(k, np.int32), np.empty(k, np.uint8)
    _observe(agent, beh, seed, day, p.b_channel, p.c_observe, p.c_recognition,
             p.c_false_match, p.c_review, p.r_coverage, p.g_watch, p.g_false_match,
             p.g_enrolled, people.region, people.group, people.cell_start, target, status)
    return target, status
