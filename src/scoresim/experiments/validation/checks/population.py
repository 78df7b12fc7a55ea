"""The synthetic households against China's 2020 census (docs/validation.md §1)."""

from __future__ import annotations

import numpy as np

from ..registry import Check, CheckResult, Context, Row, band, over_seeds, register

AGENTS = {"quick": 100_000, "full": 1_000_000}
MEAN_SIZE = 2.62  # 1,292.81 M people in 494.16 M family households
ONE_PERSON = 0.2539
MEAN_ADDRESS = "https://m.takefoto.cn/viewnews-2486157.html"
ONE_PERSON_ADDRESS = "http://platform.bbs.cnool.net/10794301.html"


def household_sizes(agents: int, seed: int) -> np.ndarray:
    """The size of every household of the national scenario's people."""
    from ....scenario import load_scenario
    from ....sim import build_population

    net = build_population(load_scenario("national"), agents, seed).network
    layer = net.group_layers.index("household")
    return np.diff(net.group_start[net.group_off[layer]: net.group_off[layer + 1] + 1])


def households(ctx: Context) -> CheckResult:
    """Mean household size and the share of one-person households, over seeds."""
    sizes = [household_sizes(AGENTS[ctx.mode], seed) for seed in range(1, ctx.seeds + 1)]
    rows = []
    for figure, pub, values, tol, source, address in (
            ("mean household size", MEAN_SIZE, [float(s.mean()) for s in sizes], 0.01,
             "China's 2020 census: 1,292.81 M people in 494.16 M family households "
             "(sources §5.1 [V])", MEAN_ADDRESS),
            ("share of one-person households", ONE_PERSON,
             [float(np.mean(s == 1)) for s in sizes], 0.02,
             "China's 2020 census: one-person households 25.39% (sources §5.1 [V])",
             ONE_PERSON_ADDRESS)):
        mean, lo, hi, n = over_seeds(values)
        accepted, words = band(pub, tolerance=tol)
        rows.append(Row(figure=figure, published=pub, simulated=mean, low=lo, high=hi,
                        seeds=n, band=accepted, tolerance=words, role="fitted", source=source,
                        address=address,
                        note="the size table is the census's (the 6+ tail recalled, [K]): "
                             "its mean is 2.614"))
    return CheckResult(rows, notes=[f"{AGENTS[ctx.mode]:,} agents a seed."])


register(Check(
    name="households", title="Households: mean size 2.62, one-person share about 25%",
    section="docs/validation.md §1", source="China's 2020 census (sources §5.1)",
    tolerance="mean within 1%, one-person share within 2% (relative)", run=households))
