"""Stage 8, respond: caution is a level that moves toward the agent's perceived risk with a
half-life (docs/model.md, "How people respond").

At the end of each scored day:

    own risk   o <- min(1, keep * o + from_penalty [penalised today] + from_sanction [newly
                    sanctioned today]),                               keep = 2 ** (-1 / h_own)
    perceived risk   R = min(1, o + from_ties * (visibly sanctioned ties / ties held))
    caution    c <- c + follow * (R - c),                           follow = 1 - 2 ** (-1 / h)
    per behaviour b, for everyone:   k_b <- k_b + follow * (salience_b - k_b)

and values below ``FLOOR`` are 0. The act stage deters behaviour b by min(1, c + k_b). With
constant risk, caution settles at it: the steady state does not depend on run length.

Only the blocks of agents marked live are visited (state.py): an agent with no caution, no own
risk, no mark today and no visibly sanctioned tie keeps them all 0 (with no risk caution only
falls, and the floor takes it to 0), so the stage costs what is going on, not the population.
The day's caution and perceived risk, per group, are summed in the same pass (the other
blocks add 0).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core.constants import CHUNK
from ...core.memo import once_per
from ..measure import CAUTION_SUM, CAUTION_UNIT, GRADES, caution_units, columns
from ..state import LIVE_SHIFT, PENALISED_TODAY
from .avoid import held_degree

# caution, own risk and the salience's caution below this are none: with no risk they fall to
# exactly 0 in finite time, so that a block at rest is skipped (2**-16: far below any effect)
FLOOR = 2.0**-16


class RespondParams(NamedTuple):
    """How perceived risk and caution answer to what happens to an agent and its ties."""

    from_penalty: float  # own risk added by a penalty pinned on the agent
    from_sanction: float  # by a new sanction
    from_ties: float  # perceived risk at a share 1 of its ties visibly sanctioned
    keep: float  # share of own risk kept from one day to the next: 2 ** (-1 / half-life)
    follow: float  # share of the gap to perceived risk caution closes in a day
    salience: np.ndarray  # float64[B]: perceived risk from the salience of each rule
    avoid: float  # daily probability that a tie to a visibly sanctioned agent is cut
    avoiding: bool  # avoidance is on under this plan
    lost_share: float  # the share of lost ties the outputs count people from
    own_risk: bool  # the run keeps own risk (a plan lets penalties or sanctions add to it)
    cut_marks: bool  # the run keeps cut ties' marks (a plan switches avoidance on)


class Responded(NamedTuple):
    """The respond stage's counts of its range: the row of measurements (engine/measure.py),
    per group [caution, perceived risk (both in units of 2**-30), agents], and per behaviour
    the salience's caution summed over the range's agents (units)."""

    row: np.ndarray  # int64[columns]
    by_group: np.ndarray  # int64[G, 3]
    salience: np.ndarray  # int64[B]


@nb.njit(inline="always", cache=True)
def _rest(x):
    return x if x >= FLOOR else 0.0


@nb.njit(inline="always", cache=True)
def _risk_units(x):
    """Perceived risk in units of 2**-30, as ``caution_units`` takes a float32 value."""
    return np.int64(np.int32(np.float32(x) * np.float32(CAUTION_UNIT)))


@nb.njit(inline="always", cache=True)
def _respond_block(rp, ties, cut, s0, cz, own, td, st, group, risk):
    """One block's agents (slices from agent s0 on); returns 1 if any may change tomorrow.
    ``risk[g]``: the ties' part of the perceived risk of group g's agents, added (units)."""
    # every agent as if it had no visibly sanctioned tie (nearly all): flat loops of selects
    # over slices, so they vectorise (stages/busy.py); the others keep their caution here and
    # are done one by one below
    held = np.int32(0)
    alive = np.int32(0)  # agents with caution or own risk left (those held count as held)
    if own.shape[0] == cz.shape[0]:
        for i in range(cz.shape[0]):
            t = td[i]
            o = np.float64(own[i]) * rp.keep + (
                rp.from_penalty * np.float64(t & PENALISED_TODAY)
                + rp.from_sanction * np.float64(t >> 1 & 1))
            o = _rest(o if o < 1.0 else 1.0)
            own[i] = np.float32(o)
            c = np.float64(cz[i])
            x = _rest(c + rp.follow * (np.float64(own[i]) - c))
            keep = st[i] != 0
            cz[i] = cz[i] if keep else np.float32(x)
            td[i] = np.uint8(0)
            held += np.int32(keep)
            alive += np.int32((x > 0.0) | (o > 0.0))
    else:  # no own risk in this run: nothing but ties moves caution up
        for i in range(cz.shape[0]):
            x = _rest(np.float64(cz[i]) * (1.0 - rp.follow))
            keep = st[i] != 0
            cz[i] = cz[i] if keep else np.float32(x)
            td[i] = np.uint8(0)
            held += np.int32(keep)
            alive += np.int32(x > 0.0)
    for j in range(cz.shape[0] if held else 0):
        if st[j] > 0:  # rare: a tie neighbour is visibly sanctioned
            o = np.float64(own[j]) if own.shape[0] else 0.0
            deg = held_degree(ties, cut, s0 + j)
            r = min(1.0, o + rp.from_ties * st[j] / max(deg, 1))
            c = np.float64(cz[j])
            cz[j] = np.float32(_rest(c + rp.follow * (r - c)))
            risk[group[s0 + j]] += _risk_units(r) - _risk_units(o)
    return np.uint8((alive + held) != 0)


@nb.njit(inline="always", cache=True)
def _by_cell(s0, s1, cz, own, cells, acc):
    """Caution and own risk of agents [s0, s1) summed into acc[0, g] and acc[1, g] by group:
    agents are laid out in cells of one region and group (cells[c] starts cell c; group
    c % G), so a block is a few runs."""
    G = acc.shape[1]
    c = np.searchsorted(cells, s0, side="right") - 1
    while c < cells.shape[0] - 1 and cells[c] < s1:
        a, b = max(s0, cells[c]), min(s1, cells[c + 1])
        if b > a:
            g = c % G
            acc[0, g] += caution_units(cz[a - s0:b - s0])
            if own.shape[0]:
                acc[1, g] += caution_units(own[a - s0:b - s0])
        c += 1


@nb.njit(parallel=True, cache=True)
def _respond(rp, ties, span, st, people, units):
    """Agents [lo, hi) of the whole arrays, chunk by chunk; in each chunk the live blocks
    only. units[c]: the chunk's caution (row 0) and perceived risk (row 1) per group."""
    n, lo, hi = span
    size = 1 << LIVE_SHIFT
    # every array as a local: a write through a bundle's field is lost in prange
    caution, own, today, ties_seen, live, cut = (st.caution, st.own_risk, st.today,
                                                 st.sanctioned_ties, st.live, st.cut)
    group, cells = people.group, people.cell_start
    c0 = lo // CHUNK
    for c in nb.prange(units.shape[0]):
        a0, a1 = max(lo, (c0 + c) * CHUNK), min(hi, (c0 + c + 1) * CHUNK)
        acc = units[c]
        for b in range(a0 >> LIVE_SHIFT, ((a1 - 1) >> LIVE_SHIFT) + 1):
            if not live[b]:
                continue
            s0, s1 = max(a0, b * size), min(a1, (b + 1) * size)
            cz, ow = caution[s0:s1], own[s0:s1]
            alive = _respond_block(rp, ties, cut, s0, cz, ow, today[s0:s1], ties_seen[s0:s1],
                                   group, acc[1])
            # a block cut by the range keeps its mark for the part not visited here
            whole = s0 == b * size and s1 == min(caution.shape[0], (b + 1) * size)
            live[b] = alive if whole else live[b] | alive
            _by_cell(s0, s1, cz, ow, cells, acc)


