"""The day's record as outputs: a daily.parquet row, and summary.json's run totals, rendered
from the columns the record declares (engine/record.py: ``DAILY``, ``ABROAD``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.record import ABROAD, ACTIVATION_CAUSES, DAILY, EXIT_ROUTES, HARMS, Column

LABELS = {"activation_causes": ACTIVATION_CAUSES, "harms": HARMS, "exit_routes": EXIT_ROUTES}


def _sum_rest(a: np.ndarray, *index: int) -> int:
    return int(np.sum(a[index]))


def _names(kind: str, names) -> list[str]:
    if kind in LABELS:
        return list(LABELS[kind])
    if kind == "grades" and len(names.grades) < 2:
        return []
    return list(getattr(names, kind))


def _family(columns: tuple[Column, ...], record, names, n: int, row: dict) -> None:
    """Fill ``row`` with a family of columns (interleaved when several)."""
    first = columns[0]
    if not first.over:
        for c in columns:
            a = getattr(record, c.field)
            row[c.name] = c.read(a, n) if c.read else int(np.sum(a))
        return
    labels = [_names(k, names) for k in first.over]
    for index in np.ndindex(*(len(x) for x in labels)):
        for c in columns:
            a = getattr(record, c.field)
            row[c.name.format(*(labels[d][i] for d, i in enumerate(index)))] = (
                c.read(a[index], n) if c.read else _sum_rest(a, *index))


def daily_row(day: int, record, names, n: int) -> dict[str, float | int]:
    """One row of daily.parquet from the day's record of the whole population."""
    row: dict[str, float | int] = {"day": day}
    for spec in DAILY + (ABROAD if names.venues else ()):
        _family(spec if isinstance(spec, tuple) else (spec,), record, names, n, row)
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
