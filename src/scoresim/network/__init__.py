"""The multiplex network's encodings, below both the population (which builds them) and the
engine (which reads them): group layers as memberships (``groups``), tie layers as narrow CSR
rows (``ties``), and the ``Network`` that holds them with its two kernel bundles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..core.memory import Window
from . import ties as tie_rows
from .groups import HINT_SHIFT


class GroupArrays(NamedTuple):
    """The group layers (households, work teams) as kernels read them (``groups.group_id``,
    ``groups.member_at``)."""

    row: np.ndarray  # int64[Lg]: layer l's row in ``ids``, -1 for the runs layer
    ids: np.ndarray  # int32[layers with a row, n]
    off: np.ndarray  # int64[Lg + 1]: layer l's groups are off[l] : off[l + 1]
    start: np.ndarray  # member positions of each group (over all layers) + 1
    hint: np.ndarray  # int32: the runs layer's group of every 64th agent
    members: np.ndarray  # int32: memberships past member_base
    member_base: int  # member positions below it are the agents themselves


class PeopleArrays(NamedTuple):
    """Who each agent is, as kernels read it: its region, its group, its traits, and where each
    (region, group) cell of agents starts (agents are laid out region by region, group by
    group)."""

    region: np.ndarray  # uint8[n]
    group: np.ndarray  # uint8[n]
    cell_start: np.ndarray  # int64[R * G + 1]
    propensity: np.ndarray  # float32[traits, n], each divided by its distribution's mean


class TieArrays(NamedTuple):
    """The tie layers (kin, friends) as kernels read them (``ties.tie_at``)."""

    base: np.ndarray  # int64[Lt + 1]: each layer's first slot
    indptr: np.ndarray  # int32 or int64[Lt, n + 1]: row offsets within the layer
    indices: np.ndarray  # int16[slots]


@dataclass
class Network:
    """Every layer of one population's network (built by ``population.build_network``)."""

    n: int
    group_layers: list[str]
    tie_layers: list[str]
    # group ids of the group layers that store them: layer l's row is group_row[l] (-1: the
    # layer is runs of consecutive agents, households, and ids are found by bisecting its
    # member ranges; see groups.group_id). -1 where the agent is in no group.
    group_row: np.ndarray  # int64[Lg]
    group_ids: np.ndarray  # int32[layers with a row, n]
    group_off: np.ndarray  # int64[Lg + 1]: layer l's groups are group_off[l] : group_off[l+1]
    group_start: np.ndarray  # int32 (int64 past 2**31)[total groups + 1]: member positions
    group_members: np.ndarray  # int32[memberships past member_base]
    # the runs layer's group of agents 0, 64, 128, ... (groups.group_id)
    group_hint: np.ndarray  # int32[n / 64 + 1]
    # member positions below member_base are the agents themselves (the first group layer,
    # households, is laid out as runs of consecutive agents); see groups.member_at
    member_base: int
    # tie layers, in the narrow encoding of ties: layer l's rows are
    # tie_base[l] + tie_indptr[l, a] : tie_base[l] + tie_indptr[l, a + 1]
    tie_base: np.ndarray  # int64[Lt + 1]
    tie_indptr: np.ndarray  # int32 (int64 past 2**31 slots in a layer)[Lt, n + 1]
    tie_indices: np.ndarray  # int16[slots]: an offset, or FAR and the index's two halves
    tie_count: np.ndarray  # int64[Lt]: directed ties (both ends) per layer
    # per tie layer and group, its members' ties (of the window's agents), of them within the
    # group, within the region: counted as the rows are built (they never change)
    tie_mixing: np.ndarray  # int64[Lt, G, 3]
    # the agents whose tie rows are kept (a partition's range), and those of the regions it
    # reaches, whose group layers are kept (core/memory.py); None: everyone
    window: Window | None = None
    hold: Window | None = None
    _bundles: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def groups(self) -> GroupArrays:
        """The group layers' arrays as one kernel argument."""
        return self._kernel_bundles()[0]

    @property
    def ties(self) -> TieArrays:
        """The tie layers' arrays as one kernel argument."""
        return self._kernel_bundles()[1]

    def _kernel_bundles(self) -> tuple[GroupArrays, TieArrays]:
        if self._bundles is None:  # built once: a network never changes during a run
            self._bundles = (
                GroupArrays(self.group_row, self.group_ids, self.group_off, self.group_start,
                            self.group_hint, self.group_members, int(self.member_base)),
                TieArrays(self.tie_base, self.tie_indptr, self.tie_indices))
        return self._bundles

    def nbytes(self) -> int:
        """Bytes held by the network's arrays (of its window's range, in a partition)."""
        w = self.window or Window(self.n, 0, self.n)
        hold = self.hold or w
        hint = self.group_hint
        hint_w = (Window(hint.shape[0], hold.lo >> HINT_SHIFT,
                         ((max(hold.hi, 1) - 1) >> HINT_SHIFT) + 1) if not hold.whole
                  else Window(hint.shape[0], 0, hint.shape[0]))
        return (sum(a.nbytes for a in (self.group_row, self.group_off, self.group_start,
                                       self.group_members, self.tie_base, self.tie_indices,
                                       self.tie_count, self.tie_mixing))
                + hold.nbytes(self.group_ids) + hint_w.nbytes(hint)
                + w.nbytes(self.tie_indptr))

    def groups_of(self, l: int) -> np.ndarray:
        """Every agent's group id in group layer l (-1: none), as int32[n]."""
        r = int(self.group_row[l])
        if r >= 0:
            return self.group_ids[r]
        lo, hi = int(self.group_off[l]), int(self.group_off[l + 1])
        sizes = np.diff(self.group_start[lo : hi + 1])
        return np.repeat(np.arange(hi - lo, dtype=np.int32), sizes)

    def group_of_agents(self, l: int, agents: np.ndarray) -> np.ndarray:
        """The group ids in group layer l of these agents (-1: none), without a full row."""
        r = int(self.group_row[l])
        if r >= 0:
            return self.group_ids[r, agents]
        lo, hi = int(self.group_off[l]), int(self.group_off[l + 1])
        return (np.searchsorted(self.group_start[lo : hi + 1], agents, side="right") - 1).astype(
            np.int32)

    def neighbours(self, l: int, a: int) -> np.ndarray:
        """Agent a's neighbours in tie layer l, in row order."""
        return tie_rows.row(self.ties, l, a)

    def degrees(self, l: int) -> np.ndarray:
        """Every agent's number of ties in tie layer l."""
        return tie_rows.layer_degrees(self.ties, l)

    def counts(self) -> dict:
        """Integer totals over the agents of the window (all, in one process) that the
        network's summary is made of (``network_summary``): per group layer, the agents'
        links summed; per tie layer, each group's ties, of them within the group, within the
        region. The totals of ranges add up to the whole population's."""
        w = self.window or Window(self.n, 0, self.n)
        links = {}
        for l, name in enumerate(self.group_layers):
            lo, hi = int(self.group_off[l]), int(self.group_off[l + 1])
            start = self.group_start[lo:hi + 1].astype(np.int64)
            sizes = np.diff(start)
            if int(self.group_row[l]) < 0:  # runs of agents: a group's members in the window
                inside = np.clip(np.minimum(start[1:], w.hi) - np.maximum(start[:-1], w.lo),
                                 0, None)
            else:
                pos = np.arange(start[0], start[-1]) - self.member_base
                agents = self.group_members[pos]
                mine = (agents >= w.lo) & (agents < w.hi)
                inside = np.add.reduceat(mine.astype(np.int64), start[:-1] - start[0]) if (
                    sizes.size and pos.size) else np.zeros(sizes.size, np.int64)
                inside = np.where(sizes > 0, inside, 0)
            links[name] = int(np.sum(inside * np.maximum(sizes - 1, 0)))
        mixing = {name: self.tie_mixing[l] for l, name in enumerate(self.tie_layers)}
        return {"links": links, "mixing": mixing,
                "tie_count": {name: int(self.tie_count[l])
                              for l, name in enumerate(self.tie_layers)}}


def network_summary(parts: list[dict], n: int, group_names: list[str]) -> dict[str, dict]:
    """summary.json's ``network`` from the ``Network.counts`` of every range: per layer, the
    mean number of others each agent is linked to; per tie layer, the realised share of each
    group's members' ties that stay within its group and within its region (None: the group
    has no ties in the layer)."""
    out: dict[str, dict] = {}
    for name in parts[0]["links"]:
        total = sum(p["links"][name] for p in parts)
        out[name] = {"mean_degree": float(total / n) if n else 0.0}
    for name, count in parts[0]["tie_count"].items():
        m = sum(p["mixing"][name] for p in parts)
        out[name] = {
            "mean_degree": float(count / n) if n else 0.0,
            "same_group_share": {x: _share(m, g, 1) for g, x in enumerate(group_names)},
            "same_region_share": {x: _share(m, g, 2) for g, x in enumerate(group_names)},
        }
    return out


def _share(counts: np.ndarray, g: int, k: int) -> float | None:
    return float(counts[g, k] / counts[g, 0]) if counts[g, 0] else None
