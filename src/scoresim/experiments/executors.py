"""Where independent runs execute: one small interface, so that an ensemble does not care
whether its runs go to this process, a local process pool or a Ray cluster.

An executor maps a picklable module-level function over tasks and returns the results in task
order, calling ``on_done`` as each finishes (for a progress bar). Results never depend on the
executor: every random draw is keyed by (seed, day, stage, agent, draw), not by the worker.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .ray_local import ray_init, ray_shutdown, remember_processes

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
            on_done: OnDone | None = None) -> list[R]:
        """``fn`` of each task, in task order; ``on_done(index, result)`` as each finishes."""
        ...


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
        """``fn`` of each task, one after the other, with ``on_done(index, result)`` after
        each."""
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
    threads (unless ``threads_per_worker`` is given), so the machine is neither idle nor
    oversubscribed.
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
        """``fn`` of each task on the pool, in task order, with ``on_done(index, result)`` as
        each finishes; a task's exception is raised here and the tasks not started are
        cancelled."""
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


# ---------------------------------------------------------------- Ray
def _in_ray_worker(fn: Callable[[Any], Any], threads: int, task: Any) -> Any:
    """Run one task in a Ray worker with ``threads`` Numba threads (its share of the cores)."""
    _init_worker(threads)
    return fn(task)


@dataclass
class Outcome:
    """How one task ended: its ``value``, or ``error`` (a line of text) and ``exc``."""

    index: int
    value: Any = None
    error: str | None = None
    exc: BaseException | None = None
    attempts: int = 1


def _describe(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # a RayTaskError carries the task's own exception
    err = cause if isinstance(cause, BaseException) else exc
    text = " ".join(str(err).split()) or type(err).__name__
    return f"{type(err).__name__}: {text}"[:2000]


class RayExecutor:
    """Tasks as Ray tasks: on a new local Ray instance (``address`` None), or on the cluster
    at ``address`` ("auto", "HOST:PORT" or "ray://HOST:10001").

    Each task asks Ray for ``threads`` CPUs and runs that many Numba threads, so tasks x
    threads never exceeds the cores Ray has. A worker process that dies is retried by Ray
    (``max_retries``); a task whose function raises may be run again (``retries`` in
    :meth:`each`). At most ``workers`` tasks are in flight (default: as many as the cluster's
    CPUs hold), so ``running`` is the number really running and an interrupted run wastes
    little. Ray pickles a module-level ``fn`` by reference: the workers need scoresim installed.
    """

    name = "ray"

    def __init__(self, workers: int | None = None, threads: int | None = None,
                 address: str | None = None, max_retries: int = 2):
        if workers is not None and workers < 1 or threads is not None and threads < 1:
            raise ValueError("workers and threads must be at least 1")
        self.address, self.threads, self.max_retries = address, threads or 1, max_retries
        self._workers = workers
        self.workers = workers or max(1, cpu_count() // self.threads)
        self.running = 0
        self._owned = False
        self.stop = threading.Event()

    def request_stop(self) -> None:
        """Make :meth:`each` raise KeyboardInterrupt at its next safe point (between two Ray
        calls): a signal handler's way to interrupt, since a KeyboardInterrupt raised inside
        Ray's native code can crash the process at shutdown."""
        self.stop.set()

    def start(self) -> RayExecutor:
        """Connect (or start the local instance); idempotent."""
        import ray

        self._owned = ray_init(self.address) or self._owned
        cpus = int(ray.cluster_resources().get("CPU", 1))
        if self.threads > cpus:  # such a task would wait forever for a big enough node
            self.close()
            raise ValueError(f"{self.threads} threads per task, but Ray has {cpus} CPUs")
        self.workers = max(1, min(self._workers or cpus, cpus // self.threads))
        return self

    def close(self) -> None:
        """Shut Ray down if :meth:`start` started it (a caller's own instance stays up)."""
        if self._owned:
            ray_shutdown()
            self._owned = False

    def each(self, fn: Callable[[T], R], tasks: Sequence[T], retries: int = 0
             ) -> Iterator[Outcome]:
        """Yield an Outcome per task as each ends (not in task order). A task whose function
        raises (or whose worker died more than ``max_retries`` times) is run again up to
        ``retries`` times, then yielded with its error. Closing the iterator cancels the
        tasks still in flight."""
        import ray

        self.start()
        remote = ray.remote(_in_ray_worker).options(
            num_cpus=self.threads, max_retries=self.max_retries, retry_exceptions=False)
        queue = list(range(len(tasks)))[::-1]  # pop() from the end: task order
        attempts = [0] * len(tasks)
        live: dict[Any, int] = {}
        first_end = True
        try:
            while queue or live:
                while queue and len(live) < self.workers:
                    i = queue.pop()
                    attempts[i] += 1
                    live[remote.remote(fn, self.threads, tasks[i])] = i
                self.running = len(live)
                done, _ = ray.wait(list(live), num_returns=1, timeout=0.25)
                if self.stop.is_set():  # a safe point to stop (see request_stop)
                    raise KeyboardInterrupt
                if not done:
                    continue
                i = live.pop(done[0])
                if first_end and self._owned:
                    remember_processes()  # the first task ended: every agent has started
                first_end = False
                try:
                    value = ray.get(done[0])
                except Exception as exc:  # noqa: BLE001 - the task's error, or a lost worker
                    if attempts[i] <= retries:
                        queue.append(i)
                        continue
                    self.running = len(live)
                    yield Outcome(i, error=_describe(exc), exc=exc, attempts=attempts[i])
                else:
                    self.running = len(live)
                    yield Outcome(i, value=value, attempts=attempts[i])
        finally:
            for ref in live:
                ray.cancel(ref, force=True)
            self.running = 0

    def map(self, fn: Callable[[T], R], tasks: Sequence[T],
            on_done: OnDone | None = None) -> list[R]:
        """``fn`` of each task as Ray tasks, in task order, with ``on_done(index, result)`` as
        each finishes; the first task that fails raises its own exception and the rest are
        cancelled."""
        if not tasks:
            return []
        results: list[Any] = [None] * len(tasks)
        outcomes = self.each(fn, tasks)
        try:
            for out in outcomes:
                if out.exc is not None:
                    cause = getattr(out.exc, "cause", None)
                    raise cause if isinstance(cause, Exception) else out.exc
                results[out.index] = out.value
                if on_done is not None:
                    on_done(out.index, out.value)
        finally:
            outcomes.close()
            self.close()
        return results


EXECUTORS = ("process", "serial", "ray")


def make_executor(kind: str = "process", workers: int | None = None,
                  threads: int | None = None, address: str | None = None) -> Executor:
    """An executor by name: 'process' (default), 'serial' or 'ray' (a local Ray instance, or
    the cluster at ``address``); ``threads``: Numba threads per worker (default: the cores
    shared out among the workers; one per task on Ray)."""
    if address is not None and kind != "ray":
        raise ValueError("an address needs the 'ray' executor")
    if kind == "serial":
        return SerialExecutor(threads)
    if kind == "process":
        return ProcessExecutor(workers, threads_per_worker=threads)
    if kind == "ray":
        return RayExecutor(workers, threads, address)
    raise ValueError(f"unknown executor {kind!r}: choose one of {', '.join(EXECUTORS)}")


__all__ = ["EXECUTORS", "Executor", "OnDone", "Outcome", "ProcessExecutor",
           "RayExecutor", "SerialExecutor", "cpu_count", "make_executor", "ray_init"]
