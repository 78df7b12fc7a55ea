"""Figures of one run, each a :class:`~scoresim.report.charts.Panel`: the data it plots (a tidy
table, also written as its CSV) and how to draw it.

The panels are grouped into the report's topics (:data:`TOPICS`); ``overview`` puts every panel
with something to show into one figure (``Results.plot()``). Figures are built with
``matplotlib.figure.Figure`` and never through pyplot: no global state, no GUI backend, safe
in worker processes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..experiments.metrics import wilson
from . import names as N
from .charts import Panel, new_figure, shows_something
from .plots_groups import ABROAD_PANELS, GROUP_PANELS, LIST_PANELS
from .run_context import CAUSE_NAMES, RunContext, chilling_series, lines, run_context, window
from .style import (
    CAUSE_COLOURS,
    colour,
    drawing,
    legend,
    percent_axis,
    pretty,
    sequential,
    title,
    wrap,
)


# ---------------------------------------------------------------- score
def _mean_score_data(ctx: RunContext) -> pd.DataFrame | None:
    return ctx.frame({"mean_score": ctx.daily[N.MEAN_SCORE]}) if N.MEAN_SCORE in ctx.daily \
        else None


def _draw_mean_score(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    ax.plot(ctx.x(data), data["mean_score"], color=colour(0))
    ctx.axis.finish(ax)
    ax.set_ylabel("score (points)")
    title(ax, "Mean score of all people")


def _shares_of_people(ctx: RunContext, prefix: str, label: str) -> pd.DataFrame | None:
    """Each daily count column starting with ``prefix`` as a share of all people, named
    ``label`` + its suffix (None when the run has no such column)."""
    found = ctx.columns(prefix)
    if not found:
        return None
    return ctx.frame({label + x: ctx.daily[prefix + x] / ctx.agents for x in found})


def _grades_data(ctx: RunContext) -> pd.DataFrame | None:
    return _shares_of_people(ctx, N.GRADE_PREFIX, "share_grade_")


def _draw_grades(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    cols = [c for c in data.columns if c.startswith("share_grade_")]
    for col, c in zip(cols, sequential(len(cols)), strict=True):
        share = data[col].where(data[col] > 0)  # zero has no place on a log scale
        ax.plot(ctx.x(data), share, color=c, lw=1.6, label=f"grade {col[12:]}")
    ax.set_yscale("log")
    percent_axis(ax.yaxis)
    ctx.axis.finish(ax)
    ax.set_ylabel("share of people (log scale)")
    title(ax, "Share of people in each grade, best to worst")
    legend(ax, ncol=6)


# ---------------------------------------------------------------- sanctions
def _ever_by_cause_data(ctx: RunContext) -> pd.DataFrame | None:
    f, n = ctx.final, ctx.agents
    rows = [("ever sanctioned", f[N.EVER_SANCTIONED], "any"),
            ("own acts alone (but-for)", f[N.EVER_BY_CAUSE]["own"], "own"),
            ("others' acts", f[N.FOR_OTHERS_ACTS], "for_others"),
            *[(f"  {CAUSE_NAMES[c]} decisive", f[N.EVER_BY_CAUSE][c], c)
              for c in ("false_match", "association")],
            ("for lawful speech", f[N.FOR_EXPRESSION], "for_expression"),
            ("never committed a scored act", f[N.NEVER_ACTED_SANCTIONED], "never_acted")]
    out = pd.DataFrame(rows, columns=["measure", "share", "key"])
    ci = [wilson(s * n, n) for s in out["share"]]
    out["lo"], out["hi"] = [c[0] for c in ci], [c[1] for c in ci]
    out["people"] = (out["share"] * n).round().astype(int)
    return out[["measure", "people", "share", "lo", "hi"]]


def _draw_ever_by_cause(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    colours = ["black", CAUSE_COLOURS["own"], "#56B4E9", CAUSE_COLOURS["false_match"],
               CAUSE_COLOURS["association"], "#F0E442", "#CC79A7"]
    y = np.arange(len(data))[::-1]
    share = data["share"].to_numpy()
    err = np.vstack([share - data["lo"], data["hi"] - share])
    ax.barh(y, share, color=colours[: len(data)], xerr=err, capsize=3,
            error_kw={"lw": 0.8, "ecolor": "#444444"})
    ax.set_yticks(y, [wrap(m, 24) for m in data["measure"]])
    for yi, s, hi in zip(y, share, data["hi"], strict=True):
        ax.text(hi, yi, f"  {100 * s:.2f}%", va="center", fontsize=8)
    percent_axis(ax.xaxis)
    ax.set_xlim(0, max(float(data["hi"].max()) * 1.35, 1e-4))
    ax.set_xlabel("share of all people (bars: 95% Wilson interval)")
    ax.grid(False, axis="y")
    title(ax, "Ever sanctioned during the run, by but-for cause (a person may have several)")


def _sanction_starts_data(ctx: RunContext) -> pd.DataFrame | None:
    per = 1000.0 / ctx.agents
    cols = {f"per_1000_{c}": ctx.daily[N.NEW_SANCTIONS_PREFIX + c].cumsum() * per
            for c in CAUSE_NAMES if N.NEW_SANCTIONS_PREFIX + c in ctx.daily}
    return ctx.frame(cols) if cols else None


def _draw_sanction_starts(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    causes = [c[len("per_1000_"):] for c in data.columns if c.startswith("per_1000_")]
    lines(ax, ctx, data, [f"per_1000_{c}" for c in causes], [CAUSE_NAMES[c] for c in causes],
          [CAUSE_COLOURS[c] for c in causes])
    ax.set_ylabel("people sanctioned so far, per 1,000 people")
    title(ax, "People sanctioned, by but-for cause (running total of people, not sanctions)")
    legend(ax, ncol=2)


def _sanctioned_now_data(ctx: RunContext) -> pd.DataFrame | None:
    return _shares_of_people(ctx, N.SANCTIONED_PREFIX, "share_")


def _draw_sanctioned_now(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    cols = [c for c in data.columns if c.startswith("share_")]
    labels = ["any sanction" if c == "share_any" else pretty(c[6:]) for c in cols]
    lines(ax, ctx, data, cols, labels)
    percent_axis(ax.yaxis)
    ax.set_ylabel("share of people")
    title(ax, "People under each sanction")
    legend(ax)


# ---------------------------------------------------------------- services
def _denials_data(ctx: RunContext) -> pd.DataFrame | None:
    f, days = ctx.final, max(int(ctx.summary["days"]), 1)
    services = list(f.get(N.DENIED, {}))
    if not services:
        return None
    rows = []
    for s in services:
        k, req = f[N.DENIED][s], f[N.REQUESTS][s]
        lo, hi = wilson(k, req)
        rows.append({"service": s, "denied": k, "requests": req,
                     "denied_per_1000_per_year": k * 1000.0 / ctx.agents * 365.0 / days,
                     "share_of_requests": k / req if req else np.nan,
                     "share_lo": lo, "share_hi": hi})
    return pd.DataFrame(rows)


def _draw_denials(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    y = np.arange(len(data))[::-1]
    rate = data["denied_per_1000_per_year"].to_numpy()
    ax.barh(y, rate, color=colour(1))
    ax.set_yticks(y, [wrap(pretty(s), 18) for s in data["service"]])
    for yi, r, sh in zip(y, rate, data["share_of_requests"], strict=True):
        text = f"  {r:.3g} ({100 * sh:.2g}% of requests)" if r else "  none"
        ax.text(r, yi, text, va="center", fontsize=8)
    ax.set_xlim(0, max(float(rate.max()) * 1.6, 1e-3))
    ax.set_xlabel("requests denied per 1,000 people per year")
    ax.grid(False, axis="y")
    title(ax, "Requests denied by a sanction, per service")


# ---------------------------------------------------------------- chilling
def _chilling_data(ctx: RunContext) -> pd.DataFrame | None:
    if ctx.cf_daily is None or not ctx.expression():
        return None
    s = chilling_series(ctx.daily, ctx.cf_daily, ctx.expression(), int(ctx.summary["days"]))
    return ctx.frame({f"fall_{c}": s[c] for c in s.columns[1:]})


def _draw_chilling(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    cols = [c for c in data.columns if c.startswith("fall_")]
    labels = ["all expression" if c == "fall_overall" else pretty(c[5:]) for c in cols]
    ax.axhline(0, color="grey", lw=0.8)
    lines(ax, ctx, data, cols, labels)
    percent_axis(ax.yaxis)
    ax.set_ylabel(f"acts lost vs. no scoring\n(trailing {window(int(ctx.summary['days']))}"
                  "-day window)")
    title(ax, "Chilling effect: expression acts lost to the scoring system")
    legend(ax)


PANELS = {
    "score": [Panel("score-mean", "Mean score",
                    "The population's mean score each day.", _mean_score_data, _draw_mean_score),
              Panel("score-grades", "Grades",
                    "The share of people in each grade band each day (log scale: small grades "
                    "stay visible); a low grade can trigger sanctions.", _grades_data,
                    _draw_grades)],
    "sanctions": [
        Panel("sanctions-ever-by-cause", "Ever sanctioned, by cause",
              "The share of all people ever sanctioned, split by what caused it: their own "
              "scored acts, a false match (someone else's act attributed to them), or "
              "association (a penalty spilled over from family, work team, kin or friends); "
              "and people sanctioned who never committed a scored act. Bars: 95% Wilson "
              "intervals (the uncertainty from the population's size).", _ever_by_cause_data,
              _draw_ever_by_cause),
        Panel("sanctions-started", "Sanctions started",
              "Sanctions started so far, per 1,000 people, by cause.", _sanction_starts_data,
              _draw_sanction_starts),
        Panel("sanctions-now", "People under each sanction",
              "The share of people under each sanction each day.", _sanctioned_now_data,
              _draw_sanctioned_now)],
    "denials": [Panel("services-denied", "Services denied",
                      "Requests for services turned down because the person was under a "
                      "sanction, per 1,000 people per year, with the share of all requests.",
                      _denials_data, _draw_denials)],
    "chilling": [Panel("chilling-over-time", "Chilling effect",
                       "How much lawful expression the system suppresses: the fall in "
                       "expression acts against the same synthetic people, with the same "
                       "random numbers, when the scoring system is switched off (the "
                       "counterfactual). Zero means no effect; 20% means one act in five is "
                       "lost.", _chilling_data, _draw_chilling)],
    "groups": GROUP_PANELS,
    "lists": LIST_PANELS,
    "abroad": ABROAD_PANELS,
}


def overview(summary: dict[str, Any], daily: pd.DataFrame,
             cf_daily: pd.DataFrame | None = None, scenario: Any = None) -> Figure:
    """Every panel of the run that has something to show, in one figure (``Results.plot()``).

    Args:
        summary: the run's summary.
        daily: its daily table.
        cf_daily: its counterfactual's daily table, if it has one.
        scenario: the scenario run (for calendar dates and timeline changes).

    Returns:
        A matplotlib Figure.
    """
    ctx = run_context(summary, daily, scenario, cf_daily)
    with drawing():
        found = [] if daily.empty else [
            (p, d) for topic in PANELS.values() for p in topic
            if shows_something(d := p.data(ctx))]
        if not found:
            fig = new_figure((6, 2))
            ax = fig.subplots()
            ax.axis("off")
            ax.text(0.5, 0.5, f"scoresim: {summary['scenario']}: no days were simulated",
                    ha="center", va="center")
            return fig
        cols = 3
        rows = -(-len(found) // cols)
        fig = new_figure((6.0 * cols, 4.3 * rows))
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, (panel, data) in zip(axes, found, strict=False):
            panel.draw(ax, data, ctx)
        for ax in axes[len(found):]:
            ax.set_visible(False)
        fig.suptitle(f"scoresim: {summary['scenario']}, {summary['agents']:,} synthetic "
                     f"people, {summary['days']} days, seed {summary['seed']}", fontsize=13)
    return fig
