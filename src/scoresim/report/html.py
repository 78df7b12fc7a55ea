"""Self-contained HTML reports: one file that opens anywhere with no network. Figures are PNGs
embedded as base64 data URIs, styles are inline, and there are no scripts at all, so nothing
can fail to load and the page looks the same offline, in a browser or attached to an email.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ..core.version import __version__
from ..experiments.compare import Comparison
from ..experiments.metrics import describe, is_share
from ..scenario import scenario_to_yaml
from .compare_plots import FAMILIES, family_metrics, interval_figure, time_figure
from .plots import topic_figure, window

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;
 color:#222;background:#fafafa;line-height:1.45}
main{max-width:1320px;margin:0 auto;padding:1.2em 1.6em 3em}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid
 #ddd;padding-bottom:.2em}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em .9em;font-size:.92em}
figure{margin:.6em 0;background:#fff;border:1px solid #e4e4e4;padding:.4em}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#444;padding:.3em .2em}
table{border-collapse:collapse;font-size:.9em;background:#fff}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre{background:#fff;border:1px solid #e4e4e4;padding:.8em;overflow:auto;font-size:.82em}
"""

SYNTHETIC = ("Every person in this report is synthetic: generated from aggregate parameters. "
             "No real person is identified, scored or watched, and no real image or record "
             "was used.")


