"""Corporate ratings (part of stage 4, spill): a firm's rating follows its personnel.

Every penalty of a member lowers the rating of each rated group the member belongs to by
weight x points (EU Chamber, "The Digital Hand", 2019: company scores include the ratings of
responsible personnel). When a rating falls below its threshold, the group's owner (its first
member, the legal representative) enters the lists fed by that layer: by association, unless
the owner's own penalty tipped it. Guilt by association, so off with association penalties.

A firm is rated by the range that holds its owner, from every penalty of its members (sent
by the ranges that hold them), in the penalties' order: the same in one process and across
partitions.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...network.groups import group_id, member_at
from ..context import DayKey, Span
from ..state import ASSOCIATION, OWN
from .listing import LISTED, enter_list
from .score import Penalties


class RatingParams(NamedTuple):
    """Corporate ratings, one entry per group layer (0 weight: its groups are not rated)."""

    weight: np.ndarray  # float64[Lg]: share of a member's penalty the group's rating takes
    threshold: np.ndarray  # int64[Lg]: fixed point; a rating below it lists the owner
    lists: np.ndarray  # uint8[Lg]: bitmask of the lists the owner enters


class FirmPenalties(NamedTuple):
    """Members' penalties, for the ranges that rate their firms: the penalty, and the owner of
    the member's rated group in each group layer (-1: none)."""

    agent: np.ndarray  # int32[k]
    points: np.ndarray  # int32[k]
    event: np.ndarray  # int64[k]: the act behind it (one order in every range)
    owner: np.ndarray  # int64[k, Lg]


@nb.njit(cache=True)
def owner_of(gg, groups):
    """The owner of group gg (over all group layers): its first member."""
    return member_at(groups.start[gg], groups)


@nb.njit(cache=True)
def _rate_firms(pen, key, span, rp, lp, groups, st, listings):
    """Rate the firms owned by agents in [lo, hi) from these penalties, in their order."""
    n, lo, hi = span
    everywhere = lo == 0 and hi == n
    L = lp.grace.shape[0]
    for e in range(pen.agent.shape[0]):
        a, pts = pen.agent[e], pen.points[e]
        for l in range(rp.weight.shape[0]):
            if rp.weight[l] <= 0:
                continue
            g = group_id(l, a, groups)
            if g < 0:
                continue
            gg = groups.off[l] + g
            if not everywhere:
                owner = owner_of(gg, groups)
                if not lo <= owner < hi:
                    continue
            before = st.firm_rating[gg]
            after = before + np.int32(round(pts * rp.weight[l]))
            st.firm_rating[gg] = after
            if before >= rp.threshold[l] > after:
                owner = owner_of(gg, groups)
                cause = OWN if owner == a else ASSOCIATION
                for k in range(L):
                    if rp.lists[l] & (1 << k):
                        listings[k] += enter_list(k, owner, key, cause, lp, st) == LISTED


def rated(rp: RatingParams, association: bool, st) -> bool:
    """Whether any firm is rated today."""
    return bool(st.firm_rating.shape[0]) and association


def rate_firms(pen: FirmPenalties | Penalties, key: DayKey, span: Span, rp: RatingParams, lp,
               groups, st) -> np.ndarray:
    """Lower the ratings of the penalised agents' firms owned in [lo, hi), in the penalties'
    order (``pen.event``); returns the listings per list today."""
    listings = np.zeros(lp.grace.shape[0], np.int64)
    if pen.agent.shape[0]:
        _rate_firms(pen, key, span, rp, lp, groups, st, listings)
    return listings


@nb.njit(cache=True)
def _firm_owners(pen_agent, rp, groups, out):
    """out[e, l]: the owner of penalty e's rated group in layer l (-1: none)."""
    for e in range(pen_agent.shape[0]):
        for l in range(rp.weight.shape[0]):
            out[e, l] = -1
            if rp.weight[l] > 0:
                g = group_id(l, pen_agent[e], groups)
                if g >= 0:
                    out[e, l] = owner_of(groups.off[l] + g, groups)


def firm_penalties(pen: Penalties, rp: RatingParams, groups) -> FirmPenalties:
    """The penalties with the owners of the members' rated firms (a penalty is delivered to
    the range of every owner it names)."""
    out = np.empty((pen.agent.shape[0], rp.weight.shape[0]), np.int64)
    _firm_owners(pen.agent, rp, groups, out)
    return FirmPenalties(pen.agent, pen.points, pen.event, out)
