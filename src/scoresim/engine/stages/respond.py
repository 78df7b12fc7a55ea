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

import numba as nb
import numpy as np

from ..measure import CHUNK, caution_units, row_of
from ..state import LIVE_SHIFT, PENALISED_TODAY, SANCTIONED_TODAY
from ..ties import tie_degree


@nb.njit(inline="always", cache=True)
def _respond_block(from_penalty, from_sanction, from_ties, decay, tie_base, tie_indptr,
                   tie_indices, s0, cz, td, st):
    """One block's agents (slices from agent s0 on); returns 1 if any may change tomorrow."""
    # agents with no visibly sanctioned tie (nearly all): a flat loop of selects over
    # slices, so it vectorises (stages/busy.py); the others keep their values here and are
    # done one by one below
    held = np.int32(0)
    for i in range(cz.shape[0]):
        t = td[i]
        x = np.float64(cz[i]) - decay + (from_penalty * np.float64(t & PENALISED_TODAY)
                                         + from_sanction * np.float64(t >> 1 & 1))
        x = x if x > 0.0 else 0.0
        x = x if x < 1.0 else 1.0
        keep = st[i] != 0
        cz[i] = cz[i] if keep else np.float32(x)
        td[i] = t if keep else np.uint8(0)
        held += np.int32(keep)
    for j in range(cz.shape[0] if held else 0):
        if st[j] > 0:  # rare: a tie neighbour is visibly sanctioned
            x = np.float64(cz[j]) - decay
            t = td[j]
            x += from_penalty * (t & PENALISED_TODAY) + from_sanction * (
                (t & SANCTIONED_TODAY) >> 1)
            deg = tie_degree(tie_base, tie_indptr, tie_indices, s0 + j)
            x += from_ties * st[j] / max(deg, 1)
            cz[j] = min(1.0, max(0.0, x))
            td[j] = 0
    alive = np.int32(held)
    for i in range(cz.shape[0]):
        alive += np.int32(cz[i] > 0)
    return np.uint8(alive != 0)


@nb.njit(parallel=True, cache=True)
def _respond(from_penalty, from_sanction, from_ties, decay, tie_base, tie_indptr, tie_indices,
             lo, hi, caution, today, sanctioned_ties, live, units):
    """Agents [lo, hi) of the whole arrays, chunk by chunk; in each chunk the live blocks
    only. units[c]: the chunk's caution sum (engine/measure.py)."""
    size = 1 << LIVE_SHIFT
    every = decay < 0.0  # never from a valid scenario; then no block may be skipped
    c0 = lo // CHUNK
    for c in nb.prange(units.shape[0]):
        a0, a1 = max(lo, (c0 + c) * CHUNK), min(hi, (c0 + c + 1) * CHUNK)
        total = np.int64(0)
        for b in range(a0 >> LIVE_SHIFT, ((a1 - 1) >> LIVE_SHIFT) + 1):
            if not (live[b] or every):
                continue
            s0, s1 = max(a0, b * size), min(a1, (b + 1) * size)
            cz = caution[s0:s1]
            alive = _respond_block(from_penalty, from_sanction, from_ties, decay, tie_base,
                                   tie_indptr, tie_indices, s0, cz, today[s0:s1],
                                   sanctioned_ties[s0:s1])
            # a block cut by the range keeps its mark for the part not visited here
            whole = s0 == b * size and s1 == min(caution.shape[0], (b + 1) * size)
            live[b] = alive if whole else live[b] | alive
            total += caution_units(cz)
        units[c] = total


def respond(p, net, s, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Update the caution of agents [lo, hi) (default all). Returns their part of the day's
    row of counts (engine/measure.py): the caution sum, and the sanctioned agents per group
    that the state keeps (``s.sanctioned_group``: a partition's own agents)."""
    hi = s.caution.shape[0] if hi is None else hi
    units = np.zeros(max(0, (hi - 1) // CHUNK - lo // CHUNK + 1) if hi > lo else 0, np.int64)
    _respond(p.caution_from_penalty, p.caution_from_sanction, p.caution_from_ties,
             p.caution_decay, net.tie_base, net.tie_indptr, net.tie_indices, lo, hi,
             s.caution, s.today, s.sanctioned_ties, s.live, units)
    k = p.grade_bounds.shape[0]
    row = row_of(s, k)
    row[1] = units.sum()
    row[3 + k:] = s.sanctioned_group
    return row
