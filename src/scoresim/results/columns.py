"""The day's record as outputs: a daily.parquet row, and summary.json's run totals, rendered
from the columns the record declares (engine/record.py: ``DAILY``, ``ABROAD``)."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

from ..core.memo import once_per
from ..engine.record import (
    ABROAD,
    ACTIVATION_CAUSES,
    DAILY,
    EXIT_ROUTES,
    FIELDS,
    HARMS,
    DayRecord,
)

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


@dataclass(frozen=True)
class _RowPlan:
    """How a day's record becomes a row, worked out once per names: the counted columns are
    sums of positions in one flat vector of the record's fields (one gather and one
    ``reduceat`` a day), the others are read from their field."""

    columns: tuple[str, ...]  # every column but ``day``, in order
    arrays: tuple[str, ...]  # fields flattened into the vector, in its order
    singles: tuple[str, ...]  # single counts, after the arrays
    take: np.ndarray  # positions in the vector, column after column
    starts: np.ndarray  # where each counted column's positions begin in ``take``
    reads: tuple[tuple[str, Any, Any], ...]  # (field, index or None, read) of the read columns
    order: Any  # puts (counted values, then read values) in column order


def _row_plan(names) -> _RowPlan:
    layout = once_per(names, "daily columns", _layout)
    zero = DayRecord.zeros(names)
    counted = {field for _, field, _, read in layout if read is None}
    arrays = tuple(f for f in FIELDS if f in counted and type(getattr(zero, f)) is np.ndarray)
    singles = tuple(f for f in FIELDS if f in counted and f not in arrays)
    where, at = {}, 0
    for f in arrays:
        a = getattr(zero, f)
        where[f] = at + np.arange(a.size).reshape(a.shape)
        at += a.size
    for f in singles:
        where[f] = np.array(at)
        at += 1
    nothing = at  # a zero after the fields: the count of a column over no positions
    take, starts, reads, counted_at, read_at = [], [], [], [], []
    taken = 0
    for k, (_, field, index, read) in enumerate(layout):
        if read is not None:
            reads.append((field, index, read))
            read_at.append(k)
            continue
        positions = (where[field] if index is None else where[field][index]).ravel()
        take.append(positions if positions.size else np.array([nothing]))
        starts.append(taken)
        taken += take[-1].size
        counted_at.append(k)
    slot = {k: i for i, k in enumerate(counted_at + read_at)}
    order = [slot[k] for k in range(len(layout))]
    return _RowPlan(tuple(c for c, _, _, _ in layout), arrays, singles,
                    np.concatenate(take) if take else np.zeros(0, np.int64),
                    np.array(starts, np.int64), tuple(reads),
                    itemgetter(*order) if len(order) > 1 else (lambda v: tuple(v[:1])))


def daily_row(day: int, record, names, n: int) -> dict[str, float | int]:
    """One row of daily.parquet from the day's record of the whole population."""
    plan = once_per(names, "daily row", _row_plan)
    flat = np.concatenate([*(getattr(record, f).ravel() for f in plan.arrays),
                           np.array([getattr(record, f) for f in plan.singles] + [0], np.int64)])
    counted = (np.add.reduceat(flat[plan.take], plan.starts).tolist() if plan.starts.size
               else [])
    read = [r(getattr(record, f) if i is None else getattr(record, f)[i], n)
            for f, i, r in plan.reads]
    row: dict[str, float | int] = {"day": day}
    row.update(zip(plan.columns, plan.order(counted + read), strict=True))
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
