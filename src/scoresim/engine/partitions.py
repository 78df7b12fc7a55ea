"""One population split into contiguous agent ranges (partitions): the split, and the routing
of effect records (engine/effects.py) between ranges.

A range runs every stage of the day on its own agents (engine/day.py); what lands on agents
of another range is an effect record, sent to the ranges that hold its receivers and merged
there in range order (sorted by the kind's order key where the receiving kernel's result
depends on the order). Every draw is keyed by (seed, day, stage, agent, draw), so the
partitioned run equals the single-process run bit for bit. No Ray here: the actors and the
driver are in ``experiments/partitioned.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.constants import BLOCK
from .effects import EFFECTS


def split(region_start: np.ndarray, k: int) -> np.ndarray:
    """K + 1 boundaries of K contiguous agent ranges: whole regions, as balanced as possible,
    when there are at least K regions; else multiples of the act stage's 4,096-agent blocks."""
    n = int(region_start[-1])
    starts = np.unique(np.asarray(region_start, np.int64))
    if k < 1:
        raise ValueError("partitions must be at least 1")
    if len(starts) - 1 >= k:  # choose k - 1 inner region starts nearest the even cuts
        inner = starts[1:-1]
        cuts, lo = [], 0
        for j in range(1, k):
            free = inner[(inner > lo) & (np.arange(len(inner)) < len(inner) - (k - 1 - j))]
            best = int(free[np.argmin(np.abs(free - n * j / k))])
            cuts.append(best)
            lo = best
        return np.array([0, *cuts, n], np.int64)
    blocks = (n + BLOCK - 1) // BLOCK
    if blocks < k:
        raise ValueError(f"{n} agents make only {blocks} blocks of {BLOCK}: too few for "
                         f"{k} partitions")
    return np.array([min(n, round(blocks * j / k) * BLOCK) for j in range(k + 1)], np.int64)


def owner(agents: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The partition holding each agent (-1 for -1: nobody)."""
    out = np.searchsorted(bounds, agents, side="right") - 1
    return np.where(np.asarray(agents) < 0, -1, out)


def route(kind: str, record: Any, bounds: np.ndarray) -> list[Any]:
    """A range's records of one kind, split by destination range: each record goes once to
    every range holding one of its receivers (to every range, for a kind with none)."""
    spec = EFFECTS[kind]
    k = len(bounds) - 1
    if not spec.to:
        return [record] * k
    dest = np.zeros((record[0].shape[0], k), np.bool_)
    for name in spec.to:
        where = owner(getattr(record, name), bounds)
        where = where if where.ndim > 1 else where[:, None]
        for col in range(where.shape[1]):
            ok = where[:, col] >= 0
            dest[np.flatnonzero(ok), where[ok, col]] = True
    return [type(record)(*(a[dest[:, j]] for a in record)) for j in range(k)]


def merge(kind: str, parts: list[Any]) -> Any:
    """The records of one kind sent to a range by every range, in range order, sorted by the
    kind's order key (stably) where its receiver needs an order."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    record = type(parts[0])(*(np.concatenate(a) for a in zip(*parts, strict=True)))
    order = EFFECTS[kind].order
    if order and record[0].shape[0]:
        keys = [getattr(record, name) for name in reversed(order)]
        idx = np.lexsort(keys)
        record = type(record)(*(a[idx] for a in record))
    return record


def firm_owners(net, bounds: np.ndarray) -> np.ndarray:
    """The partition of each group's owner (its first member): the one that rates it."""
    pos = net.group_start[:-1].astype(np.int64)
    base = int(net.member_base)
    members = np.where(pos < base, pos, 0)
    past = pos >= base
    members[past] = net.group_members[pos[past] - base]
    return owner(members, bounds)
