"""What a sweep says about one metric: Sobol indices (SALib) when it sampled with Sobol, else
the metric for each parameter set with its mean and 95% interval across seeds."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .metrics import bounded_interval
from .sweep import RangeSpec

__all__ = ["Analysis", "analyze_sweep", "sweep_spec", "sweep_values"]


class AnalysisError(Exception):
    """The sweep cannot be analysed as asked (no such metric, runs missing...)."""


@dataclass
class Analysis:
    """A sweep's ``metric`` analysed: Sobol indices per parameter (``kind`` "sobol") or the
    metric's mean and interval per parameter set ("by_value"), with a note on how to read
    the table."""

    kind: str  # "sobol" or "by_value"
    sweep_id: str
    metric: str
    table: pd.DataFrame
    note: str = ""


def _sweep_row(con: Any, sweep_id: str | None) -> tuple[str, dict[str, Any]]:
    if sweep_id is None:
        row = con.execute("SELECT sweep_id, spec FROM sweeps ORDER BY last_run DESC LIMIT 1"
                          ).fetchone()
    else:
        row = con.execute("SELECT sweep_id, spec FROM sweeps WHERE sweep_id = ?",
                          [sweep_id]).fetchone()
    if row is None:
        raise AnalysisError("no such sweep in this folder" if sweep_id else
                            "no sweep in this folder yet")
    return row[0], json.loads(row[1])


def _values(con: Any, sweep_id: str, metric: str) -> pd.DataFrame:
    """sample, seed, params, value (NaN for runs not done or metric undefined)."""
    known = con.execute("SELECT count(*) FROM metrics WHERE metric = ?", [metric]).fetchone()
    if not known or not known[0]:
        names = [r[0] for r in con.execute(
            "SELECT DISTINCT metric FROM metrics ORDER BY metric").fetchall()]
        sample = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise AnalysisError(f"no metric '{metric}' in the results (known: {sample or 'none'}; "
                            "all: scoresim query DIR \"SELECT DISTINCT metric FROM metrics\")")
    return con.execute(
        """SELECT p.sample, p.seed, p.params, m.value
           FROM plan p
           LEFT JOIN runs r ON r.run_id = p.run_id AND r.status = 'done'
           LEFT JOIN metrics m ON m.run_id = r.run_id AND m.metric = ?
           WHERE p.sweep_id = ? ORDER BY p.sample, p.seed""", [metric, sweep_id]).df()


def _sobol(spec: dict[str, Any], values: pd.DataFrame, metric: str, sweep_id: str
           ) -> Analysis:
    from SALib.analyze import sobol

    ranges = {k: RangeSpec.model_validate(v) for k, v in spec["parameters"].items()}
    per_sample = values.groupby("sample")["value"].mean()  # the mean across seeds
    y = per_sample.reindex(range(int(values["sample"].max()) + 1)).to_numpy(dtype=float)
    missing = int(np.sum(~np.isfinite(y)))
    if missing:
        raise AnalysisError(f"{missing} of {len(y)} Sobol samples have no value of {metric} "
                            "(runs not done, failed or undefined); finish the sweep (run it "
                            "again) before the analysis")
    names = list(ranges)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [list(ranges[n].bounds()) for n in names]}
    si = sobol.analyze(problem, y, calc_second_order=bool(spec.get("second_order")),
                       conf_level=0.95, print_to_console=False, seed=0)
    table = pd.DataFrame({
        "parameter": names,
        "first_order": si["S1"], "first_order_ci": si["S1_conf"],
        "total": si["ST"], "total_ci": si["ST_conf"],
    })
    seeds = values["seed"].nunique()
    note = (f"{len(y)} samples (N = {spec['samples']}, {len(names)} parameters), the metric "
            f"averaged over {seeds} seed(s) per sample; ci: half-width of the 95% bootstrap "
            "interval" + ("; log-scale parameters are analysed in log10" if any(
                r.log for r in ranges.values()) else ""))
    return Analysis("sobol", sweep_id, metric, table, note)


def _by_value(spec: dict[str, Any], values: pd.DataFrame, metric: str, sweep_id: str
              ) -> Analysis:
    names = list(spec["parameters"])
    rows = []
    for _, group in values.groupby("sample", sort=True):
        params = json.loads(group["params"].iloc[0])
        got = [v for v in group["value"] if v is not None and math.isfinite(v)]
        stats = bounded_interval(got)
        rows.append({**{n: params.get(n) for n in names}, **stats,
                     "runs": len(group), "missing": len(group) - len(got)})
    table = pd.DataFrame(rows, columns=[*names, "mean", "lo", "hi", "n", "runs", "missing"])
    note = ("mean across seeds and 95% percentile-bootstrap interval (lo, hi) for each "
            "parameter set; n: runs "
            "with a value (missing: not done, failed or undefined)")
    return Analysis("by_value", sweep_id, metric, table, note)


def sweep_spec(con: Any, sweep_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """A sweep's id and spec (the newest sweep in the file unless ``sweep_id``).

    Args:
        con: a connection to the sweep's results.duckdb.
        sweep_id: which sweep; None for the one run last.

    Returns:
        ``(sweep_id, spec)``, the spec as the sweep file gave it (parsed).
    """
    return _sweep_row(con, sweep_id)


def sweep_values(con: Any, metric: str, sweep_id: str) -> pd.DataFrame:
    """One row per planned run: sample, seed, params (JSON), value (NaN where not done,
    failed or undefined); AnalysisError if no run measured ``metric``."""
    return _values(con, sweep_id, metric)


def analyze_sweep(con: Any, metric: str, sweep_id: str | None = None) -> Analysis:
    """Analyse ``metric`` over a sweep (the newest one in the file unless ``sweep_id``)."""
    sid, spec = _sweep_row(con, sweep_id)
    values = _values(con, sid, metric)
    if spec.get("sampler") == "sobol":
        return _sobol(spec, values, metric, sid)
    return _by_value(spec, values, metric, sid)
