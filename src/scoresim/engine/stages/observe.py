"""Stage 2, observe: each act is captured through its behaviour's channel and, where the
channel recognises faces, the face is searched against the channel's watch list.

The search is NIST FRVT/FRTE 1:N identification (SOURCES 1.11): the face of someone on the
watch list is returned with probability 1 - FNIR; any other face, or one whose mate was
missed, raises a false alert with the false positive identification rate of its group,
FPIR = 1 - (1 - m FMR)^N (N: the gallery searched; m: the group's multiplier, NISTIR 8280).
A false alert names a wrong person on the list, drawn among the enrolled with the members of
the face's own group weighted by m (false matches concentrate within a demographic). An
alert becomes an action with the channel's probability; under human review, reviewers check
the same match first (``Review.confirms``). Venues abroad use the same search (venues.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...core.memo import once_per
from ...core.prefetch import prefetch
from ..context import DayKey

# an act's status bits
OBSERVED = 1  # captured by its channel
FALSE = 2  # a false alert: pinned on someone else
DISMISSED = 4  # human review rejected the alert
UNIDENTIFIED = 8  # captured, but no alert (or an alert naming no one in the population)
AT_VENUE = 16  # done at a venue abroad (seen, or missed, by its cameras)
ALERT = 32  # the search returned someone on the watch list
SCANNED = 64  # the face was searched (a channel that recognises faces)
UNACTED = 128  # an alert no one acted on
NOT_ACTED = DISMISSED | UNIDENTIFIED | UNACTED  # nothing follows for the person named

AHEAD = 16  # acts whose actors' attributes are prefetched ahead of the one observed


class ObserveParams(NamedTuple):
    """What the observe stage reads: each behaviour's channel, each channel's sight and
    search, each region's cameras, each group's multipliers."""

    channel: np.ndarray  # int64[B]: the channel that sees the behaviour
    observe: np.ndarray  # float64[C]: probability an act is captured; -1: region's coverage
    search: np.ndarray  # bool[C]: the channel recognises faces
    recognition: np.ndarray  # float64[C]: 1 - FNIR for a face on the watch list
    fpir: np.ndarray  # float64[C, G]: false alert rate of a face of each group
    watch_list: np.ndarray  # float64[C]: share of the enrolled on the channel's watch list
    tries: np.ndarray  # int64[C]: draws allowed to find a listed person a false alert names
    action: np.ndarray  # float64[C]: an alert (surviving review) becomes an action
    confirm: np.ndarray  # float64[C, 2]: an alert survives review: true, false (1: no review)
    coverage: np.ndarray  # float64[R]: camera coverage (0 abroad: home cameras see no city)
    watch: np.ndarray  # float64[C, G]: how much more often a group's acts are captured
    false_match_multiplier: np.ndarray  # float64[G]: recognition errors by group
    enrolled: np.ndarray  # bool[G]: in the home gallery
    abroad: np.ndarray  # bool[R]: a city abroad (its acts are seen only at its venues)


class RecognitionCounts(NamedTuple):
    """The searches of a day (of one range), by group: of the face for the first six, of
    the person named for the last two."""

    faces: np.ndarray  # int64[G]: faces searched
    alerts: np.ndarray  # int64[G]
    true_alerts: np.ndarray  # int64[G]
    false_alerts: np.ndarray  # int64[G]
    true_actions: np.ndarray  # int64[G]: true alerts acted on
    false_actions: np.ndarray  # int64[G]: false alerts acted on
    named: np.ndarray  # int64[G]: false alerts naming a member of the group
    named_actions: np.ndarray  # int64[G]: of them acted on


def gallery_sizes(people, enrolled: np.ndarray) -> np.ndarray:
    """int64[G]: the enrolled agents of each group (0 for a group not enrolled); made once per
    population and enrolment (kernels only read it)."""
    return once_per(people.cell_start, ("gallery sizes", enrolled.tobytes()),
                    lambda cells: _gallery_sizes(cells, enrolled))


def _gallery_sizes(cell_start: np.ndarray, enrolled: np.ndarray) -> np.ndarray:
    sizes = np.diff(cell_start).reshape(-1, enrolled.shape[0]).sum(axis=0)
    return (sizes * enrolled).astype(np.int64)


@nb.njit(cache=True)
def _member(cell_start, enrolled, group, own, x):
    """The x-th enrolled agent (in agent order) of ``group`` (own) or of the other enrolled
    groups."""
    G = enrolled.shape[0]
    for cell in range(cell_start.shape[0] - 1):
        g = cell % G
        if not enrolled[g] or (g == group) != own:
            continue
        size = cell_start[cell + 1] - cell_start[cell]
        if x < size:
            return cell_start[cell] + x
        x -= size
    return -1


@nb.njit(cache=True)
def on_list(seed, c, i, op):
    """Agent i is on channel c's watch list (drawn once per run; only the enrolled)."""
    p = op.watch_list[c]
    return p >= 1.0 or rng.uniform(rng.stream(seed, 0, rng.WATCH_LIST, c), i, 0) < p


