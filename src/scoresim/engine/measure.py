"""The day's measurements: mean score and caution, agents per grade, sanctioned per group.

Every figure is an integer sum (scores are fixed point; caution is summed in fixed point of
2**-30), so it is the same whatever the number of threads and whatever partition of the agents
into pieces. On a scored day each is taken where its data already passes: the scores in the
recover stage's pass (stages/busy.py; the sanction stage adds the appeals' restored points),
caution in the respond stage's pass over the blocks where it can change (stages/respond.py),
and the sanctioned agents per group kept up to date by the sanction stage (state
``sanctioned_group``). ``measure`` takes them all in one sweep (a counterfactual day, when
nobody is scored or responds).

A row of counts: [score sum | caution sum | agents per grade, highest first | sanctioned per
group].
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ..core.constants import CHUNK

CAUTION_UNIT = 2.0**30  # caution is summed as integers of 2**-30: exact, in any order
# a row's layout: [score sum | caution sum | agents per grade (bounds + 1) | sanctioned per group]
SCORE_SUM, CAUTION_SUM, GRADES = 0, 1, 2


class Measured(NamedTuple):
    """The day's measurements as integer totals: they add up over any split of the agents."""

    score_sum: int  # fixed point
    caution_units: int  # units of 2**-30
    grades: np.ndarray  # int64[bounds + 1]: agents per grade, highest first
    sanctioned_group: np.ndarray  # int64[G]: agents under any sanction, per group


def columns(n_bounds: int, n_groups: int) -> int:
    """Columns of a chunk's row: score sum, caution sum, grades (n_bounds + 1), groups."""
    return GRADES + n_bounds + 1 + n_groups


def measured(row: np.ndarray, n_bounds: int) -> Measured:
    """A summed row, by name."""
    k = n_bounds
    return Measured(int(row[SCORE_SUM]), int(row[CAUTION_SUM]), row[GRADES:GRADES + k + 1].copy(),
                    row[GRADES + k + 1:].copy())


@nb.njit(inline="always", cache=True)
def bound32(bounds, j):
    """Grade bound j as an int32 (bounds outside int32's range clamp to its ends)."""
    return np.int32(min(max(bounds[j], -(2**31)), 2**31 - 1))


@nb.njit(inline="always", cache=True)
def grades_from(sc, bounds, row, total, below_first):
    """Score sum and agents per grade of a slice of scores into row[0] and row[2:3 + k], given
    the sum and the agents below the first bound (0 without bounds), which a caller takes in
    its own pass over the scores. Per further bound, one flat pass counts the agents below it;
    grade j holds those below bound j-1 but not below bound j."""
    k = bounds.shape[0]
    row[SCORE_SUM] = total
    if k == 0:
        row[GRADES] = sc.shape[0]
        return
    row[GRADES] = sc.shape[0] - below_first
    above = np.int64(below_first)  # agents below the previous bound
    for j in range(1, k):
        b = bound32(bounds, j)
        below = np.int32(0)
        for i in range(sc.shape[0]):
            below += np.int32(sc[i] < b)
        row[GRADES + j] = above - below
        above = below
    row[GRADES + k] = above


@nb.njit(inline="always", cache=True)
def count_scores(sc, bounds, row):
    """Score sum and agents per grade of a slice of scores, into row[0] and row[2:3 + k].

    In narrow integers over a slice (loops from 0 over a slice vectorise; see stages/busy.py)."""
    b = bound32(bounds, 0) if bounds.shape[0] else np.int32(-(2**31))
    total = np.int64(0)
    below = np.int32(0)
    for i in range(sc.shape[0]):
        total += sc[i]
        below += np.int32(sc[i] < b)
    grades_from(sc, bounds, row, total, below)


@nb.njit(inline="always", cache=True)
def grade_of(x, bounds):
    """The grade column (0: highest) of score x: the number of bounds above it."""
    g = 0
    for j in range(bounds.shape[0]):
        g += x < bound32(bounds, j)
    return g


@nb.njit(inline="always", cache=True)
def caution_units(cz):
    """Caution summed in integers of 2**-30 (exact in any order)."""
    units = np.int64(0)
    unit = np.float32(CAUTION_UNIT)
    for i in range(cz.shape[0]):  # float32 -> int32 converts eight at a time
        units += np.int32(cz[i] * unit)
    return units


@nb.njit(inline="always", cache=True)
def count_chunk(lo, hi, score, caution, eff_mask, group, bounds, row):
    """Fill one chunk's row: [score sum | caution sum | agents per grade | sanctioned per group]."""
    k = bounds.shape[0]
    count_scores(score[lo:hi], bounds, row)
    row[CAUTION_SUM] = caution_units(caution[lo:hi])
    em, gr = eff_mask[lo:hi], group[lo:hi]
    for g in range(row.shape[0] - GRADES - k - 1):  # one flat pass per group: no branch per agent
        gg = np.uint8(g)
        count = np.int32(0)
        for i in range(em.shape[0]):
            count += np.int32((em[i] != 0) & (gr[i] == gg))
        row[GRADES + k + 1 + g] = count


@nb.njit(parallel=True, cache=True)
def _measure(score, caution, eff_mask, group, bounds, out):
    n = score.shape[0]
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        count_chunk(c * CHUNK, min(n, (c + 1) * CHUNK), score, caution, eff_mask, group, bounds,
                    out[c])


def chunk_rows(n: int, n_bounds: int, n_groups: int) -> np.ndarray:
    """Zeroed rows of counts, one per chunk of n agents."""
    return np.zeros(((n + CHUNK - 1) // CHUNK, columns(n_bounds, n_groups)), np.int64)


def measure_counts(grade_bounds: np.ndarray, n_groups: int, score, caution, eff_mask,
                   group) -> np.ndarray:
    """The summed row of counts of these agents (any range of them: the counts add up)."""
    out = chunk_rows(score.shape[0], grade_bounds.shape[0], n_groups)
    _measure(score, caution, eff_mask, group, grade_bounds, out)
    return out.sum(axis=0)
