"""What a run's figures read: its summary and daily tables and its time axis (calendar dates
and timeline changes from the scenario), with the helpers every run panel shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from . import names as N
from .style import Change, TimeAxis, change_label, colour

CAUSE_NAMES = {"own": "own scored acts", "false_match": "false match (wrong person)",
               "association": "association (family, work, friends)"}


def window(days: int) -> int:
    """Smoothing window (days) for daily rates: a week for short runs, a month, a quarter for
    runs of years."""
    return 7 if days < 90 else 30 if days < 1500 else 91


@dataclass
class RunContext:
    """What a run's figures read: its summary, daily tables and time axis."""

    summary: dict[str, Any]
    daily: pd.DataFrame
    cf_daily: pd.DataFrame | None = None
    axis: TimeAxis = field(default_factory=lambda: TimeAxis(0))

    @property
    def agents(self) -> int:
        """People in the run."""
        return int(self.summary["agents"])

    @property
    def final(self) -> dict[str, Any]:
        """The summary's final metrics."""
        return self.summary["final"]

    def columns(self, prefix: str) -> list[str]:
        """The names after ``prefix`` of the daily columns that start with it (not per group)."""
        return [c[len(prefix):] for c in self.daily.columns
                if c.startswith(prefix) and N.GROUP_SEP not in c]

    def frame(self, values: dict[str, Any]) -> pd.DataFrame:
        """A table over the run's days: day (and date), then ``values``."""
        out = pd.DataFrame({N.DAY: self.daily[N.DAY].to_numpy(), **values})
        return self.axis.with_dates(out)

    def binned(self, counts: pd.DataFrame) -> pd.DataFrame:
        """Daily counts per period (see TimeAxis.binned), with ``first_day`` (and
        ``first_date``) naming each period."""
        out = self.axis.binned(self.daily[N.DAY], counts).rename(columns={"start": "first_day"})
        if self.axis.calendar:
            out.insert(1, "first_date", self.axis.dates(out["first_day"]))
        return out

    def x(self, data: pd.DataFrame) -> Any:
        """A table's days as x coordinates."""
        return self.axis.x(data[N.DAY].to_numpy())

    def expression(self) -> list[str]:
        """The expression behaviours (the counterfactual's chilling block names them)."""
        cf = self.summary.get("counterfactual", {})
        return [b for b in cf.get("chilling", {}) if b != "overall"]

    def group_sizes(self) -> dict[str, float]:
        """Members of each group."""
        return {g: v["agents"] for g, v in self.final.get(N.BY_GROUP, {}).items()}


def run_context(summary: dict[str, Any], daily: pd.DataFrame, scenario: Any = None,
                cf_daily: pd.DataFrame | None = None) -> RunContext:
    """The context of a run's figures; ``scenario`` (if given) brings its start date and its
    timeline changes to the time axis."""
    start: date | None = getattr(scenario, "start_date", None)
    changes = [Change(c.day, change_label(list(c.set))) for c in
               sorted(getattr(scenario, "timeline", []) or [], key=lambda c: c.day)]
    return RunContext(summary, daily, cf_daily, TimeAxis(int(summary["days"]), start, changes))


def lines(ax: Axes, ctx: RunContext, data: pd.DataFrame, cols: list[str],
          labels: list[str], colours: list[Any] | None = None) -> None:
    """One line per column over time; "any" and "all" lines in bold black."""
    for k, (col, label) in enumerate(zip(cols, labels, strict=True)):
        bold = label.startswith(("any", "all"))
        ax.plot(ctx.x(data), data[col], label=label, lw=2 if bold else 1.5,
                color="black" if bold else (colours[k] if colours else colour(k)))
    ctx.axis.finish(ax)


def chilling_series(daily: pd.DataFrame, cf_daily: pd.DataFrame, behaviours: list[str],
                    days: int) -> pd.DataFrame:
    """Relative fall in expression acts against the counterfactual over a trailing window
    (1 - acts / counterfactual acts), per behaviour and overall; NaN where nothing to compare.

    Args:
        daily: the run's daily table.
        cf_daily: its counterfactual's.
        behaviours: the expression behaviours.
        days: the run's length (it sets the window).

    Returns:
        A table with ``day``, one column per behaviour and ``overall``.
    """
    w = window(days)
    out = pd.DataFrame({N.DAY: daily[N.DAY]})

    def fall(a: pd.Series, c: pd.Series) -> pd.Series:
        a, c = a.rolling(w, min_periods=1).sum(), c.rolling(w, min_periods=1).sum()
        return (1.0 - a / c.where(c > 0)).astype(float)

    for b in behaviours:
        out[b] = fall(daily[N.ACTS_PREFIX + b], cf_daily[N.ACTS_PREFIX + b])
    if behaviours:
        cols = [N.ACTS_PREFIX + b for b in behaviours]
        out["overall"] = fall(daily[cols].sum(axis=1), cf_daily[cols].sum(axis=1))
    return out


