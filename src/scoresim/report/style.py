"""How every figure looks: colour-blind-safe palettes, matplotlib settings (no mathtext: a `$`
in a name is a dollar sign), number formats, and the time axis (calendar dates when the
scenario has a start date, with its timeline changes marked and labelled; bins that suit the
run's length).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import matplotlib
import matplotlib.dates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Okabe and Ito's eight colours (https://jfly.uni-koeln.de/color/), safe for the common forms of
# colour blindness; black first for "all" or "any" lines
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7")
QUALITATIVE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
               "#F0E442")
LINESTYLES = ("-", "--", "-.", ":")
CAUSE_COLOURS = {"own": "#0072B2", "false_match": "#D55E00", "association": "#E69F00"}
# settings every figure is drawn with: text stays text (mathtext off, SVG text not paths)
RC: dict[str, Any] = {
    "text.parse_math": False, "svg.fonttype": "none", "font.size": 9,
    "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "legend.frameon": False, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "figure.dpi": 100, "savefig.bbox": "tight", "svg.hashsalt": "scoresim",
}


@contextmanager
def drawing() -> Iterator[None]:
    """Draw inside this: scoresim's settings, whatever the user's matplotlib settings are."""
    with matplotlib.rc_context(RC):
        yield


def colour(k: int) -> str:
    """The k-th colour of the qualitative palette (it repeats after eight)."""
    return QUALITATIVE[k % len(QUALITATIVE)]


def sequential(n: int) -> list[tuple[float, ...]]:
    """``n`` colours of an ordered scale (viridis: best grade dark blue, worst yellow), evenly
    spaced so neighbours differ in lightness, which survives colour blindness and greyscale."""
    if n == 1:
        return [tuple(colormaps["viridis"](0.35))]
    return [tuple(colormaps["viridis"](0.05 + 0.9 * k / (n - 1))) for k in range(n)]


def wrap(text: str, width: int = 52) -> str:
    """``text`` broken into lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def pretty(name: str) -> str:
    """A model name for people: underscores become spaces."""
    return name.replace("_", " ")


def percent_axis(axis: Axis) -> None:
    """Tick labels of a share axis as percentages with no more digits than they need."""
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{100 * x:.3g}%"))


def title(ax: Axes, text: str, width: int = 60) -> None:
    """A panel's title, left-aligned and wrapped."""
    ax.set_title(wrap(text, width), loc="left")


def legend(ax: Axes, **kw: Any) -> None:
    """A legend outside the data: below the axes, in as many columns as fit."""
    handles, labels = ax.get_legend_handles_labels()
    if kw.get("handles"):  # handles of their own (not the plotted artists)
        handles = kw.pop("handles")
        labels = [h.get_label() for h in handles]
    kw.pop("handles", None)
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0, -0.16),
                  ncol=min(len(labels), kw.pop("ncol", 3)), **kw)


# ---------------------------------------------------------------- time
@dataclass(frozen=True)
class Change:
    """A timeline change, for the time axis: its day and a short label."""

    day: int
    label: str


def change_label(keys: Sequence[str]) -> str:
    """A short label for a change's keys: the last two parts of the first, and how many more."""
    first = ".".join(keys[0].split(".")[-2:]) if keys else "change"
    return first + (f" (+{len(keys) - 1})" if len(keys) > 1 else "")


@dataclass(frozen=True)
class Bin:
    """A period for bars over time: its name and nominal length in days."""

    name: str
    days: float
    freq: str  # pandas' period alias with calendar dates


BINS = (Bin("day", 1, "D"), Bin("week", 7, "W-MON"), Bin("month", 30.4375, "M"),
        Bin("quarter", 91.3125, "Q"), Bin("year", 365.25, "Y"))


