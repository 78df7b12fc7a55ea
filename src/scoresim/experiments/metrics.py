"""The metrics a comparison reports, per run, and their means with 95% intervals across seeds.

Counts are turned into rates a reader can compare across population sizes and run lengths
(per 1,000 people, per year); shares stay fractions of all agents. Every metric of a run is
one float, so that the difference between two systems under the same seed is one
subtraction, and a system compared with itself gives exactly zero.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core.constants import CAUSES

# resamples of the bootstrap over seeds; its generator is seeded, so a comparison's intervals
# are reproducible to the bit
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (scipy.stats).

    Args:
        df: degrees of freedom, at least 1.

    Returns:
        The quantile: the half-width of a 95% t-interval in standard errors.
    """
    from scipy import stats

    if df < 1:
        raise ValueError("df must be at least 1")
    return float(stats.t.ppf(0.975, df))


def _finite(values: Iterable[float]) -> np.ndarray:
    return np.asarray([x for x in values if x is not None and np.isfinite(x)], np.float64)


def interval(values: Iterable[float]) -> dict[str, float | int]:
    """Mean and 95% t-interval of the finite values; with one value, no interval (NaN).

    For quantities without bounds (differences between systems); a share or a rate takes
    :func:`bounded_interval`, which stays inside its range.

    Args:
        values: one value per seed (None and NaN are left out).

    Returns:
        ``{"mean", "lo", "hi", "n"}``.
    """
    v = _finite(values)
    n = int(v.size)
    if n == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    if np.all(v == v[0]):  # no spread: the mean is the value itself, bit for bit
        mean, half = float(v[0]), 0.0
    else:
        mean = float(v.mean())
        half = t975(n - 1) * float(v.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    if n == 1:
        return {"mean": mean, "lo": math.nan, "hi": math.nan, "n": 1}
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "n": n}


def bounded_interval(values: Iterable[float]) -> dict[str, float | int]:
    """Mean and 95% percentile-bootstrap interval of the mean over seeds (scipy.stats).

    A bootstrap mean lies between the smallest and the largest value, so the interval of a
    share stays in [0, 1] and that of a rate or a count above zero. With few seeds it is
    narrow (two seeds give their two values): use five or more for a statement.

    Args:
        values: one value per seed (None and NaN are left out).

    Returns:
        ``{"mean", "lo", "hi", "n"}``; with one value, no interval (NaN).
    """
    from scipy import stats

    v = _finite(values)
    n = int(v.size)
    if n < 2 or np.all(v == v[0]):
        return interval(v)
    res = stats.bootstrap((v,), np.mean, n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                          confidence_level=0.95, vectorized=True,
                          rng=np.random.default_rng(BOOTSTRAP_SEED))
    # a resampled mean lies between the extremes; clip what rounding puts past them
    lo = max(float(res.confidence_interval.low), float(v.min()))
    hi = min(float(res.confidence_interval.high), float(v.max()))
    mean = float(v.mean())
    return {"mean": mean, "lo": min(lo, mean), "hi": max(hi, mean), "n": n}


