"""The explorer's page: controls on the left, the answer on the right.

Built once per page load (a new visitor id each time, so two tabs are two visitors). The knobs
are built by a callback when the scenario is chosen (:func:`knob_panel`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from dash import dcc, html

from .figures import FIGURES, TITLES
from .knobs import CHOICE, NUMBER, SLIDER, SWITCH, Knob
from .settings import CUSTOM, DEFAULTS, builtin_names

SYNTHETIC = ("Every person here is synthetic, generated from aggregate parameters: nothing "
             "identifies, scores or watches a real person, and nothing leaves this computer.")


def _field(label: str, control: Any, hint: str = "") -> html.Label:
    return html.Label([html.Span(label, className="label"), control,
                       html.Span(hint, className="hint") if hint else None], className="field")


def _number(id_: str, value: int, low: int) -> dcc.Input:
    # debounce: a number is taken when the visitor presses Enter or leaves the box, not at
    # every digit (each change may start a run)
    return dcc.Input(id=id_, type="number", value=value, min=low, step=1, debounce=True,
                     className="number")


def controls() -> html.Aside:
    """The left column: scenario, its YAML, size, knobs, view and the buttons."""
    options = [{"label": name, "value": name} for name in builtin_names()]
    options.append({"label": "my own YAML (below)", "value": CUSTOM})
    return html.Aside(id="controls", children=[
        html.H2("Scenario"),
        dcc.Dropdown(id="scenario", options=options, value=DEFAULTS["scenario"],
                     clearable=False, searchable=False),
        html.P(id="description", className="hint"),
        html.Details(id="yaml-box", children=[
            html.Summary("Your own scenario (YAML)"),
            html.P("Paste or upload a scenario; it is checked as you type. `extends: default` "
                   "starts from a built-in.", className="hint"),
            dcc.Textarea(id="yaml", value="", spellCheck=False, className="yaml",
                         placeholder="extends: default\nsafeguards:\n  human_review: true"),
            html.Div([
                dcc.Upload(id="upload", children=html.Button("Upload a .yaml file"),
                           accept=".yaml,.yml,text/yaml", multiple=False),
                html.Button("Start from the selected scenario", id="copy-yaml"),
            ], className="row"),
            html.Div(id="yaml-status", className="status-line"),
        ]),
        html.H2("People and time"),
        html.Div(className="grid2", children=[
            _field("agents", _number("agents", DEFAULTS["agents"], 1)),
            _field("days", _number("days", DEFAULTS["days"], 1)),
            _field("seeds", _number("seeds", DEFAULTS["seeds"], 1),
                   "several: means with 95% intervals"),
            _field("first seed", _number("seed", DEFAULTS["seed"], 0)),
        ]),
        html.Div(id="knobs"),
        html.Div(id="extra"),
        html.H2("What to show"),
        dcc.RadioItems(id="mode", value="run", className="radio", options=[
            {"label": "this setting against no scoring", "value": "run"},
            {"label": "A against B (B: this setting)", "value": "compare"}]),
        html.Div([html.Button("Pin this setting as A", id="pin"),
                  html.Span(id="pinned-text", className="hint")], className="row"),
        html.Div(className="row actions", children=[
            html.Button("Run", id="run", className="primary"),
            html.Button("Stop", id="stop"),
            dcc.Checklist(id="auto", value=["auto"], className="check", options=[
                {"label": "re-run when a setting changes", "value": "auto"}]),
        ]),
        html.Div(id="settings-error", className="error", role="alert"),
    ])


def _figure(name: str) -> html.Div:
    fid = f"fig-{name}"
    tools = html.Div(className="figure-tools", children=[
        html.Button(fmt.upper(), className="figdl", title=f"download this chart as {fmt}",
                    **{"data-figure": fid, "data-format": fmt}) for fmt in ("svg", "png")])
    graph = dcc.Graph(id=fid, figure={"data": [], "layout": {"title": {"text": TITLES[name]},
                                                              "height": 360}},
                      config={"displaylogo": False, "responsive": True})
    return html.Div([tools, graph], className="figure", id=f"box-{name}")


def results() -> html.Section:
    """The right column: status, key numbers, the command, downloads, charts."""
    return html.Section(id="results", children=[
        html.Div(id="status", className="status-line", role="status"),
        html.Div(id="result-id", hidden=True),
        html.Div(id="progress-box", style={"display": "none"}, children=[
            html.Progress(id="progress", value="0", max="1"),
            html.Span(id="progress-text", className="hint")]),
        html.Div(id="error", className="error", role="alert"),
        html.Div(id="headline"),
        html.Div(id="command"),
        html.Div(id="downloads"),
        html.Div(id="compare-box", style={"display": "none"}, children=[
            html.Div(className="figure", children=[
                html.Div(className="figure-tools", children=[
                    html.Button(fmt.upper(), className="figdl",
                                **{"data-figure": "fig-differences", "data-format": fmt})
                    for fmt in ("svg", "png")]),
                dcc.Graph(id="fig-differences", figure={"data": [], "layout": {}},
                          config={"displaylogo": False})]),
            html.Div(id="compare-table")]),
        *(_figure(name) for name in FIGURES),
    ])


def page() -> html.Div:
    """The whole page (Dash calls this for every page load)."""
    return html.Div(className="app", children=[
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="visitor", data=uuid.uuid4().hex),
        dcc.Store(id="pending"), dcc.Store(id="custom"), dcc.Store(id="pinned"),
        dcc.Store(id="knob-source"), dcc.Store(id="settings"), dcc.Store(id="address-sink"),
        dcc.Interval(id="tick", interval=250, disabled=True),
        dcc.Interval(id="warm", interval=500),
        html.Header([
            html.H1("scoresim explorer"),
            html.P("What if the scoring system were different? Move a knob and see, in about "
                   "a second, what it does to the people it scores.", className="tagline"),
            html.Div(id="kernels", className="kernels", role="status"),
        ]),
        html.Main([controls(), results()], className="columns"),
        html.Footer(html.P(SYNTHETIC)),
    ])


# ---------------------------------------------------------------- the knobs
def knob_panel(knobs: Iterable[Knob], values: dict[str, Any], token: str) -> list[Any]:
    """The knob controls, by section; ``values`` override the scenario's own values."""
    out: list[Any] = []
    section = None
    for k in knobs:
        if k.section != section:
            section = k.section
            out.append(html.H2(section))
        out.append(_field(k.label, _control(k, values.get(k.path, k.value), token)))
    return out


def _control(k: Knob, value: Any, token: str) -> Any:
    kid = {"type": "knob", "path": k.path, "kind": k.kind, "src": token}
    if k.kind == SLIDER:
        return dcc.Slider(id=kid, min=k.low, max=k.high, step=k.step, value=value, marks=None,
                          updatemode="mouseup", allow_direct_input=True,
                          tooltip={"placement": "bottom", "always_visible": False},
                          className="slider")
    if k.kind == NUMBER:
        return dcc.Input(id=kid, type="number", value=value, min=k.low, max=k.high,
                         step="any", debounce=True, className="number")
    if k.kind == SWITCH:
        return dcc.Checklist(id=kid, value=["on"] if value else [], className="check",
                             options=[{"label": "on", "value": "on"}])
    assert k.kind == CHOICE
    return dcc.Checklist(id=kid, value=list(value), className="check choices",
                         options=[{"label": b.replace("_", " "), "value": b}
                                  for b in k.options])
