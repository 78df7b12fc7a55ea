"""Stage 4, spill: a penalty also lands, times the layer's spillover, on each neighbour of the
penalised agent in every layer (one hop): the "interconnecting repercussions" on family,
colleagues and friends. A spilled penalty lowers the score but does not count as the
neighbour's own penalty for caution (respond): caution answers to what is pinned on the agent
itself and to visible sanctions.

Penalties are few and their receivers are anywhere in the population, so the stage is a
chain of cache misses (where is the agent's row, the row, each receiver's score). It runs in
three phases, each over independent items so that many misses are in flight at once:

1. ``_where``, over the penalties: each layer's receivers (the group's member positions, or
   the tie row's slots) and the points that land there.
2. ``_receivers``, over the penalties: the receivers themselves, decoded into one array
   (each penalty's rows prefetched a few penalties ahead).
3. ``_land``, over stripes of agents: each thread lands the hits on its own stripe, so no two
   threads touch one agent (a hit adds an integer and sets bits: the order cannot matter).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..groups import group_id, member_at
from ..prefetch import prefetch
from ..state import ASSOC_PENALISED, ASSOCIATION, CAUSE_SHIFT, FROM_ABROAD, KEEP_FLAGS
from ..ties import tie_at

ABROAD_BIT = np.int64(1) << 62  # a hit from a penalty abroad on an agent at home
AHEAD = 8  # penalties whose rows are prefetched ahead of the one decoded
LAND_AHEAD = 32  # hits whose receivers are prefetched ahead of the one landed
BATCH = 4096  # hits queued before they land: the landing loop has no branch to mispredict


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


@nb.njit(parallel=True, cache=True)
def _where(pen_agent, pen_points, g_spill, t_spill, group_row, group_ids, group_off,
           group_start, group_hint, tie_base, tie_indptr, region, r_abroad, any_abroad,
           first, size, amount, abroad):
    """Per penalty e and layer j (group layers, then tie layers): the first member position or
    tie slot of its receivers, how many positions or slots, and the points each receives
    (size 0 where nothing lands); abroad[e]: the penalised agent lives abroad."""
    G, T = g_spill.shape[0], t_spill.shape[0]
    for e in nb.prange(pen_agent.shape[0]):
        a, pts = pen_agent[e], pen_points[e]
        abroad[e] = r_abroad[region[a]] if any_abroad else False
        for j in range(G + T):
            size[e, j] = 0
            amount[e, j] = np.int32(round(pts * (g_spill[j] if j < G else t_spill[j - G])))
            if amount[e, j] == 0:
                continue
            if j < G:
                g = group_id(j, a, group_row, group_ids, group_off, group_start, group_hint)
                if g >= 0:
                    gg = group_off[j] + g
                    first[e, j] = group_start[gg]
                    size[e, j] = group_start[gg + 1] - group_start[gg]
            else:
                l = j - G
                first[e, j] = tie_base[l] + tie_indptr[l, a]
                size[e, j] = tie_base[l] + tie_indptr[l, a + 1] - first[e, j]


@nb.njit(parallel=True, cache=True)
def _receivers(pen_agent, n_group_layers, first, size, off, abroad, member_base,
               group_members, tie_indices, region, r_abroad, hits, count):
    """Each penalty's receivers in layer j into hits[off[e * J + j]:], count[e * J + j] of
    them (fewer than the room: the penalised agent itself and a far tie's extra slots are
    not receivers); a receiver at home of a penalty abroad carries ABROAD_BIT."""
    P, J = size.shape[0], size.shape[1]
    for e in nb.prange(P):
        for j in range(J if e + AHEAD < P else 0):  # the rows of a penalty further on
            if size[e + AHEAD, j]:
                if j < n_group_layers:
                    if first[e + AHEAD, j] >= member_base:
                        prefetch(group_members, first[e + AHEAD, j] - member_base)
                else:
                    prefetch(tie_indices, first[e + AHEAD, j])
                    prefetch(tie_indices, first[e + AHEAD, j] + 32)
        a = pen_agent[e]
        for j in range(J):
            w = off[e * J + j]
            k, stop = first[e, j], first[e, j] + size[e, j]
            while k < stop:
                if j < n_group_layers:
                    m = np.int64(member_at(k, member_base, group_members))
                    k += 1
                    if m == a:
                        continue
                else:
                    m, k = tie_at(tie_indices, k, a)
                if abroad[e] and not r_abroad[region[m]]:
                    m |= ABROAD_BIT
                hits[w] = m
                w += 1
            count[e * J + j] = w - off[e * J + j]


@nb.njit(cache=True)
def _flush(buf_m, buf_amount, b, score, flags):
    for k in range(b):
        if k + LAND_AHEAD < b:
            m = buf_m[k + LAND_AHEAD] & ~ABROAD_BIT
            prefetch(score, m)
            prefetch(flags, m)
        m = buf_m[k]
        _hit(m & ~ABROAD_BIT, buf_amount[k], score, flags, (m & ABROAD_BIT) != 0)


@nb.njit(cache=True)
def _land_stripe(lo, hi, amount, off, count, hits, score, flags):
    """Land the hits on receivers in [lo, hi), in the penalties' order. Returns their number."""
    J = amount.shape[1]
    buf_m = np.empty(BATCH + 1, np.int64)
    buf_amount = np.empty(BATCH + 1, np.int32)
    b = landed = 0
    for e in range(amount.shape[0]):
        for j in range(J):
            x = amount[e, j]
            w = off[e * J + j]
            for k in range(w, w + count[e * J + j]):
                m = hits[k]
                r = m & ~ABROAD_BIT
                buf_m[b], buf_amount[b] = m, x  # always written, kept when in the stripe
                b += (lo <= r) & (r < hi)
                if b == BATCH:
                    _flush(buf_m, buf_amount, b, score, flags)
                    landed += b
                    b = 0
    _flush(buf_m, buf_amount, b, score, flags)
    return landed + b