def bootstrap_bands(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% percentile-bootstrap band over seeds, for each column of ``values``.

    Args:
        values: one row per seed, one column per day (NaN where undefined).

    Returns:
        ``(mean, lo, hi)`` per column; the band is NaN with fewer than two seeds.
    """
    from scipy import stats

    x = np.asarray(values, np.float64)
    with warnings.catch_warnings():  # a day undefined in every seed: its mean is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=0) if x.size else np.zeros(x.shape[1])
    lo = np.full(x.shape[1], np.nan)
    hi = lo.copy()
    ok = np.all(np.isfinite(x), axis=0)
    if x.shape[0] >= 2 and ok.any():
        res = stats.bootstrap((x[:, ok],), np.mean, axis=0, n_resamples=999,
                              method="percentile", vectorized=True,
                              rng=np.random.default_rng(BOOTSTRAP_SEED))
        lo[ok] = np.maximum(res.confidence_interval.low, x[:, ok].min(axis=0))
        hi[ok] = np.minimum(res.confidence_interval.high, x[:, ok].max(axis=0))
        flat = np.all(x[:, ok] == x[0, ok], axis=0)  # no spread: no band
        lo[np.flatnonzero(ok)[flat]] = mean[ok][flat]
        hi[np.flatnonzero(ok)[flat]] = mean[ok][flat]
    return mean, lo, hi


def wilson(count: float, total: float) -> tuple[float, float]:
    """95% Wilson score interval of a share ``count / total`` (scipy.stats.binomtest).

    Args:
        count: people (or events) with the property.
        total: people (or trials) in all.

    Returns:
        ``(lo, hi)``, inside [0, 1]; NaN for an empty total.
    """
    from scipy import stats

    k, n = int(round(count)), int(round(total))
    if n <= 0:
        return math.nan, math.nan
    ci = stats.binomtest(min(max(k, 0), n), n).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def expression_behaviours(scenario: Any) -> list[str]:
    """Behaviours that are lawful expression (``expression: true``): the chilling effect's base."""
    return [b for b, spec in scenario.behaviours.items() if spec.expression]


def chilling(acts: dict[str, float], cf_acts: dict[str, float],
             expression: Sequence[str]) -> dict[str, float]:
    """Relative fall in expression acts against the counterfactual, per behaviour and overall
    (1 - acts / counterfactual acts; NaN where the counterfactual has no acts)."""
    def fall(a: float, c: float) -> float:
        return 1.0 - a / c if c > 0 else math.nan

    out = {b: fall(acts[b], cf_acts[b]) for b in expression}
    if expression:
        out["overall"] = fall(sum(acts[b] for b in expression),
                              sum(cf_acts[b] for b in expression))
    return out


def chilling_by_group(acts: dict[str, dict[str, float]], cf_acts: dict[str, dict[str, float]],
                      expression: Sequence[str]) -> dict[str, dict[str, float]]:
    """The chilling effect per expression behaviour (and overall) per population group:
    1 - the group's acts / its counterfactual acts. Weighted by each group's counterfactual
    acts, a behaviour's values add up to its overall chilling."""
    def fall(a: float, c: float) -> float:
        return 1.0 - a / c if c > 0 else math.nan

    groups = list(next(iter(cf_acts.values()))) if cf_acts else []
    out = {b: {g: fall(acts[b][g], cf_acts[b][g]) for g in groups} for b in expression}
    if expression:
        out["overall"] = {g: fall(sum(acts[b][g] for b in expression),
                                  sum(cf_acts[b][g] for b in expression)) for g in groups}
    return out


def chilling_ratios(by_group: dict[str, dict[str, float]],
                    reference: str) -> dict[str, dict[str, float]]:
    """Each group's chilling over the reference (largest) group's, per behaviour."""
    def ratio(x: float, base: float) -> float:
        return x / base if base and math.isfinite(base) and math.isfinite(x) else math.nan

    return {b: {g: ratio(v, row[reference]) for g, v in row.items() if g != reference}
            for b, row in by_group.items()}


def reference_group(by_group: dict[str, dict[str, float]]) -> str:
    """The group disparities are measured against: the largest (the first one on a tie)."""
    return max(by_group, key=lambda g: by_group[g]["agents"])


def run_metrics(summary: dict[str, Any], daily: pd.DataFrame, cf: dict[str, Any],
                expression: Sequence[str]) -> dict[str, float]:
    """The flat metrics of one run against its counterfactual (``cf``: its final ``acts``
    and ``expression_acts_by_group``; empty: no chilling metrics)."""
    f, n, days = summary["final"], summary["agents"], summary["days"]
    per_1000 = 1000.0 / n
    per_1000_year = per_1000 * 365.0 / days if days else math.nan
    m: dict[str, float] = {}
    bg = f["by_group"]
    ref = reference_group(bg)
    if cf:
        for b, v in chilling(f["acts"], cf["acts"], expression).items():
            m[f"chilling.{b}"] = v
        by_group = chilling_by_group(f["expression_acts_by_group"],
                                     cf["expression_acts_by_group"], expression)
        for b, row in by_group.items():
            for g, v in row.items():
                m[f"chilling_by_group.{b}.{g}"] = v
        for b, row in chilling_ratios(by_group, ref).items():
            for g, v in row.items():
                m[f"disparity.chilling_ratio.{b}.{g}"] = v
    for key in ("ever_sanctioned_frac", "sanctioned_for_others_acts_frac",
                "sanctioned_for_expression_frac", "never_acted_sanctioned_frac",
                "sanctioned_frac"):
        m[key] = f[key]
    for cause in CAUSES:
        m[f"ever_sanctioned_by_cause.{cause}"] = f["ever_sanctioned_by_cause"][cause]
    for cause in ("false_match", "association"):
        m[f"sanctioned_for_others_acts_by_cause.{cause}"] = (
            f["sanctioned_for_others_acts_by_cause"][cause])
    for name, k in f["ever_sanctioned_people"].items():
        m[f"ever_sanctioned_people_per_1000.{name}"] = k * per_1000
        m[f"sanction_activations_per_1000_per_year.{name}"] = (
            f["sanction_activations"][name] * per_1000_year)
    m["false_attributions_per_1000_per_year"] = f["false_attributions"] * per_1000_year
    m["falsely_attributed_frac"] = f["falsely_attributed_frac"]
    for svc, k in f["denied"].items():
        m[f"denied_per_1000_per_year.{svc}"] = k * per_1000_year
    wrongly = sum(g["falsely_attributed_frac"] * g["agents"] for g in bg.values())
    for g, row in bg.items():
        if g != ref:
            base = bg[ref]["ever_sanctioned_frac"]
            m[f"disparity.ever_sanctioned_ratio.{g}"] = (
                row["ever_sanctioned_frac"] / base if base > 0 else math.nan)
    for g, row in bg.items():
        m[f"disparity.false_attribution_share.{g}"] = (
            row["falsely_attributed_frac"] * row["agents"] / wrongly if wrongly else math.nan)
    for name in f["ever_listed"]:
        m[f"lists.{name}.ever_listed_per_1000"] = f["ever_listed"][name] * per_1000
        m[f"lists.{name}.listed_now_per_1000"] = f["listed_now"][name] * per_1000
        for flow in ("listings", "delistings"):
            col = f"{flow}_{name}"
            total = float(daily[col].sum()) if col in daily else math.nan
            m[f"lists.{name}.{flow}_per_1000_per_year"] = total * per_1000_year
    return m


_LABELS = {
    "chilling": ("chilling effect: fall in {} acts vs no scoring", "share of acts"),
    "ever_sanctioned_frac": ("ever sanctioned", "share of people"),
    "never_acted_sanctioned_frac": ("sanctioned without ever committing a scored act",
                                    "share of people"),
    "sanctioned_for_others_acts_frac": ("sanctioned for others' acts (own acts alone would "
                                        "not have done it)", "share of people"),
    "sanctioned_for_others_acts_by_cause": ("sanctioned for others' acts, {} decisive",
                                            "share of people"),
    "sanctioned_for_expression_frac": ("sanctioned for lawful speech (not without penalties "
                                       "on expression)", "share of people"),
    "chilling_by_group": ("chilling effect on {}", "share of acts"),
    "disparity.chilling_ratio": ("chilling of {} / that of the largest group", "ratio"),
    "ever_sanctioned_people_per_1000": ("people ever under {}", "per 1,000 people"),
    "sanction_activations_per_1000_per_year": ("activations of {}",
                                               "per 1,000 people per year"),
    "sanctioned_frac": ("sanctioned at the end", "share of people"),
    "ever_sanctioned_by_cause": ("ever sanctioned through {}", "share of people"),
    "false_attributions_per_1000_per_year": ("false attributions (wrong person)",
                                             "per 1,000 people per year"),
    "falsely_attributed_frac": ("ever falsely attributed an act", "share of people"),
    "denied_per_1000_per_year": ("{} requests denied", "per 1,000 people per year"),
    "disparity.ever_sanctioned_ratio": ("ever-sanctioned rate of {} / that of the largest "
                                        "group", "ratio"),
    "disparity.false_attribution_share": ("{}'s share of falsely attributed people", "share"),
}
_CAUSE_WORDS = {"own": "their own scored acts", "false_match": "a false match",
                "association": "association (family, work, friends)"}
_LIST_WORDS = {"ever_listed_per_1000": ("ever on list {}", "per 1,000 people"),
               "listed_now_per_1000": ("on list {} at the end", "per 1,000 people"),
               "listings_per_1000_per_year": ("listings on {}", "per 1,000 people per year"),
               "delistings_per_1000_per_year": ("delistings from {}",
                                                "per 1,000 people per year")}


def describe(metric: str) -> tuple[str, str]:
    """A plain-words label and unit for a metric name (for tables and axes)."""
    if metric.startswith("lists."):
        _, name, what = metric.split(".", 2)
        text, unit = _LIST_WORDS.get(what, (what + " {}", ""))
        return text.format(name), unit
    heads = [k for k in _LABELS if metric == k or metric.startswith(k + ".")]
    head = max(heads, key=len) if heads else metric
    tail = metric[len(head) + 1:]
    if tail.count(".") == 1 and head in ("chilling_by_group", "disparity.chilling_ratio"):
        b, g = tail.split(".")
        tail = f"{b.replace('_', ' ')} among {g}" if b != "overall" else f"all speech among {g}"
    if head in _LABELS:
        text, unit = _LABELS[head]
        if head == "chilling" and tail == "overall":
            return "chilling effect: fall in all expression acts vs no scoring", unit
        return text.format(_CAUSE_WORDS.get(tail, tail.replace("_", " "))), unit
    return metric.replace("_", " "), ""


def is_share(metric: str) -> bool:
    """Metrics that are fractions (shown as percentages)."""
    unit = describe(metric)[1]
    return unit.startswith("share")
