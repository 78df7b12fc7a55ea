"""Synthesise agents from aggregate shares: regions, groups and trait propensities.

Agents are laid out sorted by region, then by group, so every (region, group) cell is one
contiguous range of agent indices. That makes picking "someone of the same region and group"
(a false match) one draw, keeps households local in memory, and lets a later partitioning by
region cut the arrays without copying.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.memory import Window
from ..network import PeopleArrays
from ..scenario.schema import Scenario


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts that sum to ``total`` and are as close as possible to total*shares."""
    raw = np.asarray(shares, dtype=np.float64) * total / np.sum(shares)
    counts = np.floor(raw).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def build_rng(seed: int, *key: int) -> np.random.Generator:
    """A NumPy generator keyed by (seed, *key): each region's build is independent of others."""
    return np.random.default_rng([seed, *key])


@dataclass
class People:
    """The synthetic agents: region, group and traits (built by ``build_people``)."""

    n: int
    region: np.ndarray  # uint8[n]
    group: np.ndarray  # uint8[n]
    cell_start: np.ndarray  # int64[R*G + 1]: agents of (r, g) are cell_start[r*G+g] : [r*G+g+1]
    propensity: np.ndarray  # float32[T, n], each trait divided by its distribution's mean
    region_names: list[str]
    group_names: list[str]
    trait_names: list[str]
    _max_propensity: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def region_start(self) -> np.ndarray:
        """int64[R + 1]: the first agent of each region (agents are ordered by region, then
        group), then n."""
        g = len(self.group_names)
        return self.cell_start[:: g].copy()

    @property
    def max_propensity(self) -> np.ndarray:
        """float64[T]: the largest propensity each trait can take (its distribution's highest
        value over its mean): the bound acts are thinned from, the same in every range of
        the population and at any size."""
        return self._max_propensity

    @property
    def arrays(self) -> PeopleArrays:
        """The arrays kernels read, as one argument."""
        return PeopleArrays(self.region, self.group, self.cell_start, self.propensity)

    def nbytes(self, window: Window | None = None) -> int:
        """Bytes held by the per-agent arrays (of a window's range of them, if given)."""
        w = window or Window(self.n, 0, self.n)
        return (self.region.nbytes + self.group.nbytes + self.cell_start.nbytes
                + w.nbytes(self.propensity))


def shares(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Each region's share of all agents, and each group's share within each region."""
    pop, abroad = scenario.population, scenario.overseas
    regions, groups = scenario.region_names(), scenario.group_names()
    home = 1.0 - sum(c.share for c in abroad.values())
    r_share = np.array([pop.regions[r].share * home if r in pop.regions else abroad[r].share
                        for r in regions])
    g_share = np.zeros((len(regions), len(groups)))
    for k, r in enumerate(regions):
        spec = pop.groups if r in pop.regions else abroad[r].groups
        for g, grp in spec.items():
            g_share[k, groups.index(g)] = grp.share
    return r_share, g_share


CHUNK_DRAWS = 1 << 20  # trait values drawn at a time (a range keeps only its own)


def build_people(scenario: Scenario, n: int, seed: int, window: Window | None = None) -> People:
    """The synthetic agents. ``window``: the range of them whose traits are kept (a
    partition's; default all). Region and group are kept for everyone (2 bytes an agent):
    effects name agents anywhere, and kernels read their region and group."""
    window = window or Window(n, 0, n)
    pop = scenario.population
    regions, groups = scenario.region_names(), scenario.group_names()
    r_share, g_share = shares(scenario)
    n_r = largest_remainder(n, r_share)
    cells = np.concatenate([largest_remainder(int(k), g_share[r]) for r, k in enumerate(n_r)])
    cell_start = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum(cells, out=cell_start[1:])

    region = np.repeat(np.arange(len(regions), dtype=np.uint8), n_r)
    group = np.repeat(np.tile(np.arange(len(groups), dtype=np.uint8), len(regions)), cells)

    traits = list(pop.traits)
    propensity = window.zeros((len(traits), n), np.float32, fill=1.0)
    region_start = np.concatenate([[0], np.cumsum(n_r)])
    for t, name in enumerate(traits):
        spec = pop.traits[name]
        mean = spec.mean()
        for r in range(len(regions)):
            lo, hi = int(region_start[r]), int(region_start[r + 1])
            if hi <= window.lo or lo >= window.hi:
                continue  # a region the window does not reach: its draws are not needed
            rng = build_rng(seed, 1, t, r)
            # drawn a chunk at a time (the same values as in one go): the range keeps its own
            for c0 in range(lo, min(hi, window.hi), CHUNK_DRAWS):
                c1 = min(hi, window.hi, c0 + CHUNK_DRAWS)
                if spec.beta is not None:
                    vals = rng.beta(spec.beta[0], spec.beta[1], size=c1 - c0)
                elif spec.uniform is not None:
                    vals = rng.uniform(spec.uniform[0], spec.uniform[1], size=c1 - c0)
                else:
                    vals = np.full(c1 - c0, spec.constant)
                a0 = max(c0, window.lo)
                if a0 < c1:
                    vals = vals[a0 - c0:]
                    propensity[t, a0:c1] = vals / mean if mean > 0 else 0.0
    top = np.array([pop.traits[t].highest() / pop.traits[t].mean()
                    if pop.traits[t].mean() > 0 else 0.0 for t in traits], np.float64)
    return People(n, region, group, cell_start, propensity, regions, groups, traits, top)
