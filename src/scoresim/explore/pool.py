"""The explorer's warm process pool: workers compile the kernels once at start-up and then take
tasks from one queue; each visitor's newest job cancels that visitor's previous one.

A job is a list of tasks (one per seed, or a comparison's runs); the pool sends a task to a
worker only when the worker is free, so cancelling a job drops its queued tasks at once and
interrupts its running ones (see :mod:`.worker`). Workers start with 'spawn': Numba's threads
do not survive ``fork``.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from .worker import Cancelled, worker_main

log = logging.getLogger("scoresim.explore")
PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"


@dataclass
class Task:
    """One unit of work for a worker."""

    id: int
    job: Job
    kind: str  # "run" (a RunTask) or "call" ((function, argument))
    payload: Any
    state: str = PENDING
    value: Any = None
    error: str | None = None
    worker: int | None = None


@dataclass
class Job:
    """A visitor's request: its tasks, and an event set when all of them have ended."""

    id: int
    visitor: str
    units: int = 1  # progress units per task: the days of a run and its counterfactual
    tasks: list[Task] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    ended: threading.Event = field(default_factory=threading.Event)
    cancelled: bool = False

    @property
    def error(self) -> str | None:
        """The first task's error, if any task failed."""
        return next((t.error for t in self.tasks if t.state == FAILED), None)

    @property
    def values(self) -> list[Any]:
        """The tasks' values, in task order (a job that ended without failing)."""
        return [t.value for t in self.tasks]


@dataclass
class _Slot:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    ready: bool = False
    task: Task | None = None