def figure_html(fig: Figure, alt: str, caption: str = "") -> str:
    """A figure as an embedded PNG with alternative text and a caption."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
            f"{cap}</figure>")


def table_html(rows: list[tuple[Any, ...]], header: tuple[str, ...] | None = None) -> str:
    head = ("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
            if header else "")
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{html.escape(str(c))}</td>' if k
            else f"<td>{html.escape(str(c))}</td>" for k, c in enumerate(r)) + "</tr>"
        for r in rows)
    return f"<table>{head}{body}</table>"


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f} %"


# ---------------------------------------------------------------- one run
RUN_SECTIONS = [
    ("score", "Score and grades",
     "Left: the population's mean score each day. Right: the share of people in each grade "
     "band each day; grades are score thresholds, and a low grade can trigger sanctions."),
    ("sanctions", "Sanctions and their causes",
     "Left: the share of all people ever sanctioned, split by what caused it: their own scored "
     "acts, a false match (an act of someone else attributed to them), or association (a "
     "penalty spilled over from family, work team, kin or friends). 'Innocent' people were "
     "sanctioned without ever committing a scored act. Middle: sanctions started so far, per "
     "1,000 people. Right: the share of people under each sanction each day."),
    ("denials", "Services denied",
     "Requests for services (flights, rail, loans, schools...) turned down because the person "
     "was under a sanction, per 1,000 people per year, with the share of all requests."),
    ("chilling", "Chilling effect",
     "How much lawful expression the system suppresses: the fall in expression acts against "
     "the same synthetic people, with the same random numbers, when the scoring system is "
     "switched off (the counterfactual). Zero means no effect; 20 % means one act in five "
     "is lost."),
    ("groups", "Disparity between groups",
     "Left: the share of each group under any sanction. Middle: expression acts per 1,000 "
     "members per day. Right: denials per 1,000 members per year. Groups may differ in how "
     "closely they are watched and how often recognition mistakes them for someone else."),
    ("lists", "Lists: stock and flows",
     "Left: people on each named list per 1,000 people. Right: people added to (above zero) "
     "and removed from (below zero) each list per week, by repair or expiry."),
    ("abroad", "Reach abroad",
     "Venues abroad whose cameras feed the home system: what crosses the border and whom it "
     "names. Left: records sent home per week, by the patron's origin (local residents are "
     "not enrolled, but a false match can name an enrolled person for them). Right: how much "
     "expression each origin group abroad gives up, against the same people without the "
     "system (needs --counterfactual)."),
]


def _key_numbers(summary: dict[str, Any]) -> str:
    f = summary["final"]
    rows = [("ever sanctioned", pct(f["ever_sanctioned_frac"])),
            ("  through own scored acts", pct(f["ever_sanctioned_by_cause"]["own"])),
            ("  through false matches", pct(f["ever_sanctioned_by_cause"]["false_match"])),
            ("  through association", pct(f["ever_sanctioned_by_cause"]["association"])),
            ("innocent sanctioned (no scored act of their own)",
             pct(f["innocent_sanctioned_frac"], 3)),
            ("sanctioned at the end", pct(f["sanctioned_frac"])),
            ("false attributions (acts pinned on the wrong person)",
             f"{f['false_attributions']:,}")]
    cf = summary.get("counterfactual")
    if cf:
        rows.append(("chilling effect: expression acts lost vs. no scoring",
                     pct(cf["chilling"].get("overall"))))
    for svc, k in f["denied"].items():
        rows.append((f"{svc.replace('_', ' ')} requests denied",
                     f"{k:,} of {f['requests'][svc]:,}"))
    return table_html(rows, ("metric", "value"))


def _abroad_numbers(o: dict[str, Any]) -> str:
    rows = [("people living abroad", f"{o['residents_abroad']:,}"),
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
    return table_html(rows, ("abroad", "value"))


def _provenance(summary: dict[str, Any]) -> str:
    rows = [("scoresim version", summary.get("version")), ("scenario", summary.get("scenario")),
            ("scenario hash (sha256)", summary.get("scenario_hash")),
            ("seed", summary.get("seed")), ("agents", f"{summary.get('agents'):,}"),
            ("days", summary.get("days")), ("command", summary.get("command", "(Python API)")),
            ("wall time", f"{summary.get('wall_seconds')} s (build "
                          f"{summary.get('build_seconds')} s)")]
    cf = summary.get("counterfactual")
    if cf:
        rows.append(("counterfactual wall time", f"{cf['wall_seconds']} s"))
    return table_html(rows)


def run_report(summary: dict[str, Any], daily: pd.DataFrame, scenario_yaml: str,
               cf_daily: pd.DataFrame | None = None, description: str = "") -> str:
    """report.html of one run (with its counterfactual's daily table, if it carries one)."""
    s = summary
    title = f"scoresim report: {s['scenario']}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{s['agents']:,} synthetic people, {s['days']} days, seed {s['seed']}. "
             f"{html.escape(description)}</p>",
             f'<p class="note">{html.escape(SYNTHETIC)}</p>',
             "<h2>Key numbers</h2>", _key_numbers(s)]
    if daily.empty:
        parts.append("<p>No days were simulated (--days 0): there is nothing to plot.</p>")
    for topic, heading, caption in RUN_SECTIONS if not daily.empty else []:
        if topic == "abroad" and "overseas" not in s:
            continue
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if topic == "abroad":
            parts.append(_abroad_numbers(s["overseas"]))
        if topic == "chilling":
            caption += (f" Trailing {window(s['days'])}-day window." if cf_daily is not None
                        else " Not measured in this run: run with --counterfactual.")
        fig = topic_figure(topic, s, daily, cf_daily)
        parts.append(figure_html(fig, heading, caption))
    parts += ["<h2>Scenario parameters</h2>",
              "<p>The scenario exactly as run, overrides applied (also in scenario.yaml).</p>",
              f"<pre>{html.escape(scenario_yaml)}</pre>",
              "<h2>Provenance</h2>", _provenance(s)]
    return page(title, "\n".join(parts))


