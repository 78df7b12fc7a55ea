"""Stage 8, respond: caution rises with the agent's own penalties and new sanctions and with
the share of its tie neighbours whose sanctions are visible, and decays slowly:

    caution += from_penalty * [penalised today] + from_sanction * [newly sanctioned today]
             + from_ties * (visibly sanctioned ties / ties) - decay,   clipped to [0, 1].

The day's measurements (engine/measure.py) are taken in the same pass, chunk by chunk, while
each chunk is in cache: they read the scores and sanctions that respond leaves unchanged.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..measure import CHUNK, chunk_rows, count_chunk, totals
from ..state import PENALISED_TODAY, SANCTIONED_TODAY
from ..ties import tie_degree


@nb.njit(parallel=True, cache=True)
def _respond(from_penalty, from_sanction, from_ties, decay, tie_base, tie_indptr, tie_indices,
             first, caution, today, sanctioned_ties, score, eff_mask, group, bounds, out):
    """The per-agent arrays hold agents first, first + 1, ... (a partition's range)."""
    n = caution.shape[0]
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        cz, td, st = caution[lo:hi], today[lo:hi], sanctioned_ties[lo:hi]
        # agents with no visibly sanctioned tie (nearly all): a flat loop of selects over
        # slices, so it vectorises (stages/busy.py); the others keep their values here and are
        # done one by one below
        held = np.int32(0)
        for i in range(cz.shape[0]):
            t = td[i]
            x = np.float64(cz[i]) - decay + (from_penalty * np.float64(t & PENALISED_TODAY)
                                             + from_sanction * np.float64(t >> 1 & 1))
            x = x if x > 0.0 else 0.0
            x = x if x < 1.0 else 1.0
            keep = st[i] != 0
            cz[i] = cz[i] if keep else np.float32(x)
            td[i] = t if keep else np.uint8(0)
            held += np.int32(keep)
        for j in range(cz.shape[0] if held else 0):
            if st[j] > 0:  # rare: a tie neighbour is visibly sanctioned
                i = lo + j
                x = np.float64(caution[i]) - decay
                t = today[i]
                x += from_penalty * (t & PENALISED_TODAY) + from_sanction * (
                    (t & SANCTIONED_TODAY) >> 1)
                deg = tie_degree(tie_base, tie_indptr, tie_indices, first + i)
                x += from_ties * sanctioned_ties[i] / max(deg, 1)
                caution[i] = min(1.0, max(0.0, x))
                today[i] = 0
        count_chunk(lo, hi, score, caution, eff_mask, group, bounds, out[c])


def respond_counts(p, net, s, group, n_groups: int, lo: int = 0,
                   hi: int | None = None) -> np.ndarray:
    """Update the caution of agents [lo, hi) (default all) and return their measurements as
    integer totals (engine/measure.py's columns: exact, so ranges add up)."""
    hi = s.caution.shape[0] if hi is None else hi
    part = (lambda a: a) if lo == 0 and hi == s.caution.shape[0] else (lambda a: a[lo:hi])
    out = chunk_rows(hi - lo, p.grade_bounds.shape[0], n_groups)
    _respond(p.caution_from_penalty, p.caution_from_sanction, p.caution_from_ties,
             p.caution_decay, net.tie_base, net.tie_indptr, net.tie_indices, lo,
             part(s.caution), part(s.today), part(s.sanctioned_ties), part(s.score),
             part(s.eff_mask), part(group), p.grade_bounds, out)
    return out.sum(axis=0)


def respond_and_measure(p, net, s, group, n_groups: int):
    """Update caution and take the day's measurements in one pass: (mean score (fixed point),
    mean caution, agents per grade highest first, sanctioned agents per group)."""
    n = s.caution.shape[0]
    return totals(respond_counts(p, net, s, group, n_groups), n, p.grade_bounds.shape[0])


def respond(p, net, s) -> tuple[float, float]:
    """Update caution; returns the day's mean score (fixed point) and mean caution."""
    group = np.zeros(s.caution.shape[0], np.uint8)
    mean_score, mean_caution, _, _ = respond_and_measure(p, net, s, group, 1)
    return mean_score, mean_caution
