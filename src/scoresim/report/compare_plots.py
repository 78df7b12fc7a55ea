"""Figures of a comparison: the main series over time (the mean over seeds with a 95% bootstrap
band), each metric's mean across seeds with its interval, and the paired differences against
the first scenario in percentage points (shares) and as relative change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ..experiments.compare import Comparison
from ..experiments.metrics import bootstrap_bands, expression_behaviours, is_share
from . import names as N
from .charts import Chart, new_figure, slug
from .run_context import chilling_series, window
from .style import (
    LINESTYLES,
    TimeAxis,
    change_label,
    colour,
    drawing,
    legend,
    percent_axis,
    title,
    wrap,
)
from .style import Change as Mark


@dataclass
class CompareContext:
    """A comparison and its time axis (dates when every scenario starts on the same date)."""

    comp: Comparison
    axis: TimeAxis


def compare_context(comp: Comparison) -> CompareContext:
    """The comparison's figures' context; timeline changes marked are the first scenario's."""
    starts = {s.scenario.start_date for s in comp.specs}
    start = starts.pop() if len(starts) == 1 else None
    first = comp.specs[0].scenario
    marks = [Mark(c.day, change_label(list(c.set)))
             for c in sorted(first.timeline, key=lambda c: c.day)]
    return CompareContext(comp, TimeAxis(comp.days, start, marks))


def family_metrics(summary: pd.DataFrame, prefixes: tuple[str, ...],
                   exact: tuple[str, ...]) -> list[str]:
    """The metrics of a report section, in the summary's order, that have a value."""
    mean = summary["mean"].astype(float)
    finite = summary[np.isfinite(mean) & (mean != 0)]  # all zero: nothing to draw
    return [m for m in dict.fromkeys(finite["metric"])
            if m in exact or m.startswith(prefixes)]


# ---------------------------------------------------------------- over time
def _bands(ctx: CompareContext, per_seed: dict[str, np.ndarray], what: str) -> pd.DataFrame:
    rows = []
    for label, x in per_seed.items():
        mean, lo, hi = bootstrap_bands(x)
        rows.append(pd.DataFrame({"scenario": label, "day": np.arange(x.shape[1]),
                                  "mean": mean, "lo": lo, "hi": hi, "seeds": x.shape[0]}))
    out = pd.concat(rows, ignore_index=True)
    out.insert(1, "series", what)
    return ctx.axis.with_dates(out)


def chilling_bands(ctx: CompareContext) -> pd.DataFrame | None:
    """The chilling effect over time, per scenario: mean over seeds and 95% band."""
    comp, per_seed = ctx.comp, {}
    for spec in comp.specs:
        behaviours = expression_behaviours(spec.scenario)
        runs = list(zip(comp.daily[spec.label], comp.cf_daily[spec.label], strict=True))
        if not behaviours or not runs:
            continue
        per_seed[spec.label] = np.vstack([
            chilling_series(d, cf, behaviours, comp.days)["overall"].to_numpy(float)
            for d, cf in runs])
    return _bands(ctx, per_seed, "chilling effect, all expression") if per_seed else None


def sanctioned_bands(ctx: CompareContext) -> pd.DataFrame | None:
    """The share of people under any sanction, per scenario: mean over seeds and band."""
    comp = ctx.comp
    per_seed = {label: np.vstack([d[N.SANCTIONED_ANY].to_numpy(float) / comp.agents
                                  for d in runs])
                for label, runs in comp.daily.items() if runs}
    return _bands(ctx, per_seed, "share under any sanction") if per_seed else None


def draw_bands(ax: Axes, data: pd.DataFrame, ctx: CompareContext, ylabel: str,
               heading: str) -> None:
    """One line (the mean over seeds) and its shaded band per scenario."""
    for k, label in enumerate(dict.fromkeys(data["scenario"])):
        part = data[data["scenario"] == label]
        x = ctx.axis.x(part["day"].to_numpy())
        # line styles as well as colours: scenarios that coincide stay visible
        ax.plot(x, part["mean"], color=colour(k), ls=LINESTYLES[k % len(LINESTYLES)], lw=1.6,
                label=label)
        ax.fill_between(x, part["lo"].to_numpy(float), part["hi"].to_numpy(float),
                        color=colour(k), alpha=0.2, lw=0)
    ax.axhline(0, color="grey", lw=0.8)
    percent_axis(ax.yaxis)
    ctx.axis.finish(ax)
    ax.set_ylabel(ylabel)
    title(ax, heading)
    legend(ax)


def time_charts(ctx: CompareContext) -> list[Chart]:
    """The comparison's series over time, each as a chart."""
    comp, found = ctx.comp, []
    k = len(comp.seeds)
    band = ("Lines: the mean over the seeds; shading: its 95% percentile-bootstrap band"
            if k > 1 else "One seed: its values, no band")
    specs = [("compare-chilling-over-time", "Chilling effect over time", chilling_bands,
              f"expression acts lost vs. no scoring\n(trailing {window(comp.days)}-day window)",
              "Chilling effect over time: expression acts lost vs. no scoring"),
             ("compare-sanctioned-over-time", "People under any sanction", sanctioned_bands,
              "share of people", "People under any sanction")]
    with drawing():
        for name, heading, data_fn, ylabel, panel_title in specs:
            data = data_fn(ctx)
            if data is None or data.empty:
                continue
            fig = new_figure((6.4, 4.0))
            draw_bands(fig.subplots(), data, ctx, ylabel, panel_title)
            found.append(Chart(name, heading, f"{band}.", fig, data))
    return found


