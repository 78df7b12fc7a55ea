"""A sweep's report (``DIR/report.html`` and ``DIR/figures/``): response curves of the main
metrics against each parameter, the mean over seeds with a 95% bootstrap band, and for a
Sobol sweep the first-order and total indices as bars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..core.version import __version__
from ..experiments.metrics import bounded_interval, describe, is_share
from ..experiments.sweep_analysis import AnalysisError, analyze_sweep, sweep_spec, sweep_values
from . import names as N
from .charts import Chart, new_figure, slug
from .html import figure_view, render
from .style import colour, drawing, legend, percent_axis, title, wrap

MAX_LINES = 6  # a grid's other parameters: at most this many combinations drawn as lines


def _per_sample(values: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Each parameter set's mean over seeds and its 95% bootstrap interval."""
    rows = []
    for sample, group in values.groupby("sample", sort=True):
        params = json.loads(group["params"].iloc[0])
        iv = bounded_interval(group["value"].astype(float))
        rows.append({"sample": int(sample), **{n: params.get(n) for n in names}, **iv})
    return pd.DataFrame(rows)


def response_data(values: pd.DataFrame, names: list[str], metric: str) -> pd.DataFrame:
    """Tidy rows of the response curves: metric, parameter, x, others (the other parameters'
    values, a grid's line), mean, lo, hi, n."""
    table = _per_sample(values, names)
    rows = []
    for p in names:
        others = [o for o in names if o != p]
        for _, r in table.iterrows():
            rows.append({"metric": metric, "parameter": p, "x": r[p],
                         "others": ", ".join(f"{o}={r[o]}" for o in others),
                         "mean": r["mean"], "lo": r["lo"], "hi": r["hi"], "n": r["n"]})
    out = pd.DataFrame(rows)
    return out[np.isfinite(out["mean"].astype(float))] if not out.empty else out


def _draw_response(ax: Axes, part: pd.DataFrame, parameter: str, metric: str,
                   grid: bool) -> None:
    share = is_share(metric)
    groups = list(dict.fromkeys(part["others"]))
    if grid and len(groups) <= MAX_LINES:
        for k, other in enumerate(groups):
            g = part[part["others"] == other].sort_values("x")
            x = g["x"].astype(float).to_numpy()
            ax.plot(x, g["mean"], marker="o", ms=4, color=colour(k), label=other or "mean")
            ax.fill_between(x, g["lo"].astype(float), g["hi"].astype(float), color=colour(k),
                            alpha=0.2, lw=0)
        if any(groups):
            legend(ax, ncol=1)
    else:  # sampled values: each parameter set a point with its interval
        x = part["x"].astype(float).to_numpy()
        err = np.vstack([part["mean"] - part["lo"], part["hi"] - part["mean"]])
        ax.errorbar(x, part["mean"], yerr=np.nan_to_num(err), fmt="o", ms=3, color=colour(0),
                    elinewidth=0.7, alpha=0.8)
    if share:
        percent_axis(ax.yaxis)
    ax.set_xlabel(wrap(parameter, 40))
    ax.set_ylabel(wrap(describe(metric)[1] or "value", 30))
    title(ax, wrap(describe(metric)[0], 48))


def response_chart(data: pd.DataFrame, metric: str, grid: bool) -> Chart:
    """One panel per parameter: the metric against it."""
    params = list(dict.fromkeys(data["parameter"]))
    with drawing():
        fig = new_figure((5.2 * len(params), 4.2))
        for ax, p in zip(fig.subplots(1, len(params), squeeze=False)[0], params, strict=True):
            _draw_response(ax, data[data["parameter"] == p], p, metric, grid)
    how = ("lines: the mean over seeds, one per combination of the other parameters; shading: "
           "its 95% percentile-bootstrap band" if grid else
           "each point a parameter set: the mean over seeds and its 95% percentile-bootstrap "
           "interval")
    return Chart(f"sweep-response-{slug(metric)}", f"{describe(metric)[0]}: response",
                 f"{describe(metric)[0]} against each parameter ({how}).", fig, data)


