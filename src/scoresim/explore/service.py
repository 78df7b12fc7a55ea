"""What the pages ask of the explorer: run a setting (or compare two), keep the visitor's
results for downloads, and tell how far a run has come.

Every request of a visitor gets a generation number; a request whose visitor has asked
something newer is cancelled, in the pool and before it submits anything more, so a visitor
sees only their newest request's answer and never another visitor's.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..scenario import ScenarioError, scenario_to_yaml
from . import metrics as M
from .pool import Pool, log
from .settings import Settings, validate
from .worker import Cancelled, Refused, RunTask, check_memory

KEEP_RESULTS = 64  # results kept for downloads, all visitors together
SHOW_PROGRESS_AFTER = 1.0  # seconds: shorter runs show no progress bar


@dataclass
class Series:
    """What the figures draw of one system: its daily tables per seed and its people."""

    label: str
    daily: list[pd.DataFrame]
    cf_daily: list[pd.DataFrame]
    expression: list[str]
    groups: dict[str, float]  # group -> people
    agents: int
    days: int


@dataclass
class Result:
    """One answered request, kept for its downloads."""

    id: str
    settings: Settings
    series: list[Series]
    seeds: list[int]
    yaml: dict[str, str]  # label -> the scenario as run
    runs: list[dict[str, Any]] = field(default_factory=list)  # run mode: per seed
    comparison: Any = None  # compare mode: scoresim.experiments.Comparison
    seconds: float = 0.0


@dataclass
class Answer:
    """What a request came to: a result, or an error (one line), or cancelled."""

    result: Result | None = None
    error: str | None = None
    cancelled: bool = False


class PoolExecutor:
    """scoresim.experiments' Executor protocol on the explorer's pool, for run_compare: the
    tasks of ``visitor``'s request ``generation`` on ``service``'s pool."""

    name = "explorer"

    def __init__(self, service: Explorer, visitor: str, generation: int):
        self.service, self.visitor, self.generation = service, visitor, generation
        self.workers = service.pool.workers

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
            on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        """Run ``fn`` on every task in the pool; raises Cancelled if a newer request came."""
        values = self.service.submit(self.visitor, self.generation, "call",
                                     [(fn, t) for t in tasks])
        for i, v in enumerate(values):
            if on_done is not None:
                on_done(i, v)
        return values


class Explorer:
    """The pool, each visitor's newest request, and the results kept for downloads."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self._lock = threading.Lock()
        self._generation: dict[str, int] = {}
        self._active: dict[str, int] = {}  # requests in flight per visitor
        self._results: OrderedDict[str, Result] = OrderedDict()

    def submit(self, visitor: str, generation: int, kind: str, payloads: Sequence[Any],
               units: int = 1) -> list[Any]:
        """Run a job for the visitor's request ``generation`` and wait for its values."""
        with self._lock:
            if self._generation.get(visitor) != generation:
                raise Cancelled
            job = self.pool.submit(visitor, kind, payloads, units)
        return self.pool.run_tasks(job)

    def request(self, visitor: str, settings: Settings) -> Answer:
        """Answer a visitor's request (cancelling their previous one); blocks until done."""
        with self._lock:
            generation = self._generation.get(visitor, 0) + 1
            self._generation[visitor] = generation
            self._active[visitor] = self._active.get(visitor, 0) + 1
            self.pool.cancel(visitor)
        try:
            return self._answer(visitor, generation, settings)
        finally:
            with self._lock:
                self._active[visitor] -= 1

    def busy(self, visitor: str) -> bool:
        """Whether a request of the visitor is in flight (maybe waiting for the kernels)."""
        with self._lock:
            return self._active.get(visitor, 0) > 0

    def _answer(self, visitor: str, generation: int, settings: Settings) -> Answer:
        t0 = time.perf_counter()
        try:
            b, a = validate(settings)
            self.pool.ready.wait()
            if self.pool.failure:
                return Answer(error=self.pool.failure)
            if settings.mode == "compare":
                result = self._compare(visitor, generation, settings, a, b)
            else:
                result = self._run(visitor, generation, settings, b)
        except Cancelled:
            return Answer(cancelled=True)
        except (ScenarioError, ValueError, RuntimeError, Refused) as exc:
            return Answer(error=str(exc))
        except Exception as exc:  # noqa: BLE001 - the visitor sees one line, the log all
            log.exception("request of visitor %s failed", visitor)
            return Answer(error=f"{type(exc).__name__}: {exc}")
        result.seconds = time.perf_counter() - t0
        with self._lock:
            self._results[result.id] = result
            while len(self._results) > KEEP_RESULTS:
                self._results.popitem(last=False)
        return Answer(result=result)

    def result(self, rid: str) -> Result | None:
        """A kept result by its id (ids are random: a visitor sees only their own)."""
        with self._lock:
            return self._results.get(rid)

    def cancel(self, visitor: str) -> bool:
        """Stop the visitor's running request."""
        with self._lock:
            self._generation[visitor] = self._generation.get(visitor, 0) + 1
            return self.pool.cancel(visitor)

    def progress(self, visitor: str) -> tuple[float, int, int] | None:
        """(seconds running, units done, units in all) of the visitor's running job."""
        job = self.pool.latest(visitor)
        if job is None or job.ended.is_set():
            return None
        done, total = self.pool.progress(job)
        return time.monotonic() - job.started, done, total

    # ------------------------------------------------------------ the two kinds of request
    def _run(self, visitor: str, generation: int, settings: Settings, scenario: Any) -> Result:
        seeds = [settings.seed + k for k in range(settings.seeds)]
        share = min(len(seeds), self.pool.workers)
        tasks = [RunTask(scenario, settings.agents, settings.days, s, share) for s in seeds]
        runs = self.submit(visitor, generation, "run", tasks, units=2 * settings.days)
        first = runs[0]["summary"]
        expression = [k for k, v in scenario.behaviours.items() if v.expression]
        series = Series(first["scenario"], [r["daily"] for r in runs],
                        [r["cf_daily"] for r in runs], expression, M.groups(first),
                        settings.agents, settings.days)
        return Result(secrets.token_hex(16), settings, [series], seeds,
                      {"": runs[0]["scenario_yaml"]}, runs=runs)

    def _compare(self, visitor: str, generation: int, settings: Settings, a: Any,
                 b: Any) -> Result:
        from ..experiments import run_compare

        share = min(2 * settings.seeds, self.pool.workers)
        for sc in (a, b):
            refused = self.submit(visitor, generation, "call", [
                (check_memory, RunTask(sc, settings.agents, settings.days, settings.seed,
                                       share))])[0]
            if refused:
                raise Refused(refused)
        comp = run_compare({"A": a, "B": b}, seeds=settings.seeds, agents=settings.agents,
                           days=settings.days, seed=settings.seed,
                           executor=PoolExecutor(self, visitor, generation))
        groups = {g: s * settings.agents for g, s in comp.meta.get("groups", {}).items()}
        series = [Series(s.label, comp.daily[s.label], comp.cf_daily[s.label],
                         [k for k, v in s.scenario.behaviours.items() if v.expression],
                         groups, settings.agents, settings.days) for s in comp.specs]
        return Result(secrets.token_hex(16), settings, series, comp.seeds,
                      {s.label: scenario_to_yaml(s.scenario) for s in comp.specs},
                      comparison=comp)
