"""The answer in words and numbers: key numbers (with intervals over seeds), the comparison's
table, the same run from the command line, and the download links.

Every key number carries ``data-path`` (its place in summary.json) and ``data-value`` (the
value itself, unrounded), so the numbers on the page can be checked against ``scoresim run``.
"""

from __future__ import annotations

import math
from typing import Any

from dash import html

from . import metrics as M
from .downloads import files
from .figures import interval
from .service import Result
from .settings import Side, command


def _share(x: float) -> str:
    return f"{100 * x:.3g} %"


def _count(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def _number(h: M.Headline, values: list[Any]) -> html.Div | None:
    if any(v is None for v in values):
        return None
    mean, lo, hi = interval(values)
    show = _share if h.share else _count
    band = f"95% interval {show(lo)} to {show(hi)}" if lo is not None else ""
    return html.Div(className="number", id=f"num-{h.key}", children=[
        html.Div(show(mean), className="value"),
        html.Div(h.label, className="what"),
        html.Div(band, className="band") if band else None,
    ], **{"data-path": ".".join(h.path), "data-value": repr(float(mean))})


def headline(result: Result) -> html.Div:
    """The key numbers of a run (means over its seeds)."""
    summaries = [r["summary"] for r in result.runs]
    heads = [*M.HEADLINES, *(M.denied_headline(s) for s in M.services(summaries[0]))]
    cards = [_number(h, [M.lookup(s, h.path) for s in summaries]) for h in heads]
    n = len(result.seeds)
    title = (f"{summaries[0]['scenario']}: {result.settings.agents:,} people, "
             f"{result.settings.days} days, "
             + (f"seed {result.seeds[0]}" if n == 1 else
                f"{n} seeds ({result.seeds[0]} to {result.seeds[-1]}): means"))
    return html.Div([html.H2(title), html.Div([c for c in cards if c is not None],
                                               className="numbers")])


def _cell(unit: str, mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(mean):
        return "—"
    share = unit.startswith("share")
    show = _share if share else (lambda x: f"{x:.4g}")
    text = show(mean)
    return text if not math.isfinite(lo) else f"{text} [{show(lo)}, {show(hi)}]"


def compare_table(result: Result) -> html.Div:
    """A, B and B - A (paired by seed) for every metric of the comparison."""
    s = result.comparison.summary
    rows = []
    for metric in dict.fromkeys(s["metric"]):
        row = s[s["metric"] == metric]
        cells, difference = [], math.nan
        for label, kind in (("A", M.KIND_VALUE), ("B", M.KIND_VALUE), ("B", M.KIND_DIFFERENCE)):
            r = row[(row["scenario"] == label) & (row["kind"] == kind)]
            cells.append("—" if r.empty else _cell(r["unit"].iloc[0], r["mean"].iloc[0],
                                                   r["lo"].iloc[0], r["hi"].iloc[0]))
            if kind == M.KIND_DIFFERENCE and not r.empty:
                difference = float(r["mean"].iloc[0])
        rows.append(html.Tr([html.Td(row["description"].iloc[0]), *(
            html.Td(c, className="num") for c in cells)],
            **{"data-metric": metric, "data-difference": repr(difference)}))
    n = len(result.seeds)
    return html.Div([
        html.H2(f"A against B: {result.settings.agents:,} people, {result.settings.days} days, "
                f"{n} seed{'s' * (n > 1)}, common random numbers"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in (
            "metric", "A", "B", "B − A (paired, 95% interval)")])), html.Tbody(rows)],
            className="table"),
    ])


def _side_words(side: Side) -> str:
    changes = ", ".join(side.overrides) or "no changes"
    return f"{side.scenario} ({changes})"


def command_line(result: Result) -> html.Div:
    """The same run from the command line."""
    st = result.settings
    if st.mode == "compare" and st.pinned is not None:
        lines = [f"A = {_side_words(st.pinned)}", f"B = {_side_words(st.side)}",
                 *(command(st, side) for side in (st.pinned, st.side))]
        intro = "A and B from the command line (each seed in turn):"
    else:
        lines = [command(st, seed=s) for s in result.seeds]
        intro = "The same run from the command line:"
    return html.Div([html.P(intro, className="hint"),
                     html.Pre("\n".join(lines), id="command-text")])


def download_links(result: Result) -> html.Div:
    """Links to the result's files (figures download from their own buttons)."""
    links = [html.A(name, href=f"/download/{result.id}/{name}", download=name,
                    className="download", id=f"dl-{name.replace('.', '-')}")
             for name in files(result)]
    return html.Div([html.Span("Download: ", className="hint"), *links], className="row")


def status(result: Result) -> str:
    """One line on how long the answer took."""
    n = len(result.runs) if result.runs else 2 * len(result.seeds)
    return (f"done in {result.seconds:.2f} s on the server ({n} run{'s' * (n > 1)}, each with "
            "its counterfactual)")
