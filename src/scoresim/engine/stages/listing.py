"""Putting an agent on a list, shared by the stages that can do it: score (an attributed act),
the firm ratings (a firm's rating falling lists its owner) and sanction (a grace period ends).

A list is an institution with dynamics of its own (docs/model.md, "Lists"): courts coming
online publish a rising share of new cases (``publication``); names published at launch
(``initial``); a listing lasts until repaired, or, for a share of them, a term (some
extended); a further case renews a listing's term; and the court removes listings without
repair at a daily rate (a removal campaign is a timeline change of it). Every draw is keyed by
(seed, day, list, agent) in ``core.rng``'s ``LIST_ENTRY`` and ``LIST_REMOVAL`` streams.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...core.constants import NEVER
from ..context import DayKey, Span
from ..state import ASSOC_LIST_SHIFT, ASSOCIATION, FALSE_MATCH

# what ``enter_list`` did
NOTHING, LISTED, REPEAT = 0, 1, 2
# how a listing ended (the record's exit routes, engine/record.py)
REPAID, EXPIRED, REMOVED, APPEALED = range(4)


class ListParams(NamedTuple):
    """Each list's timing and dynamics."""

    grace: np.ndarray  # int64[L]: days between the act and the listing
    expire: np.ndarray  # int64[L]: days a listing with a term lasts; 0 = every one until repaired
    term_share: np.ndarray  # float64[L]: share of listings with a term (the others: until repaired)
    extend_share: np.ndarray  # float64[L]: share of the terms extended
    extend_min: np.ndarray  # int64[L]: an extension's fewest days
    extend_max: np.ndarray  # int64[L]: its most
    removal: np.ndarray  # float64[L]: daily probability a listing is removed without repair
    publish_mid: np.ndarray  # float64[L]: the day half the new cases are published
    publish_width: np.ndarray  # float64[L]: the ramp's width in days; 0: every case from day 0
    initial: np.ndarray  # float64[L]: share of people on the list on day 0


@nb.njit(inline="always", cache=True)
def published(l, day, lp):
    """The share of new cases that reach list l on this day (courts coming online)."""
    w = lp.publish_width[l]
    if w <= 0.0:
        return 1.0
    return 1.0 / (1.0 + math.exp(-(day - lp.publish_mid[l]) / w))


@nb.njit(inline="always", cache=True)
def listing_end(l, t, key, lp):
    """The encoded end of agent t's listing on list l taking effect today: the day after its
    last day plus one (state.py), or NEVER (until repaired)."""
    if lp.expire[l] <= 0:
        return NEVER
    stream = rng.stream(key.seed, key.day, rng.LIST_ENTRY, l)
    if lp.term_share[l] < 1.0 and rng.uniform(stream, t, rng.LIST_TERM) >= lp.term_share[l]:
        return NEVER
    days = lp.expire[l]
    if lp.extend_share[l] > 0.0 and rng.uniform(stream, t, rng.LIST_EXTEND) < lp.extend_share[l]:
        span = lp.extend_max[l] - lp.extend_min[l] + 1
        days += lp.extend_min[l] + int(rng.uniform(stream, t, rng.LIST_EXTEND_DAYS) * span)
    return key.day + days + 1


@nb.njit(inline="always", cache=True)
def list_now(l, t, key, lp, st):
    """Agent t's listing on list l takes effect today."""
    st.list_state[l, t] = listing_end(l, t, key, lp)
    st.ever_listed[t] |= 1 << l


@nb.njit(inline="always", cache=True)
def enter_list(l, t, key, cause, lp, st):
    """A case puts agent t on list l (after the grace period), if the court publishes it.
    Already listed: a repeat case renews a listing's term (REPEAT); already pending: nothing.
    Returns LISTED when the listing takes effect today (no grace), else NOTHING or REPEAT."""
    s = st.list_state[l, t]
    if s < 0:
        return NOTHING
    if lp.publish_width[l] > 0.0:
        stream = rng.stream(key.seed, key.day, rng.LIST_ENTRY, l)
        if rng.uniform(stream, t, rng.LIST_PUBLISH) >= published(l, key.day, lp):
            return NOTHING
    if s > 0:
        if s != NEVER:
            st.list_state[l, t] = max(s, listing_end(l, t, key, lp))
        return REPEAT
    bit = 1 << l
    listed = NOTHING
    if lp.grace[l] == 0:
        list_now(l, t, key, lp, st)
        listed = LISTED
    else:
        st.list_state[l, t] = -(key.day + lp.grace[l] + 1)
    st.list_cause[t] &= ~(bit | (bit << ASSOC_LIST_SHIFT))
    if cause == FALSE_MATCH:
        st.list_cause[t] |= bit
    elif cause == ASSOCIATION:
        st.list_cause[t] |= bit << ASSOC_LIST_SHIFT
    return listed


@nb.njit(inline="always", cache=True)
def clear_cause(l, t, list_cause):
    """Forget the cause of agent t's listing on list l (it left the list)."""
    bit = 1 << l
    list_cause[t] &= ~(bit | (bit << ASSOC_LIST_SHIFT))


@nb.njit(inline="always", cache=True)
def removed(l, t, removal_stream, lp):
    """Whether the court removes agent t's listing on list l today without repair."""
    return lp.removal[l] > 0.0 and rng.uniform(removal_stream, t, 0) < lp.removal[l]


@nb.njit(cache=True)
def _launch(span, key, lp, st, listings):
    """Names published at launch: each agent of [lo, hi) is on list l with probability
    ``initial[l]``."""
    n, lo, hi = span
    for l in range(lp.initial.shape[0]):
        if lp.initial[l] <= 0.0:
            continue
        stream = rng.stream(key.seed, key.day, rng.LIST_ENTRY, l)
        for t in range(lo, hi):
            if st.list_state[l, t] == 0 and \
                    rng.uniform(stream, t, rng.LIST_INITIAL) < lp.initial[l]:
                list_now(l, t, key, lp, st)
                listings[l] += 1


def launch(span: Span, key: DayKey, lp: ListParams, st) -> np.ndarray:
    """The lists' launch (day 0): the names published at once, on agents [lo, hi). Returns
    the listings per list."""
    listings = np.zeros(lp.initial.shape[0], np.int64)
    if np.any(lp.initial > 0):
        _launch(span, key, lp, st, listings)
    return listings
