"""The day's record and its daily row: a record adds counts without changing what it was
handed, and a row is every column's count (or read value) of the record, in order."""

from __future__ import annotations

import numpy as np
import pytest

import scoresim
from scoresim.engine.compile import names_of
from scoresim.engine.record import FIELDS, DayRecord
from scoresim.results.columns import _layout, daily_row


def _random_record(names, rng: np.random.Generator) -> DayRecord:
    """A record with every field counted twice (random counts)."""
    record = DayRecord.zeros(names)
    for _ in range(2):
        for field in FIELDS:
            shape = np.shape(getattr(record, field))
            record.add(**{field: rng.integers(0, 1000, shape, dtype=np.int64) if shape
                          else int(rng.integers(0, 1000))})
    return record


def _reference_row(day: int, record, names, n: int) -> dict:
    """The row column by column, each summed from its field (no shared layout)."""
    row: dict = {"day": day}
    for column, field, index, read in _layout(names):
        a = getattr(record, field)
        part = a if index is None else np.asarray(a)[index]
        row[column] = read(part, n) if read is not None else int(np.sum(part))
    return row


def test_add_keeps_what_it_was_handed_and_the_zeros():
    names = names_of(scoresim.load_scenario("default"))
    first, second = DayRecord.zeros(names), DayRecord.zeros(names)
    acts = np.arange(len(names.behaviours), dtype=np.int64)
    kept = acts.copy()
    first.add(acts=acts)
    first.add(acts=acts, false_attributions=np.int64(3))
    first.add(false_attributions=2)
    assert np.array_equal(acts, kept), "a record changed an array handed to it"
    assert np.array_equal(first.acts, 2 * kept)
    assert first.false_attributions == 5
    assert not second.acts.any() and second.false_attributions == 0, "the zeros changed"
    third = DayRecord.zeros(names)
    third.add(acts=acts.astype(np.int32))  # not int64: added onto the zero, as int64
    assert third.acts.dtype == np.int64 and np.array_equal(third.acts, kept)
    both = first + third
    assert np.array_equal(both.acts, 3 * kept) and both.false_attributions == 5


@pytest.mark.parametrize("scenario", ["default", "overseas-venue", "national-points"])
def test_daily_row_is_every_column_of_the_record(scenario):
    names = names_of(scoresim.load_scenario(scenario))
    record = _random_record(names, np.random.default_rng(7))
    row = daily_row(4, record, names, 1234)
    expected = _reference_row(4, record, names, 1234)
    assert list(row) == list(expected)
    assert row == expected
    assert all(type(v) is type(expected[k]) for k, v in row.items())
