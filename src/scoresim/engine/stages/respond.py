"""Stage 8, respond: caution rises with the agent's own penalties and new sanctions and with
the share of its tie neighbours whose sanctions are visible, and decays slowly:

    caution += from_penalty * [penalised today] + from_sanction * [newly sanctioned today]
             + from_ties * (visibly sanctioned ties / ties) - decay,   clipped to [0, 1].

Only the blocks of agents marked live are visited (state.py): an agent with no caution, no
mark today and no visibly sanctioned tie keeps caution 0 (decay is never negative), so the
stage costs what is going on, not the population. The day's caution sum is taken in the same
pass (the other blocks add 0).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core.constants import CHUNK
from ...network.ties import tie_degree
from ..measure import CAUTION_SUM, GRADES, caution_units, columns
from ..state import LIVE_SHIFT, PENALISED_TODAY, SANCTIONED_TODAY


class RespondParams(NamedTuple):
    """How caution answers to what happens to an agent and its ties."""

    from_penalty: float  # caution added by a penalty pinned on the agent
    from_sanction: float  # by a new sanction
    from_ties: float  # per day, times the share of its ties visibly sanctioned
    decay: float  # caution lost per day


@nb.njit(inline="always", cache=True)
def _respond_block(rp, ties, s0, cz, td, st):
    """One block's agents (slices from agent s0 on); returns 1 if any may change tomorrow."""
    # agents with no visibly sanctioned tie (nearly all): a flat loop of selects over
    # slices, so it vectorises (stages/busy.py); the others keep their values here and are
    # done one by one below
    held = np.int32(0)
    for i in range(cz.shape[0]):
        t = td[i]
        x = np.float64(cz[i]) - rp.decay + (rp.from_penalty * np.float64(t & PENALISED_TODAY)
                                            + rp.from_sanction * np.float64(t >> 1 & 1))
        x = x if x > 0.0 else 0.0
        x = x if x < 1.0 else 1.0
        keep = st[i] != 0
        cz[i] = cz[i] if keep else np.float32(x)
        td[i] = t if keep else np.uint8(0)
        held += np.int32(keep)
    for j in range(cz.shape[0] if held else 0):
        if st[j] > 0:  # rare: a tie neighbour is visibly sanctioned
            x = np.float64(cz[j]) - rp.decay
            t = td[j]
            x += rp.from_penalty * (t & PENALISED_TODAY) + rp.from_sanction * (
                (t & SANCTIONED_TODAY) >> 1)
            deg = tie_degree(ties, s0 + j)
            x += rp.from_ties * st[j] / max(deg, 1)
            cz[j] = min(1.0, max(0.0, x))
            td[j] = 0
    alive = np.int32(held)
    for i in range(cz.shape[0]):
        alive += np.int32(cz[i] > 0)
    return np.uint8(alive != 0)


@nb.njit(parallel=True, cache=True)
def _respond(rp, ties, span, caution, today, sanctioned_ties, live, units):
    """Agents [lo, hi) of the whole arrays, chunk by chunk; in each chunk the live blocks
    only. units[c]: the chunk's caution sum (engine/measure.py)."""
    n, lo, hi = span
    size = 1 << LIVE_SHIFT
    every = rp.decay < 0.0  # never from a valid scenario; then no block may be skipped
    c0 = lo // CHUNK
    for c in nb.prange(units.shape[0]):
        a0, a1 = max(lo, (c0 + c) * CHUNK), min(hi, (c0 + c + 1) * CHUNK)
        total = np.int64(0)
        for b in range(a0 >> LIVE_SHIFT, ((a1 - 1) >> LIVE_SHIFT) + 1):
            if not (live[b] or every):
                continue
            s0, s1 = max(a0, b * size), min(a1, (b + 1) * size)
            cz = caution[s0:s1]
            alive = _respond_block(rp, ties, s0, cz, today[s0:s1], sanctioned_ties[s0:s1])
            # a block cut by the range keeps its mark for the part not visited here
            whole = s0 == b * size and s1 == min(caution.shape[0], (b + 1) * size)
            live[b] = alive if whole else live[b] | alive
            total += caution_units(cz)
        units[c] = total


def respond(span, rp: RespondParams, n_bounds: int, ties, st) -> np.ndarray:
    """Update the caution of agents [lo, hi). Returns their part of the day's row of counts
    (engine/measure.py): the caution sum, and the sanctioned agents per group that the state
    keeps (``st.sanctioned_group``: the range's own agents)."""
    n, lo, hi = span
    units = np.zeros(max(0, (hi - 1) // CHUNK - lo // CHUNK + 1) if hi > lo else 0, np.int64)
    _respond(rp, ties, span, st.caution, st.today, st.sanctioned_ties, st.live, units)
    row = np.zeros(columns(n_bounds, st.sanctioned_group.shape[0]), np.int64)
    row[CAUTION_SUM] = units.sum()
    row[GRADES + n_bounds + 1:] = st.sanctioned_group
    return row
