"""The calibrated ``national`` scenario against the Supreme People's Court's published figures
(docs/validation.md §3-§6): the list's first nine months and the interception system's first
month (targets file national-early), the list's stock and flows 2013-2025 (national-spc), the
travel denials to 2019 (national-travel), the stock's turning point, and the per-capita results
at two sizes. Fitted and held-out figures are reported alike."""

from __future__ import annotations

from datetime import date

import numpy as np

from ...targets import load_targets
from ..from_targets import seed_band, target_rows, target_series
from ..registry import Check, CheckResult, Context, Row, Series, over_seeds, register
from ..runs import RunSpec

SCENARIO = "national"
START = date(2013, 11, 1)  # national's day 0
EARLY_DAYS = (date(2014, 8, 3) - START).days + 1  # to the interception system's first month
LONG_DAYS = (date(2025, 12, 31) - START).days + 1  # to the end of 2025
# agents a seed: "early" the short runs of the first months (their figures are small),
# "long" the runs to 2025, "small" the smaller size the per-capita results are compared at
SIZES = {"quick": {"early": 600_000, "long": 25_000, "small": 10_000},
         "full": {"early": 4_000_000, "long": 400_000, "small": 100_000}}


def _specs(ctx: Context, size: str, days: int) -> list[RunSpec]:
    return [RunSpec(SCENARIO, SIZES[ctx.mode][size], days, seed)
            for seed in range(1, ctx.seeds + 1)]


def _dailies(ctx: Context, size: str, days: int) -> list:
    specs = _specs(ctx, size, days)
    ctx.runs.ensure(specs)
    return [ctx.runs.daily(s) for s in specs]


def _from_file(ctx: Context, file: str, size: str, days: int) -> CheckResult:
    """The rows and series of every figure of a targets file."""
    ts = load_targets(file)
    dailies = _dailies(ctx, size, days)
    agents = SIZES[ctx.mode][size]
    rows = target_rows(ts, ts.targets, dailies, agents)
    return CheckResult(rows, target_series(ts, ts.targets, dailies, agents, rows),
                       notes=[f"{agents:,} agents x {days:,} days, {len(dailies)} seeds."])


def spc_early(ctx: Context) -> CheckResult:
    """national-early: every figure of the first nine months and the first month of flight
    interception."""
    return _from_file(ctx, "national-early", "early", EARLY_DAYS)


def spc_stock_flows(ctx: Context) -> CheckResult:
    """national-spc's figures of the list (ever listed, flows, repayments), and the stock."""
    res = _from_file(ctx, "national-spc", "long", LONG_DAYS)
    dailies = _dailies(ctx, "long", LONG_DAYS)
    res.series.append(_stock_series(dailies, SIZES[ctx.mode]["long"]))
    return res


def travel(ctx: Context) -> CheckResult:
    """national-travel's flight and rail denials and their ratios."""
    return _from_file(ctx, "national-travel", "long", LONG_DAYS)


def _stock(dailies: list, agents: int) -> np.ndarray:
    """The list's stock in real people, one row per seed."""
    pop = load_targets("national-spc").population or 1.0
    return np.stack([d["listed_dishonest_debtors"].to_numpy(np.float64) for d in dailies]) \
        * pop / agents


def _stock_series(dailies: list, agents: int) -> Series:
    stock = _stock(dailies, agents)
    mean, lo, hi = seed_band(stock)
    return Series("listed_now", "Debtors on the list (the stock; not published)", "people",
                  np.arange(stock.shape[1]), mean, lo, hi, start=START)


# year-end stock changes derived from the published flows (sources §1.2 [D]): in minus out
PUBLISHED_CHANGE = {2023: 3_208_000 - 2_083_000, 2024: 2_457_000 - 2_821_000,
                    2025: 2_339_800 - 2_669_600}
FLOWS_ADDRESS = "https://reportify.ai/news/1195738498351632384"


