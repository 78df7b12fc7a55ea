"""Stage 5, recover: scores (and corporate ratings) drift back toward the initial score,
never past it. The same pass over the scores marks the agents the sanction stage must look at
(stages/busy.py) and takes the day's score measurements."""

from __future__ import annotations

import numba as nb
import numpy as np

from .busy import busy_agents


@nb.njit(parallel=True, cache=True)
def _recover(score, initial, step):
    for i in nb.prange(score.shape[0]):
        x = score[i]
        # both candidates, then a select: no branch, so the loop vectorises
        up, down = min(initial, x + step), max(initial, x - step)
        score[i] = up if x < initial else down


def recover(p, s) -> tuple[np.ndarray, np.ndarray]:
    """Recover scores and ratings; returns the agents busy for the sanction stage and the
    scores' row of the day's counts (engine/measure.py)."""
    if p.recovery > 0 and s.firm_rating.shape[0]:
        _recover(s.firm_rating, p.initial, p.recovery)  # corporate ratings recover alike
    return busy_agents(p, s, p.recovery if p.recovery > 0 else 0)
