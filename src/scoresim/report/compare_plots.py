"""Figures of a comparison: scenarios side by side, each metric's mean across seeds with its
95% interval, the paired differences against the first scenario, and the main series over time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..experiments.compare import Comparison
from ..experiments.metrics import describe, expression_behaviours, is_share
from .plots import chilling_series, percent_axis, window, wrap

# sections of the comparison report: a title and which metrics belong to it
FAMILIES: list[tuple[str, Callable[[str], bool]]] = [
    ("Chilling effect", lambda m: m.startswith("chilling.")),
    ("Who is sanctioned, and why", lambda m: "sanctioned" in m and "." not in m
     or m.startswith("ever_sanctioned_by_cause.")),
    ("False attributions", lambda m: "falsely" in m or m.startswith("false_attr")),
    ("Services denied", lambda m: m.startswith("denied_")),
    ("Disparity between groups", lambda m: m.startswith("disparity.")),
    ("Lists: stock and flows", lambda m: m.startswith("lists.")),
]


def family_metrics(summary: pd.DataFrame, test: Callable[[str], bool]) -> list[str]:
    return [m for m in dict.fromkeys(summary["metric"]) if test(m)]


LINESTYLES = ("-", "--", ":", "-.")


def _panel(ax: Axes, rows: pd.DataFrame, labels: list[str], colours: dict[str, str],
           metric: str, zero: bool) -> None:
    text, unit = describe(metric)
    y = np.arange(len(labels))[::-1]
    for yi, label in zip(y, labels, strict=True):
        r = rows[rows["scenario"] == label]
        if r.empty or not math.isfinite(r["mean"].iloc[0]):
            ax.text(0, yi, " no value", va="center", fontsize=7, color="grey",
                    transform=ax.get_yaxis_transform())
            continue
        mean, lo, hi = (float(r[k].iloc[0]) for k in ("mean", "lo", "hi"))
        err = None if not math.isfinite(lo) else [[mean - lo], [hi - mean]]
        ax.errorbar([mean], [yi], xerr=err, fmt="o", color=colours[label],
                    capsize=4, ms=6)
    if zero:
        ax.axvline(0, color="grey", lw=0.8)
    elif (rows[["mean", "lo"]].fillna(0) >= 0).all().all():
        ax.set_xlim(left=0)  # values from zero: a small gap is not drawn as a large one
    ax.set_yticks(y, [wrap(lb, 26) for lb in labels], fontsize=8)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    if is_share(metric):
        percent_axis(ax.xaxis)
    ax.set_title(wrap(text, 48), fontsize=9, loc="left")
    ax.set_xlabel(("difference, " if zero else "") + (unit or "value"), fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)


def interval_figure(comp: Comparison, metrics: list[str], kind: str, title: str) -> Figure:
    """Small multiples: one panel per metric, one row per scenario, mean and 95% interval."""
    rows = comp.summary[comp.summary["kind"] == kind]
    labels = comp.labels if kind == "value" else comp.labels[1:]
    colours = {label: f"C{k % 10}" for k, label in enumerate(comp.labels)}
    cols = min(3, len(metrics))
    nrows = -(-len(metrics) // cols)
    height = 0.9 + 0.42 * len(labels)
    fig = Figure(figsize=(4.9 * cols, (height + 0.9) * nrows + 0.5), layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        _panel(ax, rows[rows["metric"] == metric], labels, colours, metric,
               zero=kind != "value")
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    k = len(comp.seeds)
    how = (f"dot: mean over {k} seeds; bar: 95% t-interval" if k > 1
           else "one seed: value only, no interval")
    fig.suptitle(f"{title} — {how}", fontsize=11)
    return fig


def time_figure(comp: Comparison) -> Figure:
    """Chilling effect and share sanctioned over time, per scenario (pooled over seeds)."""
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax_c, ax_s = fig.subplots(1, 2)
    for k, spec in enumerate(comp.specs):
        runs, cfs = comp.daily[spec.label], comp.cf_daily[spec.label]
        if not runs:
            continue
        pooled = sum(d.set_index("day") for d in runs).reset_index()
        pooled_cf = sum(d.set_index("day") for d in cfs).reset_index()
        behaviours = expression_behaviours(spec.scenario)
        # line styles as well as colours: scenarios that coincide stay visible
        style = {"color": f"C{k % 10}", "ls": LINESTYLES[k % len(LINESTYLES)], "lw": 1.6}
        if behaviours:
            series = chilling_series(pooled, pooled_cf, behaviours, comp.days)
            ax_c.plot(series["day"], series["overall"], label=spec.label, **style)
        share = pooled["sanctioned_any"] / (comp.agents * len(runs))
        ax_s.plot(pooled["day"], share, label=spec.label, **style)
    w = window(comp.days)
    ax_c.axhline(0, color="grey", lw=0.8)
    for ax, title, ylabel in (
        (ax_c, "Chilling effect over time: expression acts lost vs. no scoring",
         f"fewer expression acts than without scoring\n(trailing {w}-day window, all seeds)"),
        (ax_s, "People under any sanction", "share of people (mean over seeds)"),
    ):
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_xlabel("day of the simulation")
        ax.set_ylabel(ylabel)
        percent_axis(ax.yaxis)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, frameon=False)
    return fig
