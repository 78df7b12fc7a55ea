"""Stage 5, recover: scores (and corporate ratings) drift back toward the initial score,
never past it."""

from __future__ import annotations

import numba as nb


@nb.njit(parallel=True, cache=True)
def _recover(score, initial, step):
    for i in nb.prange(score.shape[0]):
        x = score[i]
        if x < initial:
            score[i] = min(initial, x + step)
        elif x > initial:
            score[i] = max(initial, x - step)


def recover(p, s) -> None:
    if p.recovery > 0:
        _recover(s.score, p.initial, p.recovery)
        if s.firm_rating.shape[0]:
            _recover(s.firm_rating, p.initial, p.recovery)  # corporate ratings recover alike