def _agents_by_group(span, cells: np.ndarray, n_groups: int) -> np.ndarray:
    """The agents of [lo, hi) in each group (from the cells' starts; made once per range)."""
    return once_per(cells, ("agents by group", tuple(span), n_groups),
                    lambda c: _count_by_group(span, c, n_groups))


def _count_by_group(span, cells: np.ndarray, n_groups: int) -> np.ndarray:
    n, lo, hi = span
    overlap = np.maximum(0, np.minimum(hi, cells[1:]) - np.maximum(lo, cells[:-1]))
    return np.bincount(np.arange(overlap.shape[0]) % n_groups, overlap,
                       minlength=n_groups).astype(np.int64)


def _salience(rp: RespondParams, k: np.ndarray) -> None:
    """Everyone's caution from the rules' salience follows it (in place)."""
    x = k + rp.follow * (rp.salience - k)
    k[:] = np.where(x >= FLOOR, x, 0.0)


def respond(span, rp: RespondParams, n_bounds: int, ties, st, people) -> Responded:
    """Update the own risk and caution of agents [lo, hi) and everyone's caution from the
    rules' salience. Returns the range's counts (``Responded``): its part of the day's row of
    measurements (the caution sum, and the sanctioned agents per group that the state keeps,
    ``st.sanctioned_group``: the range's own agents), caution and perceived risk per group,
    and the salience's caution."""
    n, lo, hi = span
    G = st.sanctioned_group.shape[0]
    chunks = max(0, (hi - 1) // CHUNK - lo // CHUNK + 1) if hi > lo else 0
    units = np.zeros((chunks, 2, G), np.int64)
    _respond(rp, ties, span, st, people, units)
    _salience(rp, st.salience_caution)
    sums = units.sum(axis=0)
    row = np.zeros(columns(n_bounds, G), np.int64)
    row[CAUTION_SUM] = sums[0].sum()
    row[GRADES + n_bounds + 1:] = st.sanctioned_group
    by_group = np.stack([sums[0], sums[1], _agents_by_group(span, people.cell_start, G)], 1)
    salience = (hi - lo) * (st.salience_caution * CAUTION_UNIT).astype(np.int64)
    return Responded(row, by_group, salience)
