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

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core.prefetch import prefetch
from ...network.groups import group_id, member_at
from ...network.ties import tie_at
from ..context import Span
from ..state import ASSOC_PENALISED, FROM_ABROAD
from .avoid import is_cut
from .paths import BY_ASSOCIATION, add_event
from .score import Penalties

ABROAD_BIT = np.int64(1) << 62  # a hit from a penalty abroad on an agent at home
EXPRESSION_BIT = np.int64(1) << 61  # a hit from a penalty on an expression behaviour
AGENT = (np.int64(1) << 61) - 1  # the receiver's bits
AHEAD = 8  # penalties whose rows are prefetched ahead of the one decoded
LAND_AHEAD = 32  # hits whose receivers are prefetched ahead of the one landed
BATCH = 4096  # hits queued before they land: the landing loop has no branch to mispredict




class SpillParams(NamedTuple):
    """How far a penalty spills: the share landing on each neighbour, layer by layer."""

    group_layers: np.ndarray  # float64[Lg]: spillover to the members of each group layer
    tie_layers: np.ndarray  # float64[Lt]: spillover to the ties of each tie layer
    association: bool  # association penalties at all (a safeguard switches them off)
    recovery: int  # the score's recovery per day, fixed point (the but-for paths follow it)
    # a spilled penalty moves a but-for path only when speech is penalised (the path without
    # expression); the own paths never take it
    paths_take_spill: bool
    abroad: np.ndarray  # bool[R]: a city abroad (a penalty there reaching home is counted)
    any_abroad: bool


class Hits(NamedTuple):
    """Spilled penalties on agents another range holds: whom, how much (fixed point), whether
    the penalised agent lives abroad and the receiver at home, and whether the penalty was on
    an expression behaviour."""

    agent: np.ndarray  # int32[k]
    amount: np.ndarray  # int32[k]
    from_abroad: np.ndarray  # bool[k]
    expression: np.ndarray  # bool[k]


class Landing(NamedTuple):
    """Where hits land: the arrays they change, and the day's recovery for the paths (empty
    paths: the hits move none)."""

    score: np.ndarray
    flags: np.ndarray
    paths: np.ndarray
    day: int
    step: int


class Receivers(NamedTuple):
    """Per penalty e and layer j (group layers, then tie layers): the first member position or
    tie slot of its receivers, how many positions or slots, and the points each receives."""

    first: np.ndarray  # int64[P, J]
    size: np.ndarray  # int64[P, J]
    amount: np.ndarray  # int32[P, J]
    abroad: np.ndarray  # bool[P]: the penalised agent lives abroad


@nb.njit(inline="always", cache=True)
def _hit(m, amount, to, from_abroad, expression):
    to.score[m] += amount
    to.flags[m] |= ASSOC_PENALISED | (FROM_ABROAD if from_abroad else 0)
    add_event(to.paths, m, to.day, to.step, -np.int64(amount), BY_ASSOCIATION, expression)


@nb.njit(cache=True)
def _apply_hits(hits, to):
    for k in range(hits.agent.shape[0]):
        _hit(hits.agent[k], hits.amount[k], to, hits.from_abroad[k], hits.expression[k])


def landing(st, day: int, spp: SpillParams) -> Landing:
    """The arrays hits land on, on ``day``."""
    paths = st.paths if spp.paths_take_spill else st.paths[:0]
    return Landing(st.score, st.flags, paths, day, spp.recovery)


def apply_hits(hits: Hits, st, day: int, spp: SpillParams) -> None:
    """Spilled penalties another range sent here land (their order does not matter: every hit
    adds integers and sets bits)."""
    if hits.agent.shape[0]:
        _apply_hits(hits, landing(st, day, spp))


@nb.njit(parallel=True, cache=True)
def _where(pen_agent, pen_points, spp, groups, ties, region, out):
    """Fill ``out`` (a ``Receivers``): per penalty and layer, where its receivers are and the
    points each receives (size 0 where nothing lands)."""
    G, T = spp.group_layers.shape[0], spp.tie_layers.shape[0]
    # written in the loop: locals (a write through a bundle's field is lost in prange)
    first, size, amount, abroad = out
    for e in nb.prange(pen_agent.shape[0]):
        a, pts = pen_agent[e], pen_points[e]
        abroad[e] = spp.abroad[region[a]] if spp.any_abroad else False
        for j in range(G + T):
            size[e, j] = 0
            share = spp.group_layers[j] if j < G else spp.tie_layers[j - G]
            amount[e, j] = np.int32(round(pts * share))
            if amount[e, j] == 0:
                continue
            if j < G:
                g = group_id(j, a, groups)
                if g >= 0:
                    gg = groups.off[j] + g
                    first[e, j] = groups.start[gg]
                    size[e, j] = groups.start[gg + 1] - groups.start[gg]
            else:
                l = j - G
                first[e, j] = ties.base[l] + ties.indptr[l, a]
                size[e, j] = ties.base[l] + ties.indptr[l, a + 1] - first[e, j]


