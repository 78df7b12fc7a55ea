"""Stage 4, spill: a penalty also lands, times the layer's spillover, on each neighbour of the
penalised agent in every layer (one hop): the "interconnecting repercussions" on family,
colleagues and friends. Each thread lands the hits on its own stripe of agents, so pushes
never race. A spilled
penalty lowers the score but does not count as the neighbour's own penalty for caution
(respond): caution answers to what is pinned on the agent itself and to visible sanctions.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..groups import group_id, member_at
from ..state import ASSOC_PENALISED, ASSOCIATION, CAUSE_SHIFT, FROM_ABROAD, KEEP_FLAGS
from ..ties import tie_at


@nb.njit(inline="always", cache=True)
def _hit(m, amount, score, flags, from_abroad):
    score[m] += amount
    flags[m] = (flags[m] & KEEP_FLAGS) | ASSOC_PENALISED | (ASSOCIATION << CAUSE_SHIFT)
    if from_abroad:
        flags[m] |= FROM_ABROAD


@nb.njit(cache=True)
def apply_hits(agent, amount, from_abroad, score, flags):
    """Spilled penalties that another partition sent here (their order does not matter: every
    hit sets the same bits and adds an integer)."""
    for k in range(agent.shape[0]):
        _hit(agent[k], amount[k], score, flags, from_abroad[k])


BATCH = 4096  # hits decoded before they land: the landing loop then has no branch to
# mispredict and many cache misses in flight (measured 4x faster than landing as decoded)


@nb.njit(cache=True)
def _flush(buf_m, buf_amount, buf_abroad, b, score, flags):
    for k in range(b):
        _hit(buf_m[k], buf_amount[k], score, flags, buf_abroad[k])


@nb.njit(inline="always", cache=True)
def _land(m, amount, from_abroad, lo, hi, buf_m, buf_amount, buf_abroad, b, out_agent,
          out_amount, out_abroad, w):
    """One hit: queued to land when m is in [lo, hi); else written out (a partition's
    neighbour elsewhere) or, with no out arrays (a thread's stripe), left to the stripe that
    holds m. Returns (hits counted, queue length, next out position)."""
    if lo <= m < hi:
        buf_m[b], buf_amount[b], buf_abroad[b] = m, amount, from_abroad
        return 1, b + 1, w
    if out_agent is None:  # pruned at compile time
        return 0, b, w
    out_agent[w], out_amount[w], out_abroad[w] = m, amount, from_abroad
    return 1, b, w + 1


@nb.njit(cache=True)
def _spill_stripe(lo, hi, pen_agent, pen_points, g_spill, t_spill, group_row, group_ids,
                  group_off, group_start, group_hint, group_members, member_base, tie_base,
                  tie_indptr,
                  tie_indices, score, flags, region, r_abroad, out_agent, out_amount,
                  out_abroad):
    """The day's spilled penalties for the receivers in [lo, hi), landing in the penalties'
    order. Without out arrays (a thread's stripe) the hits elsewhere are skipped and counted
    by their own stripe; with them (a partition spilling its own penalties) they are written
    out. Returns (hits, hits written out)."""
    hits = w = b = 0
    buf_m = np.empty(BATCH + 1, np.int64)
    buf_amount = np.empty(BATCH + 1, np.int32)
    buf_abroad = np.empty(BATCH + 1, np.bool_)
    for e in range(pen_agent.shape[0]):
        a, pts = pen_agent[e], pen_points[e]
        abroad = r_abroad[region[a]]
        for l in range(g_spill.shape[0]):
            amount = np.int32(round(pts * g_spill[l]))
            if amount == 0:
                continue
            g = group_id(l, a, group_row, group_ids, group_off, group_start, group_hint)
            if g < 0:
                continue
            gg = group_off[l] + g
            for k in range(group_start[gg], group_start[gg + 1]):
                m = member_at(k, member_base, group_members)
                if m != a:
                    h, b, w = _land(m, amount, abroad and not r_abroad[region[m]], lo, hi,
                                    buf_m, buf_amount, buf_abroad, b, out_agent, out_amount,
                                    out_abroad, w)
                    hits += h
                    if b == BATCH:
                        _flush(buf_m, buf_amount, buf_abroad, b, score, flags)
                        b = 0
        for l in range(t_spill.shape[0]):
            amount = np.int32(round(pts * t_spill[l]))
            if amount == 0:
                continue
            k, end = tie_base[l] + tie_indptr[l, a], tie_base[l] + tie_indptr[l, a + 1]
            while k < end:
                m, k = tie_at(tie_indices, k, a)
                h, b, w = _land(m, amount, abroad and not r_abroad[region[m]], lo, hi, buf_m,
                                buf_amount, buf_abroad, b, out_agent, out_amount, out_abroad, w)
                hits += h
                if b == BATCH:
                    _flush(buf_m, buf_amount, buf_abroad, b, score, flags)
                    b = 0
    _flush(buf_m, buf_amount, buf_abroad, b, score, flags)
    return hits, w


@nb.njit(parallel=True, cache=True)
def _spill(pen_agent, pen_points, g_spill, t_spill, group_row, group_ids, group_off,
           group_start, group_hint, group_members, member_base, tie_base, tie_indptr, tie_indices,
           score,
           flags, region, r_abroad, stripes):
    """Each thread owns a stripe of receivers and walks every penalty, landing only the hits
    in its stripe: no two threads touch one agent, each receiver gets its hits in the
    penalties' order, and the result is the same for any number of stripes."""
    n = score.shape[0]
    width = (n + stripes - 1) // stripes
    hits = np.zeros(stripes, np.int64)
    for t in nb.prange(stripes):
        hits[t] = _spill_stripe(t * width, min(n, (t + 1) * width), pen_agent, pen_points,
                                g_spill, t_spill, group_row, group_ids, group_off, group_start,
                                group_hint,
                                group_members, member_base, tie_base, tie_indptr, tie_indices,
                                score, flags, region, r_abroad, None, None, None)[0]
    return hits.sum()


def spill_routed(pen_agent, pen_points, p, net, s, people, lo: int, hi: int, out):
    """A partition's spill of its own penalties: hits in [lo, hi) land, the others are
    written to ``out`` (agent, amount, from abroad). Returns (hits, hits written out)."""
    return _spill_stripe(lo, hi, pen_agent, pen_points, p.g_spill, p.t_spill, net.group_row,
                         net.group_ids, net.group_off, net.group_start, net.group_hint,
                         net.group_members,
                         net.member_base, net.tie_base, net.tie_indptr, net.tie_indices,
                         s.score, s.flags, people.region, p.r_abroad, *out)


def spill(pen_agent, pen_points, p, net, s, people) -> int:
    """Spread the day's penalties; returns the number of spilled penalties."""
    if not p.association or pen_agent.shape[0] == 0:
        return 0
    return int(_spill(pen_agent, pen_points, p.g_spill, p.t_spill, net.group_row, net.group_ids,
                      net.group_off, net.group_start, net.group_hint, net.group_members,
                      net.member_base,
                      net.tie_base, net.tie_indptr, net.tie_indices, s.score, s.flags,
                      people.region, p.r_abroad, nb.get_num_threads()))
