"""The checks of docs/validation.md as a registry: one entry per check (its name, what it
checks, its source, its tolerance and the function that runs it), so that the checks of every
area plug in the same way (``checks/``: one module per area).

A check returns a :class:`CheckResult`: one :class:`Row` per published figure (or arithmetic
fact, or property) with the simulated value and its seed interval, and the time series it
plots. A row's verdict follows its tolerance band:

- **pass**: the simulated mean is inside the band;
- **inconclusive**: the mean is outside, but the seed interval reaches the band (too few
  agents or seeds to tell); shown, and not a failure;
- **fail**: the whole seed interval is outside the band.

A check fails when any of its rows fails; a failing row stays in the report with its error,
whether its figure was fitted or held out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from ..metrics import interval
from .runs import Runs

Mode = Literal["quick", "full"]
Verdict = Literal["pass", "inconclusive", "fail"]
Role = Literal["fitted", "held out", "arithmetic", "property", "agreement"]


@dataclass
class Row:
    """One published figure (or arithmetic fact, or property) against the model."""

    figure: str  # what it is, for people
    published: float | None  # the figure (in the row's unit); None for a property
    simulated: float  # the mean over seeds
    low: float  # the seed interval (95%, Student's t; NaN with one seed)
    high: float
    seeds: int
    band: tuple[float, float]  # the values the tolerance accepts
    tolerance: str  # the band in words
    role: Role
    source: str = ""
    address: str = ""
    unit: str = ""
    note: str = ""
    name: str = ""  # a short key (a target's name)

    @property
    def rel_error(self) -> float:
        """(simulated - published) / published; NaN without a published figure."""
        if self.published is None or self.published == 0 or not math.isfinite(self.simulated):
            return math.nan
        return (self.simulated - self.published) / abs(self.published)

    @property
    def verdict(self) -> Verdict:
        """pass, inconclusive or fail (module docstring)."""
        lo, hi = self.band
        if math.isfinite(self.simulated) and lo <= self.simulated <= hi:
            return "pass"
        if math.isfinite(self.low) and math.isfinite(self.high) and self.low <= hi \
                and self.high >= lo:
            return "inconclusive"
        return "fail"


@dataclass
class Series:
    """A time series: the simulated mean (and seed interval) by day, and the published points
    on it (day, value, label, role)."""

    name: str
    title: str
    unit: str
    days: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    points: list[tuple[int, float, str, str]] = field(default_factory=list)
    yearly: bool = False  # values are yearly totals (days: each year's last day)
    start: date | None = None  # the calendar date of day 0 (None: days only)


@dataclass
class CheckResult:
    """What a check found."""

    rows: list[Row]
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No row failed."""
        return all(r.verdict != "fail" for r in self.rows)


@dataclass(frozen=True)
class Check:
    """One entry of the registry."""

    name: str  # its key (scoresim validation --only NAME)
    title: str
    section: str  # where docs/validation.md describes it
    source: str  # what it is checked against
    tolerance: str  # what it accepts, in words
    run: Callable[[Context], CheckResult]
    needs: Callable[[Context], Sequence[Any]] | None = None  # the runs it reads (prefetched)


@dataclass
class Context:
    """What a check runs with: the mode (quick: the size of ``make test``; full: ``make
    validate``), seeds, and the runs (cached, shared between checks)."""

    mode: Mode
    seeds: int
    runs: Runs

    @property
    def quick(self) -> bool:
        """Whether the checks run at the size of ``make test``."""
        return self.mode == "quick"


CHECKS: dict[str, Check] = {}


def register(check: Check) -> Check:
    """Add a check to the registry (its name must be new)."""
    if check.name in CHECKS:
        raise ValueError(f"a check named {check.name!r} is registered already")
    CHECKS[check.name] = check
    return check


def band(published: float, tolerance: float | None = None, factor: float | None = None
         ) -> tuple[tuple[float, float], str]:
    """The band a figure's tolerance accepts, and its words: a relative ``tolerance``, a
    ``factor`` either way, or (neither) the figure exactly."""
    if factor is not None:
        lo, hi = sorted((published / factor, published * factor))
        return (lo, hi), f"within a factor of {factor:g}"
    if tolerance is not None:
        d = abs(published) * tolerance
        return (published - d, published + d), f"within {tolerance:.0%}"
    return (published, published), "exactly"


def over_seeds(values: Sequence[float]) -> tuple[float, float, float, int]:
    """Mean, 95% interval (NaN with one seed) and count of per-seed values."""
    iv = interval(values)
    return float(iv["mean"]), float(iv["lo"]), float(iv["hi"]), int(iv["n"])
