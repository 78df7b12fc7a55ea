"""The metrics a comparison reports, per run, and their means with 95% intervals across seeds.

Counts are turned into rates a reader can compare across population sizes and run lengths
(per 1,000 people, per year); shares stay fractions of all agents. Every metric of a run is
one float, so that the difference between two systems under the same seed is one
subtraction, and a system compared with itself gives exactly zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core.constants import CAUSES

# two-sided 95% Student t quantiles t(0.975, df) for df = 1..30, then anchors for interpolation
_T975 = (12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
         2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
         2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
         2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272)
_T975_TAIL = ((30, 2.042272), (40, 2.021075), (60, 2.000298), (120, 1.979930),
              (math.inf, 1.959964))



def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (to about 1e-4:
    exact from a table up to 30, then linear in 1/df, as printed t tables are read)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= 30:
        return _T975[df - 1]
    for (d0, t0), (d1, t1) in zip(_T975_TAIL, _T975_TAIL[1:], strict=False):
        if df <= d1:
            x0, x1, x = 1 / d0, (0.0 if math.isinf(d1) else 1 / d1), 1 / df
            return t0 + (t1 - t0) * (x0 - x) / (x0 - x1)
    return _T975_TAIL[-1][1]  # pragma: no cover


def interval(values: Iterable[float]) -> dict[str, float | int]:
    """Mean and 95% t-interval of the finite values; with one value, no interval (NaN)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], np.float64)
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


def reference_group(by_group: dict[str, dict[str, float]]) -> str:
    """The group disparities are measured against: the largest (the first one on a tie)."""
    return max(by_group, key=lambda g: by_group[g]["agents"])


def run_metrics(summary: dict[str, Any], daily: pd.DataFrame, cf_acts: dict[str, float],
                expression: Sequence[str]) -> dict[str, float]:
    """The flat metrics of one run against its counterfactual's acts."""
    f, n, days = summary["final"], summary["agents"], summary["days"]
    per_1000 = 1000.0 / n
    per_1000_year = per_1000 * 365.0 / days if days else math.nan
    m: dict[str, float] = {}
    for b, v in chilling(f["acts"], cf_acts, expression).items():
        m[f"chilling.{b}"] = v
    m["ever_sanctioned_frac"] = f["ever_sanctioned_frac"]
    m["innocent_sanctioned_frac"] = f["innocent_sanctioned_frac"]
    m["sanctioned_frac"] = f["sanctioned_frac"]
    for cause in CAUSES:
        m[f"ever_sanctioned_by_cause.{cause}"] = f["ever_sanctioned_by_cause"][cause]
    m["false_attributions_per_1000_per_year"] = f["false_attributions"] * per_1000_year
    m["falsely_attributed_frac"] = f["falsely_attributed_frac"]
    for svc, k in f["denied"].items():
        m[f"denied_per_1000_per_year.{svc}"] = k * per_1000_year
    bg = f["by_group"]
    ref = reference_group(bg)
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
    "innocent_sanctioned_frac": ("sanctioned without any scored act of their own",
                                 "share of people"),
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
    head, _, tail = metric.rpartition(".")
    if not head:
        head, tail = metric, ""
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
