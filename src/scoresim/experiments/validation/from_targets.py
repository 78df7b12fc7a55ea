"""Rows and series of a check from a targets file (experiments/targets.py): every published
figure the file declares, fitted or held out, against runs of several seeds; counts shown in
real people (per capita times the file's population)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from ..metrics import t975
from ..targets import TargetSet, TargetSpec, evaluate, metric_days
from .registry import Row, Series, band, over_seeds

FITTED_TOLERANCE = 0.1  # a fitted figure's band when the file gives none
HELD_OUT_FACTOR = 1.5  # a held-out figure's band when the file gives none


def _scale(ts: TargetSet, t: TargetSpec, agents: int) -> float:
    """What a metric's raw value is multiplied by to be in the figure's unit."""
    if t.value is not None:
        return 1.0
    if t.count is not None:
        return float(ts.population or 1) / agents
    return 1.0 / agents


def _published(t: TargetSpec) -> float:
    return float(t.count if t.count is not None else
                 t.per_capita if t.per_capita is not None else t.value)


def _unit(t: TargetSpec) -> str:
    return "people" if t.count is not None else "per capita" if t.per_capita is not None else ""


def target_row(ts: TargetSet, name: str, dailies: Sequence[pd.DataFrame], agents: int) -> Row:
    """One target of ``ts`` against the runs (one daily table per seed)."""
    t = ts.targets[name]
    k = _scale(ts, t, agents)
    values = [evaluate(t.metric, d, ts.start_date) * k for d in dailies]
    mean, lo, hi, n = over_seeds(values)
    pub = _published(t)
    if t.tolerance is None and t.factor is None:
        accepted = band(pub, factor=HELD_OUT_FACTOR) if t.held_out else \
            band(pub, tolerance=FITTED_TOLERANCE)
    else:
        accepted = band(pub, t.tolerance, t.factor)
    return Row(figure=name.replace("_", " "), name=name, published=pub, simulated=mean,
               low=lo, high=hi, seeds=n, band=accepted[0], tolerance=accepted[1],
               role="held out" if t.held_out else "fitted", source=t.source,
               address=t.address, unit=_unit(t), note=t.note)


def target_rows(ts: TargetSet, names: Iterable[str], dailies: Sequence[pd.DataFrame],
                agents: int) -> list[Row]:
    """Rows of these targets: the fitted ones first, then the held-out ones."""
    names = list(names)
    order = sorted(names, key=lambda n: (ts.targets[n].held_out, names.index(n)))
    return [target_row(ts, n, dailies, agents) for n in order]


def seed_band(per_seed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-interval over the first axis (seeds); NaN bounds with one seed."""
    mean = per_seed.mean(axis=0)
    n = per_seed.shape[0]
    if n < 2:
        nan = np.full_like(mean, math.nan)
        return mean, nan, nan
    half = t975(n - 1) * per_seed.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def _yearly(values: np.ndarray, start: date) -> tuple[np.ndarray, np.ndarray]:
    """Totals by calendar year (whole years within the run) and each year's last day."""
    days = np.arange(values.shape[-1])
    years = np.array([(start + pd.Timedelta(days=int(d))).year for d in days])
    ends, totals = [], []
    for y in np.unique(years):
        idx = np.flatnonzero(years == y)
        last = (date(int(y), 12, 31) - start).days
        if idx[-1] == last:  # a whole year's total only
            ends.append(last)
            totals.append(values[..., idx].sum(axis=-1))
    return np.array(ends, np.int64), np.stack(totals, axis=-1) if totals else \
        np.zeros((*values.shape[:-1], 0))


def target_series(ts: TargetSet, names: Iterable[str], dailies: Sequence[pd.DataFrame],
                  agents: int, rows: Sequence[Row]) -> list[Series]:
    """The file's series that these targets are points of: simulated against published."""
    by_name = {r.name: r for r in rows}
    out = []
    for key, spec in ts.series.items():
        members = [n for n in names if ts.targets[n].series == key]
        if not members:
            continue
        k = _scale(ts, ts.targets[members[0]], agents)
        raw = np.stack([d[spec.column].to_numpy(np.float64) for d in dailies]) * k
        days = np.arange(raw.shape[1])
        if spec.kind == "cumulative":
            raw = np.cumsum(raw, axis=1)
        elif spec.kind == "yearly":
            if ts.start_date is None:
                raise ValueError(f"series {key}: yearly totals need the file's start_date")
            days, raw = _yearly(raw, ts.start_date)
        mean, lo, hi = seed_band(raw)
        points = [(max(metric_days(ts.targets[n].metric, ts.start_date)),
                   float(by_name[n].published), n, by_name[n].role)
                  for n in members if n in by_name]
        out.append(Series(key, spec.title, _unit(ts.targets[members[0]]), days, mean, lo, hi,
                          points, yearly=spec.kind == "yearly", start=ts.start_date))
    return out
