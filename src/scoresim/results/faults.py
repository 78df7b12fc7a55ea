"""Deterministic fault injection: tests that need a crash at an exact point set
``SCORESIM_FAULT`` instead of killing a process after a delay (a timing that a fast or a busy
machine gets wrong).

``SCORESIM_FAULT=POINT[:N][,POINT[:N]...]``: the N-th time (default: the first) this process
reaches POINT, it kills itself with SIGKILL, exactly as ``kill -9`` would: no handler, no
``finally``, no flush. The points:

- ``kill-after-stored-runs``: a sweep's driver, after a finished run is committed to
  results.duckdb (N: the runs stored by this invocation);
- ``kill-inside-transaction``: a sweep's driver, inside a run's transaction, after its rows
  are inserted and before the commit;
- ``kill-before-renames``: an output folder's writer, once every file is in the temporary
  folder and before the previous result is moved aside;
- ``kill-between-renames``: an output folder's writer, after the previous result is moved
  aside and before the new folder takes its place.
"""

from __future__ import annotations

import os
import signal

ENV = "SCORESIM_FAULT"
POINTS = ("kill-after-stored-runs", "kill-inside-transaction", "kill-before-renames",
          "kill-between-renames")

_reached: dict[str, int] = {}


def planned() -> dict[str, int]:
    """POINT -> N from SCORESIM_FAULT (empty when unset); ValueError for an unknown point, so
    that a misspelt fault cannot leave a test passing without its crash."""
    out = {}
    for item in filter(None, (x.strip() for x in os.environ.get(ENV, "").split(","))):
        point, _, n = item.partition(":")
        if point not in POINTS or (n and not n.isdigit()) or n == "0":
            raise ValueError(f"{ENV}: '{item}' is not one of {', '.join(POINTS)} "
                             "(with an optional :N, N >= 1)")
        out[point] = int(n or 1)
    return out


def reach(point: str) -> None:
    """Count one passage through ``point``; kill this process (SIGKILL) if SCORESIM_FAULT
    asks for a crash at this passage."""
    if ENV not in os.environ:
        return
    target = planned().get(point)
    if target is None:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if _reached[point] == target:
        os.kill(os.getpid(), signal.SIGKILL)
