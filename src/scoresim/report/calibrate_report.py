"""A calibration's report (``DIR/report.html`` and ``DIR/figures/``): the fitted and the
held-out (weight 0) targets against the simulated values, on calendar dates when the targets
have a start date."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..core.version import __version__
from ..experiments.targets import metric_columns, metric_days
from .charts import Chart, new_figure
from .html import figure_view, render
from .style import TimeAxis, colour, drawing, legend, pretty, title


def _scale(fit: dict[str, Any], population: float | None, agents: int) -> tuple[float, str]:
    """Per-capita values in real people when the targets give a population."""
    if population:
        return population, "people in the real population"
    return 1000.0, "per 1,000 people"


def cumulative_data(fit: dict[str, Any], daily: pd.DataFrame, axis: TimeAxis
                    ) -> pd.DataFrame | None:
    """Each column a cum() target reads: its simulated running total every day, and the
    targets on it (tidy: column, day, [date], simulated, target, fitted)."""
    population, agents = fit.get("population"), int(fit["agents"])
    scale, _ = _scale(fit, population, agents)
    start = axis.start
    frames = []
    for col in dict.fromkeys(c for r in fit["fit"] for c in _cum_column(r, start)):
        if col not in daily:
            continue
        frame = pd.DataFrame({"column": col, "day": daily["day"].to_numpy(),
                              "simulated": daily[col].cumsum().to_numpy() / agents * scale,
                              "target": np.nan, "target_name": "", "fitted": np.nan})
        for r in fit["fit"]:
            if _cum_column(r, start) == [col]:
                day = metric_days(r["metric"], start)[0]
                if day < len(frame):
                    frame.loc[day, ["target", "target_name", "fitted"]] = (
                        r["target"] * scale, r["name"], float(r["weight"] > 0))
        frames.append(frame)
    if not frames:
        return None
    return axis.with_dates(pd.concat(frames, ignore_index=True))


def _cum_column(row: dict[str, Any], start: date | None) -> list[str]:
    expr = row["metric"].strip()
    if not row.get("per_capita") or not expr.startswith("cum("):
        return []
    cols = sorted(metric_columns(expr, start))
    return cols if len(cols) == 1 and len(metric_days(expr, start)) == 1 else []


def _draw_cumulative(ax: Axes, data: pd.DataFrame, axis: TimeAxis, unit: str) -> None:
    for k, col in enumerate(dict.fromkeys(data["column"])):
        part = data[data["column"] == col]
        x = axis.x(part["day"].to_numpy())
        ax.plot(x, part["simulated"], color=colour(k), lw=1.5, label=f"{pretty(col)}: simulated")
        t = part[np.isfinite(part["target"].astype(float))]
        for fitted in (1.0, 0.0):
            pts = t[t["fitted"] == fitted]
            if not pts.empty:
                ax.plot(axis.x(pts["day"].to_numpy()), pts["target"], ls="none", marker="o",
                        ms=6, color=colour(k), mfc=colour(k) if fitted else "white",
                        label=f"{pretty(col)}: target" + ("" if fitted else " (held out)"))
    axis.finish(ax)
    ax.set_ylabel(f"running total, {unit}")
    title(ax, "Running totals: simulated (lines) against the published targets (dots)")
    legend(ax, ncol=2)


def fit_data(fit: dict[str, Any], axis: TimeAxis) -> pd.DataFrame:
    """Every target: its last day read, target, simulated, relative error, fitted or not."""
    rows = []
    for r in fit["fit"]:
        day = max(metric_days(r["metric"], axis.start))
        rows.append({"target_name": r["name"], "metric": r["metric"], "day": day,
                     "target": r["target"], "simulated": r["simulated"],
                     "relative_error": r["rel_error"], "fitted": r["weight"] > 0})
    return axis.with_dates(pd.DataFrame(rows))


def _draw_fit(ax: Axes, data: pd.DataFrame, axis: TimeAxis) -> None:
    for fitted, label in ((True, "fitted target"), (False, "held out (weight 0)")):
        part = data[data["fitted"] == fitted]
        if part.empty:
            continue
        ax.plot(axis.x(part["day"].to_numpy()), 100 * part["relative_error"].astype(float),
                ls="none", marker="o", ms=6, color=colour(0 if fitted else 1),
                mfc=colour(0) if fitted else "white", label=label)
        for _, r in part.iterrows():
            ax.annotate(r["target_name"], (axis.x(np.array([r["day"]]))[0],
                                           100 * float(r["relative_error"])),
                        xytext=(4, 0), textcoords="offset points", fontsize=6.5,
                        va="center")
    ax.axhline(0, color="grey", lw=0.8)
    axis.finish(ax)
    ax.set_ylabel("simulated vs. target, relative error (%)")
    title(ax, "Each target's relative error, at the last date it reads")
    legend(ax, ncol=2)


def calibrate_charts(fit: dict[str, Any], daily: pd.DataFrame, axis: TimeAxis) -> list[Chart]:
    """The calibration's figures: running totals against targets, and every target's error."""
    found = []
    _, unit = _scale(fit, fit.get("population"), int(fit["agents"]))
    with drawing():
        data = cumulative_data(fit, daily, axis)
        if data is not None:
            fig = new_figure((7.5, 4.4))
            _draw_cumulative(fig.subplots(), data, axis, unit)
            found.append(Chart("calibration-running-totals", "Running totals against targets",
                               "The best trial's simulated running totals, scaled to the real "
                               "population, against the published totals (filled: fitted; "
                               "hollow: held out, reported but not fitted).", fig, data))
        data = fit_data(fit, axis)
        if not data.empty:
            fig = new_figure((7.5, 4.2))
            _draw_fit(fig.subplots(), data, axis)
            found.append(Chart("calibration-errors", "Relative error of every target",
                               "Simulated minus target over target, for each target at the "
                               "last date it reads (filled: fitted; hollow: held out).", fig,
                               data))
    return found


def calibrate_report(fit: dict[str, Any], daily: pd.DataFrame, scenario: Any = None
                     ) -> tuple[str, list[Chart]]:
    """report.html of a calibration, and its figures.

    Args:
        fit: fit.json's content (the fit rows, parameters, population, start date...).
        daily: the best trial's daily table.
        scenario: the calibrated Scenario (its start date if fit.json has none).

    Returns:
        The page and every chart on it.
    """
    start = fit.get("start_date") or getattr(scenario, "start_date", None)
    start = date.fromisoformat(start) if isinstance(start, str) else start
    axis = TimeAxis(int(fit["days"]), start)
    found = calibrate_charts(fit, daily, axis)
    params = [(n, p["path"], f"{p['start']:.4g}", f"{p['value']:.4g}",
               f"[{p['range'][0]:.4g}, {p['range'][1]:.4g}]")
              for n, p in fit["parameters"].items()]
    rows = [(r["name"] + ("" if r["weight"] > 0 else " (held out)"), f"{r['target']:.4g}",
             f"{r['simulated']:.4g}" if r["simulated"] is not None else "—",
             f"{100 * r['rel_error']:+.1f}%" if r["rel_error"] is not None else "—")
            for r in fit["fit"]]
    sections = [
        {"heading": "Fit", "intro": "Targets per capita (or plain values) against the best "
         "trial.", "table": rows, "header": ("target", "target", "simulated", "relative error"),
         "charts": [figure_view(c) for c in found]},
        {"heading": "Fitted values", "intro": "", "charts": [], "table": params,
         "header": ("parameter", "path", "was", "now", "range searched")}]
    loss = fit.get("loss")
    intro = (f"{fit['scenario']} fitted to {fit['targets']}: {fit['agents']:,} agents x "
             f"{fit['days']} days, seed {fit['seed']}, {fit['trials']} trials "
             f"({fit.get('sampler', '')}), loss {loss if loss is None else f'{loss:.4g}'}.")
    page = render("experiment.html.j2", title=f"scoresim calibration: {fit['scenario']}",
                  intro=intro, overrides=[], sections=sections,
                  scenario_yaml="", provenance=[("scoresim version", __version__),
                                                ("command", fit.get("command") or "(Python)")])
    return page, found
