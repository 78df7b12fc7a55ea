"""A worker process of the explorer: compiles the kernels once, keeps recent populations, and
runs one task at a time until the server stops it.

Tasks are either a run (one scenario and seed next to its counterfactual, on a cached
population) or any module-level function and its argument (a comparison's runs, the memory
plan). The server cancels a task by writing its id into the shared ``cancel`` array and sending
SIGUSR1: the handler raises :class:`Cancelled` in the task at its next Python statement
(between two kernels, a few milliseconds at most), and only while that task is running.
"""

from __future__ import annotations

import json
import os
import signal
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from ..scenario import Scenario, ScenarioError, builtin_scenarios, scenario_to_yaml

# the test suite's deterministic pause: a run blocks after its first day while this FIFO
# exists, until the test writes to it (or the run is cancelled)
HOLD_ENV = "SCORESIM_EXPLORE_HOLD"
CACHE_ENTRIES = 2  # populations kept per worker
WARM_AGENTS, WARM_DAYS = 1_000, 3


class Cancelled(Exception):
    """The task was cancelled by a newer request of the same visitor."""


class Refused(Exception):
    """The run does not fit in memory; the message is the memory plan's."""


@dataclass(frozen=True)
class RunTask:
    """One run and its counterfactual; ``share``: how many such runs may hold memory at once."""

    scenario: Scenario
    agents: int
    days: int
    seed: int
    share: int = 1


# what a population's build reads: everything but these values (which only the day's stages
# read) must match for a cached population to be reused; tests/test_explore.py checks every
# knob against a fresh build
_NOT_BUILT = {"camera_coverage", "watch_multiplier", "false_match_multiplier", "spillover",
              "rating"}


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in _NOT_BUILT}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def population_key(scenario: Scenario, agents: int, seed: int) -> str:
    """The cache key of the population a run of ``scenario`` builds."""
    data = scenario.model_dump(mode="json")
    built = {k: _strip(data.get(k)) for k in ("population", "layers", "overseas")}
    return json.dumps([built, agents, seed], sort_keys=True)


class PopulationCache:
    """The ``entries`` most recent populations of this worker, by (scenario's population,
    agents, seed)."""

    def __init__(self, entries: int = CACHE_ENTRIES):
        self.entries = entries
        self.items: OrderedDict[str, Any] = OrderedDict()

    def get(self, task: RunTask) -> Any:
        """The task's population: cached, or built after the memory plan agrees."""
        from ..scale.plan import available_memory, check_fits, quick_estimate
        from ..sim import build_population

        key = population_key(task.scenario, task.agents, task.seed)
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        plan = quick_estimate(task.scenario, task.agents, task.seed)
        too_big = check_fits(plan, available_memory() / task.share)
        if too_big and self.items:  # the cached populations hold memory a new one could use
            self.items.clear()
            too_big = check_fits(plan, available_memory() / task.share)
        if too_big:
            raise Refused(too_big)
        pop = build_population(task.scenario, task.agents, task.seed)
        self.items[key] = pop
        while len(self.items) > self.entries:
            self.items.popitem(last=False)
        return pop


def run_one(task: RunTask, cache: PopulationCache, progress: Callable[[int, int], None]
            ) -> dict[str, Any]:
    """A run and its counterfactual: summary, daily tables and the scenario as run."""
    from ..experiments import run_with_counterfactual
    from ..sim import Sim

    pop = cache.get(task)
    sim = Sim(task.scenario, agents=task.agents, days=task.days, seed=task.seed,
              population=pop)
    res = run_with_counterfactual(sim, progress)
    assert res.counterfactual is not None
    return {"summary": res.summary, "daily": res.daily, "cf_daily": res.counterfactual.daily,
            "scenario_yaml": scenario_to_yaml(res.scenario), "scenario": res.scenario,
            "description": res.scenario.description}


def check_memory(task: RunTask) -> str | None:
    """The memory plan's refusal for a run, or None if it fits (a comparison asks first)."""
    from ..scale.plan import available_memory, check_fits, quick_estimate

    plan = quick_estimate(task.scenario, task.agents, task.seed)
    return check_fits(plan, available_memory() / task.share)


def warm_up() -> None:
    """Compile (or load from Numba's cache) the kernels every built-in scenario uses."""
    from ..experiments import run_with_counterfactual
    from ..sim import Sim

    for name in builtin_scenarios():
        run_with_counterfactual(Sim(name, agents=WARM_AGENTS, days=WARM_DAYS, seed=0))


class _Worker:
    def __init__(self, index: int, conn: Connection, progress: Any, cancel: Any):
        self.index, self.conn, self.progress, self.cancel = index, conn, progress, cancel
        self.task = -1  # the running task's id; -1 between tasks
        self.cache = PopulationCache()
        self.hold = os.environ.get(HOLD_ENV)

    def on_cancel(self, signum: int, frame: Any) -> None:
        if self.task >= 0 and self.cancel[self.index] == self.task:
            self.task = -1  # raise once
            raise Cancelled

    def report(self, done: int, total: int) -> None:
        self.progress[2 * self.index], self.progress[2 * self.index + 1] = done, total
        if done == 1 and self.hold and os.path.exists(self.hold):
            with open(self.hold, encoding="utf-8") as fifo:  # blocks until the test writes
                fifo.read()

    def execute(self, task_id: int, kind: str, payload: Any, threads: int) -> None:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        self.report(0, 0)
        try:
            self.task = task_id
            if kind == "run":
                value = run_one(payload, self.cache, self.report)
            else:
                fn, arg = payload
                value = fn(arg)
            self.task = -1
            reply: tuple = ("done", task_id, value)
        except Cancelled:
            reply = ("cancelled", task_id)
        except (ScenarioError, ValueError, Refused) as exc:
            reply = ("error", task_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the visitor, logged in full
            reply = ("error", task_id, f"{type(exc).__name__}: {exc}",
                     traceback.format_exc())
        finally:
            self.task = -1
        self.conn.send(reply)

    def loop(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                return  # the server is gone
            if msg is None:
                return
            self.execute(*msg)


def worker_main(index: int, conn: Connection, progress: Any, cancel: Any) -> None:
    """The worker's entry point (a spawned process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    worker = _Worker(index, conn, progress, cancel)
    signal.signal(signal.SIGUSR1, worker.on_cancel)
    t0 = time.perf_counter()
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - the server reports it and stops
        conn.send(("failed", index, traceback.format_exc()))
        return
    conn.send(("ready", index, time.perf_counter() - t0))
    worker.loop()
