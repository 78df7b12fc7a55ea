"""The day's measurements: mean score and caution, agents per grade, sanctioned per group.

Taken in fixed chunks of agents, each with its own row of counts, combined afterwards: every
figure is an integer sum (scores are fixed point; caution is summed in fixed point of 2**-30),
so it is the same whatever the number of threads, and whatever partition of the agents into
chunk-aligned pieces. The respond stage takes them in the same pass as it updates caution
(stages/respond.py), while the chunk is in cache; ``measure`` takes them alone (a counterfactual
day, when nobody responds).
"""

from __future__ import annotations

import numba as nb
import numpy as np

CHUNK = 65536
CAUTION_UNIT = 2.0**30  # caution is summed as integers of 2**-30: exact, in any order


def columns(n_bounds: int, n_groups: int) -> int:
    """Columns of a chunk's row: score sum, caution sum, grades (n_bounds + 1), groups."""
    return 2 + n_bounds + 1 + n_groups


@nb.njit(inline="always", cache=True)
def count_chunk(lo, hi, score, caution, eff_mask, group, bounds, row):
    """Fill one chunk's row: [score sum | caution sum | agents per grade | sanctioned per group].

    On slices of the chunk, in narrow integers (loops from 0 over a slice vectorise; see
    stages/busy.py). Per bound, one flat pass counts the agents below it; grade j holds those
    below bound j-1 but not below bound j."""
    k = bounds.shape[0]
    sc, cz, em, gr = score[lo:hi], caution[lo:hi], eff_mask[lo:hi], group[lo:hi]
    total = np.int64(0)
    for i in range(sc.shape[0]):
        total += sc[i]
    row[0] = total
    units = np.int64(0)
    unit = np.float32(CAUTION_UNIT)
    for i in range(cz.shape[0]):  # float32 -> int32 converts eight at a time
        units += np.int32(cz[i] * unit)
    row[1] = units
    above = np.int64(hi - lo)  # agents at or above the previous bound
    for j in range(k):
        b = np.int32(min(max(bounds[j], -(2**31)), 2**31 - 1))
        below = np.int32(0)
        for i in range(sc.shape[0]):
            below += np.int32(sc[i] < b)
        row[2 + j] = above - below
        above = below
    row[2 + k] = above
    for g in range(row.shape[0] - 3 - k):  # one flat pass per group: no branch per agent
        gg = np.uint8(g)
        count = np.int32(0)
        for i in range(em.shape[0]):
            count += np.int32((em[i] != 0) & (gr[i] == gg))
        row[3 + k + g] = count


@nb.njit(parallel=True, cache=True)
def _measure(score, caution, eff_mask, group, bounds, out):
    n = score.shape[0]
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        count_chunk(c * CHUNK, min(n, (c + 1) * CHUNK), score, caution, eff_mask, group, bounds,
                    out[c])


def chunk_rows(n: int, n_bounds: int, n_groups: int) -> np.ndarray:
    return np.zeros(((n + CHUNK - 1) // CHUNK, columns(n_bounds, n_groups)), np.int64)


def totals(tot: np.ndarray, n: int, n_bounds: int) -> tuple[float, float, np.ndarray,
                                                             np.ndarray]:
    """From the summed row of counts: (mean score in fixed point, mean caution, agents per
    grade, sanctioned per group)."""
    k = n_bounds
    return (float(tot[0]) / max(n, 1), float(tot[1]) / CAUTION_UNIT / max(n, 1),
            tot[2 : 3 + k], tot[3 + k :])


def measure(grade_bounds: np.ndarray, n_groups: int, s, group):
    """The day's figures without a respond stage: (mean score (fixed point), mean caution,
    agents per grade highest first, sanctioned agents per group).

    ``grade_bounds``: fixed-point lower bounds of every grade but the last, highest first.
    """
    n = s.score.shape[0]
    return totals(measure_counts(grade_bounds, n_groups, s.score, s.caution, s.eff_mask, group),
                  n, grade_bounds.shape[0])


def measure_counts(grade_bounds: np.ndarray, n_groups: int, score, caution, eff_mask,
                   group) -> np.ndarray:
    """The summed row of counts of these agents (any range of them: the counts add up)."""
    out = chunk_rows(score.shape[0], grade_bounds.shape[0], n_groups)
    _measure(score, caution, eff_mask, group, grade_bounds, out)
    return out.sum(axis=0)
