"""Reading the members of a group layer (households, work teams) from the Network arrays."""

from __future__ import annotations

import numba as nb
import numpy as np

HINT_SHIFT = 6  # one hint per 64 agents: 1/16 byte per agent


@nb.njit(inline="always", cache=True)
def member_at(k, member_base, group_members):
    """The agent at member position k: positions below member_base are the agents themselves
    (households are runs of consecutive agents and store no member array)."""
    return k if k < member_base else group_members[k - member_base]


@nb.njit(inline="always", cache=True)
def group_id(l, a, group_row, group_ids, group_off, group_start, group_hint):
    """Agent a's group in group layer l (-1: none). The layer laid out as runs of consecutive
    agents (households) stores no ids: ``group_hint`` holds the group of every HINT-th agent,
    and the group of a is found by stepping forward from its hint (a few steps in one or two
    cache lines, where a bisection of all groups would miss the cache at every step)."""
    r = group_row[l]
    if r >= 0:
        return group_ids[r, a]
    base = group_off[l]
    g = np.int64(group_hint[a >> HINT_SHIFT])
    while group_start[base + g + 1] <= a:
        g += 1
    return g
