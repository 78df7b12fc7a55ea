"""Stage 8, respond: caution rises with the agent's own penalties and new sanctions and with
the share of its tie neighbours whose sanctions are visible, and decays slowly:

    caution += from_penalty * [penalised today] + from_sanction * [newly sanctioned today]
             + from_ties * (visibly sanctioned ties / ties) - decay,   clipped to [0, 1].

The daily means are summed by NumPy on one thread, so they are the same whatever the number of
threads (a float reduction over a parallel range is not).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..state import PENALISED_TODAY, SANCTIONED_TODAY
from ..ties import tie_degree


@nb.njit(parallel=True, cache=True)
def _respond(from_penalty, from_sanction, from_ties, decay, tie_base, tie_indptr, tie_indices,
             caution, today, sanctioned_ties):
    for i in nb.prange(caution.shape[0]):
        x = np.float64(caution[i]) - decay
        t = today[i]
        x += from_penalty * (t & PENALISED_TODAY) + from_sanction * ((t & SANCTIONED_TODAY) >> 1)
        if sanctioned_ties[i] > 0:  # rare: a tie neighbour is visibly sanctioned
            deg = tie_degree(tie_base, tie_indptr, tie_indices, i)
            x += from_ties * sanctioned_ties[i] / max(deg, 1)
        caution[i] = min(1.0, max(0.0, x))
        today[i] = 0


def respond(p, net, s) -> tuple[float, float]:
    """Update caution; returns the day's mean score (fixed point) and mean caution."""
    n = s.caution.shape[0]
    _respond(p.caution_from_penalty, p.caution_from_sanction, p.caution_from_ties,
             p.caution_decay, net.tie_base, net.tie_indptr, net.tie_indices, s.caution, s.today,
             s.sanctioned_ties)
    # NumPy's sums run on one thread in a fixed order: the means do not depend on threads
    mean_score = float(np.sum(s.score, dtype=np.int64)) / max(n, 1)
    return mean_score, float(np.sum(s.caution, dtype=np.float64)) / max(n, 1)
