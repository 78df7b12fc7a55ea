"""Synthetic populations: shares, cell layout, households, work teams and tie layers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import Z, assert_binomial, assert_near, layer_members, minimal_scenario
from scoresim import build_population, load_scenario
from scoresim.population.layers import size_distribution

N = 200_000


def _largest_remainder(total: int, shares) -> np.ndarray:
    """An independent implementation: floors, then +1 to the largest fractional parts."""
    raw = [s * total / sum(shares) for s in shares]
    counts = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return np.array(counts)


def _group_sizes(net, layer: int) -> np.ndarray:
    return layer_members(net, layer)[1]


def _edges(net, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """Every directed CSR entry of a tie layer as (source, target)."""
    deg = net.degrees(layer)
    src = np.repeat(np.arange(len(deg), dtype=np.int64), deg)
    dst = np.concatenate([net.neighbours(layer, a) for a in range(len(deg))] or [src[:0]])
    return src, dst


# ---------------------------------------------------------------- regions, groups, cells
def test_region_and_group_counts_follow_largest_remainder(default_population):
    sc, pop = default_population
    ppl = pop.people
    r_shares = [r.share for r in sc.population.regions.values()]
    g_shares = [g.share for g in sc.population.groups.values()]
    n_r = np.bincount(ppl.region, minlength=len(r_shares))
    np.testing.assert_array_equal(n_r, _largest_remainder(N, r_shares))
    G = len(g_shares)
    cells = np.bincount(ppl.region.astype(np.int64) * G + ppl.group, minlength=len(r_shares) * G)
    for r in range(len(r_shares)):
        np.testing.assert_array_equal(cells[r * G : (r + 1) * G],
                                      _largest_remainder(int(n_r[r]), g_shares))
    n_g = np.bincount(ppl.group, minlength=G)
    for g, share in enumerate(g_shares):  # one rounding per region at most
        assert abs(n_g[g] - N * share) <= len(r_shares)
    assert ppl.n == N == len(ppl.region) == len(ppl.group)


def test_cells_are_contiguous_and_match_cell_start(default_population):
    _, pop = default_population
    ppl = pop.people
    G = len(ppl.group_names)
    cell = ppl.region.astype(np.int64) * G + ppl.group
    assert np.all(np.diff(cell) >= 0), "agents must be sorted by (region, group)"
    expected_start = np.searchsorted(cell, np.arange(len(ppl.cell_start)), side="left")
    np.testing.assert_array_equal(ppl.cell_start, expected_start)
    for c in range(len(ppl.cell_start) - 1):
        lo, hi = ppl.cell_start[c], ppl.cell_start[c + 1]
        assert np.all(cell[lo:hi] == c)
    rs = ppl.region_start
    assert rs[0] == 0 and rs[-1] == N and len(rs) == len(ppl.region_names) + 1
    for r in range(len(rs) - 1):
        assert np.all(ppl.region[rs[r] : rs[r + 1]] == r)


def test_propensity_is_normalised_by_the_distribution_mean(default_population):
    sc, pop = default_population
    a, b = sc.population.traits["dissent"].beta
    m = pop.people.propensity[0].astype(np.float64)
    # beta(a, b) / mean: mean 1, variance var / mean^2 = b / (a (a + b + 1))
    var = b / (a * (a + b + 1))
    assert_near(m.mean(), 1.0, math.sqrt(var / N), "mean propensity")
    assert m.min() >= 0
    mu4 = float(np.mean((m - m.mean()) ** 4))  # SE of a sample variance: sqrt((mu4 - var^2)/n)
    assert_near(m.var(), var, math.sqrt((mu4 - var**2) / N), "propensity variance")


def test_population_build_is_reproducible_and_seeded(default_population):
    sc, pop = default_population
    again = build_population(sc, N, 3)
    other = build_population(sc, N, 4)
    for name in ("region", "group", "cell_start", "propensity"):
        np.testing.assert_array_equal(getattr(pop.people, name), getattr(again.people, name))
    for name in ("group_ids", "group_off", "group_start", "tie_base", "tie_indptr",
                 "tie_indices"):
        np.testing.assert_array_equal(getattr(pop.network, name), getattr(again.network, name))
    assert not np.array_equal(pop.network.tie_indices, other.network.tie_indices)
    assert not np.array_equal(pop.people.propensity, other.people.propensity)


# ---------------------------------------------------------------- group layers
def test_household_sizes_match_the_census_distribution(default_population):
    sc, pop = default_population
    net = pop.network
    layer = net.group_layers.index("household")
    sizes = _group_sizes(net, layer)
    assert sizes.sum() == N and sizes.min() >= 1 and sizes.max() <= 10
    values, p = size_distribution(sc.layers["household"])
    mean = float(np.dot(values, p))
    sd = math.sqrt(float(np.dot(values**2, p)) - mean**2)
    H = len(sizes)
    # the last household of each region is cut to fit: allow that as well
    assert_near(sizes.mean(), mean, sd / math.sqrt(H) + len(pop.people.region_names) * 10 / H,
                "mean household size")
    assert abs(sizes.mean() - 2.62) < 0.03  # China 2020 census (DESIGN.md)
    assert_binomial(int(np.sum(sizes == 1)), H, float(p[0]), "one-person households")
    assert abs(np.mean(sizes == 1) - 0.25) < 0.01
    # every size's share, 5 SE each
    for v, pv in zip(values, p, strict=True):
        assert_binomial(int(np.sum(sizes == v)), H, float(pv), f"households of size {v}")


def test_group_of_matches_group_members(default_population):
    _, pop = default_population
    net = pop.network
    for l, name in enumerate(net.group_layers):
        members, sizes = layer_members(net, l)
        ids = np.repeat(np.arange(len(sizes)), sizes)
        np.testing.assert_array_equal(net.groups_of(l)[members], ids, err_msg=name)
        assert len(np.unique(members)) == len(members), f"{name}: an agent in two groups"
        outside = np.ones(N, bool)
        outside[members] = False
        assert np.all(net.groups_of(l)[outside] == -1), f"{name}: stray group ids"
        assert np.all(sizes >= 1)
        # groups never cross regions
        reg = pop.people.region[members]
        first = np.repeat(reg[np.r_[0, np.cumsum(sizes)[:-1]]], sizes)
        np.testing.assert_array_equal(reg, first, err_msg=f"{name}: a group spans regions")


def test_households_are_contiguous_and_cover_everyone(default_population):
    _, pop = default_population
    net = pop.network
    l = net.group_layers.index("household")
    members, _ = layer_members(net, l)
    np.testing.assert_array_equal(members, np.arange(N))
    assert np.all(np.diff(net.groups_of(l)) >= 0)


def test_work_layer_coverage_and_team_sizes(default_population):
    sc, pop = default_population
    net = pop.network
    l = net.group_layers.index("work")
    spec = sc.layers["work"]
    covered = net.groups_of(l) >= 0
    rs = pop.people.region_start
    for r in range(len(rs) - 1):
        k = int(covered[rs[r] : rs[r + 1]].sum())
        assert k == round(spec.coverage * (rs[r + 1] - rs[r])), f"region {r} work coverage"
    assert abs(covered.mean() - spec.coverage) < 1e-4
    sizes = _group_sizes(net, l)
    assert sizes.max() <= spec.size.max and sizes.min() >= 1
    values, p = size_distribution(spec)
    mean = float(np.dot(values, p))
    sd = math.sqrt(float(np.dot(values**2, p)) - mean**2)
    assert_near(sizes.mean(), mean, sd / math.sqrt(len(sizes)) + 100 / len(sizes),
                "mean work team size")
    # the workforce is a random subset: it should not be only the first agents of a region
    first = covered[: rs[1]]
    assert_binomial(int(first[: len(first) // 2].sum()), len(first) // 2, spec.coverage,
                    "coverage in the first half of region 0")


def test_group_layer_mean_degree_reported(default_population):
    _, pop = default_population
    net = pop.network
    md = {name: v["mean_degree"] for name, v in pop.network_summary().items()}
    for l, name in enumerate(net.group_layers):
        s = _group_sizes(net, l).astype(np.float64)
        assert md[name] == pytest.approx(float(np.sum(s * (s - 1))) / N)


# ---------------------------------------------------------------- tie layers
@pytest.mark.parametrize("layer_name", ["kin", "friends"])
def test_tie_layer_is_symmetric_within_region_without_self_ties(default_population, layer_name):
    sc, pop = default_population
    net = pop.network
    l = net.tie_layers.index(layer_name)
    ptr = net.tie_indptr[l]
    assert np.all(np.diff(ptr) >= 0) and ptr[0] == 0
    # layers tile tie_indices
    assert net.tie_base[l + 1] - net.tie_base[l] == ptr[-1]
    assert net.tie_base[0] == 0 and net.tie_base[-1] == len(net.tie_indices)
    src, dst = _edges(net, l)
    assert np.all((dst >= 0) & (dst < N))
    assert not np.any(src == dst), "self-tie"
    # a tie stays in its starter's region with probability rho (the layer's assortativity by
    # region), else joins a home region drawn by size, maybe its own again
    region = pop.people.region
    rho = sc.layers[layer_name].assortativity.region
    home = len(sc.population.regions)
    shares = np.bincount(region, minlength=home)[:home] / np.sum(region < home)
    expected = rho + (1 - rho) * float(np.sum(shares**2))
    ties = len(src) / 2  # each tie is in both rows
    same = float(np.mean(region[src] == region[dst]))
    assert_near(same, expected, Z * math.sqrt(expected * (1 - expected) / ties), "same region")
    # symmetric as a multiset: each (a, b) entry has a matching (b, a) entry
    fwd = np.sort(src * N + dst)
    bwd = np.sort(dst * N + src)
    np.testing.assert_array_equal(fwd, bwd)


@pytest.mark.parametrize("layer_name", ["kin", "friends"])
def test_tie_layer_degree_distribution(default_population, layer_name):
    sc, pop = default_population
    net = pop.network
    l = net.tie_layers.index(layer_name)
    d = sc.layers[layer_name].mean_degree
    deg = net.degrees(l).astype(np.float64)
    frac = d / 2 - math.floor(d / 2)  # a fractional half degree is drawn agent by agent
    assert_near(deg.mean(), d, 2 * math.sqrt(frac * (1 - frac) / N) + 2e-4, "mean degree")
    assert pop.network_summary()[layer_name]["mean_degree"] == pytest.approx(deg.mean())
    # random ties, no hubs: dispersion at most that of a Poisson degree
    assert 0 < deg.var() <= d * (1 + Z * math.sqrt(2 / N) * 3)
    assert deg.max() < 5 * d
    # ends are spread evenly over each region: degree is uncorrelated with the agent index
    rs = pop.people.region_start
    for r in range(len(rs) - 1):
        part = deg[rs[r] : rs[r + 1]]
        corr = np.corrcoef(np.arange(len(part)), part)[0, 1]
        assert abs(corr) < Z / math.sqrt(len(part)), f"region {r}: index-degree correlation"


def test_small_tie_layer_in_tiny_regions():
    """Regions too small for ties (0 or 1 agent) get none, and the CSR stays well formed."""
    sc = load_scenario(minimal_scenario(
        population={"regions": {"all": {"share": 0.999}, "tiny": {"share": 0.001}}},
        layers={"kin": {"kind": "ties", "mean_degree": 4}},
    ))
    pop = build_population(sc, 1000, 1)
    net = pop.network
    assert net.tie_indptr.shape == (1, 1001)
    src, dst = _edges(net, 0)
    assert not np.any(src == dst)
    assert np.all(pop.people.region[src] == pop.people.region[dst])
    tiny = np.flatnonzero(pop.people.region == 1)
    assert len(tiny) == 1 and net.degrees(0)[tiny[0]] == 0


def _window_rows(rows, lo: int, hi: int) -> tuple:
    """The parts of a TieRows that a window holds (its row offsets, slots, counts)."""
    return rows.indptr[:, lo:hi + 1].copy(), rows.indices, rows.count, rows.mixing


@pytest.mark.parametrize("name", ["default", "overseas-venue"])
def test_tie_rows_are_the_same_for_any_number_of_starter_ranges(name):
    """The build draws ranges of starters side by side (one per thread): the rows, counts and
    tallies are those of one range, in a partition's window too (overseas-venue has kin ties
    from abroad, placed after every region's)."""
    from scoresim.core.memory import Window
    from scoresim.population import build_people
    from scoresim.population.ties import build_ties

    sc = load_scenario(name)
    n = 30_000
    ties = [k for k, v in sc.layers.items() if v.kind == "ties"]
    for lo, hi in ((0, n), (7_001, 19_999)):
        window = Window(n, lo, hi)
        people = build_people(sc, n, 5, window)
        one = _window_rows(build_ties(sc, people, ties, 5, window, ranges=1), lo, hi)
        assert one[0][:, -1].sum() > 0
        for k in (2, 3, 7):
            got = _window_rows(build_ties(sc, people, ties, 5, window, ranges=k), lo, hi)
            for want, part in zip(one, got, strict=True):
                np.testing.assert_array_equal(part, want, err_msg=f"{name} {lo}-{hi} k={k}")


@pytest.mark.parametrize("window", [None, (9_000, 21_000)])
def test_tie_mixing_counted_at_build_matches_the_rows(window):
    """The network summary's ties within group and region, tallied as the rows are built,
    are those read back from the rows (of a partition's window alone, when it has one)."""
    from scoresim.core.memory import Window

    sc = load_scenario("overseas-venue")
    n = 30_000
    w = Window(n, *window) if window else None
    pop = build_population(sc, n, 2, w)
    net, people = pop.network, pop.people
    lo, hi = window or (0, n)
    G = len(people.group_names)
    mixing = pop.network_counts()["mixing"]
    for l, name in enumerate(net.tie_layers):
        want = np.zeros((G, 3), np.int64)
        for a in range(lo, hi):
            b = net.neighbours(l, a)
            g = people.group[a]
            want[g] += (len(b), np.sum(people.group[b] == g),
                        np.sum(people.region[b] == people.region[a]))
        assert want[:, 0].sum() > 0
        np.testing.assert_array_equal(mixing[name], want, err_msg=name)
