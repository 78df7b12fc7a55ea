"""Stage 8, respond: caution rises with the agent's own penalties and new sanctions and with
the share of its tie neighbours whose sanctions are visible, and decays slowly:

    caution += from_penalty * [penalised today] + from_sanction * [newly sanctioned today]
             + from_ties * (visibly sanctioned ties / ties) - decay,   clipped to [0, 1].

The pass also sums scores and cautions per fixed chunk, so the daily means are the same whatever
the number of threads (a float reduction over a parallel range is not).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..state import PENALISED_TODAY, SANCTIONED_TODAY

CHUNK = 65536


@nb.njit(parallel=True, cache=True)
def _respond(from_penalty, from_sanction, from_ties, decay, tie_indptr, caution, today,
             sanctioned_ties, score, caution_sum, score_sum):
    n = caution.shape[0]
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        cs = 0.0
        ss = 0
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            x = np.float64(caution[i]) - decay
            t = today[i]
            if t & PENALISED_TODAY:
                x += from_penalty
            if t & SANCTIONED_TODAY:
                x += from_sanction
            if sanctioned_ties[i] > 0 and from_ties > 0:
                deg = 0
                for l in range(tie_indptr.shape[0]):
                    deg += tie_indptr[l, i + 1] - tie_indptr[l, i]
                if deg > 0:
                    x += from_ties * sanctioned_ties[i] / deg
            x = min(1.0, max(0.0, x))
            caution[i] = x
            today[i] = 0
            cs += caution[i]
            ss += score[i]
        caution_sum[c] = cs
        score_sum[c] = ss


def respond(p, net, s) -> tuple[float, float]:
    """Update caution; returns the day's mean score (in points) and mean caution."""
    n = s.caution.shape[0]
    k = (n + CHUNK - 1) // CHUNK
    caution_sum, score_sum = np.zeros(k, np.float64), np.zeros(k, np.int64)
    _respond(p.caution_from_penalty, p.caution_from_sanction, p.caution_from_ties,
             p.caution_decay, net.tie_indptr, s.caution, s.today, s.sanctioned_ties,
             s.score, caution_sum, score_sum)
    return float(score_sum.sum()) / max(n, 1), float(caution_sum.sum()) / max(n, 1)
