"""Putting an agent on a list, shared by the stages that can do it: score (an attributed act)
and the firm ratings (a firm's rating falling lists its owner)."""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core.constants import NEVER
from ..state import ASSOC_LIST_SHIFT, ASSOCIATION, FALSE_MATCH


class ListParams(NamedTuple):
    """Each list's timing."""

    grace: np.ndarray  # int64[L]: days between the act and the listing
    expire: np.ndarray  # int64[L]: days a listing lasts; 0 = until repaired


@nb.njit(inline="always", cache=True)
def enter_list(l, t, day, cause, lp, list_state, list_cause, ever_listed):
    """Start agent t's listing on list l (after the grace period) unless it is already on it
    or pending. Returns 1 when the listing takes effect today (no grace), else 0."""
    if list_state[l, t] != 0:
        return 0
    bit = 1 << l
    listed = 0
    if lp.grace[l] == 0:
        list_state[l, t] = (day + lp.expire[l] + 1) if lp.expire[l] > 0 else NEVER
        ever_listed[t] |= bit
        listed = 1
    else:
        list_state[l, t] = -(day + lp.grace[l] + 1)
    list_cause[t] &= ~(bit | (bit << ASSOC_LIST_SHIFT))
    if cause == FALSE_MATCH:
        list_cause[t] |= bit
    elif cause == ASSOCIATION:
        list_cause[t] |= bit << ASSOC_LIST_SHIFT
    return listed


@nb.njit(inline="always", cache=True)
def clear_cause(l, t, list_cause):
    """Forget the cause of agent t's listing on list l (it left the list)."""
    bit = 1 << l
    list_cause[t] &= ~(bit | (bit << ASSOC_LIST_SHIFT))
