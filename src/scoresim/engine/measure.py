"""Daily measurements that are not a stage: agents per grade, and sanctioned agents per group.

One pass over the agents in fixed chunks, each with its own small histogram, combined in chunk
order: integer counts, the same whatever the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

CHUNK = 65536


@nb.njit(parallel=True, cache=True)
def _measure(score, eff_mask, group, bounds, out):
    """out[c] = [agents per grade (len(bounds) + 1) | sanctioned per group].

    Per chunk, count the agents below each bound (one simple pass per bound over a chunk
    that stays in cache: these loops vectorise, a per-agent search does not); grade j holds
    those below bound j-1 but not below bound j."""
    n, k = score.shape[0], bounds.shape[0]
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        above = hi - lo  # agents at or above the previous bound
        for j in range(k):
            b = bounds[j]
            below = 0
            for i in range(lo, hi):
                below += score[i] < b
            out[c, j] = above - below
            above = below
        out[c, k] = above
        for i in range(lo, hi):
            if eff_mask[i] != 0:
                out[c, k + 1 + group[i]] += 1


def measure(grade_bounds: np.ndarray, n_groups: int, s, group) -> tuple[np.ndarray, np.ndarray]:
    """Agents per grade (highest first) and sanctioned agents per group.

    ``grade_bounds``: fixed-point lower bounds of every grade but the last, highest first.
    """
    n = s.score.shape[0]
    k = grade_bounds.shape[0]
    out = np.zeros(((n + CHUNK - 1) // CHUNK, k + 1 + n_groups), np.int64)
    _measure(s.score, s.eff_mask, group, grade_bounds, out)
    tot = out.sum(axis=0)
    return tot[: k + 1], tot[k + 1 :]
