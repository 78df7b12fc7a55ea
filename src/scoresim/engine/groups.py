"""Reading the members of a group layer (households, work teams) from the Network arrays."""

from __future__ import annotations

import numba as nb


@nb.njit(inline="always", cache=True)
def member_at(k, member_base, group_members):
    """The agent at member position k: positions below member_base are the agents themselves
    (households are runs of consecutive agents and store no member array)."""
    return k if k < member_base else group_members[k - member_base]


@nb.njit(inline="always", cache=True)
def group_id(l, a, group_row, group_ids, group_off, group_start):
    """Agent a's group in group layer l (-1: none). A layer laid out as runs of consecutive
    agents (households) stores no ids: the group is found by bisecting its member ranges."""
    r = group_row[l]
    if r >= 0:
        return group_ids[r, a]
    lo, hi = group_off[l], group_off[l + 1]
    while hi - lo > 1:  # the last group whose first member is at most a
        mid = (lo + hi) >> 1
        if group_start[mid] <= a:
            lo = mid
        else:
            hi = mid
    return lo - group_off[l]
