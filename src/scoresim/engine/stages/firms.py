"""Corporate ratings (part of stage 4, spill): a firm's rating follows its personnel.

Every penalty of a member lowers the rating of each rated group the member belongs to by
weight x points (EU Chamber, "The Digital Hand", 2019: company scores include the ratings of
responsible personnel). When a rating falls below its threshold, the group's owner (its first
member, the legal representative) enters the lists fed by that layer: by association, unless
the owner's own penalty tipped it. Guilt by association, so off with association penalties.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..groups import group_id, member_at
from ..state import ASSOCIATION, OWN
from .listing import enter_list


@nb.njit(cache=True)
def _rate_firms(pen_agent, pen_points, day, weight, threshold, rating_lists, group_row,
                group_ids, group_off, group_start, group_hint, group_members, member_base,
                firm_rating,
                l_grace, l_expire, list_state, list_cause, ever_listed, listings, lo, hi):
    """Only the firms whose owner is in [lo, hi) (a partition's firms) are rated here (lo
    None: one process, every firm)."""
    L = l_grace.shape[0]
    for e in range(pen_agent.shape[0]):
        a, pts = pen_agent[e], pen_points[e]
        for l in range(weight.shape[0]):
            if weight[l] <= 0:
                continue
            g = group_id(l, a, group_row, group_ids, group_off, group_start, group_hint)
            if g < 0:
                continue
            gg = group_off[l] + g
            if lo is not None:  # pruned at compile time in one process
                owner = member_at(group_start[gg], member_base, group_members)
                if not lo <= owner < hi:
                    continue
            before = firm_rating[gg]
            after = before + np.int32(round(pts * weight[l]))
            firm_rating[gg] = after
            if before >= threshold[l] > after:
                owner = member_at(group_start[gg], member_base, group_members)
                cause = OWN if owner == a else ASSOCIATION
                for k in range(L):
                    if rating_lists[l] & (1 << k):
                        listings[k] += enter_list(k, owner, day, cause, l_grace, l_expire,
                                                  list_state, list_cause, ever_listed)


def rate_firms(pen_agent, pen_points, day, p, net, s, lo=0, hi=None) -> np.ndarray:
    """Lower the ratings of the penalised agents' firms (those owned by agents [lo, hi),
    default all), in the penalties' order; returns listings per list today."""
    listings = np.zeros(p.l_grace.shape[0], np.int64)
    if s.firm_rating.shape[0] == 0 or not p.association or pen_agent.shape[0] == 0:
        return listings
    _rate_firms(pen_agent, pen_points, day, p.g_rating_weight, p.g_rating_threshold,
                p.g_rating_lists, net.group_row, net.group_ids, net.group_off, net.group_start,
                net.group_hint,
                net.group_members, net.member_base, s.firm_rating, p.l_grace, p.l_expire,
                s.list_state, s.list_cause, s.ever_listed, listings,
                None if hi is None else lo, hi)
    return listings
