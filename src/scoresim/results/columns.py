"""The day's record as outputs: a daily.parquet row, and summary.json's run totals, rendered
from the columns the record declares (engine/record.py: ``DAILY``, ``ABROAD``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.memo import once_per
from ..engine.record import ABROAD, ACTIVATION_CAUSES, DAILY, EXIT_ROUTES, HARMS

LABELS = {"activation_causes": ACTIVATION_CAUSES, "harms": HARMS, "exit_routes": EXIT_ROUTES}


def _names(kind: str, names) -> list[str]:
    if kind in LABELS:
        return list(LABELS[kind])
    if kind == "grades" and len(names.grades) < 2:
        return []
    return list(getattr(names, kind))


def _layout(names) -> tuple[tuple[str, str, tuple[int, ...] | None, Any], ...]:
    """daily.parquet's columns for these names, in order: (column, field, index into the
    field's leading axes or None for the whole field, read or None for a count)."""
    out = []
    for spec in DAILY + (ABROAD if names.venues else ()):
        columns = spec if isinstance(spec, tuple) else (spec,)
        first = columns[0]
        if not first.over:
            out += [(c.name, c.field, None, c.read) for c in columns]
            continue
        labels = [_names(k, names) for k in first.over]
        for index in np.ndindex(*(len(x) for x in labels)):
            for c in columns:
                out.append((c.name.format(*(labels[d][i] for d, i in enumerate(index))),
                            c.field, index, c.read))
    return tuple(out)


def _counts(a: np.ndarray, k: int) -> list:
    """A field's counts over its first k axes, summed over any further axes, as (nested)
    Python ints."""
    if a.ndim > k:
        a = a.sum(axis=tuple(range(k, a.ndim)))
    return a.tolist()


def daily_row(day: int, record, names, n: int) -> dict[str, float | int]:
    """One row of daily.parquet from the day's record of the whole population."""
    row: dict[str, float | int] = {"day": day}
    counts: dict[tuple[str, int], Any] = {}  # a field's counts, made once a row
    for name, field, index, read in once_per(names, "daily columns", _layout):
        a = getattr(record, field)
        if read is not None:
            row[name] = read(a if index is None else a[index], n)
        elif index is None:
            row[name] = int(a.sum()) if type(a) is np.ndarray else int(a)
        else:
            key = (field, len(index))
            c = counts.get(key)
            if c is None:
                c = counts[key] = _counts(np.asarray(a), len(index))
            for i in index:
                c = c[i]
            row[name] = c
    return row


def totals(names, daily: list[dict]) -> dict[str, Any]:
    """summary.json's run totals of the daily columns that declare one."""
    out: dict[str, Any] = {}
    for spec in DAILY:
        for c in spec if isinstance(spec, tuple) else (spec,):
            if c.total is None:
                continue
            if len(c.over) == 2:
                out[c.total] = {x: {y: int(sum(r[c.name.format(x, y)] for r in daily))
                                    for y in _names(c.over[1], names)}
                                for x in _names(c.over[0], names)}
            elif c.over:
                out[c.total] = {x: int(sum(r[c.name.format(x)] for r in daily))
                                for x in _names(c.over[0], names)}
            else:
                out[c.total] = int(sum(r[c.name] for r in daily))
    return out
