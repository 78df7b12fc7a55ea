"""The chilling shock against Penney 2016 and Marthews & Tucker 2017 (docs/validation.md §8):
the built-in ``chilling-shock`` and its counterfactual (scoring off, the same population and
draws); the fall in the month after the revelation of the sensitive reading (about 20%) and of
the broad searches (about 5%), both fitted by hand, and the trend after it flattened (not
fitted: the sensitive reading's monthly trend under 30% of the counterfactual's)."""

from __future__ import annotations

import numpy as np

from ..from_targets import seed_band
from ..registry import Check, CheckResult, Context, Row, Series, band, over_seeds, register
from ..runs import RunSpec

SCENARIO = "chilling-shock"
DAYS, SHOCK = 730, 365
AGENTS = {"quick": 12_000, "full": 50_000}
PENNEY = ("https://docslib.org/doc/3525307/chilling-effects-online-surveillance-and-"
          "wikipedia-use-jonathon-w")
MARTHEWS = "https://papers.ssrn.com/sol3/papers.cfm?abstract_id=2412564"


def _pairs(ctx: Context) -> list[tuple[RunSpec, RunSpec]]:
    return [(RunSpec(SCENARIO, AGENTS[ctx.mode], DAYS, seed),
             RunSpec(SCENARIO, AGENTS[ctx.mode], DAYS, seed, scoring=False))
            for seed in range(1, ctx.seeds + 1)]


def _needs(ctx: Context) -> list[RunSpec]:
    return [s for pair in _pairs(ctx) for s in pair]


def _acts(daily, behaviour: str) -> np.ndarray:
    return daily[f"acts_{behaviour}"].to_numpy(np.float64)


def _month(x: np.ndarray, k: int) -> float:
    """The acts in the k-th 30 days after the shock (k = 0: the first)."""
    return float(x[SHOCK + 30 * k: SHOCK + 30 * k + 30].sum())


def _trend(x: np.ndarray) -> float:
    """The monthly trend of months 2-12 after the shock (least squares slope)."""
    months = np.arange(1, 12)
    return float(np.polyfit(months, [_month(x, k) for k in months], 1)[0])


def chilling_shock(ctx: Context) -> CheckResult:
    """The falls in the first month and the flattened trend, over seeds."""
    runs = [(ctx.runs.daily(a), ctx.runs.daily(b)) for a, b in _pairs(ctx)]
    rows = []
    for behaviour, pub, tol, source, address in (
            ("sensitive_reading", 0.20, 0.15, "Penney 2016: views of 48 privacy-sensitive "
             "Wikipedia articles fell about 20% at once (sources §3.9 [V])", PENNEY),
            ("broad_search", 0.05, 0.3, "Marthews & Tucker 2017: government-sensitive "
             "searches fell about 5% (sources §3.9 [V])", MARTHEWS)):
        falls = [1 - _month(_acts(d, behaviour), 0) / _month(_acts(c, behaviour), 0)
                 for d, c in runs]
        mean, lo, hi, n = over_seeds(falls)
        accepted, words = band(pub, tolerance=tol)
        rows.append(Row(figure=f"fall of {behaviour.replace('_', ' ')} in the month after "
                        "the shock", name=f"fall_{behaviour}", published=pub, simulated=mean,
                        low=lo, high=hi, seeds=n, band=accepted, tolerance=words,
                        role="fitted", source=source, address=address,
                        note="fitted by hand (the shock's salience, broad_search's "
                             "sensitivity)"))
    ratio = [_trend(_acts(d, "sensitive_reading")) / _trend(_acts(c, "sensitive_reading"))
             for d, c in runs]
    mean, lo, hi, n = over_seeds(ratio)
    rows.append(Row(figure="sensitive reading's monthly trend after the shock, over the "
                    "counterfactual's", name="trend_ratio", published=None, simulated=mean,
                    low=lo, high=hi, seeds=n, band=(-0.3, 0.3),
                    tolerance="flat or falling: under 30% of the counterfactual's",
                    role="property", source="Penney 2016: the rising trend turned flat or "
                    "falling (sources §3.9 [V])", address=PENNEY, note="not fitted"))
    series = []
    for label, i in (("with the system", 0), ("without it (counterfactual)", 1)):
        daily = np.stack([_acts(pair[i], "sensitive_reading") for pair in runs])
        mean, lo, hi = seed_band(daily)
        series.append(Series(f"sensitive_reading_{i}", f"Sensitive reading a day, {label}",
                             "acts", np.arange(daily.shape[1]), mean, lo, hi))
    return CheckResult(rows, series=series, notes=[
        f"{AGENTS[ctx.mode]:,} agents x {DAYS} days, {len(runs)} seeds; the counterfactual "
        "is the same run with scoring off (the same population and draws)."])


register(Check(
    name="chilling-shock", title="Chilling shock: about 20% at once, 5% for broad terms, "
    "the trend flattened", section="docs/validation.md §8",
    source="Penney 2016; Marthews & Tucker 2017 (sources §3.9)",
    tolerance="falls within 15% and 30% (relative); the trend under 30% of the "
    "counterfactual's", run=chilling_shock, needs=_needs))
