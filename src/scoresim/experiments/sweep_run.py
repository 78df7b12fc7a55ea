"""Running a sweep: each (parameter set, seed) is a Ray task; the driver alone writes the
results, one transaction per finished run, so a sweep can be killed at any moment and the
same command run again computes only the runs that have no 'done' row.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.version import __version__
from ..results.faults import reach
from ..results.store import Store, long_daily, results_file
from ..scenario import Scenario, load_scenario, scenario_hash
from ..sim import Sim
from .compare import run_with_counterfactual
from .executors import RayExecutor
from .metrics import expression_behaviours, run_metrics
from .sweep import Sweep

__all__ = ["RunJob", "SweepBusy", "SweepProgress", "SweepReport", "jobs_of", "run_one",
           "run_sweep"]


@dataclass(frozen=True)
class RunJob:
    """One run of a sweep: the base scenario (its ``set`` applied), the parameter values."""

    run_id: str
    base: Scenario
    params: dict[str, Any]
    seed: int
    agents: int
    days: int
    counterfactual: bool


def run_one(job: RunJob) -> dict[str, Any]:
    """Run one job (in a Ray worker): its final metrics and its daily table, long.

    A parameter value the scenario rejects raises ScenarioError here, so that run fails alone.
    """
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    scenario = load_scenario(job.base, job.params)
    sim = Sim(scenario, agents=job.agents, days=job.days, seed=job.seed)
    res = run_with_counterfactual(sim) if job.counterfactual else sim.run()
    daily = res.daily
    if res.counterfactual is not None:
        acts = [c for c in res.counterfactual.daily.columns if c.startswith("acts_")]
        cf = res.counterfactual.daily[acts].add_prefix("cf_")
        daily = pd.concat([daily, cf], axis=1)
        cf_final = res.summary["counterfactual"]
        expression = expression_behaviours(scenario)
    else:
        cf_final, expression = {}, []
    metrics = run_metrics(res.summary, res.daily, cf_final, expression)
    final = res.summary["final"]
    metrics.update(mean_score=final["mean_score"], mean_caution=final["mean_caution"])
    return {"run_id": job.run_id, "scenario": scenario.name,
            "scenario_hash": scenario_hash(scenario), "host": socket.gethostname(),
            "started": started, "wall_seconds": round(time.perf_counter() - t0, 4),
            "metrics": metrics, "daily": long_daily(daily)}


@dataclass
class SweepProgress:
    """What the progress display shows (updated as each run ends)."""

    total: int  # runs to compute in this invocation
    done: int = 0
    failed: int = 0
    running: int = 0


@dataclass
class SweepReport:
    """What one invocation of a sweep did: its runs found done, computed and failed (with
    each failure's error), and the wall time."""

    sweep_id: str
    runs: int  # in the sweep
    already_done: int  # found done at the start (skipped)
    done: int  # computed now
    failed: int
    wall_seconds: float
    errors: dict[str, str] = field(default_factory=dict)  # run_id -> error


class SweepBusy(Exception):
    """Another process is writing to the results folder."""


@contextmanager
def _writer_lock(folder: Path) -> Iterator[None]:
    """One driver per results folder (an flock: a killed driver releases it)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".sweep.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepBusy(f"{folder}: another sweep is writing here") from None
        yield
    finally:
        os.close(fd)


def jobs_of(sweep: Sweep, plan: pd.DataFrame) -> list[RunJob]:
    """One job per distinct run of the plan (a run listed twice is computed once)."""
    jobs, seen = [], set()
    for row in plan.itertuples(index=False):
        if row.run_id in seen:
            continue
        seen.add(row.run_id)
        jobs.append(RunJob(row.run_id, sweep.base, json.loads(row.params), int(row.seed),
                           sweep.spec.agents, sweep.spec.days, sweep.spec.counterfactual))
    return jobs


def run_sweep(sweep: Sweep, out: str | Path, executor: RayExecutor | None = None,
              progress: Callable[[SweepProgress], None] | None = None) -> SweepReport:
    """Compute the sweep's runs that ``out``/results.duckdb does not hold as done, on Ray.

    A run whose task raises is tried once more, then stored 'failed' with its error; the
    sweep goes on. ``executor`` defaults to a new local Ray instance (shut down at the end).
    """
    folder = results_file(out).parent
    t0 = time.perf_counter()
    with _writer_lock(folder):
        store = Store(folder)
        sweep_id = sweep.sweep_id
        plan = store.plan(sweep_id)  # a known sweep keeps its stored plan (same samples)
        store.add_sweep(sweep_id, sweep.file, sweep.spec.model_dump(mode="json"),
                        sweep.spec.sampler, plan if plan is not None else sweep.plan())
        plan = store.plan(sweep_id)
        assert plan is not None
        jobs = jobs_of(sweep, plan)
        done_before = store.done_ids(j.run_id for j in jobs)
        todo = [j for j in jobs if j.run_id not in done_before]
        state = SweepProgress(total=len(todo))
        report = SweepReport(sweep_id, len(jobs), len(done_before), 0, 0, 0.0)
        if progress is not None:
            progress(state)
        if todo:
            _compute(todo, store, executor or RayExecutor(), state, report, progress,
                     own=executor is None)
    report.wall_seconds = round(time.perf_counter() - t0, 3)
    return report


def _compute(todo: list[RunJob], store: Store, ex: RayExecutor, state: SweepProgress,
             report: SweepReport, progress: Callable[[SweepProgress], None] | None,
             own: bool) -> None:
    base_hash = scenario_hash(todo[0].base)
    outcomes = ex.each(run_one, todo, retries=1)
    try:
        for out in outcomes:
            job = todo[out.index]
            run = {"run_id": job.run_id, "base_hash": base_hash, "version": __version__,
                   "seed": job.seed, "agents": job.agents, "days": job.days,
                   "counterfactual": job.counterfactual, "params": job.params,
                   "attempts": out.attempts, "scenario": job.base.name}
            if out.error is None:
                value = out.value
                run.update({k: value[k] for k in ("scenario", "scenario_hash", "host",
                                                   "started", "wall_seconds")}, status="done")
                store.save_run(run, value["metrics"], value["daily"])
                state.done += 1
                report.done += 1
            else:
                run.update(status="failed", error=out.error)
                store.save_run(run)
                state.failed += 1
                report.failed += 1
                report.errors[job.run_id] = out.error
            reach("kill-after-stored-runs")  # a test's crash at an exact point
            state.running = ex.running
            if progress is not None:
                progress(state)
    finally:
        outcomes.close()  # cancels the runs still in flight (Ctrl-C)
        if own:
            ex.close()

