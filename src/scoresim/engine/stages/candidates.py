"""Candidate events without one draw per agent: geometric skips within fixed blocks.

For a per-agent daily probability at most q, the gap to the next candidate within a block is
Geometric(q), drawn by inversion from a keyed uniform. Each agent is then a candidate with
probability exactly q, at a cost proportional to the candidates, not to the agents. Blocks are
fixed ranges of agent indices, keyed by their number, so the candidates do not depend on how
the work is split among threads or partitions.
"""

from __future__ import annotations

import math

import numba as nb

from ...core import rng
from ...core.constants import BLOCK


@nb.njit(inline="always", cache=True)
def log_miss(q: float) -> float:
    """log(1 - q): computed once per block walk and passed to ``gap``."""
    return math.log1p(-q) if 0.0 < q < 1.0 else 0.0


@nb.njit(inline="always", cache=True)
def gap(key, block: int, j: int, q: float, room: int, lq: float = 0.0) -> int:
    """Agents skipped before the j-th candidate of a block; ``room`` or more means none left.
    ``lq``: log_miss(q), if the caller has it (one logarithm a candidate instead of two)."""
    if q >= 1.0:
        return 0
    if q <= 0.0:
        return room
    g = math.log1p(-rng.uniform(key, block, j)) / (lq if lq != 0.0 else math.log1p(-q))
    if g >= room:
        return room
    return int(g)


def n_blocks(n: int) -> int:
    """The number of blocks of ``BLOCK`` agents that cover ``n`` agents."""
    return (n + BLOCK - 1) // BLOCK
