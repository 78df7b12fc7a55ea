"""Stage 5, recover: scores (and corporate ratings) drift back toward the initial score,
never past it. The same pass over the scores marks the agents the sanction stage must look at
(stages/busy.py) and takes the day's score measurements."""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from .busy import busy_agents


class ScoringParams(NamedTuple):
    """The point score: where it starts, how it recovers, how it is graded."""

    enabled: bool  # the scoring system is on (a counterfactual run has it off)
    initial: int  # fixed point
    recovery: int  # fixed point per day
    grade_bounds: np.ndarray  # int64[grades - 1]: fixed-point lower bounds, highest first


@nb.njit(parallel=True, cache=True)
def recover_ratings(rating, initial, step):
    """Ratings drift back toward ``initial`` by ``step``, never past it."""
    for i in nb.prange(rating.shape[0]):
        x = rating[i]
        # both candidates, then a select: no branch, so the loop vectorises
        up, down = min(initial, x + step), max(initial, x - step)
        rating[i] = up if x < initial else down


def recover(span, scoring: ScoringParams, sp, st,
            firms: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Recover the scores of agents [lo, hi) and the ratings of the firms rated here
    (``firms``: their indices; None: all). Returns the agents busy for the sanction stage and
    the scores' row of the day's counts (engine/measure.py)."""
    step = scoring.recovery if scoring.recovery > 0 else 0
    if step and st.firm_rating.shape[0]:
        if firms is None:
            recover_ratings(st.firm_rating, scoring.initial, step)
        elif firms.shape[0]:
            rating = st.firm_rating[firms]
            recover_ratings(rating, scoring.initial, step)
            st.firm_rating[firms] = rating
    return busy_agents(span, scoring, sp, st, step)
