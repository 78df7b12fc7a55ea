"""Where independent runs execute: one small interface, so that an ensemble does not care
whether its runs go to this process, a local process pool or (later) a Ray cluster.

An executor maps a picklable module-level function over tasks and returns the results in task
order, calling ``on_done`` as each finishes (for a progress bar). Results never depend on the
executor: every random draw is keyed by (seed, day, stage, agent, draw), not by the worker.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
OnDone = Callable[[int, Any], None]

# Numba's OpenMP/TBB thread pools do not survive fork(), so workers must start fresh.
START_METHODS = ("spawn", "forkserver")


class Executor(Protocol):
    """Runs ``fn`` on each task; results come back in task order."""

    name: str
    workers: int

    def map(self, fn: Callable[[T], R], tasks: Sequence[T],
            on_done: OnDone | None = None) -> list[R]: ...


class SerialExecutor:
    """Every task in this process, one after the other (debugging, tests, tiny runs).

    ``threads`` caps Numba's threads while the tasks run (and restores them after): for small
    populations one thread is faster than many, whose start-up per stage dominates.
    """

    name = "serial"
    workers = 1

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def map(self, fn: Callable[[T], R], tasks: Sequence[T],
            on_done: OnDone | None = None) -> list[R]:
        import numba

        before = numba.get_num_threads()
        if self.threads is not None:
            numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))
        try:
            out = []
            for i, task in enumerate(tasks):
                out.append(fn(task))
                if on_done is not None:
                    on_done(i, out[-1])
            return out
        finally:
            numba.set_num_threads(before)


def _init_worker(threads: int) -> None:
    """Give each worker its share of the cores, so that workers x threads = cores."""
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


def cpu_count() -> int:
    """Cores this process may use (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class ProcessExecutor:
    """A local process pool started with 'spawn' (or 'forkserver'), never 'fork'.

    With ``workers`` processes on ``cores`` cores each worker runs ``cores // workers`` Numba
    threads, so the machine is neither idle nor oversubscribed.
    """

    name = "process"

    def __init__(self, workers: int | None = None, start_method: str = "spawn",
                 threads_per_worker: int | None = None):
        if start_method not in START_METHODS:
            raise ValueError(f"start_method must be one of {START_METHODS} (fork breaks Numba)")
        cores = cpu_count()
        self.workers = max(1, workers or cores)
        self.threads = threads_per_worker or max(1, cores // self.workers)
        self.start_method = start_method

    def map(self, fn: Callable[[T], R], tasks: Sequence[T],
            on_done: OnDone | None = None) -> list[R]:
        if not tasks:
            return []
        ctx = multiprocessing.get_context(self.start_method)
        results: list[Any] = [None] * len(tasks)
        workers = min(self.workers, len(tasks))
        threads = self.threads if workers == self.workers else max(1, cpu_count() // workers)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                 initializer=_init_worker, initargs=(threads,)) as pool:
            index: dict[Future, int] = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
            pending = set(index)
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i = index[fut]
                        results[i] = fut.result()  # a worker's exception surfaces here
                        if on_done is not None:
                            on_done(i, results[i])
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
        return results


def make_executor(kind: str = "process", workers: int | None = None,
                  threads: int | None = None) -> Executor:
    """An executor by name: 'process' (default) or 'serial'; ``threads``: Numba threads per
    worker (default: the cores shared out among the workers)."""
    if kind == "serial":
        return SerialExecutor(threads)
    if kind == "process":
        return ProcessExecutor(workers, threads_per_worker=threads)
    raise ValueError(f"unknown executor {kind!r}: choose 'process' or 'serial'")
