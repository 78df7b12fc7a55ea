"""The tie layers (kin, friends): random tie networks with homophily, as narrow CSR rows.

Every tie is drawn from counter-based random numbers keyed by its starter and its number, so
any range of starters can be drawn apart from the others. The build makes two passes over the
draws (count each row's slots, then fill), so no edge list is ever held beside the rows. Both
passes split the starters into a few ranges, one per thread: each range counts into its own
row offsets, which then say where in every row its ties go. A row lists its ties in the order
of their starters (then of their number), whatever the number of threads, as if drawn one by
one. Within a range, ties are drawn a block at a time before they are placed, so that the
placing (a cache miss per tie: most ends are anywhere in the population) runs with the next
rows prefetched.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ..core import rng
from ..core.memory import Window
from ..core.prefetch import prefetch
from ..network.ties import put_tie, tie_slots
from ..scenario.schema import Layer, Scenario
from .people import People

BATCH = 512  # ties drawn before they are placed
AHEAD = 16  # ties between the prefetch of a row and its write
MAX_RANGES = 4  # starter ranges (each holds row offsets of its own until the rows are filled)


class Mixing(NamedTuple):
    """How one tie layer's ties are drawn (scenario ``layers.<name>``)."""

    half_degree: float  # ties each agent starts, on average
    group: float  # assortativity by group (Coleman's index)
    region: float  # assortativity by region
    local_share: float  # of the ties within its own group and region, the share nearby
    window: int  # agents in a neighbourhood


class Cells(NamedTuple):
    """Where each (region, group) cell of agents starts, and how home regions are drawn."""

    start: np.ndarray  # int64[R * G + 1]
    groups: int  # G
    home: int  # home regions (the first ones); cities abroad come after
    home_cum: np.ndarray  # float64[home + 1]: cumulative shares of the home agents by region


@nb.njit(inline="always", cache=True)
def _cell_by_size(cells, r, u):
    """A cell of region r drawn in proportion to its size (-1: the region is empty)."""
    G = cells.groups
    lo, hi = cells.start[r * G], cells.start[r * G + G]
    if hi <= lo:
        return -1
    x = lo + int(u * (hi - lo))
    c = r * G
    while cells.start[c + 1] <= x:
        c += 1
    return c


@nb.njit(inline="always", cache=True)
def _home_region(cells, u):
    r = 0
    while r + 1 < cells.home and cells.home_cum[r + 1] <= u:
        r += 1
    return r


@nb.njit(inline="always", cache=True)
def _tally(tally, keep, a, g, same_group, same_region):
    """One end of a tie in a's row (a of group g), if the row is kept: int64[G, 3] of ties,
    of them within the group, within the region."""
    if keep[0] <= a < keep[1]:
        t = tally[g]
        t[0] += 1
        t[1] += same_group
        t[2] += same_region


