"""The explorer's charts, as Plotly figure dictionaries (no validation pass: they are built
each time a run ends, inside the second the visitor waits).

Every figure draws one or two systems (a run, or A against B), each as the mean over its seeds
with a shaded 95% t-interval when there are several seeds. Every figure's ``layout.meta``
carries the result's id, so a page (and its tests) can tell that a chart shows the newest run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import metrics as M
from .service import Series

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
DASHES = ("solid", "dash")  # system A, system B
FIGURES = ("chilling", "causes", "denials", "lists", "disparity")
TITLES = {
    "chilling": "Chilling: expression acts lost against the same people without scoring",
    "causes": "People sanctioned, by but-for cause (running total of people)",
    "denials": "Requests denied by a sanction, per service (cumulative)",
    "lists": "Lists: people on each list (stock) and entries and exits (flows)",
    "disparity": "Disparity: share of each group under a sanction",
    "differences": "B against A: paired differences with 95% intervals",
}


def interval(values: Any) -> tuple[float, float | None, float | None]:
    """Mean and 95% t-interval over seeds (axis 0); one seed: the value itself, no interval."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape[0] == 1:
        return v[0], None, None
    mean = v.mean(axis=0)
    half = stats.t.ppf(0.975, v.shape[0] - 1) * v.std(axis=0, ddof=1) / math.sqrt(v.shape[0])
    return mean, mean - half, mean + half


def window(days: int) -> int:
    """Smoothing window for daily rates: a week for short runs, a month otherwise."""
    return 7 if days < 90 else 30


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _clean(a: Any) -> list[float | None]:
    return [None if not math.isfinite(x) else float(f"{x:.6g}") for x in np.asarray(a, float)]


def _traces(x: list[int], per_seed: list[Any], name: str, colour: str, dash: str,
            width: float = 2.0, axis: str = "y", floor: float | None = 0.0
            ) -> list[dict[str, Any]]:
    """A line (the mean over seeds) and, with several seeds, its shaded interval (cut at
    ``floor``: a count's interval says nothing below zero)."""
    mean, lo, hi = interval(np.vstack([np.asarray(s, float) for s in per_seed]))
    if lo is not None and floor is not None:
        lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
    line = {"type": "scatter", "mode": "lines", "x": x, "y": _clean(mean), "name": name,
            "legendgroup": name, "yaxis": axis,
            "line": {"color": colour, "dash": dash, "width": width}}
    if lo is None:
        return [line]
    band = {"type": "scatter", "mode": "lines", "x": x + x[::-1], "yaxis": axis,
            "y": _clean(np.concatenate([hi, lo[::-1]])), "fill": "toself",
            "fillcolor": _rgba(colour, 0.18), "line": {"width": 0}, "hoverinfo": "skip",
            "legendgroup": name, "showlegend": False, "name": f"{name} (95% interval)"}
    return [band, line]


def _layout(title: str, ytitle: str, meta: str, share: bool = False,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0.01, "font": {"size": 14}}, "meta": meta,
        "height": 380, "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
        "xaxis": {"title": {"text": "day of the simulation"}, "zeroline": False},
        "yaxis": {"title": {"text": ytitle}, "tickformat": ".2~%" if share else ",~r",
                  "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.25, "yanchor": "top", "font": {"size": 11}},
        "hovermode": "x unified", "plot_bgcolor": "#fff", "paper_bgcolor": "#fff",
        **(extra or {}),
    }


def _name(s: Series, what: str, many: bool) -> str:
    return f"{s.label}: {what}" if many else what


def _days(s: Series) -> list[int]:
    return s.daily[0][M.DAY].astype(int).tolist()


def _fall(acts: pd.Series, cf: pd.Series, w: int) -> np.ndarray:
    a, c = acts.rolling(w, min_periods=1).sum(), cf.rolling(w, min_periods=1).sum()
    return (1.0 - a / c.where(c > 0)).to_numpy(float)


def chilling(series: list[Series], meta: str) -> dict[str, Any]:
    """The fall in expression acts against the counterfactual: overall, per behaviour and
    per group, over a trailing window."""
    traces, many = [], len(series) > 1
    for k, s in enumerate(series):
        w, x, dash = window(s.days), _days(s), DASHES[k % 2]
        parts = [("all expression", [M.ACTS.format(b) for b in s.expression], "#000000", 3.0)]
        if not many:  # A against B: overall and by group, or the chart is unreadable
            parts += [(b.replace("_", " "), [M.ACTS.format(b)], PALETTE[i], 1.5)
                      for i, b in enumerate(s.expression)]
        parts += [(f"group {g}", [M.EXPRESSION_ACTS.format(g)], PALETTE[4 + i], 1.5)
                  for i, g in enumerate(s.groups)]
        for what, cols, colour, width in parts:
            if not all(c in s.daily[0] for c in cols):
                continue
            per_seed = [_fall(d[cols].sum(axis=1), cf[cols].sum(axis=1), w)
                        for d, cf in zip(s.daily, s.cf_daily, strict=True)]
            traces += _traces(x, per_seed, _name(s, what, many), colour, dash, width,
                              floor=None)
    title = f"{TITLES['chilling']} ({window(series[0].days)}-day window)"
    return {"data": traces,
            "layout": _layout(title, "fewer acts than without scoring", meta, share=True)}