def turning_point(ctx: Context) -> CheckResult:
    """The stock rises every year through 2023 and falls in 2024 and 2025: each year's change
    of the year-end stock (mean over seeds) has the published sign."""
    dailies = _dailies(ctx, "long", LONG_DAYS)
    stock = _stock(dailies, SIZES[ctx.mode]["long"])
    rows = []
    for year in range(2014, 2026):
        end, before = ((date(y, 12, 31) - START).days for y in (year, year - 1))
        mean, lo, hi, n = over_seeds(list(stock[:, end] - stock[:, before]))
        rises = year <= 2023
        pub = PUBLISHED_CHANGE.get(year)
        rows.append(Row(
            figure=f"change of the stock in {year}", name=f"stock_change_{year}", published=pub,
            simulated=mean, low=lo, high=hi, seeds=n,
            band=(0.0, np.inf) if rises else (-np.inf, 0.0),
            tolerance="rises (> 0)" if rises else "falls (< 0)",
            role="property", unit="people",
            source=("new listings minus exits [D] (sources §1.2)" if pub is not None else
                    "new listings exceeded exits every year to 2023 (sources §1.2: 2024 "
                    "the first decline)"),
            address=FLOWS_ADDRESS,
            note="" if pub is None else "the sign is the check; the size is for comparison"))
    return CheckResult(rows, notes=["Year-end stock in real people; the stock itself is not "
                                    "published (sources §1.1: a gap), only its flows."])


def agreement(ctx: Context) -> CheckResult:
    """national-spc's and national-travel's figures per capita at two sizes agree within
    their seed intervals."""
    big, small = (_dailies(ctx, s, LONG_DAYS) for s in ("long", "small"))
    large, little = [], {}
    for file in ("national-spc", "national-travel"):
        ts = load_targets(file)
        large += target_rows(ts, ts.targets, big, SIZES[ctx.mode]["long"])
        little.update((r.name, r) for r in target_rows(ts, ts.targets, small,
                                                       SIZES[ctx.mode]["small"]))
    rows = []
    n_big, n_small = SIZES[ctx.mode]["long"], SIZES[ctx.mode]["small"]
    for r in large:
        s = little[r.name]
        lo, hi = (r.low, r.high) if np.isfinite(r.low) else (r.simulated, r.simulated)
        rows.append(Row(
            figure=r.figure, name=r.name, published=r.simulated, simulated=s.simulated,
            low=s.low, high=s.high, seeds=s.seeds, band=(lo, hi),
            tolerance=f"inside the {n_big:,}-agent interval (overlapping it: inconclusive)",
            role="agreement", unit=r.unit, source=f"the same figure at {n_big:,} agents",
            note=f"at {n_small:,} agents against {n_big:,}"))
    return CheckResult(rows, notes=[f"The reference column is the {n_big:,}-agent mean; the "
                                    f"simulated one the {n_small:,}-agent mean and interval."])


def _early_needs(ctx: Context) -> list[RunSpec]:
    return _specs(ctx, "early", EARLY_DAYS)


def _long_needs(ctx: Context) -> list[RunSpec]:
    return _specs(ctx, "long", LONG_DAYS)


def _both_needs(ctx: Context) -> list[RunSpec]:
    return [*_long_needs(ctx), *_specs(ctx, "small", LONG_DAYS)]


FROM_FILE = "fitted within 10%; held out within a factor of 1.5"  # as the targets files
FIRST_MONTHS = "the list's first nine months and the interception system's first month"
register(Check(
    name="spc-early", title="SPC: " + FIRST_MONTHS + " (2013-2014)",
    section="docs/validation.md §3",
    source="China Daily 2014-03-04, China Youth Daily 2014-08-11 (sources §1.1, §1.3)",
    tolerance=FROM_FILE, run=spc_early,
    needs=_early_needs))
register(Check(
    name="spc-stock-flows", title="SPC: the list's stock and flows, 2013-2025",
    section="docs/validation.md §4",
    source="SPC, Xinhua, People's Daily (sources §1.1, §1.2)",
    tolerance=FROM_FILE, run=spc_stock_flows,
    needs=_long_needs))
register(Check(
    name="travel-denials", title="Flight and rail denials and their ratio, 2017-2019",
    section="docs/validation.md §4", source="China Daily, NPCIC, SPC (sources §1.3)",
    tolerance=FROM_FILE, run=travel,
    needs=_long_needs))
register(Check(
    name="stock-turning-point", title="The list's stock rises through 2023, falls in 2024 "
    "and 2025", section="docs/validation.md §4",
    source="the published flows (sources §1.2)", tolerance="the sign of each year's change",
    run=turning_point, needs=_long_needs))
register(Check(
    name="size-agreement", title="Per-capita results agree at two sizes",
    section="docs/validation.md §4", source="the model itself",
    tolerance="the smaller size's mean inside the larger size's seed interval",
    run=agreement, needs=_both_needs))
