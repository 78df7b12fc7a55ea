"""The agents whose sanctions may change today (the sanction stage works on them alone): those
with a sanction, a listing or a pending appeal, or a score below the highest grade threshold a
sanction reads. Marked in the recover stage's pass over the scores, chunk by chunk, so the
scores are read once; then gathered from the chunks that have any, in agent order.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ...core.constants import CHUNK
from ...core.memo import once_per
from ..measure import bound32, chunk_rows, grades_from


def busy_floor(sp) -> int:
    """The score below which an agent may fall under a grade sanction."""
    grade = sp.threshold[sp.on_list < 0]
    return int(grade.max()) if grade.size else -(2**31)


@nb.njit(parallel=True, cache=True)
def _recover_and_mark(st, initial, step, floor, appeals, bounds, counts, rows):
    """Scores drift back toward ``initial`` by ``step`` (0: unchanged); marks (st.scratch)
    are 1 where the agent is busy; counts[c] = busy agents in chunk c; rows[c]: the chunk's
    score sum and agents per grade (engine/measure.py), taken while its scores are in cache.
    ``st``: the state's arrays over the range (slices of the whole).

    Each chunk works on slices, in int32: loops from 0 over a slice need no negative-index
    checks and narrow lanes fit eight to a vector (measured 16x faster than indexing the whole
    arrays with int64 arithmetic)."""
    # every array as a local: a write through a bundle's field is lost in prange
    score, list_state, own_mask, marks, appeal_day = (st.score, st.list_state, st.own_mask,
                                                      st.scratch, st.appeal_day)
    n = score.shape[0]
    ini, stp, flo = np.int32(initial), np.int32(step), np.int32(max(floor, -(2**31)))
    b0 = bound32(bounds, 0) if bounds.shape[0] else np.int32(-(2**31))
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        sc, own, mk = score[lo:hi], own_mask[lo:hi], marks[lo:hi]
        total = np.int64(0)
        below = np.int32(0)
        for i in range(sc.shape[0]):
            x = sc[i]
            # both candidates, then a select: no branch
            up, down = min(ini, x + stp), max(ini, x - stp)
            y = up if x < ini else down
            sc[i] = y
            mk[i] = np.uint8((own[i] != 0) | (y < flo))
            total += y  # the day's measurements, while the score is in a register
            below += np.int32(y < b0)
        grades_from(sc, bounds, rows[c], total, below)
        for l in range(list_state.shape[0]):
            row = list_state[l, lo:hi]
            for i in range(row.shape[0]):
                mk[i] |= np.uint8(row[i] != 0)
        if appeals:
            ap = appeal_day[lo:hi]
            for i in range(ap.shape[0]):
                mk[i] |= np.uint8(ap[i] >= 0)
        k = np.int32(0)
        for i in range(mk.shape[0]):
            k += np.int32(mk[i])
        counts[c] = k


@nb.njit(parallel=True, cache=True)
def _gather(marks, counts, starts, out):
    n = marks.shape[0]
    for c in nb.prange(counts.shape[0]):
        if counts[c] == 0:
            continue
        j = starts[c]
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            if marks[i]:
                out[j] = i
                j += 1


def _range_view(st, lo: int, hi: int):
    """The state's arrays this stage reads, over agents [lo, hi) (the whole arrays when the
    range is everything: contiguous, as one process runs)."""
    if lo == 0 and hi == st.score.shape[0]:
        return st
    return st._replace(score=st.score[lo:hi], own_mask=st.own_mask[lo:hi],
                       list_state=st.list_state[:, lo:hi], scratch=st.scratch[lo:hi],
                       appeal_day=st.appeal_day[lo:hi] if st.appeal_day.shape[0]
                       else st.appeal_day)


def busy_agents(span, scoring, sp, st, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Recover the scores of agents [lo, hi) by ``step``. Returns the busy ones (int32,
    ascending) and a row of counts (engine/measure.py) with their score sum and agents per
    grade. The marks go to ``st.scratch``, working space the sanction stage reuses.
    ``scoring``: the ``ScoringParams``, ``sp``: the ``SanctionParams``."""
    n, lo, hi = span
    view = _range_view(st, lo, hi)
    m = view.score.shape[0]
    counts = np.zeros((m + CHUNK - 1) // CHUNK, np.int64)
    rows = chunk_rows(m, scoring.grade_bounds.shape[0], st.sanctioned_group.shape[0])
    floor = once_per(sp, "busy floor", busy_floor)  # a plan's: made once
    _recover_and_mark(view, scoring.initial, step, floor, sp.appeals, scoring.grade_bounds, counts,
                      rows)
    starts = np.zeros_like(counts)
    np.cumsum(counts[:-1], out=starts[1:])
    out = np.empty(int(counts.sum()), np.int32)
    _gather(view.scratch, counts, starts, out)
    if lo:
        out += lo
    return out, rows.sum(axis=0)