@nb.njit(cache=True)
def name_wrong(i, c, seed, names, op, people, sizes):
    """Whom a false alert on agent i's face names: someone else on channel c's watch list,
    among the enrolled, with the members of the face's group weighted by its false-match
    multiplier (-1 if the allowed draws find no one on the list). ``names``: the stream of
    the draws (index i)."""
    a = people.group[i]
    total = 0
    for g in range(sizes.shape[0]):
        total += sizes[g]
    own = sizes[a]
    w_own = own * op.false_match_multiplier[a]
    w = w_own + (total - own)
    if w <= 0:
        return -1
    for k in range(op.tries[c]):
        in_own = rng.uniform(names, i, 2 * k) * w < w_own
        size = own if in_own else total - own
        v = _member(people.cell_start, op.enrolled, a, in_own,
                    int(rng.uniform(names, i, 2 * k + 1) * size))
        if v >= 0 and v != i and on_list(seed, c, v, op):
            return v
    return -1


@nb.njit(cache=True)
def search(i, c, seed, stream, d, names, op, people, sizes):
    """Search agent i's face on channel c: returns the person named (-1: no one) and the
    status bits. Draws d..d+3 of ``stream`` (index i): the search, the false alert, review,
    action."""
    g = people.group[i]
    st, t = SCANNED, -1
    if op.enrolled[g] and on_list(seed, c, i, op) and rng.uniform(stream, i, d) < \
            op.recognition[c]:
        st, t = st | ALERT, i
    elif rng.uniform(stream, i, d + 1) < op.fpir[c, g]:
        st |= ALERT | FALSE
        t = name_wrong(i, c, seed, names, op, people, sizes)
    if not st & ALERT:
        return -1, st | UNIDENTIFIED
    if rng.uniform(stream, i, d + 2) >= op.confirm[c, 1 if st & FALSE else 0]:
        st |= DISMISSED
    elif rng.uniform(stream, i, d + 3) >= op.action[c]:
        st |= UNACTED
    if t < 0:
        st |= UNIDENTIFIED  # a false alert naming someone outside the population
    return t, st


@nb.njit(parallel=True, cache=True)
def _observe(agent, beh, key, op, people, sizes, target, status):
    region, group = people.region, people.group
    k = agent.shape[0]
    for e in nb.prange(k):
        if e + AHEAD < k:  # the attributes of an actor further on: many misses in flight
            prefetch(group, agent[e + AHEAD])
            prefetch(region, agent[e + AHEAD])
        i, b = agent[e], beh[e]
        c = op.channel[b]
        stream = rng.stream(key.seed, key.day, rng.OBSERVE, b)  # one act per agent, behaviour, day
        q = op.observe[c] if op.observe[c] >= 0 else op.coverage[region[i]]
        q = min(1.0, q * op.watch[c, group[i]])
        st, t = 0, -1
        if rng.uniform(stream, i, 0) < q:
            st, t = OBSERVED, i
            if op.search[c]:
                names = rng.stream(key.seed, key.day, rng.NAME, rng.name_at_home(b))
                t, found = search(i, c, key.seed, stream, 1, names, op, people, sizes)
                st |= found
        target[e], status[e] = t, st


def recognition_counts(agent: np.ndarray, target: np.ndarray, status: np.ndarray,
                       group: np.ndarray, n_groups: int) -> RecognitionCounts:
    """The searches among observations (faces of ``agent``, named ``target``), by group."""
    scanned = (status & SCANNED) != 0
    if not scanned.any():  # every count is of searched faces (an alert is of a search)
        return RecognitionCounts(*np.zeros((8, n_groups), np.int64))
    count = lambda who, sel: np.bincount(group[who[sel]], minlength=n_groups)  # noqa: E731
    alert = (status & ALERT) != 0
    false = alert & ((status & FALSE) != 0)
    acted = alert & ((status & (DISMISSED | UNACTED)) == 0)
    named = false & (target >= 0)
    return RecognitionCounts(
        count(agent, scanned), count(agent, alert), count(agent, alert & ~false),
        count(agent, false), count(agent, acted & ~false), count(agent, acted & false),
        count(target, named), count(target, named & acted))


def observe(agent: np.ndarray, beh: np.ndarray, key: DayKey, op: ObserveParams,
            people) -> tuple[np.ndarray, np.ndarray, RecognitionCounts]:
    """Per act: the agent it is attributed to (-1 if no one) and its status bits; and the
    day's searches by group. ``people``: the population's ``PeopleArrays``."""
    k = agent.shape[0]
    target, status = np.empty(k, np.int32), np.empty(k, np.uint8)
    _observe(agent, beh, key, op, people, gallery_sizes(people, op.enrolled), target, status)
    counts = recognition_counts(agent, target, status, people.group, op.enrolled.shape[0])
    return target, status, counts