@nb.njit(cache=True)
def _draw_block(a0, a1, region, own, key, mix, cells, keep, tally, ends):
    """The ties agents [a0, a1) of one region start, in order: starters in ends[0], other ends
    in ends[1]; each end tallied in ``tally`` (if it has rows). ``own``: the cell of a0 or one
    before it. Returns the number of ties and the cell of the last agent.

    Agent a starts floor(half_degree) ties, one more with probability frac(half_degree), so its
    degree is about half_degree + Poisson(half_degree). Each tie stays in a's region with
    probability ``mix.region`` (else joins a home region drawn by size), then in a's group
    with probability ``mix.group`` (else a cell of that region drawn by size), then is an agent
    of that cell: nearby (at most window/2 places away: agents are laid out household by
    household) with probability ``mix.local_share`` when the cell is a's own, else anyone.
    """
    G = cells.groups
    whole = int(mix.half_degree)
    frac = mix.half_degree - whole
    m = 0
    for a in range(a0, a1):
        while cells.start[own + 1] <= a:
            own += 1
        g = own - region * G
        k = whole + (1 if rng.uniform(key, a, 0) < frac else 0)
        for j in range(k):
            u = 1 + 6 * j
            r = region
            if region < cells.home and rng.uniform(key, a, u) >= mix.region:
                r = _home_region(cells, rng.uniform(key, a, u + 1))
            c = r * G + g
            if (rng.uniform(key, a, u + 2) >= mix.group
                    or cells.start[c + 1] - cells.start[c] < 1 + (c == own)):
                c = _cell_by_size(cells, r, rng.uniform(key, a, u + 3))
            if c < 0:
                continue
            clo, chi = cells.start[c], cells.start[c + 1]
            width = chi - clo
            x = rng.uniform(key, a, u + 4)
            if c == own:
                if width < 2:
                    continue
                h = min(mix.window // 2, (width - 1) // 2)
                if h >= 1 and rng.uniform(key, a, u + 5) < mix.local_share:
                    y = int(x * 2 * h)
                    d = y - h if y < h else y - h + 1
                    b = a + d  # (a - clo + d) mod width, as -width < a - clo + d < 2 width
                else:
                    b = a + 1 + int(x * (width - 1))
                if b >= chi:
                    b -= width
                elif b < clo:
                    b += width
            else:
                b = clo + int(x * width)
            ends[0, m] = a
            ends[1, m] = b
            m += 1
            if tally.shape[0]:
                gb = c - r * G
                _tally(tally, keep, a, g, gb == g, r == region)
                _tally(tally, keep, b, gb, gb == g, r == region)
    return m, own


@nb.njit(inline="always", cache=True)
def _place(indptr, indices, fill, a, b, keep):
    """Both ends of tie (a, b), in the rows kept: counted (slots a row needs, at the next
    row's offset) or written."""
    if keep[0] <= a < keep[1]:
        if fill:
            indptr[a] = put_tie(indices, indptr[a], a, b)
        else:
            indptr[a + 1] += tie_slots(a, b)
    if keep[0] <= b < keep[1]:
        if fill:
            indptr[b] = put_tie(indices, indptr[b], b, a)
        else:
            indptr[b + 1] += tie_slots(b, a)


@nb.njit(cache=True)
def _place_block(indptr, indices, fill, keep, ends, m):
    """Place ties ends[:, :m] in order, each other end's row prefetched some ties ahead (its
    offset first, then, when filling, the slot it points at)."""
    lo, hi = keep
    for i in range(m):
        if i + 2 * AHEAD < m:
            f = ends[1, i + 2 * AHEAD]
            if lo <= f < hi:
                prefetch(indptr, f + (0 if fill else 1))
        if fill and i + AHEAD < m:
            f = ends[1, i + AHEAD]
            if lo <= f < hi:
                prefetch(indices, indptr[f])
        _place(indptr, indices, fill, ends[0, i], ends[1, i], keep)


@nb.njit(cache=True)
def _range_pass(indptr, indices, fill, first, end, seed, layer, mix, cells, keep, tally):
    """Count (fill=False) or place (fill=True) the ties agents [first, end) start in tie layer
    ``layer``, region by region; returns their number."""
    G = cells.groups
    whole = int(mix.half_degree)
    agents = max(1, BATCH // (whole + 1))
    ends = np.empty((2, agents * (whole + 1)), np.int64)
    mine = np.zeros_like(tally)  # this thread's own (the ranges' tallies share cache lines)
    started = 0
    for r in range((cells.start.shape[0] - 1) // G):
        lo, hi = max(cells.start[r * G], first), min(cells.start[r * G + G], end)
        key = rng.stream(seed, 0, rng.BUILD_TIES, rng.tie_region(layer, r))
        own = r * G
        for a0 in range(lo, hi, agents):
            m, own = _draw_block(a0, min(a0 + agents, hi), r, own, key, mix, cells, keep,
                                 mine, ends)
            started += m
            _place_block(indptr, indices, fill, keep, ends, m)
    tally += mine
    return started


@nb.njit(parallel=True, cache=True)
def _layer_pass(indptr, more, indices, fill, bounds, seed, layer, mix, cells, keep, tally):
    """One pass over a layer's ties, starter range k = [bounds[k], bounds[k + 1]) on its own
    thread: range 0 counts into (or places by) ``indptr``, range k > 0 by ``more[k - 1]``, and
    tallies into tally[k] (if it has rows). Returns the number of ties."""
    started = np.zeros(bounds.shape[0] - 1, np.int64)
    for k in nb.prange(bounds.shape[0] - 1):
        rows = indptr if k == 0 else more[k - 1]
        started[k] = _range_pass(rows, indices, fill, bounds[k], bounds[k + 1], seed, layer,
                                 mix, cells, keep, tally[k])
    return started.sum()


@nb.njit(cache=True)
def _cross_pass(indptr, indices, fill, seed, spec, keep, cells, tally):
    """Ties from each agent in [lo, hi) to agents drawn uniformly in [tlo, thi): kin at home
    of the diaspora abroad (``spec``: a ``_Cross``). Counts degrees (fill=False) or places
    both ends; returns the number of ties; tallies each end in ``tally`` (if it has rows)."""
    layer, lo, hi, per_agent, tlo, thi, city, group = spec
    key = rng.stream(seed, 0, rng.BUILD_TIES, rng.tie_cross(layer, city, group))
    whole = int(per_agent)
    frac = per_agent - whole
    count = 0
    if thi <= tlo:
        return 0
    G = cells.groups
    for a in range(lo, hi):
        k = whole + (1 if rng.uniform(key, a, 0) < frac else 0)
        ca = np.searchsorted(cells.start, a, side="right") - 1
        for j in range(k):
            b = tlo + int(rng.uniform(key, a, j + 1) * (thi - tlo))
            count += 1
            _place(indptr, indices, fill, a, b, keep)
            if tally.shape[0]:
                cb = np.searchsorted(cells.start, b, side="right") - 1
                same_group, same_region = ca % G == cb % G, ca // G == cb // G
                _tally(tally, keep, a, ca % G, same_group, same_region)
                _tally(tally, keep, b, cb % G, same_group, same_region)
    return count


class _Cross(NamedTuple):
    """Kin at home of one city's enrolled group abroad: ties from [lo, hi) to [tlo, thi)."""

    layer: int
    lo: int
    hi: int
    per_agent: float
    tlo: int
    thi: int
    city: int
    group: int


def _cross_ties(scenario: Scenario, people: People, ties: list[str]) -> list[_Cross]:
    """The kin ties at home of each city's diaspora."""
    out = []
    rs, cs = people.region_start, people.cell_start
    G = len(people.group_names)
    home_end = int(rs[len(scenario.population.regions)])
    for c, (name, city) in enumerate(scenario.overseas.items()):
        if city.kin_home <= 0:
            continue
        r = people.region_names.index(name)
        for g, gname in enumerate(people.group_names):
            if gname in city.groups and city.groups[gname].enrolled:
                lo, hi = int(cs[r * G + g]), int(cs[r * G + g + 1])
                out.append(_Cross(ties.index(city.kin_layer), lo, hi, float(city.kin_home), 0,
                                  home_end, c, g))
    return out


@nb.njit(cache=True)
def _offsets(indptr, more, lo, hi):
    """Each range's slot counts per row (indptr[a + 1]: range 0's in a's row, more[k, a + 1]:
    range k + 1's) made into where each range writes: indptr[a] the row's first slot,
    more[k, a] the first slot of range k + 1's ties in it; indptr[hi] the layer's slots."""
    pos = 0
    for a in range(lo, hi):
        c = indptr[a + 1]
        indptr[a] = pos
        pos += c
        for k in range(more.shape[0]):
            c = more[k, a + 1]
            more[k, a] = pos
            pos += c
    indptr[hi] = pos


def _mixing(layer: Layer) -> Mixing:
    return Mixing(float(layer.mean_degree) / 2, float(layer.assortativity.group),
                  float(layer.assortativity.region), float(layer.local_share),
                  int(layer.local_window))


def _cells(scenario: Scenario, people: People) -> Cells:
    home = len(scenario.population.regions)
    rs = people.region_start
    sizes = np.diff(rs[: home + 1]).astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(sizes) / max(sizes.sum(), 1.0)])
    return Cells(people.cell_start.astype(np.int64), len(people.group_names), home, cum)


class TieRows(NamedTuple):
    """The tie layers' rows of a range of agents (``network.ties`` encoding) and their counts."""

    base: np.ndarray  # int64[Lt + 1]: each layer's first slot
    indptr: np.ndarray  # int32 or int64[Lt, n + 1]: row offsets within the layer
    indices: np.ndarray  # int16[slots]
    count: np.ndarray  # int64[Lt]: directed ties (both ends) per layer, of every agent
    mixing: np.ndarray  # int64[Lt, G, 3]: per group, its members' (of the range) ties, of
    # them within the group, within the region


def build_ties(scenario: Scenario, people: People, ties: list[str], seed: int,
               window: Window, ranges: int | None = None) -> TieRows:
    """The tie layers' rows of the agents in ``window``, in two passes over every tie's draws:
    count each kept row's slots, then fill. Slots are numbered from the window's first row
    (kernels read the rows of its agents alone). ``ranges``: the starter ranges drawn side by
    side (default: one per Numba thread, at most MAX_RANGES); the rows are the same for any."""
    n = people.n
    lo, hi = window.lo, window.hi
    keep = (np.int64(lo), np.int64(hi))
    cells = _cells(scenario, people)
    mixes = [_mixing(scenario.layers[name]) for name in ties]
    cross = _cross_ties(scenario, people, ties)
    k = max(1, min(ranges or min(nb.get_num_threads(), MAX_RANGES), n))
    bounds = np.array([n * j // k for j in range(k + 1)], np.int64)
    G = len(people.group_names)
    # slots per row fit int32
    tie_indptr = window.zeros((len(ties), n + 1), np.int32, extra=1)
    more = [window.zeros((k - 1, n + 1), np.int32, extra=1) for _ in ties]
    tie_count = np.zeros(len(ties), np.int64)  # directed ties (both ends) per layer
    tally = np.zeros((len(ties), k, G, 3), np.int64)
    none = np.zeros(0, np.int16)
    for l in range(len(ties)):
        tie_count[l] = 2 * _layer_pass(tie_indptr[l], more[l], none, False, bounds, seed, l,
                                       mixes[l], cells, keep, tally[l])
    for spec in cross:  # after every region's ties, in the last range's share of each row
        last = more[spec.layer][-1] if k > 1 else tie_indptr[spec.layer]
        tie_count[spec.layer] += 2 * _cross_pass(last, none, False, seed, spec, keep, cells,
                                                 tally[spec.layer, -1])
    slots = [int(np.sum(tie_indptr[l, lo + 1:hi + 1], dtype=np.int64))
             + int(np.sum(more[l][:, lo + 1:hi + 1], dtype=np.int64)) for l in range(len(ties))]
    if max(slots, default=0) >= np.iinfo(np.int32).max:  # a layer past 2**31 slots
        tie_indptr, more = _wide(tie_indptr, window), [_wide(m, window) for m in more]
    tie_base = np.concatenate([[0], np.cumsum(slots)]).astype(np.int64)
    tie_indices = np.empty(int(tie_base[-1]), dtype=np.int16)
    no_tally = np.zeros((k, 0, 3), np.int64)
    for l in range(len(ties)):
        row = tie_indptr[l]  # each range's cursors advance in place to its ties' end
        _offsets(row, more[l], lo, hi)
        rows = tie_indices[tie_base[l] : tie_base[l + 1]]
        _layer_pass(row, more[l], rows, True, bounds, seed, l, mixes[l], cells, keep, no_tally)
        last = more[l][-1] if k > 1 else row
        for spec in cross:
            if spec.layer == l:
                _cross_pass(last, rows, True, seed, spec, keep, cells, no_tally[0])
        row[lo + 1:hi + 1] = last[lo:hi].copy()  # the last range ends where the next row starts
        row[lo] = 0
        more[l] = None
    return TieRows(tie_base, tie_indptr, tie_indices, tie_count, tally.sum(axis=1))


def _wide(a: np.ndarray, window: Window) -> np.ndarray:
    """An int64 copy of row offsets (of the window's rows)."""
    out = window.zeros(a.shape, np.int64, extra=1)
    out[..., window.lo:window.hi + 1] = a[..., window.lo:window.hi + 1]
    return out
