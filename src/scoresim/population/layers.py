"""The multiplex network: group layers as memberships, tie layers as one CSR.

Group layers (households, work teams) store no edges: each agent's group id, and the groups'
member ranges. Tie layers (kin, friends) are random tie networks with homophily (ties.py),
built in two passes over counter-based edge draws (count degrees, then fill), so no edge list
is ever held beside the CSR and the build peak stays near the final size.
"""

from __future__ import annotations

import numpy as np

from ..core.memory import Window
from ..network import Network
from ..network.groups import HINT_SHIFT
from ..scenario.schema import Layer, Scenario, ZipfSize
from .people import People, build_rng
from .ties import build_ties


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
    t = build_ties(scenario, people, ties, seed, window)
    return Network(n, groups, ties, group_row, group_ids, np.array(offs, np.int64),
                   group_start, group_members, group_hint, member_base, t.base, t.indptr,
                   t.indices, t.count, t.mixing, window=window, hold=hold)


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