# ---------------------------------------------------------------- a comparison
def format_interval(metric: str, mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(mean):
        return "—"
    if is_share(metric):
        text = f"{100 * mean:.3g} %"
        return text if not math.isfinite(lo) else f"{text} [{100 * lo:.3g}, {100 * hi:.3g}]"
    text = f"{mean:.4g}"
    return text if not math.isfinite(lo) else f"{text} [{lo:.4g}, {hi:.4g}]"


def interval_cells(summary: pd.DataFrame, labels: list[str], metric: str,
                   missing: str = "—") -> list[str]:
    """A metric's cells: each scenario's value, then each one's difference from the first."""
    cells = []
    for kind, group in (("value", labels), ("difference", labels[1:])):
        for label in group:
            r = summary[(summary["metric"] == metric) & (summary["scenario"] == label)
                        & (summary["kind"] == kind)]
            cells.append(missing if r.empty else format_interval(
                metric, *(float(r[k].iloc[0]) for k in ("mean", "lo", "hi"))))
    return cells


def _metrics_table(comp: Comparison) -> str:
    labels = comp.labels
    header = ("metric", "unit", *labels, *[f"{lb} − {labels[0]}" for lb in labels[1:]])
    rows = []
    for metric in dict.fromkeys(comp.summary["metric"]):
        text, unit = describe(metric)
        rows.append((text, unit.replace("share", "%"),
                     *interval_cells(comp.summary, labels, metric)))
    return table_html(rows, header)


def compare_report(comp: Comparison, command: str | None = None) -> str:
    """report.html of a comparison: scenarios side by side with 95% intervals."""
    labels, k = comp.labels, len(comp.seeds)
    title = "scoresim comparison: " + " vs. ".join(labels)
    intro = (f"{len(labels)} scenario{'s' if len(labels) > 1 else ''}, each run for {k} "
             f"seed{'s' if k > 1 else ''} ({', '.join(map(str, comp.seeds))}) on "
             f"{comp.agents:,} synthetic people for "
             f"{comp.days} days, each next to its counterfactual: the same people and random "
             "numbers with the scoring system switched off. Runs with the same seed share their "
             "random numbers, so a difference between scenarios is the systems' difference, "
             f"not noise; differences are paired by seed against the first scenario, "
             f"{labels[0]}.")
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(intro)}</p>",
             f'<p class="note">{html.escape(SYNTHETIC)}</p>',
             "<h2>Over time</h2>",
             figure_html(time_figure(comp), "chilling effect and sanctions over time",
                         "Each line is a scenario, pooled over its seeds.")]
    for family, test in FAMILIES:
        metrics = family_metrics(comp.summary, test)
        if not metrics:
            continue
        parts.append(f"<h2>{html.escape(family)}</h2>")
        parts.append(figure_html(interval_figure(comp, metrics, "value", family), family,
                                 "Each row is a scenario: its mean across seeds and the 95% "
                                 "interval (with one seed, its value alone)."))
        if len(labels) > 1:
            parts.append(figure_html(
                interval_figure(comp, metrics, "difference",
                                f"{family}: difference from {labels[0]}"),
                f"{family}: differences",
                f"Each scenario minus {labels[0]}, paired by seed; an interval that excludes "
                "zero is a difference the seeds agree on."))
    parts += ["<h2>All metrics</h2>",
              "<p>Mean across seeds [95% t-interval]; shares in percent of all people.</p>",
              _metrics_table(comp), "<h2>Scenarios</h2>"]
    for spec in comp.specs:
        where = spec.source + (", overrides: " + " ".join(spec.overrides)
                               if spec.overrides else "")
        parts.append(f"<details><summary>{html.escape(spec.label)} (from {html.escape(where)})"
                     f"</summary><pre>{html.escape(scenario_to_yaml(spec.scenario))}</pre>"
                     "</details>")
    prov = [("scoresim version", __version__),
            ("seeds", ", ".join(map(str, comp.seeds))), ("agents", f"{comp.agents:,}"),
            ("days", comp.days), ("command", command or "(Python API)"),
            ("wall time", f"{comp.meta.get('wall_seconds')} s on {comp.meta.get('executor')} "
                          f"executor with {comp.meta.get('workers')} worker(s)")]
    parts += ["<h2>Provenance</h2>", table_html(prov)]
    return page(title, "\n".join(parts))
