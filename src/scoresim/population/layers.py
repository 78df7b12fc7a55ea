"""The multiplex network: group layers as memberships, tie layers as one CSR.

Group layers (households, work teams) store no edges: each agent's group id, and the groups'
member ranges. Tie layers (kin, friends) are random tie networks within each region, built in
two passes over counter-based edge draws (count degrees, then fill), so no edge list is ever
held beside the CSR and the build peak stays near the final size.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ..core import rng
from ..core.memory import Window
from ..network import Network
from ..network.groups import HINT_SHIFT
from ..network.ties import put_tie, tie_slots
from ..scenario.schema import Layer, Scenario, ZipfSize
from .people import People, build_rng


def size_distribution(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """Group sizes and their probabilities."""
    if isinstance(layer.size, ZipfSize):
        sizes = np.arange(layer.size.min, layer.size.max + 1)
        p = sizes.astype(np.float64) ** -(1.0 + layer.size.zipf)
    else:
        sizes = np.array(sorted(layer.size), dtype=np.int64)
        p = np.array([layer.size[s] for s in sorted(layer.size)], dtype=np.float64)
    return sizes, p / p.sum()


def _cut_into_groups(n: int, sizes: np.ndarray, p: np.ndarray, gen: np.random.Generator):
    """Group sizes that add up to exactly n (the last group is cut to fit)."""
    mean = float(np.dot(sizes, p))
    out, total = [], 0
    while total < n:
        batch = gen.choice(sizes, size=int((n - total) / mean * 1.05) + 16, p=p)
        out.append(batch)
        total += int(batch.sum())
    s = np.concatenate(out)
    ends = np.cumsum(s)
    k = int(np.searchsorted(ends, n))  # first group reaching n
    s = s[: k + 1].copy()
    s[k] -= int(ends[k] - n)
    return s[s > 0]


def _build_groups(people: People, layer: Layer, l: int, seed: int, regions: list[int]):
    """One group layer of some regions: members in group order, and group sizes."""
    sizes, p = size_distribution(layer)
    rs = people.region_start
    members, group_sizes = [], []
    for r in regions:
        lo, hi = int(rs[r]), int(rs[r + 1])
        gen = build_rng(seed, 2, l, r)
        if layer.kind == "group" and layer.coverage >= 1.0 and l == 0:
            order = np.arange(lo, hi, dtype=np.int32)  # the first group layer is contiguous
        else:
            order = (lo + gen.permutation(hi - lo)).astype(np.int32)
        k = int(round(layer.coverage * (hi - lo)))
        order = order[:k]
        if k:
            group_sizes.append(_cut_into_groups(k, sizes, p, gen))
            members.append(order)
    if not members:
        return np.zeros(0, np.int32), np.zeros(0, np.int64)
    return np.concatenate(members), np.concatenate(group_sizes).astype(np.int64)


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


@nb.njit(cache=True)
def _tie_pass(indptr, indices, fill, lo, hi, seed, layer, region, mix, cells, keep):
    """Count degrees (fill=False) or place both ends of each tie (fill=True) of the ties the
    agents [lo, hi) of one region start; returns their number. Only the rows of agents in
    ``keep`` = (first, end) are counted or filled (a partition's range; the draws of every
    tie are made, so the rows are those of the whole population's build).

    Agent a starts floor(half_degree) ties, one more with probability frac(half_degree), so its
    degree is about half_degree + Poisson(half_degree). Each tie stays in a's region with
    probability ``mix.region`` (else joins a home region drawn by size), then in a's group
    with probability ``mix.group`` (else a cell of that region drawn by size), then is an agent
    of that cell: nearby (at most window/2 places away: agents are laid out household by
    household) with probability ``mix.local_share`` when the cell is a's own, else anyone.
    """
    key = rng.stream(seed, 0, rng.BUILD_TIES, rng.tie_region(layer, region))
    G = cells.groups
    whole = int(mix.half_degree)
    frac = mix.half_degree - whole
    started = 0
    own = region * G
    for a in range(lo, hi):
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
                    b = clo + (a - clo + d) % width
                else:
                    b = clo + (a - clo + 1 + int(x * (width - 1))) % width
            else:
                b = clo + int(x * width)
            started += 1
            _place(indptr, indices, fill, a, b, keep)
    return started


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
def _cross_pass(indptr, indices, fill, seed, spec, keep):
    """Ties from each agent in [lo, hi) to agents drawn uniformly in [tlo, thi): kin at home
    of the diaspora abroad (``spec``: a ``_Cross``). Counts degrees (fill=False) or places
    both ends; returns the number of ties."""
    layer, lo, hi, per_agent, tlo, thi, city, group = spec
    key = rng.stream(seed, 0, rng.BUILD_TIES, rng.tie_cross(layer, city, group))
    whole = int(per_agent)
    frac = per_agent - whole
    count = 0
    if thi <= tlo:
        return 0
    for a in range(lo, hi):
        k = whole + (1 if rng.uniform(key, a, 0) < frac else 0)
        for j in range(k):
            b = tlo + int(rng.uniform(key, a, j + 1) * (thi - tlo))
            count += 1
            _place(indptr, indices, fill, a, b, keep)
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


def _held(people: People, window: Window) -> tuple[list[int], Window]:
    """The regions a range reaches, and the agents they hold: a group layer is built for
    whole regions (a work team may straddle a cut, and its firm is rated where its owner is)."""
    rs = people.region_start
    regions = [r for r in range(len(rs) - 1)
               if rs[r] < rs[r + 1] and rs[r] < window.hi and rs[r + 1] > window.lo]
    if window.whole or not regions:
        return list(range(len(rs) - 1)), window
    return regions, Window(people.n, int(rs[regions[0]]), int(rs[regions[-1] + 1]))


def build_network(scenario: Scenario, people: People, seed: int,
                  window: Window | None = None) -> Network:
    """The network of a population. ``window``: the range of agents whose rows are kept (a
    partition's; default all): tie rows of the range alone (the ties others start toward it
    are drawn again, from the same counter-based draws), group layers of the regions it
    reaches (numbered in those regions)."""
    n = people.n
    window = window or Window(n, 0, n)
    regions, hold = _held(people, window)
    groups = [k for k, v in scenario.layers.items() if v.kind == "group"]
    ties = [k for k, v in scenario.layers.items() if v.kind == "ties"]

    group_row = np.full(len(groups), -1, np.int64)
    id_rows: list[np.ndarray] = []
    starts, member_parts, offs = [np.zeros(1, np.int64)], [], [0]
    base_member = member_base = 0
    span = np.arange(hold.lo, hold.hi) if groups else None
    for l, name in enumerate(groups):
        members, sizes = _build_groups(people, scenario.layers[name], l, seed, regions)
        if l == 0 and len(members) == hold.hi - hold.lo and np.array_equal(members, span):
            # households are runs of agents: no member array, no id row; their member
            # positions are the agents themselves, below member_base (the held agents')
            ends = hold.lo + np.cumsum(sizes)
            member_base = base_member = hold.hi
        else:
            ends = base_member + np.cumsum(sizes)
            member_parts.append(members)
            row = hold.zeros((n,), np.int32, fill=-1)
            row[members] = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
            group_row[l] = len(id_rows)
            id_rows.append(row)
            base_member = int(ends[-1]) if len(ends) else base_member
        starts.append(np.concatenate([[hold.lo], ends]) if l == 0 and member_base else ends)
        offs.append(offs[-1] + len(sizes))
    group_ids = _stack(id_rows, n, hold)
    del id_rows
    if member_base:  # the runs layer's first start is its first agent, not 0
        starts = starts[1:]
    group_start = np.concatenate(starts)
    if group_start.size and group_start[-1] < np.iinfo(np.int32).max:  # half the bytes
        group_start = group_start.astype(np.int32)
    group_members = np.concatenate(member_parts) if member_parts else np.zeros(0, np.int32)
    group_hint = np.zeros(0, np.int32)
    if member_base and groups:  # households: the group of every 64th agent
        h = ((max(n, 1) - 1) >> HINT_SHIFT) + 1
        first, end = hold.lo >> HINT_SHIFT, ((max(hold.hi, 1) - 1) >> HINT_SHIFT) + 1
        group_hint = Window(h, first, end).zeros((h,), np.int32)
        every = np.maximum(np.arange(first, end, dtype=np.int64) << HINT_SHIFT, hold.lo)
        group_hint[first:end] = np.searchsorted(group_start[: offs[1] + 1], every,
                                                side="right") - 1
    tie_base, tie_indptr, tie_indices, tie_count = _build_ties(scenario, people, ties, seed,
                                                               window)
    return Network(n, groups, ties, group_row, group_ids, np.array(offs, np.int64),
                   group_start, group_members, group_hint, member_base, tie_base, tie_indptr,
                   tie_indices, tie_count, window=window, hold=hold)


def _stack(rows: list[np.ndarray], n: int, hold: Window) -> np.ndarray:
    """The group layers' id rows as one array (of the held agents alone, in a range)."""
    if not rows:
        return np.zeros((0, n), np.int32)
    if hold.whole:
        return np.stack(rows)
    out = hold.zeros((len(rows), n), np.int32)
    for k, r in enumerate(rows):
        out[k, hold.lo:hold.hi] = r[hold.lo:hold.hi]
    return out


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


def _build_ties(scenario: Scenario, people: People, ties: list[str], seed: int,
                window: Window):
    """The tie layers' rows (engine.ties encoding) of the agents in ``window``, in two
    passes over every tie's draws: count each kept row's slots, then fill; no edge list is
    ever held. Slots are numbered from the window's first row (kernels read the rows of its
    agents alone)."""
    n, rs = people.n, people.region_start
    lo, hi = window.lo, window.hi
    keep = (np.int64(lo), np.int64(hi))
    mixes = [_mixing(scenario.layers[name]) for name in ties]
    cells = _cells(scenario, people)
    cross = _cross_ties(scenario, people, ties)
    # slots per row fit int32
    tie_indptr = window.zeros((len(ties), n + 1), np.int32, extra=1)
    tie_count = np.zeros(len(ties), np.int64)  # directed ties (both ends) per layer
    for l in range(len(ties)):
        for r in range(len(rs) - 1):
            tie_count[l] += 2 * _tie_pass(tie_indptr[l], tie_indptr[l], False, rs[r],
                                          rs[r + 1], seed, l, r, mixes[l], cells, keep)
    for spec in cross:
        tie_count[spec.layer] += 2 * _cross_pass(tie_indptr[spec.layer], tie_indptr[spec.layer],
                                                 False, seed, spec, keep)
    slots = [int(np.sum(tie_indptr[l, lo + 1:hi + 1], dtype=np.int64))
             for l in range(len(ties))]
    if max(slots, default=0) >= np.iinfo(np.int32).max:  # a layer past 2**31 slots
        wide = window.zeros(tie_indptr.shape, np.int64, extra=1)
        wide[:, lo:hi + 1] = tie_indptr[:, lo:hi + 1]
        tie_indptr = wide
    tie_base = np.concatenate([[0], np.cumsum(slots)]).astype(np.int64)
    tie_indices = np.empty(int(tie_base[-1]), dtype=np.int16)
    for l in range(len(ties)):
        row = tie_indptr[l, lo:hi + 1]
        np.cumsum(row, out=row)
        cursor = tie_indptr[l]  # advanced in place to the row ends, then shifted back
        rows = tie_indices[tie_base[l] : tie_base[l + 1]]
        for r in range(len(rs) - 1):
            _tie_pass(cursor, rows, True, rs[r], rs[r + 1], seed, l, r, mixes[l], cells, keep)
        for spec in cross:
            if spec.layer == l:
                _cross_pass(cursor, rows, True, seed, spec, keep)
        row[1:] = row[:-1].copy()
        row[0] = 0
    return tie_base, tie_indptr, tie_indices, tie_count
