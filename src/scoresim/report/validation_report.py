"""The validation's report (``scoresim validation --out DIR``): ``report.html`` with every
check, a row per published figure (its source address, the simulated value with its seed
interval, the relative error, fitted or held out, the verdict), and a figure per time series,
simulated against published on calendar dates; ``validation.csv`` (the rows) and
``validation.json`` (everything), and ``figures/``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..core.version import __version__
from ..experiments.validation import Series, Validation
from .charts import Chart, new_figure, slug
from .files import Writer, report_files
from .html import figure_view, render
from .style import TimeAxis, colour, drawing, legend, title

MARKERS = {"fitted": "o", "held out": "s"}


def number(x: float | None, unit: str = "") -> str:
    """A figure for people: millions of people as 'M', shares as they are ('—' if none)."""
    if x is None or not math.isfinite(x):
        return "—"
    if unit == "people" and abs(x) >= 1e6:
        return f"{x / 1e6:,.3f} M"
    if unit == "people":
        return f"{x:,.0f}"
    return f"{x:.4g}"


def rows_frame(v: Validation) -> pd.DataFrame:
    """Every row of every check (validation.csv)."""
    out = []
    for name, res in v.results.items():
        for r in res.rows:
            out.append({"check": name, "figure": r.figure, "name": r.name, "role": r.role,
                        "published": r.published, "simulated": r.simulated, "low": r.low,
                        "high": r.high, "seeds": r.seeds, "relative_error": r.rel_error,
                        "tolerance": r.tolerance, "band_low": r.band[0], "band_high": r.band[1],
                        "verdict": r.verdict, "unit": r.unit, "source": r.source,
                        "address": r.address, "note": r.note})
    return pd.DataFrame(out)


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def validation_json(v: Validation, command: str = "") -> dict[str, Any]:
    """validation.json: the settings, each check's verdict and timing, and every row."""
    frame = rows_frame(v)
    return {
        "version": __version__, "command": command, "mode": v.mode, "seeds": v.seeds,
        "passed": v.passed, "failed": v.failed(), "wall_seconds": round(v.wall_seconds, 2),
        "seconds": {k: round(s, 2) for k, s in v.seconds.items()},
        "checks": {name: {"title": c.title, "section": c.section, "source": c.source,
                          "tolerance": c.tolerance, "passed": v.results[name].passed,
                          "notes": v.results[name].notes}
                   for name, c in v.checks.items()},
        "rows": [{k: _clean(x) for k, x in row.items()} for row in frame.to_dict("records")],
    }


def _series_data(s: Series) -> pd.DataFrame:
    axis = TimeAxis(int(s.days.max()) + 1 if s.days.size else 1, s.start)
    sim = pd.DataFrame({"day": s.days, "simulated": s.mean, "low": s.low, "high": s.high,
                        "published": np.nan, "target": "", "role": ""})
    pts = pd.DataFrame([{"day": d, "simulated": np.nan, "low": np.nan, "high": np.nan,
                         "published": value, "target": name, "role": role}
                        for d, value, name, role in s.points])
    frame = pd.concat([sim, pts], ignore_index=True) if len(pts) else sim
    return axis.with_dates(frame.sort_values("day", kind="stable", ignore_index=True))


def _draw_series(ax: Axes, s: Series, data: pd.DataFrame) -> None:
    axis = TimeAxis(int(s.days.max()) + 1 if s.days.size else 1, s.start)
    sim = data[data["target"] == ""]
    x = axis.x(sim["day"].to_numpy())
    style = dict(ls="none", marker="o", ms=4) if s.yearly else dict(lw=1.5)
    ax.plot(x, sim["simulated"], color=colour(0), label="simulated (mean over seeds)", **style)
    if np.isfinite(sim["low"].to_numpy(float)).any():
        if s.yearly:
            ax.vlines(x, sim["low"], sim["high"], color=colour(0), lw=1.2,
                      label="seed interval (95%)")
        else:
            ax.fill_between(x, sim["low"], sim["high"], color=colour(0), alpha=0.2, lw=0,
                            label="seed interval (95%)")
    for k, role in enumerate(("fitted", "held out")):
        pts = data[data["role"] == role]
        if not pts.empty:
            c = colour(1 + k)
            ax.plot(axis.x(pts["day"].to_numpy()), pts["published"], ls="none",
                    marker=MARKERS[role], ms=6, color=c, mfc=c if role == "fitted" else "white",
                    label=f"published ({role})")
    axis.finish(ax)
    ax.set_ylabel(s.unit or "value")
    title(ax, s.title)
    legend(ax, ncol=2)


def series_chart(check: str, s: Series) -> Chart:
    """One time series as a figure: simulated (line and seed band) against published."""
    with drawing():
        data = _series_data(s)
        fig = new_figure((7.5, 4.2))
        _draw_series(fig.subplots(), s, data)
    return Chart(slug(f"{check}-{s.name}"), s.title,
                 "Simulated (mean over seeds, with its 95% seed interval) against the "
                 "published figures (filled: fitted; hollow: held out), on calendar dates.",
                 fig, data)


def _row_cells(r: Any) -> dict[str, Any]:
    interval = ("—" if not math.isfinite(r.low) else
                f"{number(r.low, r.unit)} to {number(r.high, r.unit)}")
    err = r.rel_error
    return {"figure": r.figure, "published": number(r.published, r.unit),
            "simulated": number(r.simulated, r.unit), "interval": interval,
            "error": "—" if not math.isfinite(err) else f"{100 * err:+.1f}%",
            "role": r.role, "tolerance": r.tolerance, "verdict": r.verdict,
            "source": r.source, "address": r.address, "note": r.note, "seeds": r.seeds}


def validation_report(v: Validation, command: str = "") -> tuple[str, list[Chart]]:
    """report.html of a validation, and its figures."""
    found: list[Chart] = []
    sections = []
    for name, check in v.checks.items():
        res = v.results[name]
        charts = [series_chart(name, s) for s in res.series]
        found += charts
        counts = {k: sum(r.verdict == k for r in res.rows) for k in ("pass", "inconclusive",
                                                                      "fail")}
        sections.append({"name": name, "title": check.title, "section": check.section,
                         "source": check.source, "tolerance": check.tolerance,
                         "passed": res.passed, "counts": counts, "notes": res.notes,
                         "seconds": f"{v.seconds.get(name, 0.0):.1f}",
                         "rows": [_row_cells(r) for r in res.rows],
                         "charts": [figure_view(c) for c in charts]})
    page = render("validation.html.j2", title="scoresim validation", mode=v.mode,
                  seeds=v.seeds, passed=v.passed, sections=sections,
                  wall=f"{v.wall_seconds:.0f}", runs=f"{v.seconds.get('runs', 0.0):.0f}",
                  provenance=[("scoresim version", __version__),
                              ("command", command or "(Python)")])
    return page, found


def validation_files(v: Validation, command: str = "") -> dict[str, Writer]:
    """The files of a validation's folder: report.html, figures/, validation.csv and .json."""
    files = report_files(*validation_report(v, command))
    frame = rows_frame(v)
    data = validation_json(v, command)
    files["validation.csv"] = lambda p: frame.to_csv(p, index=False)
    files["validation.json"] = lambda p: Path(p).write_text(json.dumps(data, indent=2) + "\n")
    return files
