"""Reading the members of a group layer (households, work teams) from a ``GroupArrays``."""

from __future__ import annotations

import numba as nb
import numpy as np

HINT_SHIFT = 6  # one hint per 64 agents: 1/16 byte per agent


@nb.njit(inline="always", cache=True)
def member_at(k, groups):
    """The agent at member position k: positions below member_base are the agents themselves
    (households are runs of consecutive agents and store no member array)."""
    return k if k < groups.member_base else groups.members[k - groups.member_base]


@nb.njit(inline="always", cache=True)
def group_id(l, a, groups):
    """Agent a's group in group layer l (-1: none). The layer laid out as runs of consecutive
    agents (households) stores no ids: ``groups.hint`` holds the group of every 64th agent,
    and the group of a is found by stepping forward from its hint (a few steps in one or two
    cache lines, where a bisection of all groups would miss the cache at every step)."""
    r = groups.row[l]
    if r >= 0:
        return groups.ids[r, a]
    base = groups.off[l]
    g = np.int64(groups.hint[a >> HINT_SHIFT])
    while groups.start[base + g + 1] <= a:
        g += 1
    return g
