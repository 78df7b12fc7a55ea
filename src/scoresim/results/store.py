"""Ensembles in one DuckDB file, ``DIR/results.duckdb``, that survives interruption.

One process writes (a sweep's driver); each finished run goes in with ONE transaction (its
``runs`` row, its ``metrics`` and its ``daily`` rows), so a killed driver leaves whole runs
or none, and ``runs.run_id`` is the primary key, so no run is stored twice. The writer opens
the file only for each write, so readers (``scoresim query``, :func:`open_results`) can get in
between; both sides retry while the other holds DuckDB's file lock.

Tables (see docs/sweeps.md):

- ``runs``: run_id, scenario, scenario_hash, base_hash, version, seed, agents, days,
  counterfactual, params (JSON), host, started, wall_seconds, status ('done' | 'failed'),
  error, attempts
- ``metrics``: run_id, metric, value (NULL where undefined) - the final metrics, long
- ``daily``: run_id, day, series, value - the daily table, long (``series`` is a column of
  daily.parquet: acts_online_criticism, sanctioned_any, ...)
- ``sweeps``: sweep_id, created, last_run, file, spec (JSON), sampler, runs
- ``plan``: sweep_id, sample, seed, run_id, params - which runs make up each sweep, in
  sample order (a Sobol analysis needs it)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .faults import reach

if TYPE_CHECKING:  # duckdb is imported when a file is opened, not with scoresim
    from duckdb import DuckDBPyConnection

FILENAME = "results.duckdb"
STATUSES = ("done", "failed")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, scenario VARCHAR, scenario_hash VARCHAR,
        base_hash VARCHAR, version VARCHAR, seed BIGINT, agents BIGINT, days INTEGER,
        counterfactual BOOLEAN, params JSON, host VARCHAR, started TIMESTAMPTZ,
        wall_seconds DOUBLE, status VARCHAR NOT NULL, error VARCHAR, attempts INTEGER)""",
    """CREATE TABLE IF NOT EXISTS metrics (
        run_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, value DOUBLE,
        PRIMARY KEY (run_id, metric))""",
    """CREATE TABLE IF NOT EXISTS daily (
        run_id VARCHAR NOT NULL, day INTEGER NOT NULL, series VARCHAR NOT NULL,
        value DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS sweeps (
        sweep_id VARCHAR PRIMARY KEY, created TIMESTAMPTZ, last_run TIMESTAMPTZ,
        file VARCHAR, spec JSON, sampler VARCHAR, runs INTEGER)""",
    """CREATE TABLE IF NOT EXISTS plan (
        sweep_id VARCHAR NOT NULL, sample INTEGER NOT NULL, seed BIGINT NOT NULL,
        run_id VARCHAR NOT NULL, params JSON, PRIMARY KEY (sweep_id, sample, seed))""",
)

RUN_COLUMNS = ("run_id", "scenario", "scenario_hash", "base_hash", "version", "seed", "agents",
               "days", "counterfactual", "params", "host", "started", "wall_seconds", "status",
               "error", "attempts")


class StoreError(Exception):
    """A results folder that cannot be opened or written (one line: the file and why)."""


def results_file(folder: str | Path) -> Path:
    """``DIR/results.duckdb`` (a path to the file itself is accepted too)."""
    path = Path(folder)
    return path if path.suffix == ".duckdb" else path / FILENAME


