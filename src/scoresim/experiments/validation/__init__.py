"""``scoresim validation``: every check of docs/validation.md, from the registry
(``registry.py``; the checks of each area in ``checks/``), run at the size of ``make test``
(quick) or of ``make validate`` (full). Nothing here prints or writes: the report is the
report floor's (report/validation_report.py), the command the CLI's."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..executors import Executor, SerialExecutor
from . import checks  # noqa: F401  (registers every area's checks)
from .registry import (
    CHECKS,
    Check,
    CheckResult,
    Context,
    Mode,
    Row,
    Series,
    band,
    over_seeds,
    register,
)
from .runs import Runs, RunSpec, run_daily

SEEDS = {"quick": 2, "full": 3}  # seeds a check runs by default


@dataclass
class Validation:
    """The checks run, in the registry's order, with what they found."""

    mode: Mode
    seeds: int
    results: dict[str, CheckResult]
    checks: dict[str, Check]
    seconds: dict[str, float] = field(default_factory=dict)  # per check; "runs": the runs
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """No check failed."""
        return all(r.passed for r in self.results.values())

    def failed(self) -> list[str]:
        """The names of the checks that failed."""
        return [name for name, r in self.results.items() if not r.passed]


def select(only: Sequence[str] | None = None) -> dict[str, Check]:
    """The registered checks to run (all, or those named); ValueError naming an unknown one."""
    if not only:
        return dict(CHECKS)
    unknown = [n for n in only if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r} (known: {', '.join(CHECKS)})")
    return {n: CHECKS[n] for n in CHECKS if n in only}


def run_validation(mode: Mode = "full", seeds: int | None = None,
                   only: Sequence[str] | None = None, executor: Executor | None = None,
                   progress: Callable[[str], None] | None = None) -> Validation:
    """Run the checks (``only``: these names) in ``mode``, each over ``seeds`` seeds (default:
    2 quick, 3 full). The runs the checks declare are made first, together, on ``executor``
    (default: this process); ``progress`` hears what is being done."""
    if mode not in SEEDS:
        raise ValueError(f"mode must be quick or full (got {mode!r})")
    chosen = select(only)
    t0 = time.perf_counter()
    say = progress or (lambda _: None)
    runs = Runs(executor or SerialExecutor(),
                on_done=lambda s: say(f"ran {s.scenario} {s.agents:,} x {s.days} seed {s.seed}"))
    ctx = Context(mode, int(seeds or SEEDS[mode]), runs)
    needed = [s for c in chosen.values() if c.needs is not None for s in c.needs(ctx)]
    runs.ensure(needed)
    seconds = {"runs": time.perf_counter() - t0}
    results = {}
    for name, check in chosen.items():
        say(f"checking {name}")
        t = time.perf_counter()
        results[name] = check.run(ctx)
        seconds[name] = time.perf_counter() - t
    return Validation(mode, ctx.seeds, results, chosen, seconds, time.perf_counter() - t0)


__all__ = ["CHECKS", "SEEDS", "Check", "CheckResult", "Context", "Row", "RunSpec", "Runs",
           "Series", "Validation", "band", "over_seeds", "register", "run_daily",
           "run_validation", "select"]
