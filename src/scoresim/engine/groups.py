"""Reading the members of a group layer (households, work teams) from the Network arrays."""

from __future__ import annotations

import numba as nb


@nb.njit(inline="always", cache=True)
def member_at(k, member_base, group_members):
    """The agent at member position k: positions below member_base are the agents themselves
    (households are runs of consecutive agents and store no member array)."""
    return k if k < member_base else group_members[k - member_base]