@nb.njit(parallel=True, cache=True)
def _land(amount, off, count, hits, score, flags, stripes):
    """Each thread owns a stripe of receivers: no two threads touch one agent, and the
    result is the same for any number of stripes."""
    n = score.shape[0]
    width = (n + stripes - 1) // stripes
    landed = np.zeros(stripes, np.int64)
    for t in nb.prange(stripes):
        landed[t] = _land_stripe(t * width, min(n, (t + 1) * width), amount, off, count, hits,
                                 score, flags)
    return landed.sum()


def _decode(pen_agent, pen_points, p, net, people):
    """Phases 1 and 2: the points per penalty and layer, where their receivers start in
    ``hits`` and how many there are, and ``hits``."""
    P, G = pen_agent.shape[0], p.g_spill.shape[0]
    J = G + p.t_spill.shape[0]
    first, size = np.zeros((P, J), np.int64), np.zeros((P, J), np.int64)
    amount, abroad = np.zeros((P, J), np.int32), np.zeros(P, np.bool_)
    _where(pen_agent, pen_points, p.g_spill, p.t_spill, net.group_row, net.group_ids,
           net.group_off, net.group_start, net.group_hint, net.tie_base, net.tie_indptr,
           people.region, p.r_abroad, bool(p.r_abroad.any()), first, size, amount, abroad)
    off = np.zeros(P * J + 1, np.int64)
    np.cumsum(size.ravel(), out=off[1:])
    hits, count = np.empty(int(off[-1]), np.int64), np.empty(P * J, np.int64)
    _receivers(pen_agent, G, first, size, off, abroad, net.member_base, net.group_members,
               net.tie_indices, people.region, p.r_abroad, hits, count)
    return amount, off, count, hits


def spill_routed(pen_agent, pen_points, p, net, s, people, lo: int, hi: int):
    """A partition's spill of its own penalties: hits in [lo, hi) land, the others are
    returned as messages (agent, amount, from abroad), in the penalties' order. Returns
    (hits, messages)."""
    amount, off, count, hits = _decode(pen_agent, pen_points, p, net, people)
    kept = np.repeat(off[:-1], count) + (np.arange(count.sum()) - np.repeat(
        np.cumsum(count) - count, count))  # the positions of the receivers in hits
    agent, amt = hits[kept] & ~ABROAD_BIT, np.repeat(amount.ravel(), count)
    from_abroad = (hits[kept] & ABROAD_BIT) != 0
    out = (agent < lo) | (agent >= hi)
    landed = _land_stripe(lo, hi, amount, off, count, hits, s.score, s.flags)
    return landed + int(out.sum()), (agent[out].astype(np.int32), amt[out],
                                     from_abroad[out])


def spill(pen_agent, pen_points, p, net, s, people) -> int:
    """Spread the day's penalties; returns the number of spilled penalties."""
    if not p.association or pen_agent.shape[0] == 0:
        return 0
    amount, off, count, hits = _decode(pen_agent, pen_points, p, net, people)
    return int(_land(amount, off, count, hits, s.score, s.flags, nb.get_num_threads()))
