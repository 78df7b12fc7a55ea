"""What every stage of a day takes: which agents it works on (``Span``), which day (``DayKey``),
and the day's context (``Day``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np


class Span(NamedTuple):
    """The agents a kernel works on: [lo, hi) of a population of n (the whole population in
    one process; a partition's range across partitions)."""

    n: int
    lo: int
    hi: int


class DayKey(NamedTuple):
    """The random streams' key of one day of one run (core/rng.py)."""

    seed: int
    day: int


def join(first: Any, second: Any) -> Any:
    """Two effect records of one kind as one (``first`` may be None)."""
    if first is None:
        return second
    return type(first)(*(np.concatenate([a, b]) for a, b in zip(first, second, strict=True)))


@dataclass
class Day:
    """One day of one range of agents, as the stages see it: which day, the plan in force, the
    population, the state, the range, the record being counted, the effects delivered to the
    range (``inbox``) and those its stages emitted (``outbox``), and the working data one
    stage hands the next within the range (``work``: acts, penalties, busy agents, ...)."""

    day: int
    seed: int
    plan: Any  # engine.compile.Plan
    previous: Any  # the plan in force yesterday when it changed today, else None
    people: Any  # population.People
    net: Any  # network.Network
    state: Any  # engine.state.State
    span: Span
    record: Any  # engine.record.DayRecord
    firms: Any = None  # int64[k]: the firms rated in this range (None: every firm)
    inbox: dict[str, Any] = field(default_factory=dict)
    outbox: dict[str, Any] = field(default_factory=dict)
    work: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> DayKey:
        """The random streams' key of the day."""
        return DayKey(self.seed, self.day)

    @property
    def whole(self) -> bool:
        """The range is the whole population (one process)."""
        return self.span.lo == 0 and self.span.hi == self.span.n

    def emit(self, kind: str, record: Any) -> None:
        """Hand an effect record to the runner for delivery (after any of its kind emitted
        earlier today)."""
        self.outbox[kind] = join(self.outbox.get(kind), record)

    def received(self, kind: str) -> Any:
        """The records of a kind delivered to this range (None when none were sent)."""
        return self.inbox.get(kind)
