"""Figures of one run, for a reader who has never seen the tool: every panel has a title that
says what it shows, axes with units, and a legend.

Each ``draw_*`` function draws one panel on a given Axes from the run's summary and daily
table, so the HTML report (one figure per topic) and ``Results.plot()`` (one overview figure)
share the same drawings. Figures are built with ``matplotlib.figure.Figure`` and never through
pyplot: no global state, no GUI backend, safe in worker processes.
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

# names and labels are text: a "$" in a scenario, service or compare label is not mathtext
matplotlib.rcParams["text.parse_math"] = False

CAUSE_NAMES = {"own": "own scored acts", "false_match": "false match (wrong person)",
               "association": "association (family, work, friends)"}
CAUSE_COLOURS = {"own": "#4c72b0", "false_match": "#c44e52", "association": "#dd8452"}


def window(days: int) -> int:
    """Smoothing window (days) for daily rates: a week for short runs, a month otherwise."""
    return 7 if days < 90 else 30


def group_sizes(summary: dict[str, Any]) -> dict[str, float]:
    return {g: v["agents"] for g, v in summary["final"].get("by_group", {}).items()}


def columns(daily: pd.DataFrame, prefix: str) -> list[str]:
    """The names after ``prefix`` of the daily columns that start with it (in order)."""
    return [c[len(prefix):] for c in daily.columns if c.startswith(prefix) and "__" not in c]


def percent_axis(axis: Axis) -> None:
    """Tick labels of a share axis as percentages with no more digits than they need."""
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{100 * x:.3g}%"))


def wrap(text: str, width: int = 52) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    ax.set_title(wrap(title), fontsize=10, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False)


def _empty(ax: Axes, title: str, text: str) -> None:
    ax.set_title(wrap(title), fontsize=10, loc="left")
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9,
            wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_mean_score(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    ax.plot(daily["day"], daily["mean_score"], color="#4c72b0", label="mean score")
    _finish(ax, "Mean score of all people", "day of the simulation", "score (points)")


def draw_grades(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    grades = columns(daily, "grade_")
    if not grades:
        _empty(ax, "Grade distribution", "this scenario has no point grades")
        return
    for k, g in enumerate(grades):
        share = (daily[f"grade_{g}"] / summary["agents"]).where(daily[f"grade_{g}"] > 0)
        ax.plot(daily["day"], share, label=f"grade {g}", color=_ramp(k, len(grades)), lw=1.6)
    ax.set_yscale("log")
    percent_axis(ax.yaxis)
    _finish(ax, "Share of people in each grade (log scale: small grades stay visible)",
            "day of the simulation", "share of people")
    ax.legend(fontsize=8, frameon=False, ncol=2)


def _ramp(k: int, n: int) -> tuple[float, ...]:
    """Green (best grade) through yellow to red (worst)."""
    return tuple(colormaps["RdYlGn_r"](k / max(n - 1, 1)))


def draw_sanction_starts(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    per = 1000.0 / summary["agents"]
    for cause, name in CAUSE_NAMES.items():
        col = f"newly_sanctioned_{cause}"
        if col in daily:
            ax.plot(daily["day"], daily[col].cumsum() * per, label=name,
                    color=CAUSE_COLOURS[cause])
    _finish(ax, "Sanctions imposed, by cause (running total)", "day of the simulation",
            "sanctions started per 1,000 people")


def draw_sanctioned_now(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    n = summary["agents"]
    for name in columns(daily, "sanctioned_"):
        style = {"color": "black", "lw": 2} if name == "any" else {}
        label = "any sanction" if name == "any" else name.replace("_", " ")
        ax.plot(daily["day"], daily[f"sanctioned_{name}"] / n, label=label, **style)
    percent_axis(ax.yaxis)
    _finish(ax, "People under each sanction", "day of the simulation", "share of people")


def draw_ever_by_cause(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    f = summary["final"]
    names = ["ever sanctioned", *[CAUSE_NAMES[c] for c in CAUSE_NAMES],
             "innocent: no scored act of their own"]
    values = [f["ever_sanctioned_frac"], *[f["ever_sanctioned_by_cause"][c] for c in CAUSE_NAMES],
              f["innocent_sanctioned_frac"]]
    colours = ["black", *CAUSE_COLOURS.values(), "#8172b2"]
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color=colours)
    ax.set_yticks(y, names, fontsize=8)
    for yi, v in zip(y, values, strict=True):
        ax.text(v, yi, f" {100 * v:.2f} %", va="center", fontsize=8)
    percent_axis(ax.xaxis)
    ax.set_xlim(0, max(max(values) * 1.3, 1e-4))
    _finish(ax, "Ever sanctioned during the run, by cause (a person may have several)",
            "share of all people", "", legend=False)


def draw_denials(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    f, n, days = summary["final"], summary["agents"], max(summary["days"], 1)
    services = list(f["denied"])
    if not services:
        _empty(ax, "Services denied", "this scenario has no services")
        return
    rate = [f["denied"][s] * 1000.0 / n * 365.0 / days for s in services]
    x = np.arange(len(services))
    ax.bar(x, rate, color="#c44e52")
    ax.set_xticks(x, [s.replace("_", " ") for s in services], fontsize=8)
    for xi, s, r in zip(x, services, rate, strict=True):
        req = f["requests"][s]
        share = f["denied"][s] / req if req else 0.0
        text = f"{r:.3g}\n{100 * share:.2g}% of requests" if r else "none"
        ax.text(xi, r, text, ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0, max(max(rate) * 1.35, 1e-3))
    _finish(ax, "Requests denied by a sanction, per service", "service",
            "denials per 1,000 people per year", legend=False)


def chilling_series(daily: pd.DataFrame, cf_daily: pd.DataFrame, behaviours: list[str],
                    days: int) -> pd.DataFrame:
    """Relative fall in expression acts against the counterfactual over a trailing window
    (1 - acts / counterfactual acts), per behaviour and overall; NaN where nothing to compare."""
    w = window(days)
    out = pd.DataFrame({"day": daily["day"]})

    def fall(a: pd.Series, c: pd.Series) -> pd.Series:
        a, c = a.rolling(w, min_periods=1).sum(), c.rolling(w, min_periods=1).sum()
        return (1.0 - a / c.where(c > 0)).astype(float)

    for b in behaviours:
        out[b] = fall(daily[f"acts_{b}"], cf_daily[f"acts_{b}"])
    if behaviours:
        cols = [f"acts_{b}" for b in behaviours]
        out["overall"] = fall(daily[cols].sum(axis=1), cf_daily[cols].sum(axis=1))
    return out


def expression_names(summary: dict) -> list[str]:
    """Expression behaviours, from the counterfactual's chilling block or the summary."""
    cf = summary.get("counterfactual", {})
    return [b for b in cf.get("chilling", {}) if b != "overall"]


