"""The runs the checks read, made once and shared: a run is a scenario, a size, a number of
days, a seed and overrides (:class:`RunSpec`); its daily table is kept. Runs a check declares
it needs are made together, in parallel processes (experiments/executors.py), before the
checks read them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from ..executors import Executor, SerialExecutor


@dataclass(frozen=True)
class RunSpec:
    """One run: a built-in scenario (or file), agents, days, seed and --set overrides."""

    scenario: str
    agents: int
    days: int
    seed: int
    overrides: tuple[str, ...] = ()
    scoring: bool = True  # False: the counterfactual (nothing scored, nobody responds)


def run_daily(spec: RunSpec) -> pd.DataFrame:
    """The daily table of one run (a module-level function: worker processes import it)."""
    from ...sim import Sim

    return Sim(spec.scenario, agents=spec.agents, days=spec.days, seed=spec.seed,
               overrides=list(spec.overrides), scoring=spec.scoring).run().daily


class Runs:
    """The runs made so far, by spec; ``ensure`` makes the missing ones together."""

    def __init__(self, executor: Executor | None = None,
                 on_done: Callable[[RunSpec], None] | None = None):
        self.executor = executor or SerialExecutor()
        self.on_done = on_done
        self._daily: dict[RunSpec, pd.DataFrame] = {}

    def ensure(self, specs: Sequence[RunSpec]) -> None:
        """Make every run of ``specs`` not made yet (in parallel, the largest first)."""
        todo = sorted({s for s in specs if s not in self._daily},
                      key=lambda s: (-s.agents * s.days, s.scenario, s.seed))
        if not todo:
            return

        def done(i: int, daily: pd.DataFrame) -> None:
            if self.on_done is not None:
                self.on_done(todo[i])

        for spec, daily in zip(todo, self.executor.map(run_daily, todo, done), strict=True):
            self._daily[spec] = daily

    def daily(self, spec: RunSpec) -> pd.DataFrame:
        """The daily table of a run (made now if it was not)."""
        self.ensure([spec])
        return self._daily[spec]

    def __len__(self) -> int:
        """The number of runs made."""
        return len(self._daily)
