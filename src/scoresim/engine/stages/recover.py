"""Stage 5, recover: scores (and corporate ratings) drift back toward the initial score,
never past it."""

from __future__ import annotations

import numba as nb


@nb.njit(parallel=True, cache=True)
def _recover(score, initial, step):
    for i in nb.prange(score.shape[0]):
        x = score[i]
        # both candidates, then a select: no branch, so the loop vectorises
        up, down = min(initial, x + step), max(initial, x - step)
        score[i] = up if x < initial else down


def recover(p, s) -> None:
    if p.recovery > 0:
        _recover(s.score, p.initial, p.recovery)
        if s.firm_rating.shape[0]:
            _recover(s.firm_rating, p.initial, p.recovery)  # corporate ratings recover alike