# ---------------------------------------------------------------- intervals
def interval_rows(comp: Comparison, metrics: list[str], kind: str) -> pd.DataFrame:
    """The summary's rows of ``metrics`` for ``kind`` ('value' or 'difference')."""
    rows = comp.summary[(comp.summary["kind"] == kind) & comp.summary["metric"].isin(metrics)]
    rows = rows[np.isfinite(rows["mean"].astype(float))]
    cols = ["scenario", "metric", "description", "unit", "mean", "lo", "hi", "n", "method"]
    if kind == "difference":
        cols += ["relative_mean", "relative_lo", "relative_hi"]
    return rows[cols].reset_index(drop=True)


def _unit(metric: str, unit: str, kind: str) -> str:
    if is_share(metric):
        return "percentage points" if kind == "difference" else "percent"
    return unit or "value"


def _panel(ax: Axes, rows: pd.DataFrame, labels: list[str], metric: str, kind: str) -> None:
    y = np.arange(len(labels))[::-1]
    share = is_share(metric)
    scale = 100.0 if share else 1.0
    for yi, label in zip(y, labels, strict=True):
        r = rows[rows["scenario"] == label]
        if r.empty:
            continue
        mean, lo, hi = (float(r[c].iloc[0]) * scale for c in ("mean", "lo", "hi"))
        err = None if not math.isfinite(lo) else [[mean - lo], [hi - mean]]
        k = labels.index(label) + (1 if kind == "difference" else 0)
        ax.errorbar([mean], [yi], xerr=err, fmt="o", color=colour(k), capsize=4, ms=5)
        if kind == "difference":
            rel = float(r["relative_mean"].iloc[0])
            text = f"{mean:+.3g}" + (" pp" if share else "")
            text += f" ({100 * rel:+.0f}%)" if math.isfinite(rel) else ""
            ax.annotate(text, (mean, yi), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=7)
    if kind == "difference":
        ax.axvline(0, color="grey", lw=0.8)
    elif (rows[["mean", "lo"]].fillna(0) >= 0).all().all():
        ax.set_xlim(left=0)  # values from zero: a small gap is not drawn as a large one
    ax.set_yticks(y, [wrap(lb, 22) for lb in labels])
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.grid(False, axis="y")
    text = rows["description"].iloc[0] if not rows.empty else metric
    title(ax, text, 40)
    ax.set_xlabel(("difference, " if kind == "difference" else "")
                  + _unit(metric, rows["unit"].iloc[0] if not rows.empty else "", kind))


def interval_chart(comp: Comparison, family: str, metrics: list[str], kind: str) -> Chart | None:
    """Small multiples: one panel per metric, one row per scenario, mean and 95% interval."""
    rows = interval_rows(comp, metrics, kind)
    metrics = [m for m in metrics if m in set(rows["metric"])]
    if not metrics:
        return None
    labels = comp.labels if kind == "value" else comp.labels[1:]
    cols = min(3, len(metrics))
    nrows = -(-len(metrics) // cols)
    height = 1.3 + 0.38 * len(labels)
    with drawing():
        fig = new_figure((4.6 * cols, height * nrows + 0.4))
        axes = fig.subplots(nrows, cols, squeeze=False).ravel()
        for ax, metric in zip(axes, metrics, strict=False):
            _panel(ax, rows[rows["metric"] == metric], labels, metric, kind)
        for ax in axes[len(metrics):]:
            ax.set_visible(False)
    k = len(comp.seeds)
    if kind == "value":
        how = (f"Each row is a scenario: the mean over {k} seeds and its 95% percentile-"
               "bootstrap interval (it stays inside a share's or a rate's range)" if k > 1
               else "One seed: each scenario's value, no interval")
        return Chart(f"compare-{slug(family)}", family, how + ".", fig, rows)
    how = (f"Each scenario minus {comp.labels[0]}, paired by seed, with its 95% t-interval; "
           "shares in percentage points, and in brackets the change relative to "
           f"{comp.labels[0]}'s mean. An interval that excludes zero is a difference the seeds "
           "agree on.")
    return Chart(f"compare-{slug(family)}-differences", f"{family}: differences", how, fig,
                 rows)


def family_charts(comp: Comparison) -> list[tuple[str, list[Chart]]]:
    """Each report section's charts: its values, and its differences from the first."""
    out = []
    for family, prefixes, exact in N.COMPARE_FAMILIES:
        metrics = family_metrics(comp.summary, prefixes, exact)
        found = [interval_chart(comp, family, metrics, "value")]
        if len(comp.labels) > 1:
            found.append(interval_chart(comp, family, metrics, "difference"))
        found = [c for c in found if c is not None]
        if found:
            out.append((family, found))
    return out