@dataclass
class TimeAxis:
    """Days of a run on the x axis: calendar dates from ``start`` if there is one."""

    days: int
    start: date | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def calendar(self) -> bool:
        """True when the axis shows dates."""
        return self.start is not None

    def x(self, day: Any) -> Any:
        """Day numbers as the axis' coordinates (dates, or the numbers themselves)."""
        if self.start is None:
            return np.asarray(day)
        return np.datetime64(self.start, "D") + np.asarray(day, dtype="timedelta64[D]")

    def num(self, day: Any) -> np.ndarray:
        """Day numbers as float coordinates (matplotlib's date numbers with a calendar)."""
        if self.start is None:
            return np.asarray(day, dtype=float)
        return matplotlib.dates.date2num(self.x(day))

    def dates(self, day: Any) -> list[str]:
        """Day numbers as ISO dates (for a figure's data file); empty without a start."""
        if self.start is None:
            return []
        return [(self.start + timedelta(days=int(d))).isoformat() for d in np.asarray(day)]

    def label(self) -> str:
        """The x axis' label."""
        return "date" if self.calendar else "day of the simulation"

    def with_dates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with a ``date`` column beside its ``day`` column when dates are known."""
        if self.start is None or "day" not in frame:
            return frame
        out = frame.copy()
        out.insert(list(out.columns).index("day") + 1, "date", self.dates(out["day"]))
        return out

    def finish(self, ax: Axes) -> None:
        """Readable ticks (concise dates, or whole day numbers) and the timeline changes."""
        if self.calendar:
            locator = matplotlib.dates.AutoDateLocator(minticks=3, maxticks=8)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(matplotlib.dates.ConciseDateFormatter(locator))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=7, integer=True))
        ax.set_xlabel(self.label())
        self.mark_changes(ax)

    def mark_changes(self, ax: Axes) -> None:
        """A dotted line at each timeline change inside the run, labelled at the top."""
        shown = [c for c in self.changes if 0 < c.day < self.days]
        for k, c in enumerate(shown):
            x = self.x(c.day)
            ax.axvline(x, color="#555555", lw=0.8, ls=":", zorder=1)
            when = ((self.start + timedelta(days=c.day)).strftime("%b %Y") if self.start
                    else f"day {c.day}")
            ax.annotate(f"{k + 1}: {when}, {c.label}", (x, 1), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", rotation=90, ha="left",
                        va="top", fontsize=6.5, color="#333333")

    def bin(self) -> Bin:
        """The shortest period that gives at most 60 bars over the run."""
        for b in BINS:
            if self.days / b.days <= 60:
                return b
        return BINS[-1]

    def binned(self, day: pd.Series, values: pd.DataFrame) -> pd.DataFrame:
        """Daily counts summed per period and scaled to a full period's length, so a period
        the run covers only in part (its first or last) is not drawn short: ``start`` (the
        period's first day), ``days`` (days of the run in it), ``partial`` and one column per
        input column, in counts per full period."""
        b = self.bin()
        if self.start is not None:
            stamps = pd.to_datetime(self.x(day.to_numpy()))
            key = pd.PeriodIndex(stamps, freq=b.freq).start_time.normalize()
            first = (key - pd.Timestamp(self.start)).days
        else:
            first = (day.to_numpy() // int(b.days)) * int(b.days)
        grouped = values.groupby(np.asarray(first))
        out = grouped.sum()
        n = grouped.size()
        if self.start is not None:
            starts = pd.Timestamp(self.start) + pd.to_timedelta(out.index, unit="D")
            ends = (pd.PeriodIndex(starts, freq=b.freq).end_time.normalize()
                    - pd.Timestamp(self.start)).days + 1
            full = np.asarray(ends - out.index, dtype=float)
        else:
            full = np.full(len(out), b.days)
        out = out.mul(full / n.to_numpy(), axis=0)
        out.insert(0, "partial", n.to_numpy() < full)
        out.insert(0, "days", n.to_numpy())
        out.insert(0, "start", out.index.to_numpy())
        return out.reset_index(drop=True)