def draw_chilling(ax: Axes, summary: dict, daily: pd.DataFrame,
                  cf_daily: pd.DataFrame | None) -> None:
    title = "Chilling effect: expression acts lost to the scoring system"
    if cf_daily is None:
        _empty(ax, title, "not measured: run with --counterfactual to compare with\n"
               "the same people and random numbers without scoring")
        return
    series = chilling_series(daily, cf_daily, expression_names(summary), summary["days"])
    for col in series.columns[1:]:
        style = {"color": "black", "lw": 2} if col == "overall" else {}
        label = "all expression" if col == "overall" else col.replace("_", " ")
        ax.plot(series["day"], series[col], label=label, **style)
    ax.axhline(0, color="grey", lw=0.8)
    percent_axis(ax.yaxis)
    _finish(ax, title, "day of the simulation",
            f"fewer acts than without scoring\n(trailing {window(summary['days'])}-day window)")


def draw_group_sanctioned(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    for g, size in group_sizes(summary).items():
        col = f"sanctioned_any__{g}"
        if col in daily and size:
            ax.plot(daily["day"], daily[col] / size, label=f"{g} ({int(size):,} people)")
    percent_axis(ax.yaxis)
    _finish(ax, "Share of each group under any sanction", "day of the simulation",
            "share of the group")


def draw_group_expression(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    w = window(summary["days"])
    for g, size in group_sizes(summary).items():
        col = f"expression_acts__{g}"
        if col in daily and size:
            rate = daily[col].rolling(w, min_periods=1).mean() * 1000.0 / size
            ax.plot(daily["day"], rate, label=g)
    _finish(ax, f"Expression acts by group ({w}-day average)", "day of the simulation",
            "acts per 1,000 group members per day")


def draw_group_denials(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    sizes, days = group_sizes(summary), max(summary["days"], 1)
    services = list(summary["final"]["denied"])
    if not services or not sizes:
        _empty(ax, "Denials by group", "no services or groups in this scenario")
        return
    x, width = np.arange(len(services)), 0.8 / len(sizes)
    for k, (g, size) in enumerate(sizes.items()):
        rate = [daily.get(f"denied_{s}__{g}", pd.Series([0])).sum() * 1000.0 / max(size, 1)
                * 365.0 / days for s in services]
        ax.bar(x + k * width - 0.4 + width / 2, rate, width, label=g)
    ax.set_xticks(x, [s.replace("_", " ") for s in services], fontsize=8)
    _finish(ax, "Denials by group", "service", "denials per 1,000 group members per year")


def draw_list_stock(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    lists = columns(daily, "listed_")
    if not lists:
        _empty(ax, "Lists", "this scenario has no lists")
        return
    per = 1000.0 / summary["agents"]
    for name in lists:
        ax.plot(daily["day"], daily[f"listed_{name}"] * per, label=name.replace("_", " "))
    _finish(ax, "People on each list (stock)", "day of the simulation",
            "people listed per 1,000 people")


def draw_list_flows(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    lists = columns(daily, "listed_")
    if not lists:
        _empty(ax, "List flows", "this scenario has no lists")
        return
    week = daily["day"] // 7
    width = 0.8 / len(lists)
    for k, name in enumerate(lists):
        ins = daily.groupby(week)[f"listings_{name}"].sum()
        outs = daily.groupby(week)[f"delistings_{name}"].sum()
        x = ins.index.to_numpy() + k * width
        ax.bar(x, ins.to_numpy(), width, label=f"{name}: added", color=f"C{2 * k}")
        ax.bar(x, -outs.to_numpy(), width, label=f"{name}: removed", color=f"C{2 * k + 1}")
    ax.axhline(0, color="grey", lw=0.8)
    _finish(ax, "List flows per week (added above zero, removed below)", "week of the simulation",
            "people per week")


def draw_records_home(ax: Axes, summary: dict, daily: pd.DataFrame) -> None:
    week = daily["day"] // 7
    for g in summary.get("overseas", {}).get("groups_abroad", {}):
        cols = [c for c in daily.columns if c.startswith("records_home__") and c.endswith(f"__{g}")]
        if cols:
            per_week = daily[cols].sum(axis=1).groupby(week).sum()
            ax.plot(per_week.index, per_week.to_numpy(), label=g)
    _finish(ax, "Venue camera records crossing the border, by the patron's origin",
            "week of the simulation", "records per week")


def draw_abroad_chilling(ax: Axes, summary: dict, daily: pd.DataFrame,
                         cf_daily: pd.DataFrame | None) -> None:
    title = "Expression abroad: acts lost to the system, by origin"
    if cf_daily is None:
        _empty(ax, title, "not measured: run with --counterfactual")
        return
    w = window(summary["days"])
    for g in summary.get("overseas", {}).get("groups_abroad", {}):
        col = f"expression_acts__{g}"
        if col in daily and col in cf_daily:
            a = daily[col].rolling(w, min_periods=1).sum()
            c = cf_daily[col].rolling(w, min_periods=1).sum()
            ax.plot(daily["day"], (1.0 - a / c.where(c > 0)).astype(float), label=g)
    ax.axhline(0, color="grey", lw=0.8)
    percent_axis(ax.yaxis)
    _finish(ax, title, "day of the simulation",
            f"fewer acts than without scoring\n(trailing {w}-day window)")


TOPICS: dict[str, list[Any]] = {
    "score": [draw_mean_score, draw_grades],
    "sanctions": [draw_ever_by_cause, draw_sanction_starts, draw_sanctioned_now],
    "denials": [draw_denials],
    "chilling": [draw_chilling],
    "groups": [draw_group_sanctioned, draw_group_expression, draw_group_denials],
    "lists": [draw_list_stock, draw_list_flows],
    "abroad": [draw_records_home, draw_abroad_chilling],
}
NEEDS_COUNTERFACTUAL = (draw_chilling, draw_abroad_chilling)


def _draw(fn: Any, ax: Axes, summary: dict, daily: pd.DataFrame,
          cf_daily: pd.DataFrame | None) -> None:
    if fn in NEEDS_COUNTERFACTUAL:
        fn(ax, summary, daily, cf_daily)
    else:
        fn(ax, summary, daily)


def topic_figure(topic: str, summary: dict, daily: pd.DataFrame,
                 cf_daily: pd.DataFrame | None = None) -> Figure:
    """One report section's figure: its panels side by side."""
    fns = TOPICS[topic]
    fig = Figure(figsize=(5.2 * len(fns), 3.8), layout="constrained")
    for ax, fn in zip(fig.subplots(1, len(fns), squeeze=False)[0], fns, strict=True):
        _draw(fn, ax, summary, daily, cf_daily)
    return fig


def overview(summary: dict, daily: pd.DataFrame, cf_daily: pd.DataFrame | None = None) -> Figure:
    """Every panel of the run in one figure (``Results.plot()``)."""
    if daily.empty:
        fig = Figure(figsize=(6, 2))
        _empty(fig.subplots(), f"scoresim: {summary['scenario']}", "no days were simulated")
        return fig
    fns = [fn for name, topic in TOPICS.items() for fn in topic
           if name != "abroad" or "overseas" in summary]
    cols = 3
    rows = -(-len(fns) // cols)
    fig = Figure(figsize=(5.4 * cols, 3.9 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, fn in zip(axes, fns, strict=False):
        _draw(fn, ax, summary, daily, cf_daily)
    for ax in axes[len(fns):]:
        ax.set_visible(False)
    fig.suptitle(f"scoresim: {summary['scenario']}, {summary['agents']:,} synthetic people, "
                 f"{summary['days']} days, seed {summary['seed']}", fontsize=13)
    return fig
