"""Stage 4, spill: a penalty also lands, times the layer's spillover, on each neighbour of the
penalised agent in every layer (one hop): the "interconnecting repercussions" on family,
colleagues and friends. Sequential in the penalties' order, so pushes never race. A spilled
penalty lowers the score but does not count as the neighbour's own penalty for caution
(respond): caution answers to what is pinned on the agent itself and to visible sanctions.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..groups import member_at
from ..state import ASSOC_PENALISED, ASSOCIATION, CAUSE_SHIFT, FROM_ABROAD, KEEP_FLAGS


@nb.njit(inline="always", cache=True)
def _hit(m, amount, score, flags, from_abroad):
    score[m] += amount
    flags[m] = (flags[m] & KEEP_FLAGS) | ASSOC_PENALISED | (ASSOCIATION << CAUSE_SHIFT)
    if from_abroad:
        flags[m] |= FROM_ABROAD


@nb.njit(inline="always", cache=True)
def _push(m, amount, from_abroad, score, flags, lo, hi, out_agent, out_amount, out_abroad, w):
    if lo <= m < hi:
        _hit(m, amount, score, flags, from_abroad)
        return w
    out_agent[w], out_amount[w], out_abroad[w] = m, amount, from_abroad
    return w + 1


@nb.njit(cache=True)
def apply_hits(agent, amount, from_abroad, score, flags):
    """Spilled penalties that another partition sent here (their order does not matter: every
    hit sets the same bits and adds an integer)."""
    for k in range(agent.shape[0]):
        _hit(agent[k], amount[k], score, flags, from_abroad[k])


@nb.njit(cache=True)
def _spill(pen_agent, pen_points, g_spill, t_spill, group_of, group_off, group_start,
           group_members, member_base, tie_indptr, tie_indices, score, flags, region,
           r_abroad, lo, hi, out_agent, out_amount, out_abroad):
    """Hits on agents in [lo, hi) land here; the others (a partition's neighbours elsewhere)
    are written to out_* for their partition (out_* None: one process, every hit lands
    here). Returns (hits, hits written out)."""
    hits = w = 0
    for e in range(pen_agent.shape[0]):
        a, pts = pen_agent[e], pen_points[e]
        abroad = r_abroad[region[a]]
        for l in range(g_spill.shape[0]):
            amount = np.int32(round(pts * g_spill[l]))
            g = group_of[l, a]
            if amount == 0 or g < 0:
                continue
            gg = group_off[l] + g
            for k in range(group_start[gg], group_start[gg + 1]):
                m = member_at(k, member_base, group_members)
                if m != a:
                    if out_agent is None:  # one process: pruned at compile time
                        _hit(m, amount, score, flags, abroad and not r_abroad[region[m]])
                    else:
                        w = _push(m, amount, abroad and not r_abroad[region[m]], score, flags,
                                  lo, hi, out_agent, out_amount, out_abroad, w)
                    hits += 1
        for l in range(t_spill.shape[0]):
            amount = np.int32(round(pts * t_spill[l]))
            if amount == 0:
                continue
            for k in range(tie_indptr[l, a], tie_indptr[l, a + 1]):
                m = tie_indices[k]
                if out_agent is None:
                    _hit(m, amount, score, flags, abroad and not r_abroad[region[m]])
                else:
                    w = _push(m, amount, abroad and not r_abroad[region[m]], score, flags, lo,
                              hi, out_agent, out_amount, out_abroad, w)
                hits += 1
    return hits, w


def spill(pen_agent, pen_points, p, net, s, people) -> int:
    """Spread the day's penalties; returns the number of spilled penalties."""
    if not p.association or pen_agent.shape[0] == 0:
        return 0
    return _spill(pen_agent, pen_points, p.g_spill, p.t_spill, net.group_of, net.group_off,
                  net.group_start, net.group_members, net.member_base, net.tie_indptr,
                  net.tie_indices, s.score, s.flags, people.region, p.r_abroad, 0,
                  people.n, None, None, None)[0]