def causes(series: list[Series], meta: str) -> dict[str, Any]:
    """People sanctioned so far, by but-for cause, per 1,000 people."""
    traces, many = [], len(series) > 1
    colours = dict(zip(M.CAUSES, ("#4c72b0", "#c44e52", "#dd8452"), strict=True))
    for k, s in enumerate(series):
        for cause in M.CAUSES:
            col = M.NEW_SANCTIONED.format(cause)
            per_seed = [d[col].cumsum() * 1000.0 / s.agents for d in s.daily]
            traces += _traces(_days(s), per_seed, _name(s, M.CAUSE_WORDS[cause], many),
                              colours[cause], DASHES[k % 2])
    return {"data": traces,
            "layout": _layout(TITLES["causes"], "per 1,000 people", meta)}


def denials(series: list[Series], meta: str) -> dict[str, Any]:
    """Requests turned down by a sanction, per service, per 1,000 people, cumulative."""
    traces, many = [], len(series) > 1
    for k, s in enumerate(series):
        for i, svc in enumerate(M.named(M.DENIED_COL, list(s.daily[0].columns))):
            per_seed = [d[M.DENIED_COL.format(svc)].cumsum() * 1000.0 / s.agents for d in s.daily]
            traces += _traces(_days(s), per_seed, _name(s, svc.replace("_", " "), many),
                              PALETTE[i % len(PALETTE)], DASHES[k % 2])
    return {"data": traces,
            "layout": _layout(TITLES["denials"], "denied requests per 1,000 people", meta)}


def lists(series: list[Series], meta: str) -> dict[str, Any]:
    """Each list's stock per 1,000 people, and its entries and exits per 1,000 a year."""
    traces, many = [], len(series) > 1
    for k, s in enumerate(series):
        w, x, dash = window(s.days), _days(s), DASHES[k % 2]
        for i, name in enumerate(M.named(M.LISTED, list(s.daily[0].columns))):
            colour = PALETTE[i % len(PALETTE)]
            stock = [d[M.LISTED.format(name)] * 1000.0 / s.agents for d in s.daily]
            traces += _traces(x, stock, _name(s, f"on {name}", many), colour, dash, 2.5)
            for flow, col, fade in (("entries", M.LISTINGS.format(name), 0.8),
                                    ("exits", M.DELISTINGS.format(name), 0.5)):
                rate = [d[col].rolling(w, min_periods=1).mean() * 365_000.0 / s.agents
                        for d in s.daily]
                traces += _traces(x, rate, _name(s, f"{flow}, {name}", many),
                                  _fade(colour, fade), dash, 1.2, axis="y2")
    y2 = {"yaxis2": {"title": {"text": "entries and exits per 1,000 a year"},
                     "overlaying": "y", "side": "right", "rangemode": "tozero",
                     "showgrid": False}}
    layout = _layout(TITLES["lists"], "people on the list per 1,000", meta, extra=y2)
    layout["margin"]["r"] = 60
    return {"data": traces, "layout": layout}


def _fade(colour: str, k: float) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{int(v + (255 - v) * (1 - k)):02x}" for v in (r, g, b))


def disparity(series: list[Series], meta: str) -> dict[str, Any]:
    """The share of each group's members under any sanction, day by day."""
    traces, many = [], len(series) > 1
    for k, s in enumerate(series):
        for i, (g, size) in enumerate(s.groups.items()):
            col = M.SANCTIONED_IN.format(g)
            if not size or col not in s.daily[0]:
                continue
            per_seed = [d[col] / size for d in s.daily]
            traces += _traces(_days(s), per_seed, _name(s, f"{g} ({int(size):,} people)",
                                                         many),
                              PALETTE[i % len(PALETTE)], DASHES[k % 2])
    return {"data": traces,
            "layout": _layout(TITLES["disparity"], "share of the group sanctioned", meta,
                              share=True)}


def differences(summary: pd.DataFrame, meta: str) -> dict[str, Any]:
    """B - A for the headline metrics, paired by seed, with 95% intervals (percentage points
    for shares)."""
    rows = summary[(summary["kind"] == M.KIND_DIFFERENCE)
                   & summary["metric"].isin(M.COMPARE_HEADLINES)]
    rows = rows.set_index("metric").reindex(
        [m for m in M.COMPARE_HEADLINES if m in set(rows["metric"])])
    x = (rows["mean"] * 100).tolist()
    lo, hi = (rows["lo"] * 100).tolist(), (rows["hi"] * 100).tolist()
    err = {"type": "data", "symmetric": False, "visible": True,
           "array": _clean([h - m for h, m in zip(hi, x, strict=True)]),
           "arrayminus": _clean([m - v for v, m in zip(lo, x, strict=True)])}
    trace = {"type": "scatter", "mode": "markers", "x": _clean(x),
             "y": rows["description"].tolist(), "error_x": err, "name": "B - A",
             "marker": {"size": 10, "color": PALETTE[0]}}
    layout = _layout(TITLES["differences"], "", meta)
    layout["xaxis"] = {"title": {"text": "B - A (percentage points)"}, "zeroline": True,
                       "zerolinecolor": "#888"}
    layout["yaxis"] = {"automargin": True}
    layout["height"] = 120 + 40 * len(rows)
    layout["showlegend"] = False
    return {"data": [trace], "layout": layout}


def all_figures(series: list[Series], meta: str) -> dict[str, dict[str, Any]]:
    """Every time-series figure of a result, by name."""
    draw = {"chilling": chilling, "causes": causes, "denials": denials, "lists": lists,
            "disparity": disparity}
    return {name: draw[name](series, meta) for name in FIGURES}