def _locked(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text


def _connect(path: Path, read_only: bool, wait: float) -> DuckDBPyConnection:
    import duckdb

    deadline = time.monotonic() + wait
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:  # the other side holds the file lock: wait
            if not _locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def open_results(folder: str | Path, read_only: bool = True, wait: float = 30.0
                 ) -> DuckDBPyConnection:
    """A DuckDB connection to a sweep's ``DIR/results.duckdb`` (read-only by default; while a
    sweep is writing, waits up to ``wait`` seconds for the moment between two writes).

        >>> con = scoresim.open_results("out/sweep")                       # doctest: +SKIP
        >>> con.sql("SELECT status, count(*) FROM runs GROUP BY status").df()  # doctest: +SKIP
    """
    path = results_file(folder)
    if not path.is_file():
        raise StoreError(f"{path}: no such file (a sweep writes it: scoresim sweep ... --out)")
    return _connect(path, read_only, wait)


def _clean(x: Any) -> float | None:
    """NaN and infinities become NULL (SQL aggregates skip NULL; NaN would poison them)."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def long_daily(daily: pd.DataFrame) -> pd.DataFrame:
    """A daily table (a ``day`` column and one column per series) as run_id-less long rows."""
    out = daily.melt(id_vars="day", var_name="series", value_name="value")
    out["day"] = out["day"].astype("int32")
    out["value"] = out["value"].astype("float64")
    return out


class Store:
    """The writing side of ``folder``'s results.duckdb: only one process (the sweep's driver)
    may use it at a time; a connection waits up to ``wait`` seconds while a reader holds the
    file."""

    def __init__(self, folder: str | Path, wait: float = 120.0):
        self.path = results_file(folder)
        self.wait = wait
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot make the folder: "
                             f"{exc.strerror or exc}") from None
        with self._transaction() as con:
            for statement in SCHEMA:
                con.execute(statement)

    def _connect(self) -> DuckDBPyConnection:
        return _connect(self.path, False, self.wait)

    # ------------------------------------------------------------ sweeps and their plans
    def plan(self, sweep_id: str) -> pd.DataFrame | None:
        """The stored plan of a sweep (sample, seed, run_id, params), or None if unknown."""
        with self._connect() as con:
            df = con.execute("SELECT sample, seed, run_id, params FROM plan WHERE sweep_id = ? "
                             "ORDER BY sample, seed", [sweep_id]).df()
        return df if len(df) else None

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A connection in ONE transaction: committed if the block ends, else rolled back.
        A failed write (a full disk) raises StoreError with DuckDB's own reason: a rollback
        that fails too (DuckDB cannot roll back after a failed write) does not hide it; the
        file stays consistent, since nothing of the transaction was committed."""
        import duckdb

        try:
            with self._connect() as con:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                    con.execute("COMMIT")
                except BaseException:
                    with suppress(duckdb.Error):
                        con.execute("ROLLBACK")
                    raise
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: {' '.join(str(exc).split())}") from None

    def add_sweep(self, sweep_id: str, file: str, spec: Mapping[str, Any], sampler: str,
                  plan: pd.DataFrame) -> None:
        """Record a sweep and its plan (sample, seed, run_id, params) once, in one
        transaction; for a sweep already recorded, only its last_run time changes."""
        with self._transaction() as con:
            known = con.execute("SELECT count(*) FROM sweeps WHERE sweep_id = ?",
                                [sweep_id]).fetchone()
            if known and known[0]:
                con.execute("UPDATE sweeps SET last_run = now() WHERE sweep_id = ?",
                            [sweep_id])
                return
            con.execute("INSERT INTO sweeps VALUES (?, now(), now(), ?, ?, ?, ?)",
                        [sweep_id, file, json.dumps(spec), sampler, len(plan)])
            rows = plan[["sample", "seed", "run_id", "params"]].copy()
            rows.insert(0, "sweep_id", sweep_id)
            _insert(con, "plan", rows, "sweep_id, sample, seed, run_id, params::JSON")

    # ------------------------------------------------------------ runs
    def done_ids(self, run_ids: Iterable[str] | None = None) -> set[str]:
        """Runs stored as done (among ``run_ids`` if given)."""
        with self._connect() as con:
            got = {r[0] for r in con.execute(
                "SELECT run_id FROM runs WHERE status = 'done'").fetchall()}
        return got if run_ids is None else got & set(run_ids)

    def save_run(self, run: Mapping[str, Any], metrics: Mapping[str, float] | None = None,
                 daily: pd.DataFrame | None = None) -> bool:
        """Store one finished run - its runs row, metrics and daily table - in ONE
        transaction. A run already stored as done is left alone (returns False); a failed
        one is replaced. ``run`` holds RUN_COLUMNS (missing ones are NULL); ``daily`` is
        long (day, series, value: see long_daily)."""
        if run.get("status") not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        row = [run.get(c) for c in RUN_COLUMNS]
        row[RUN_COLUMNS.index("params")] = json.dumps(run.get("params") or {}, sort_keys=True)
        run_id = run["run_id"]
        with self._transaction() as con:
            if con.execute("SELECT count(*) FROM runs WHERE run_id = ? AND status = 'done'",
                           [run_id]).fetchone()[0]:
                return False
            for table in ("runs", "metrics", "daily"):  # an earlier failed attempt
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            marks = ", ".join("?" * len(RUN_COLUMNS))
            con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({marks})", row)
            if metrics:
                _insert(con, "metrics", pd.DataFrame({
                    "run_id": run_id, "metric": list(metrics),
                    "value": pd.Series([_clean(v) for v in metrics.values()], dtype="float64")
                }), "run_id, metric, value")
            if daily is not None and len(daily):
                d = daily[["day", "series", "value"]].copy()
                d.insert(0, "run_id", run_id)
                _insert(con, "daily", d, "run_id, day, series, value")
            reach("kill-inside-transaction")  # a test's crash: the rows in, no commit
        return True


def _insert(con: Any, table: str, frame: pd.DataFrame, columns: str) -> None:
    """Append a DataFrame's rows to a table (``columns``: the SELECT list over the frame)."""
    con.register("new_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT {columns} FROM new_rows")
    finally:
        con.unregister("new_rows")
