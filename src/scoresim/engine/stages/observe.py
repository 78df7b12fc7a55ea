"""Stage 2, observe: each act is seen through its behaviour's channel, and attributed.

A camera observation goes to the wrong person with the channel's false-match probability times
the actor's group multiplier (recognition errors are demographic: NISTIR 8280); the wrongly
matched person is drawn among the other agents of the actor's region and group. Under human
review a second, independent observation must name the same person before anyone acts on it.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...core.prefetch import prefetch
from ..context import DayKey

OBSERVED, FALSE, DISMISSED = 1, 2, 4
UNIDENTIFIED = 8  # observed, but of no one in the home gallery: nothing to act on
AT_VENUE = 16  # done at a venue abroad (seen, or missed, by its cameras)
AHEAD = 16  # acts whose actors' attributes are prefetched ahead of the one observed


@nb.njit(inline="always", cache=True)
def _other_in_cell(i, lo, hi, u):
    """Someone other than i in [lo, hi), uniformly."""
    width = hi - lo
    return lo + (i - lo + 1 + int(u * (width - 1))) % width


class ObserveParams(NamedTuple):
    """What the observe stage reads: each behaviour's channel, each channel's sight and
    recognition, each region's cameras, each group's multipliers."""

    channel: np.ndarray  # int64[B]: the channel that sees the behaviour
    observe: np.ndarray  # float64[C]: probability an act is seen; -1: the region's coverage
    recognition: np.ndarray  # float64[C]
    false_match: np.ndarray  # float64[C]: an observation is attributed to someone else
    review: np.ndarray  # uint8[C]: a second, independent observation must confirm
    coverage: np.ndarray  # float64[R]: camera coverage (0 abroad: home cameras see no city)
    watch: np.ndarray  # float64[G]: how much more a group is watched
    false_match_multiplier: np.ndarray  # float64[G]: recognition errors by group
    enrolled: np.ndarray  # bool[G]: in the home gallery (acts pinned on others are dropped)
    abroad: np.ndarray  # bool[R]: a city abroad (its acts are seen only at its venues)


@nb.njit(parallel=True, cache=True)
def _observe(agent, beh, key, op, people, target, status):
    G = op.watch.shape[0]
    region, group, cell_start = people.region, people.group, people.cell_start
    k = agent.shape[0]
    for e in nb.prange(k):
        if e + AHEAD < k:  # the attributes of an actor further on: many misses in flight
            prefetch(group, agent[e + AHEAD])
            prefetch(region, agent[e + AHEAD])
        i, b = agent[e], beh[e]
        c = op.channel[b]
        stream = rng.stream(key.seed, key.day, rng.OBSERVE, b)  # one act per agent, behaviour, day
        idx = i
        q = op.observe[c] if op.observe[c] >= 0 else op.coverage[region[i]]
        q = min(1.0, q * op.watch[group[i]]) * op.recognition[c]
        st, t = 0, -1
        if rng.uniform(stream, idx, 0) < q:
            st, t = OBSERVED, i
            f = min(1.0, op.false_match[c] * op.false_match_multiplier[group[i]])
            cell = region[i] * G + group[i]
            lo, hi = cell_start[cell], cell_start[cell + 1]
            if f > 0 and hi - lo > 1 and rng.uniform(stream, idx, 1) < f:
                t = _other_in_cell(i, lo, hi, rng.uniform(stream, idx, 2))
                st |= FALSE
            if op.review[c]:
                ok = rng.uniform(stream, idx, 3) < q
                if ok:
                    second_false = f > 0 and hi - lo > 1 and rng.uniform(stream, idx, 4) < f
                    if st & FALSE:
                        ok = second_false and _other_in_cell(i, lo, hi,
                                                             rng.uniform(stream, idx, 5)) == t
                    else:
                        ok = not second_false
                if not ok:
                    st |= DISMISSED
            if not op.enrolled[group[t]]:
                st |= UNIDENTIFIED  # not in the home gallery: no one to pin it on
        target[e], status[e] = t, st


def observe(agent: np.ndarray, beh: np.ndarray, key: DayKey, op: ObserveParams,
            people) -> tuple[np.ndarray, np.ndarray]:
    """Per act: the agent it is attributed to (-1 if unseen) and its status bits.
    ``people``: the population's ``PeopleArrays``."""
    k = agent.shape[0]
    target, status = np.empty(k, np.int32), np.empty(k, np.uint8)
    _observe(agent, beh, key, op, people, target, status)
    return target, status
