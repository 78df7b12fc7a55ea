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

# Stage keys: part of the reproducibility contract, never renumber.
ACT = 1
ACT_ACCEPT = 2
OBSERVE = 3
SERVICE = 4
APPEAL = 5
VISIT = 6
VENUE_ACT = 7
BUILD_TIES = 10


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
