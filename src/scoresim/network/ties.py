"""Reading and writing the tie layers' rows (kin, friends): the narrow neighbour encoding.

A row holds an agent's neighbours in int16 slots. A neighbour within 32,767 places of the agent
(most ties are local: agents are laid out household by household and most contacts live
nearby) takes one slot holding the offset; any other takes three: ``FAR``, then the index's
high and low 16 bits. So a tie costs 2 bytes, or 6 when far, instead of 4 (int32) or 8 (int64)
for every tie, and indices up to 2**32 need no wider type.

Layer l's rows are ``base[l] + indptr[l, a]`` to ``base[l] + indptr[l, a + 1]`` of a ``TieArrays``
(row offsets are per layer, so they stay int32 up to 2**31 slots in each layer).
"""

from __future__ import annotations

import numba as nb
import numpy as np

FAR = -32768  # the marker of a far neighbour (never a valid offset)
NEAR = 32767  # the largest offset a slot holds


@nb.njit(inline="always", cache=True)
def tie_slots(a, b):
    """Slots a tie from a to b takes in a's row."""
    return 1 if -NEAR <= b - a <= NEAR else 3


@nb.njit(inline="always", cache=True)
def _as_int16(x):
    return x - 65536 if x >= 32768 else x


@nb.njit(inline="always", cache=True)
def put_tie(tie_indices, k, a, b):
    """Write neighbour b into a's row at slot k; returns the next free slot."""
    d = b - a
    if -NEAR <= d <= NEAR:
        tie_indices[k] = d
        return k + 1
    tie_indices[k] = FAR
    tie_indices[k + 1] = _as_int16((np.int64(b) >> 16) & 0xFFFF)
    tie_indices[k + 2] = _as_int16(np.int64(b) & 0xFFFF)
    return k + 3


@nb.njit(inline="always", cache=True)
def tie_at(tie_indices, k, a):
    """The neighbour at slot k of a's row, and the slot after it."""
    d = tie_indices[k]
    if d != FAR:
        return np.int64(a) + d, k + 1
    hi = np.int64(tie_indices[k + 1]) & 0xFFFF
    return (hi << 16) | (np.int64(tie_indices[k + 2]) & 0xFFFF), k + 3


@nb.njit(cache=True)
def tie_degree(ties, a):
    """Agent a's number of ties over all tie layers (``ties``: a ``TieArrays``)."""
    deg = 0
    for l in range(ties.indptr.shape[0]):
        k, end = ties.base[l] + ties.indptr[l, a], ties.base[l] + ties.indptr[l, a + 1]
        while k < end:
            k += 1 if ties.indices[k] != FAR else 3
            deg += 1
    return deg


@nb.njit(cache=True)
def layer_degrees(ties, l):
    """Every agent's number of ties in layer l."""
    n = ties.indptr.shape[1] - 1
    out = np.zeros(n, np.int64)
    for a in range(n):
        k, end = ties.base[l] + ties.indptr[l, a], ties.base[l] + ties.indptr[l, a + 1]
        while k < end:
            k += 1 if ties.indices[k] != FAR else 3
            out[a] += 1
    return out


@nb.njit(cache=True)
def row(ties, l, a):
    """Agent a's neighbours in layer l, in row order."""
    k, end = ties.base[l] + ties.indptr[l, a], ties.base[l] + ties.indptr[l, a + 1]
    out = np.empty(end - k, np.int64)
    c = 0
    while k < end:
        out[c], k = tie_at(ties.indices, k, a)
        c += 1
    return out[:c]
