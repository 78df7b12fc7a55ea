"""Counter-based random numbers: a draw is a pure function of (seed, day, stage, index, draw).

No generator state is carried between calls, so the same key gives the same number whatever
the thread, process or partition that asks for it, and two scenarios run with the same seed
share their random numbers (common random numbers). The mixer is SplitMix64's finaliser,
applied once per key word; it passes BigCrush as a counter-based generator when chained so.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

# The registry of random streams: part of the reproducibility contract, never renumber.
# A stream is (stage, sub); within it a draw is (index, draw). Every stream of the model is made
# by the constants and functions below, and nowhere else (tests/test_rng.py checks that no two
# streams collide for any count the schema allows: behaviours, groups and venue kinds below
# 256, tie layers below 65,536).
ACT = 1  # sub: behaviour; index: block; draw: the candidate's number in the block
ACT_ACCEPT = 2  # sub: behaviour; index: agent
OBSERVE = 3  # sub: behaviour; index: agent; draws 0-4 (capture, search, false alert, review,
# action)
SERVICE = 4  # sub: service; index: block; draw: the request's number in the block
APPEAL = 5  # sub: 0; index: agent
VISIT = 6  # subs: venue_group(k, g), venue_pick(k), VENUE_IDENTIFY
VENUE_ACT = 7  # sub: 0; index: agent * 256 + behaviour; draw 0
WATCH_LIST = 8  # day 0 (membership does not change); sub: channel; index: agent; draw 0
NAME = 9  # whom a false alert names: subs name_at_home(b), name_at_venue(k); index: agent;
# draws: 2 per try (which part of the gallery, who in it)
BUILD_TIES = 10  # population/ties.py: subs tie_region(l, r), tie_cross(l, c, g); index: the
# starter; draws: 0 (one tie more?), then 6 per tie (1 per tie from abroad)
AVOID = 11  # sub: 0; index: a visibly sanctioned agent; draw: layer * 2**32 + slot
LIST_ENTRY = 20  # sub: list; index: agent; draws: LIST_PUBLISH, LIST_TERM, LIST_EXTEND, ...
LIST_REMOVAL = 21  # sub: list; index: agent; draw 0
SERVICE_ACCEPT = 22  # sub: service; index: agent; draw 0 (a candidate request kept)
SERVICE_AFTER = 23  # sub: service; index: agent; draws: SERVICE_GIVE_UP, retries 1.., switch

# draws of LIST_ENTRY (one stream per list and day; an agent enters a list at most once a day)
LIST_PUBLISH, LIST_TERM, LIST_EXTEND, LIST_EXTEND_DAYS, LIST_INITIAL = range(5)
# draws of SERVICE_AFTER: giving up, then retry k (k = 1, 2, ...), then the switch
SERVICE_GIVE_UP = 0
SERVICE_SWITCH = 1 << 20

VENUE_IDENTIFY = 2 * 65536  # sub of VISIT: index agent; draws 4 * venue kind + 0..3 (search,
# false alert, review, action)
MAX_KINDS = 256  # behaviours, groups and venue kinds the sub-keys below keep apart


@nb.njit(inline="always", cache=True)
def venue_group(kind: int, group: int) -> int:
    """Sub-key of VISIT for the visits of one group to one kind of venue (index: block 0,
    draw: the visit's number)."""
    return kind * MAX_KINDS + group


@nb.njit(inline="always", cache=True)
def venue_pick(kind: int) -> int:
    """Sub-key of VISIT for where a visit of one kind of venue sits (index: agent; draws 0-2:
    venue, table, capture)."""
    return MAX_KINDS * MAX_KINDS + kind


@nb.njit(inline="always", cache=True)
def name_at_home(behaviour: int) -> int:
    """Sub-key of NAME for false alerts on acts of one behaviour seen at home."""
    return behaviour


@nb.njit(inline="always", cache=True)
def name_at_venue(kind: int) -> int:
    """Sub-key of NAME for false alerts on faces captured at one kind of venue abroad."""
    return MAX_KINDS + kind


@nb.njit(inline="always", cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@nb.njit(inline="always", cache=True)
def stream(seed: int, day: int, stage: int, sub: int) -> np.uint64:
    """The key prefix shared by all draws of one stage on one day (computed once per kernel)."""
    h = _mix(np.uint64(seed))
    h = _mix(h ^ np.uint64(day))
    return _mix(h ^ (np.uint64(stage) << np.uint64(32)) ^ np.uint64(sub))


@nb.njit(inline="always", cache=True)
def uniform(key: np.uint64, index: int, draw: int) -> float:
    """A uniform in [0, 1) for (key, index, draw)."""
    h = _mix(np.uint64(key) ^ np.uint64(index))  # a key from Python arrives as int64
    h = _mix(h ^ np.uint64(draw))
    return float(h >> np.uint64(11)) * _INV53


@nb.njit(inline="always", cache=True)
def tie_region(layer: int, region: int) -> int:
    """Sub-key of BUILD_TIES for the ties of one tie layer within one region (index: agent)."""
    return layer * 65536 + region


@nb.njit(inline="always", cache=True)
def tie_cross(layer: int, city: int, group: int) -> int:
    """Sub-key of BUILD_TIES for the kin at home of one city's enrolled group abroad."""
    return (layer + 1) * 65536 * MAX_KINDS + city * MAX_KINDS + group