@nb.njit(parallel=True, cache=True)
def _receivers(pen_agent, expression, where, off, groups, ties, cut, region, abroad_region,
               hits, count):
    """Each penalty's receivers in layer j into hits[off[e * J + j]:], count[e * J + j] of
    them (fewer than the room: the penalised agent itself, a far tie's extra slots and a cut
    tie are not receivers); a receiver at home of a penalty abroad carries ABROAD_BIT, of a
    penalty on expression EXPRESSION_BIT."""
    first, size, abroad = where.first, where.size, where.abroad
    n_group_layers = groups.off.shape[0] - 1
    P, J = size.shape[0], size.shape[1]
    for e in nb.prange(P):
        for j in range(J if e + AHEAD < P else 0):  # the rows of a penalty further on
            if size[e + AHEAD, j]:
                if j < n_group_layers:
                    if first[e + AHEAD, j] >= groups.member_base:
                        prefetch(groups.members, first[e + AHEAD, j] - groups.member_base)
                else:
                    prefetch(ties.indices, first[e + AHEAD, j])
                    prefetch(ties.indices, first[e + AHEAD, j] + 32)
        a = pen_agent[e]
        for j in range(J):
            w = off[e * J + j]
            k, stop = first[e, j], first[e, j] + size[e, j]
            while k < stop:
                if j < n_group_layers:
                    m = np.int64(member_at(k, groups))
                    k += 1
                    if m == a:
                        continue
                else:
                    slot = k
                    m, k = tie_at(ties.indices, k, a)
                    if is_cut(cut, slot):
                        continue  # avoidance: a cut tie spills nothing
                if abroad[e] and not abroad_region[region[m]]:
                    m |= ABROAD_BIT
                if expression[e]:
                    m |= EXPRESSION_BIT
                hits[w] = m
                w += 1
            count[e * J + j] = w - off[e * J + j]


@nb.njit(cache=True)
def _flush(buf_m, buf_amount, b, to):
    track = to.paths.shape[0] > 0
    for k in range(b):
        if k + LAND_AHEAD < b:
            m = buf_m[k + LAND_AHEAD] & AGENT
            prefetch(to.score, m)
            prefetch(to.flags, m)
            if track:
                prefetch(to.paths, m)
        m = buf_m[k]
        _hit(m & AGENT, buf_amount[k], to, (m & ABROAD_BIT) != 0, (m & EXPRESSION_BIT) != 0)


@nb.njit(cache=True)
def _land_stripe(lo, hi, amount, off, count, hits, to):
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
                r = m & AGENT
                buf_m[b], buf_amount[b] = m, x  # always written, kept when in the stripe
                b += (lo <= r) & (r < hi)
                if b == BATCH:
                    _flush(buf_m, buf_amount, b, to)
                    landed += b
                    b = 0
    _flush(buf_m, buf_amount, b, to)
    return landed + b


@nb.njit(parallel=True, cache=True)
def _land(amount, off, count, hits, to, stripes):
    """Each thread owns a stripe of receivers: no two threads touch one agent, and the
    result is the same for any number of stripes."""
    n = to.score.shape[0]
    width = (n + stripes - 1) // stripes
    landed = np.zeros(stripes, np.int64)
    for t in nb.prange(stripes):
        landed[t] = _land_stripe(t * width, min(n, (t + 1) * width), amount, off, count, hits,
                                 to)
    return landed.sum()


def _decode(pen: Penalties, spp: SpillParams, groups, ties, cut: np.ndarray,
            region: np.ndarray):
    """Phases 1 and 2: the points per penalty and layer, where their receivers start in
    ``hits`` and how many there are, and ``hits``."""
    P, G = pen.agent.shape[0], spp.group_layers.shape[0]
    J = G + spp.tie_layers.shape[0]
    where = Receivers(np.zeros((P, J), np.int64), np.zeros((P, J), np.int64),
                      np.zeros((P, J), np.int32), np.zeros(P, np.bool_))
    _where(pen.agent, pen.points, spp, groups, ties, region, where)
    off = np.zeros(P * J + 1, np.int64)
    np.cumsum(where.size.ravel(), out=off[1:])
    hits, count = np.empty(int(off[-1]), np.int64), np.empty(P * J, np.int64)
    _receivers(pen.agent, pen.expression, where, off, groups, ties, cut, region, spp.abroad,
               hits, count)
    return where.amount, off, count, hits


def _outside(amount, off, count, hits, lo: int, hi: int) -> Hits:
    """The hits whose receivers are outside [lo, hi), in the penalties' order."""
    kept = np.repeat(off[:-1], count) + (np.arange(count.sum()) - np.repeat(
        np.cumsum(count) - count, count))  # the positions of the receivers in hits
    agent, amt = hits[kept] & AGENT, np.repeat(amount.ravel(), count)
    from_abroad = (hits[kept] & ABROAD_BIT) != 0
    expression = (hits[kept] & EXPRESSION_BIT) != 0
    out = (agent < lo) | (agent >= hi)
    return Hits(agent[out].astype(np.int32), amt[out], from_abroad[out], expression[out])


# none sent (no element: never written)
_NO_HITS = Hits(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.bool_),
                np.zeros(0, np.bool_))


def spill(pen: Penalties, day: int, span: Span, spp: SpillParams, groups, ties,
          region: np.ndarray, st) -> tuple[int, Hits]:
    """Spread the day's penalties (those of agents [lo, hi)): the hits on agents in [lo, hi)
    land here; the others are returned, for the ranges that hold their receivers. Returns the
    number of spilled penalties (landed and sent) and the hits sent."""
    n, lo, hi = span
    none = _NO_HITS
    if not spp.association or pen.agent.shape[0] == 0:
        return 0, none
    amount, off, count, hits = _decode(pen, spp, groups, ties, st.cut, region)
    to = landing(st, day, spp)
    if lo == 0 and hi == n:  # every receiver is here: each thread lands its stripe
        return int(_land(amount, off, count, hits, to, nb.get_num_threads())), none
    sent = _outside(amount, off, count, hits, lo, hi)
    landed = _land_stripe(lo, hi, amount, off, count, hits, to)
    return int(landed) + sent.agent.shape[0], sent
