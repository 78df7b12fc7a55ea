"""Avoidance of the sanctioned (part of stage 8, respond): people cut ties to visibly
sanctioned agents (the shunning of flagged contacts: Tirole 2021, docs/sources.md section 3.2).

Each day each uncut tie to a visibly sanctioned agent is cut with the scenario's daily
probability. A cut tie is marked by one bit per end (``State.cut``: a bit per slot of the tie
layers' rows, on the tie's first slot), so it costs an eighth of a byte per slot, and nothing
without avoidance (the array is empty and every reader skips the test). A cut tie spills no
penalty either way (spill), sends no visibility either way (settle) and leaves both ends'
counts of visibly sanctioned ties and their degrees (respond): the share of ties sanctioned is
the share of the ties still held.

Each end's row belongs to the range holding that agent, and each range knows only its own
agents' sanctions, so a cut crosses ranges in two steps:

1. ``decide`` (the sanctioned agent's range): for each uncut slot of each visibly sanctioned
   agent j, a draw keyed by (j, the slot's place in j's row) decides whether the neighbour t
   cuts the tie; a ``Cuts`` record goes to t's range. When both ends are visibly sanctioned
   only the lower-numbered end's draw counts (t, knowing both, ignores the other), so a tie
   is cut with the daily probability whichever end is sanctioned.
2. ``apply_cuts`` (t's range): t marks its slot of the tie, leaves j out of its count, and
   sends a ``CutBacks`` record to j's range, saying whether t is visibly sanctioned;
   ``apply_backs`` (j's range) marks j's slot and, if t was visible, leaves t out of j's count.

A person who has lost at least ``lost_share`` of its ties is marked ``ISOLATED`` (state.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...network.ties import FAR, tie_at
from ..context import DayKey, Span
from ..state import ISOLATED, LIVE_SHIFT


class Cuts(NamedTuple):
    """Ties cut today, to the range of the neighbour who cuts them: the neighbour, the
    visibly sanctioned agent, the tie's layer and its slot in the sanctioned agent's row."""

    agent: np.ndarray  # int32[k]
    by: np.ndarray  # int32[k]
    layer: np.ndarray  # int32[k]
    slot: np.ndarray  # int64[k]


class CutBacks(NamedTuple):
    """The sanctioned end of each tie cut today: whose row, the slot, and whether the agent
    who cut it is itself visibly sanctioned (then it leaves this agent's count)."""

    agent: np.ndarray  # int32[k]
    slot: np.ndarray  # int64[k]
    visible: np.ndarray  # bool[k]


@nb.njit(inline="always", cache=True)
def is_cut(cut, k):
    """Whether the tie starting at slot k is cut (never, without avoidance: ``cut`` empty)."""
    return cut.shape[0] != 0 and (cut[k >> 3] >> (k & 7)) & 1 != 0


@nb.njit(inline="always", cache=True)
def _mark(cut, k):
    cut[k >> 3] |= np.uint8(1 << (k & 7))


@nb.njit(cache=True)
def held_degree(ties, cut, a):
    """Agent a's ties over all tie layers that are not cut."""
    deg = 0
    for l in range(ties.indptr.shape[0]):
        k, end = ties.base[l] + ties.indptr[l, a], ties.base[l] + ties.indptr[l, a + 1]
        while k < end:
            deg += not is_cut(cut, k)
            k += 1 if ties.indices[k] != FAR else 3
    return deg


@nb.njit(cache=True)
def _isolate(a, ties, cut, share, flags):
    """Mark a ISOLATED once it has lost at least ``share`` of its ties."""
    total = lost = 0
    for l in range(ties.indptr.shape[0]):
        k, end = ties.base[l] + ties.indptr[l, a], ties.base[l] + ties.indptr[l, a + 1]
        while k < end:
            lost += is_cut(cut, k)
            total += 1
            k += 1 if ties.indices[k] != FAR else 3
    if total and lost >= share * total:
        flags[a] |= ISOLATED


@nb.njit(cache=True)
def _decide(visible, seed, day, q, ties, cut, out):
    """Fill ``out`` (a ``Cuts``) with the ties of these visibly sanctioned agents that their
    neighbours cut today; returns their number."""
    key = rng.stream(seed, day, rng.AVOID, 0)
    w = 0
    for x in range(visible.shape[0]):
        j = visible[x]
        for l in range(ties.indptr.shape[0]):
            first = ties.base[l] + ties.indptr[l, j]
            k, end = first, ties.base[l] + ties.indptr[l, j + 1]
            while k < end:
                slot = k
                t, k = tie_at(ties.indices, k, j)
                # keyed by the slot's place in j's row, not by its number in the rows held
                # here: a partition numbers only its own agents' rows
                draw = (np.int64(l) << 32) + slot - first
                if is_cut(cut, slot) or rng.uniform(key, j, draw) >= q:
                    continue
                out.agent[w], out.by[w], out.layer[w], out.slot[w] = t, j, l, slot
                w += 1
    return w


def decide(span: Span, key: DayKey, q: float, visible_bits: int, ties, st) -> Cuts:
    """The ties of the visibly sanctioned agents of [lo, hi) cut today (to every range that
    holds a neighbour who cuts one: its own included)."""
    n, lo, hi = span
    visible = (np.flatnonzero(st.eff_mask[lo:hi] & visible_bits) + lo).astype(np.int64)
    room = int(np.sum(ties.indptr[:, visible + 1] - ties.indptr[:, visible])) if visible.size else 0
    out = Cuts(np.empty(room, np.int32), np.empty(room, np.int32), np.empty(room, np.int32),
               np.empty(room, np.int64))
    w = _decide(visible, key.seed, key.day, q, ties, st.cut, out) if room else 0
    return Cuts(*(a[:w] for a in out))


@nb.njit(cache=True)
def _apply_cuts(cuts, visible_bits, share, ties, st, out):
    """Each cutting agent t marks its end of the tie and leaves j out of its count; returns the
    ties cut (and fills ``out``, a ``CutBacks``, with j's ends)."""
    w = 0
    for r in range(cuts.agent.shape[0]):
        t, j, l = cuts.agent[r], cuts.by[r], cuts.layer[r]
        t_visible = (st.eff_mask[t] & visible_bits) != 0
        if t_visible and t < j:
            continue  # both visibly sanctioned: t's own draw decides this tie
        k, end = ties.base[l] + ties.indptr[l, t], ties.base[l] + ties.indptr[l, t + 1]
        while k < end:
            slot = k
            b, k = tie_at(ties.indices, k, t)
            if b == j and not is_cut(st.cut, slot):
                _mark(st.cut, slot)
                st.sanctioned_ties[t] -= 1  # j is visibly sanctioned: its push counted
                st.live[t >> LIVE_SHIFT] = 1
                _isolate(t, ties, st.cut, share, st.flags)
                out.agent[w], out.slot[w], out.visible[w] = j, cuts.slot[r], t_visible
                w += 1
                break
    return w


def apply_cuts(cuts: Cuts, visible_bits: int, share: float, ties, st) -> tuple[int, CutBacks]:
    """The cuts addressed to agents of this range (their order does not matter: each marks a
    distinct slot and adds integers). Returns the ties cut and the other ends' records."""
    k = cuts.agent.shape[0]
    out = CutBacks(np.empty(k, np.int32), np.empty(k, np.int64), np.empty(k, np.bool_))
    w = _apply_cuts(cuts, visible_bits, share, ties, st, out) if k else 0
    return w, CutBacks(*(a[:w] for a in out))


@nb.njit(cache=True)
def _apply_backs(backs, share, ties, st):
    for r in range(backs.agent.shape[0]):
        j, slot = backs.agent[r], backs.slot[r]
        _mark(st.cut, slot)
        if backs.visible[r]:
            st.sanctioned_ties[j] -= 1
            st.live[j >> LIVE_SHIFT] = 1
        _isolate(j, ties, st.cut, share, st.flags)


def apply_backs(backs: CutBacks, share: float, ties, st) -> None:
    """The sanctioned ends of the ties cut today, in this range."""
    if backs.agent.shape[0]:
        _apply_backs(backs, share, ties, st)