class Pool:
    """``workers`` processes; each task runs with ``threads`` Numba threads, or, when that is
    None, with the machine's ``cores`` shared among the tasks running when it starts (a lone
    run uses every core; results do not depend on threads). ``say`` receives its news (a
    worker ready, a worker restarted) as lines of text."""

    def __init__(self, workers: int, threads: int | None, cores: int,
                 say: Callable[[str], None] = print):
        self.workers, self.threads, self.cores, self.say = workers, threads, cores, say
        self._ctx = multiprocessing.get_context("spawn")
        # per worker: day done and days in all of its current task; the task it must cancel
        self._progress = self._ctx.RawArray("q", 2 * workers)
        self._cancel = self._ctx.RawArray("q", workers)
        self._slots: list[_Slot | None] = [None] * workers
        self._queue: deque[Task] = deque()
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._latest: dict[str, Job] = {}
        self._closed = False
        self.failure: str | None = None
        self.ready = threading.Event()

    # ------------------------------------------------------------ lifetime
    def start(self) -> None:
        """Start the first worker (it compiles the kernels, or loads them from Numba's cache),
        then the others once it is ready (they load them from the cache); returns at once."""
        self.say("compiling the simulation kernels in the first worker (about a minute after "
                 "an install; later starts load them from Numba's cache) ...")
        self._t0 = time.perf_counter()
        with self._lock:
            self._spawn(0)
        threading.Thread(target=self._listen, name="explore-pool", daemon=True).start()

    def _spawn(self, index: int) -> None:
        here, there = self._ctx.Pipe()
        p = self._ctx.Process(target=worker_main, name=f"scoresim-explore-{index}",
                              args=(index, there, self._progress, self._cancel),
                              daemon=True)
        p.start()
        there.close()
        self._slots[index] = _Slot(p, here)

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            self._closed = True
            for job in list(self._latest.values()):
                self._cancel_job(job)
            slots = [s for s in self._slots if s is not None]
        for s in slots:
            try:
                s.conn.send(None)
            except OSError:
                pass
        for s in slots:
            s.process.join(timeout=5)
            if s.process.is_alive():
                s.process.terminate()

    # ------------------------------------------------------------ jobs
    def submit(self, visitor: str, kind: str, payloads: Sequence[Any], units: int = 1) -> Job:
        """A new job for ``visitor`` (cancelling the visitor's previous one); ``units``: the
        progress a task reports when done (a run: its days, counterfactual included)."""
        with self._lock:
            job = Job(next(self._ids), visitor, units)
            job.tasks = [Task(next(self._ids), job, kind, p) for p in payloads]
            previous = self._latest.get(visitor)
            if previous is not None and not previous.ended.is_set():
                self._cancel_job(previous)
                log.info("visitor %s: cancelled job %d for job %d", visitor, previous.id,
                         job.id)
            self._latest[visitor] = job
            self._queue.extend(job.tasks)
            if not job.tasks:
                job.ended.set()
            self._dispatch()
        return job

    def cancel(self, visitor: str) -> bool:
        """Cancel the visitor's running job; True if there was one."""
        with self._lock:
            job = self._latest.get(visitor)
            if job is None or job.ended.is_set():
                return False
            self._cancel_job(job)
            # said here, when the cancel is sent: a worker may answer it before the visitor's
            # next job is submitted, and the log must not depend on which comes first
            log.info("visitor %s: cancelled job %d", visitor, job.id)
            return True

    def _cancel_job(self, job: Job) -> None:
        job.cancelled = True
        for t in job.tasks:
            if t.state == PENDING:
                t.state = CANCELLED
                self._queue.remove(t)
            elif t.state == RUNNING and t.worker is not None:
                slot = self._slots[t.worker]
                self._cancel[t.worker] = t.id
                if slot is not None and slot.process.pid:
                    os.kill(slot.process.pid, signal.SIGUSR1)
        self._check_ended(job)

    def latest(self, visitor: str) -> Job | None:
        """The visitor's newest job."""
        return self._latest.get(visitor)

    def progress(self, job: Job) -> tuple[int, int]:
        """Units done and units in all of the job's tasks (a run's units are its days,
        counterfactual included; a function's is one)."""
        done = 0
        with self._lock:
            for t in job.tasks:
                if t.state == DONE:
                    done += job.units
                elif t.state == RUNNING and t.worker is not None and t.kind == "run":
                    done += min(int(self._progress[2 * t.worker]), job.units)
        return done, job.units * len(job.tasks)

    @property
    def started(self) -> bool:
        """At least one worker is ready (the first one's kernels are compiled)."""
        return any(s is not None and s.ready for s in self._slots)

    def run_tasks(self, job: Job) -> list[Any]:
        """Wait for ``job``; its values, or Cancelled, or RuntimeError with its error."""
        job.ended.wait()
        if job.cancelled:
            raise Cancelled
        if job.error is not None:
            raise RuntimeError(job.error)
        return job.values

    # ------------------------------------------------------------ the listener
    def _dispatch(self) -> None:
        for i, slot in enumerate(self._slots):
            if not self._queue:
                return
            if slot is None or not slot.ready or slot.task is not None:
                continue
            task = self._queue.popleft()
            task.state, task.worker, slot.task = RUNNING, i, task
            self._progress[2 * i] = self._progress[2 * i + 1] = 0
            running = sum(s is not None and s.task is not None for s in self._slots)
            threads = self.threads or max(1, self.cores // running)
            slot.conn.send((task.id, task.kind, task.payload, threads))

    def _check_ended(self, job: Job) -> None:
        if all(t.state in (DONE, FAILED, CANCELLED) for t in job.tasks):
            job.ended.set()

    def _listen(self) -> None:
        while not self._closed:
            with self._lock:
                live = {s.conn: i for i, s in enumerate(self._slots) if s is not None}
                sentinels = {s.process.sentinel: i for i, s in enumerate(self._slots)
                             if s is not None}
            for ready in wait([*live, *sentinels], timeout=0.5):
                if ready in live:
                    try:
                        msg = ready.recv()
                    except (EOFError, OSError):
                        continue  # its sentinel tells
                    self._handle(live[ready], msg)
                elif not self._closed:
                    self._lost(sentinels[ready])

    def _handle(self, index: int, msg: tuple) -> None:
        with self._lock:
            slot = self._slots[index]
            assert slot is not None
            if msg[0] == "ready":
                slot.ready = True
                self.say(f"worker {index + 1} of {self.workers} ready ({msg[2]:.1f} s)")
                if index == 0:  # the kernels are in Numba's cache now
                    for i in range(1, self.workers):
                        if self._slots[i] is None:
                            self._spawn(i)
                if all(s is not None and s.ready for s in self._slots):
                    self.say(f"kernels ready in {time.perf_counter() - self._t0:.1f} s")
                    self.ready.set()
            elif msg[0] == "failed":
                self.failure = f"worker {index + 1} could not start:\n{msg[2]}"
                self.say(self.failure)
                self.ready.set()
            else:
                task = slot.task
                slot.task = None
                if task is not None and task.id == msg[1]:
                    self._finish(task, msg)
            self._dispatch()

    def _finish(self, task: Task, msg: tuple) -> None:
        if msg[0] == "done":
            task.state, task.value = DONE, msg[2]
        elif msg[0] == "cancelled":
            task.state = CANCELLED
        else:
            task.state, task.error = FAILED, msg[2]
            if len(msg) > 3:
                log.error("task %d failed:\n%s", task.id, msg[3])
        if task.state == CANCELLED:
            task.job.cancelled = True
        if task.state == FAILED:  # the job's other runs are of no use now
            for t in task.job.tasks:
                if t.state == PENDING:
                    t.state = CANCELLED
                    self._queue.remove(t)
        self._check_ended(task.job)

    def _lost(self, index: int) -> None:
        with self._lock:
            slot = self._slots[index]
            if slot is None:
                return
            code = slot.process.exitcode
            self.say(f"worker {index + 1} stopped (exit code {code}); starting a new one")
            task = slot.task
            self._spawn(index)
            if task is not None:
                task.state = FAILED
                task.error = ("the worker running this stopped (exit code "
                              f"{code}; out of memory?)")
                self._check_ended(task.job)
            self._dispatch()
