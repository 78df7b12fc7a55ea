"""But-for score paths: what an agent's score would be on part of what happened to it.

Beside its score, an agent with grade sanctions to face keeps three deficits (initial score
minus score, fixed point): the deficit its own acts alone would leave (``OWN_PATH``), its own
acts and the false matches pinned on it (``OWN_FM_PATH``), and everything but penalties on
expression behaviours (``NO_EXPRESSION_PATH``). Each takes exactly the points of its events and
recovers like the score (toward 0 by the day's recovery, never past it), so each is the score
of a counterfactual agent, exactly: a grade sanction is the agent's own when its own path alone
is below the threshold (docs/model.md).

Between two events a path only recovers, so it is brought up to date lazily, in closed form,
when an event touches the agent or a sanction asks: column ``DAY`` holds the first day whose
recovery the paths lack. The four values of an agent share one 16-byte row: one cache line.
"""

from __future__ import annotations

import numba as nb
import numpy as np

OWN_PATH, OWN_FM_PATH, NO_EXPRESSION_PATH, DAY = 0, 1, 2, 3
# what an event's points move: own act, false match, spilled (association)
BY_OWN, BY_FALSE_MATCH, BY_ASSOCIATION = 0, 1, 2


@nb.njit(inline="always", cache=True)
def recovered(d, days, step):
    """A path's deficit after ``days`` days of recovery by ``step`` a day (a credit, below
    0, also returns to 0)."""
    d, gone = np.int64(d), np.int64(days) * step
    if d > 0:
        return d - gone if d > gone else np.int64(0)
    if d < 0:
        return d + gone if -d > gone else np.int64(0)
    return np.int64(0)


@nb.njit(inline="always", cache=True)
def catch_up(paths, i, day, step):
    """Bring agent i's paths up to the start of ``day`` (recoveries of the days before)."""
    row = paths[i]
    k = np.int64(day) - row[DAY]
    if k > 0:
        for p in range(3):
            row[p] = recovered(row[p], k, step)
        row[DAY] = day


@nb.njit(inline="always", cache=True)
def add_event(paths, i, day, step, deficit, by, expression):
    """An event moves agent i's score by -deficit points (a penalty: deficit > 0; a reward:
    < 0): each path that includes it takes it, after catching up."""
    if paths.shape[0] == 0:
        return
    catch_up(paths, i, day, step)
    row = paths[i]
    if by == 0:  # BY_OWN
        row[OWN_PATH] += deficit
    if by != 2:  # not BY_ASSOCIATION
        row[OWN_FM_PATH] += deficit
    if not expression:
        row[NO_EXPRESSION_PATH] += deficit


@nb.njit(inline="always", cache=True)
def path_after(paths, i, day, step, p):
    """Agent i's path p after ``day``'s recovery (read, not stored)."""
    return recovered(paths[i, p], np.int64(day) + 1 - paths[i, DAY], step)


@nb.njit(cache=True)
def settle_appeal(paths, i, day, step):
    """An appeal won on ``day`` (after its recovery): the false matches' part of the deficit
    (own and false matches, less own) is restored; returns it. The path without expression
    loses the same points (the false matches' penalties were in it unless on expression)."""
    if paths.shape[0] == 0:
        return np.int64(0)
    catch_up(paths, i, day + 1, step)
    row = paths[i]
    restored = np.int64(row[OWN_FM_PATH]) - row[OWN_PATH]
    row[OWN_FM_PATH] = row[OWN_PATH]
    row[NO_EXPRESSION_PATH] = max(np.int64(row[NO_EXPRESSION_PATH]) - restored,
                                  np.int64(row[OWN_PATH]))
    return restored


@nb.njit(parallel=True, cache=True)
def _catch_up_all(lo, hi, paths, day, step):
    for i in nb.prange(lo, hi):
        catch_up(paths, i, day, step)


def catch_up_range(span, paths: np.ndarray, day: int, step: int) -> None:
    """Bring the paths of agents [lo, hi) up to the start of ``day`` (before the recovery per
    day changes: the closed form holds for one rate)."""
    if paths.shape[0]:
        _catch_up_all(span.lo, span.hi, paths, day, step)