def sobol_chart(table: pd.DataFrame, metric: str, note: str) -> Chart:
    """First-order and total Sobol indices per parameter, with their 95% intervals."""
    data = table.assign(metric=metric)[["metric", "parameter", "first_order", "first_order_ci",
                                        "total", "total_ci"]]
    with drawing():
        fig = new_figure((6.4, 1.4 + 0.5 * len(data)))
        ax = fig.subplots()
        y = np.arange(len(data))[::-1]
        for k, (col, label) in enumerate((("first_order", "first order (alone)"),
                                          ("total", "total (with interactions)"))):
            ax.barh(y + (0.2 if k == 0 else -0.2), data[col], 0.38, label=label,
                    color=colour(k), xerr=data[f"{col}_ci"], capsize=3,
                    error_kw={"lw": 0.8, "ecolor": "#444444"})
        ax.set_yticks(y, [wrap(p, 30) for p in data["parameter"]])
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel("share of the metric's variance")
        ax.grid(False, axis="y")
        title(ax, f"Sobol indices: {describe(metric)[0]}", 56)
        legend(ax, ncol=2)
    return Chart(f"sweep-sobol-{slug(metric)}", f"Sobol indices of {metric}",
                 f"Which parameters drive {describe(metric)[0]}: {note}.", fig, data)


def sweep_report(folder: str | Path, sweep_id: str | None = None) -> tuple[str, list[Chart]]:
    """report.html of a sweep's results folder, and its figures.

    Args:
        folder: the folder holding results.duckdb.
        sweep_id: which sweep (default: the one run last).

    Returns:
        The page and every chart on it.
    """
    from ..results.store import open_results

    with open_results(folder) as con:
        sid, spec = sweep_spec(con, sweep_id)
        names = list(spec["parameters"])
        known = {r[0] for r in con.execute("SELECT DISTINCT metric FROM metrics").fetchall()}
        status = dict(con.execute(
            "SELECT r.status, count(*) FROM plan p JOIN runs r ON r.run_id = p.run_id "
            "WHERE p.sweep_id = ? GROUP BY r.status", [sid]).fetchall())
        planned = con.execute("SELECT count(*) FROM plan WHERE sweep_id = ?", [sid]).fetchone()
        sections: list[dict[str, Any]] = []
        grid = spec.get("sampler", "grid") == "grid"
        for metric in [m for m in N.SWEEP_METRICS if m in known]:
            found: list[Chart] = []
            data = response_data(sweep_values(con, metric, sid), names, metric)
            if not data.empty:
                found.append(response_chart(data, metric, grid))
            if spec.get("sampler") == "sobol":
                try:
                    res = analyze_sweep(con, metric, sid)
                    found.append(sobol_chart(res.table, metric, res.note))
                except AnalysisError:
                    pass  # runs missing: the response curve shows what there is
            if found:
                sections.append({"heading": describe(metric)[0], "intro": "", "table": None,
                                 "charts": found})
    params = [(p, json.dumps(v)) for p, v in spec["parameters"].items()]
    views = [{**s, "charts": [figure_view(c) for c in s["charts"]]} for s in sections]
    views.insert(0, {"heading": "Parameters varied", "intro": "", "charts": [],
                     "table": params, "header": ("parameter", "values or range")})
    done, failed = status.get("done", 0), status.get("failed", 0)
    intro = (f"Sweep {sid} of {spec.get('scenario', 'default')}"
             + (f" ({spec['description']})" if spec.get("description") else "")
             + f": {spec.get('sampler', 'grid')} sampler, {planned[0] if planned else 0} runs "
             f"planned, {done} done, {failed} failed; {spec.get('agents')} agents, "
             f"{spec.get('days')} days each.")
    sets = spec.get("set") or []
    overrides = (sets if isinstance(sets, list) else [f"{k}={v}" for k, v in sets.items()])
    page = render("experiment.html.j2", title=f"scoresim sweep: {spec.get('scenario')}",
                  intro=intro, overrides=overrides, sections=views, scenario_yaml="",
                  provenance=[("scoresim version", __version__), ("sweep", sid),
                              ("results", "results.duckdb")])
    return page, [c for s in sections for c in s["charts"]]
