"""Self-contained HTML reports from Jinja2 templates (``report/templates``): one file that opens
anywhere with no network. Figures are PNGs embedded as base64 data URIs, styles are inline,
and there are no scripts at all, so nothing can fail to load and the page looks the same
offline, in a browser or attached to an email. Every figure is also written to ``figures/``.
"""

from __future__ import annotations

import math
from datetime import timedelta
from functools import cache
from typing import Any

import jinja2
import pandas as pd

from ..core.version import __version__
from ..experiments.compare import Comparison
from ..experiments.metrics import describe, is_share, wilson
from ..scenario import scenario_to_yaml
from . import names as N
from .charts import Chart, charts
from .compare_plots import compare_context, family_charts, time_charts
from .plots import PANELS
from .run_context import RunContext, run_context, window

WIDE_INCHES = 8.0  # a figure at least this wide spans the page's grid


@cache
def environment() -> jinja2.Environment:
    """The templates, HTML-escaped by default, failing on a missing value."""
    return jinja2.Environment(loader=jinja2.PackageLoader("scoresim.report", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def render(template: str, **values: Any) -> str:
    """Render a template of ``report/templates`` with ``values``."""
    return environment().get_template(template).render(**values)


def figure_view(c: Chart) -> dict[str, Any]:
    """What a template shows of a chart."""
    return {"name": c.name, "title": c.title, "caption": c.caption, "png": c.page_png(),
            "wide": c.figure.get_figwidth() >= WIDE_INCHES}


def pct(x: float | None, digits: int = 2) -> str:
    """A share as a percentage ('—' when undefined)."""
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}%"


# ---------------------------------------------------------------- one run
RUN_SECTIONS = [
    ("score", "Score and grades", ""),
    ("sanctions", "Sanctions and their causes", ""),
    ("denials", "Services denied", ""),
    ("chilling", "Chilling effect", ""),
    ("groups", "Disparity between groups", ""),
    ("lists", "Lists: stock and flows", ""),
    ("abroad", "Reach abroad",
     "Venues abroad whose cameras feed the home system: what crosses the border and whom it "
     "names."),
]


def _key_numbers(ctx: RunContext) -> list[tuple[str, str, str]]:
    f, n = ctx.final, ctx.agents

    def share(label: str, x: float) -> tuple[str, str, str]:
        lo, hi = wilson(x * n, n)
        return label, pct(x, 3), f"{pct(lo, 3)} to {pct(hi, 3)}"

    cause = f[N.EVER_BY_CAUSE]
    rows = [share("ever sanctioned", f[N.EVER_SANCTIONED]),
            share("  through own scored acts", cause["own"]),
            share("  through false matches", cause["false_match"]),
            share("  through association", cause["association"]),
            share("sanctioned for others' acts (own acts alone would not have done it)",
                  f[N.FOR_OTHERS_ACTS]),
            share("sanctioned for lawful speech (not without penalties on expression)",
                  f[N.FOR_EXPRESSION]),
            share("sanctioned without ever committing a scored act",
                  f[N.NEVER_ACTED_SANCTIONED]),
            share("sanctioned at the end", f[N.SANCTIONED_NOW]),
            ("false attributions (acts pinned on the wrong person)",
             f"{f[N.FALSE_ATTRIBUTIONS]:,}", "")]
    cf = ctx.summary.get("counterfactual")
    if cf:
        rows.append(("chilling effect: expression acts lost vs. no scoring",
                     pct(cf["chilling"].get("overall")), ""))
    for svc, k in f[N.DENIED].items():
        req = f[N.REQUESTS][svc]
        lo, hi = wilson(k, req)
        rows.append((f"{svc.replace('_', ' ')} requests denied", f"{k:,} of {req:,}",
                     f"{pct(lo)} to {pct(hi)} of requests" if req else ""))
    return rows


def _abroad_numbers(o: dict[str, Any]) -> list[tuple[str, str]]:
    return [("people living abroad", f"{o['residents_abroad']:,}"),
            ("venue camera records crossing the border", f"{o['records_home']:,}"),
            ("local residents captured (people; records)",
             f"{o['locals_captured_people']:,}; {o['locals_captured_records']:,}"),
            ("diaspora members identified (people)", f"{o['diaspora_identified_people']:,}"),
            ("false matches onto enrolled people (share of identifications)",
             f"{o['false_matches_onto_enrolled']:,} ({pct(o['false_match_share'])})"),
            ("associations recorded (patron pairs at one table)",
             f"{o['table_associations']:,}"),
            ("relatives at home penalised because of acts abroad",
             f"{o['relatives_home_penalised']:,}"),
            ("relatives at home sanctioned through association with someone abroad",
             f"{o['relatives_home_sanctioned']:,}")]


def _provenance(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    rows = [("scoresim version", summary.get("version")), ("scenario", summary.get("scenario")),
            ("scenario hash (sha256)", summary.get("scenario_hash")),
            ("seed", summary.get("seed")), ("agents", f"{summary.get('agents'):,}"),
            ("days", summary.get("days")), ("command", summary.get("command", "(Python API)")),
            ("wall time", f"{summary.get('wall_seconds')} s (build "
                          f"{summary.get('build_seconds')} s)")]
    cf = summary.get("counterfactual")
    if cf:
        rows.append(("counterfactual wall time", f"{cf['wall_seconds']} s"))
    return rows


def run_title(summary: dict[str, Any]) -> str:
    """A run's title: its scenario, and that --set changed it if it did."""
    overrides = summary.get("overrides") or []
    return (f"scoresim report: {summary['scenario']}"
            + (f" (overridden: {', '.join(overrides)})" if overrides else ""))


def run_charts(ctx: RunContext) -> list[dict[str, Any]]:
    """The report's sections: heading, intro, charts (each a Chart), note and table."""
    if ctx.daily.empty:
        return []
    sections = []
    for topic, heading, intro in RUN_SECTIONS:
        if topic == "abroad" and "overseas" not in ctx.summary:
            continue
        found = charts(PANELS[topic], ctx)
        note = ""
        if topic == "chilling" and ctx.cf_daily is None:
            note = "Not measured in this run: run with --counterfactual."
        elif topic == "chilling":
            intro = f"Trailing {window(int(ctx.summary['days']))}-day window."
        table = _abroad_numbers(ctx.summary["overseas"]) if topic == "abroad" else None
        if not found and not note:
            note = "Nothing to show: every value here stayed at zero during this run."
        if found or note or table:
            sections.append({"heading": heading, "intro": intro, "charts": found, "note": note,
                             "table": table})
    return sections


def run_page(ctx: RunContext, sections: list[dict[str, Any]], scenario: Any) -> str:
    """report.html of one run from its context and drawn sections."""
    s = ctx.summary
    axis = ctx.axis
    when = ""
    if axis.start is not None and s["days"]:
        end = axis.start + timedelta(days=int(s["days"]) - 1)
        when = f" ({axis.start:%d %B %Y} to {end:%d %B %Y})"
    changes = [(str(k + 1), c.day, axis.dates([c.day])[0] if axis.calendar else "",
                "; ".join(f"{key} = {val}" for key, val in ch.set.items()))
               for k, (c, ch) in enumerate(zip(axis.changes, sorted(
                   scenario.timeline, key=lambda c: c.day), strict=True))
               if 0 < c.day < int(s["days"])] if scenario is not None else []
    views = [{**sec, "charts": [figure_view(c) for c in sec["charts"]]} for sec in sections]
    return render(
        "run.html.j2", title=run_title(s),
        intro=f"{s['agents']:,} synthetic people, {s['days']} days{when}, seed {s['seed']}.",
        description=getattr(scenario, "description", ""), overrides=s.get("overrides") or [],
        key_numbers=_key_numbers(ctx), sections=views, changes=changes,
        scenario_yaml=scenario_to_yaml(scenario) if scenario is not None else "",
        provenance=_provenance(s))


def run_report(summary: dict[str, Any], daily: pd.DataFrame, scenario: Any = None,
               cf_daily: pd.DataFrame | None = None) -> tuple[str, list[Chart]]:
    """report.html of one run, and its figures.

    Args:
        summary: the run's summary (``overrides`` in it are shown in the title).
        daily: its daily table.
        scenario: the Scenario run (dates, timeline changes, parameters).
        cf_daily: its counterfactual's daily table, if it carries one.

    Returns:
        The page and every chart on it.
    """
    ctx = run_context(summary, daily, scenario, cf_daily)
    sections = run_charts(ctx)
    return run_page(ctx, sections, scenario), [c for s in sections for c in s["charts"]]


# ---------------------------------------------------------------- a comparison
def format_interval(metric: str, mean: float, lo: float, hi: float, kind: str = "value") -> str:
    """A mean and its interval as text: shares in % (values) or pp (differences)."""
    if not math.isfinite(mean):
        return "—"
    if is_share(metric):
        unit = " pp" if kind == "difference" else "%"
        text = f"{100 * mean:.3g}{unit}"
        return text if not math.isfinite(lo) else f"{text} [{100 * lo:.3g}, {100 * hi:.3g}]"
    text = f"{mean:.4g}"
    return text if not math.isfinite(lo) else f"{text} [{lo:.4g}, {hi:.4g}]"


def interval_cells(summary: pd.DataFrame, labels: list[str], metric: str,
                   missing: str = "—", kinds: tuple[str, ...] = ("value", "difference")
                   ) -> list[str]:
    """A metric's cells: each scenario's value, then each one's difference from the first
    (with the relative change)."""
    cells = []
    for kind in kinds:
        for label in labels if kind == "value" else labels[1:]:
            r = summary[(summary["metric"] == metric) & (summary["scenario"] == label)
                        & (summary["kind"] == kind)]
            if r.empty:
                cells.append(missing)
                continue
            text = format_interval(metric, *(float(r[k].iloc[0]) for k in ("mean", "lo", "hi")),
                                   kind)
            if kind == "difference" and "relative_mean" in r:
                rel = float(r["relative_mean"].iloc[0])
                text += f" ({100 * rel:+.0f}%)" if math.isfinite(rel) else ""
            cells.append(text)
    return cells


def compare_page(comp: Comparison, command: str | None, found_time: list[Chart],
                 families: list[tuple[str, list[Chart]]]) -> str:
    """report.html of a comparison from its drawn charts."""
    labels, k = comp.labels, len(comp.seeds)
    intro = (f"{len(labels)} scenario{'s' if len(labels) > 1 else ''}, each run for {k} "
             f"seed{'s' if k > 1 else ''} ({', '.join(map(str, comp.seeds))}) on "
             f"{comp.agents:,} synthetic people for {comp.days} days, each next to its "
             "counterfactual: the same people and random numbers with the scoring system "
             "switched off. Runs with the same seed share their random numbers, so a difference "
             "between scenarios is the systems' difference, not noise; differences are paired "
             f"by seed against the first scenario, {labels[0]}.")
    metrics = list(dict.fromkeys(comp.summary["metric"]))
    units = {m: ("%" if is_share(m) else describe(m)[1]) for m in metrics}
    values_rows = [(describe(m)[0], units[m], *interval_cells(comp.summary, labels, m,
                                                              kinds=("value",)))
                   for m in metrics]
    diff_rows = [(describe(m)[0], "pp" if is_share(m) else units[m],
                  *interval_cells(comp.summary, labels, m, kinds=("difference",)))
                 for m in metrics] if len(labels) > 1 else []
    note = (f"Mean over {k} seeds [95% percentile-bootstrap interval]; shares in percent of "
            "all people." if k > 1 else "One seed: values only, no interval.")
    scenarios = [{"label": s.label, "yaml": scenario_to_yaml(s.scenario),
                  "where": s.source + (", overrides: " + " ".join(s.overrides)
                                       if s.overrides else "")} for s in comp.specs]
    prov = [("scoresim version", __version__),
            ("seeds", ", ".join(map(str, comp.seeds))), ("agents", f"{comp.agents:,}"),
            ("days", comp.days), ("command", command or "(Python API)"),
            ("wall time", f"{comp.meta.get('wall_seconds')} s on {comp.meta.get('executor')} "
                          f"executor with {comp.meta.get('workers')} worker(s)")]
    return render(
        "compare.html.j2", title="scoresim comparison: " + " vs. ".join(labels), intro=intro,
        time_charts=[figure_view(c) for c in found_time],
        families=[(f, [figure_view(c) for c in cs]) for f, cs in families],
        values_note=note, values_header=("metric", "unit", *labels), values_rows=values_rows,
        baseline=labels[0], diff_header=("metric", "unit", *[f"{lb} − {labels[0]}"
                                                             for lb in labels[1:]]),
        diff_rows=diff_rows, scenarios=scenarios, provenance=prov)


def compare_report(comp: Comparison, command: str | None = None) -> tuple[str, list[Chart]]:
    """report.html of a comparison, and its figures.

    Args:
        comp: the comparison (run_compare, or load_comparison of a folder).
        command: the command line that ran it.

    Returns:
        The page and every chart on it.
    """
    found_time = time_charts(compare_context(comp))
    families = family_charts(comp)
    page = compare_page(comp, command, found_time, families)
    return page, [*found_time, *[c for _, cs in families for c in cs]]
