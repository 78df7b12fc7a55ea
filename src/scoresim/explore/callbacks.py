"""What happens when a visitor does something: the address fills the controls, a scenario
builds its knobs, the controls make one setting, and a setting (with the visitor's id) goes to
the pool; the answer fills the charts.

The chain on a page load is: address -> controls -> knobs -> setting -> run. A run's callback
waits for its answer (the server is threaded), so the charts change as soon as the run ends;
a newer setting cancels it in the pool and its answer is dropped.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import asdict
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from ..scenario import ScenarioError, load_scenario, scenario_to_yaml
from . import panels
from .figures import FIGURES, all_figures, differences
from .knobs import SWITCH, Knob, knobs_for, override, split_overrides
from .layout import knob_panel
from .service import SHOW_PROGRESS_AFTER, Explorer
from .settings import (
    CUSTOM,
    Settings,
    Side,
    from_query,
    load_side,
    side_from_dict,
    to_query,
    validate,
)

KNOB = {"type": "knob", "path": ALL, "kind": ALL, "src": ALL}
HIDDEN, SHOWN = {"display": "none"}, {"display": "block"}


def register(app: Dash, explorer: Explorer) -> None:
    """Attach every callback of the page to ``app``."""
    _address(app)
    _scenario(app)
    _setting(app)
    _run(app, explorer)
    _progress(app, explorer)


# ---------------------------------------------------------------- the address
def _address(app: Dash) -> None:
    @app.callback(
        Output("scenario", "value"), Output("yaml", "value"), Output("agents", "value"),
        Output("days", "value"), Output("seeds", "value"), Output("seed", "value"),
        Output("mode", "value"), Output("pinned", "data"), Output("pending", "data"),
        Output("custom", "data"), Output("error", "children"),
        Input("url", "search"))
    def from_address(search: str | None) -> tuple:
        """Fill the controls from the address (once, when the page opens)."""
        try:
            s = from_query(search or "")
        except ValueError as exc:
            return (*[no_update] * 10, f"This address cannot be read: {exc}")
        s = s or Settings()
        custom = s.side.yaml if s.side.scenario == CUSTOM else None
        return (s.side.scenario, s.side.yaml, s.agents, s.days, s.seeds, s.seed, s.mode,
                asdict(s.pinned) if s.pinned else None,
                {"scenario": s.side.scenario, "overrides": list(s.side.overrides)},
                custom, "")

    # the address follows the setting, without reloading the page
    app.clientside_callback(
        "function(data) { return window.dash_clientside.explorer.address(data); }",
        Output("address-sink", "data"), Input("settings", "data"), prevent_initial_call=True)


# ---------------------------------------------------------------- scenario, YAML, knobs
def _scenario(app: Dash) -> None:
    @app.callback(
        Output("yaml-status", "children"), Output("custom", "data", allow_duplicate=True),
        Output("scenario", "value", allow_duplicate=True),
        Input("yaml", "value"), State("custom", "data"), prevent_initial_call=True)
    def check_yaml(text: str | None, custom: str | None) -> tuple:
        """Validate the visitor's YAML as they type; a valid one becomes the scenario."""
        if not text or not text.strip():
            return "", no_update, no_update
        try:
            sc = load_side(Side(CUSTOM, text))
        except ScenarioError as exc:
            return html.Span(str(exc), className="bad", id="yaml-error"), no_update, no_update
        ok = html.Span(f"valid: scenario '{sc.name}'", className="good", id="yaml-ok")
        return (ok, no_update, no_update) if text == custom else (ok, text, CUSTOM)

    @app.callback(
        Output("yaml", "value", allow_duplicate=True),
        Input("upload", "contents"), Input("copy-yaml", "n_clicks"),
        State("scenario", "value"), State("custom", "data"), prevent_initial_call=True)
    def fill_yaml(contents: str | None, _: Any, scenario: str, custom: str | None) -> str:
        """An uploaded file, or the selected scenario as YAML, into the text box."""
        if ctx.triggered_id == "upload":
            if not contents:
                raise PreventUpdate
            try:
                return base64.b64decode(contents.split(",", 1)[1]).decode("utf-8")
            except (IndexError, binascii.Error, UnicodeDecodeError):
                return "# this file is not UTF-8 text"
        if scenario == CUSTOM:
            return custom or ""
        return scenario_to_yaml(load_scenario(scenario))

    @app.callback(
        Output("knobs", "children"), Output("knob-source", "data"),
        Output("description", "children"), Output("extra", "children"),
        Output("pending", "data", allow_duplicate=True),
        Input("scenario", "value"), Input("custom", "data"), State("pending", "data"),
        prevent_initial_call=True)
    def build_knobs(scenario: str, custom: str | None, pending: dict | None) -> tuple:
        """The chosen scenario's knobs (set from the address the first time)."""
        side = Side(scenario, (custom or "") if scenario == CUSTOM else "")
        try:
            base = load_side(side)
        except ScenarioError as exc:
            return [], {"error": str(exc)}, "", "", no_update
        knobs = knobs_for(base)
        values: dict[str, Any] = {}
        extra: list[str] = []
        if pending and pending.get("scenario") == scenario:
            values, extra = split_overrides(knobs, pending["overrides"])
        token = uuid.uuid4().hex[:8]
        source = {"scenario": scenario, "yaml": side.yaml, "extra": extra, "token": token,
                  "knobs": [[k.path, k.kind, k.value, list(k.options)] for k in knobs]}
        shown = (html.Div([html.H2("Other overrides (from the address)"),
                           html.Pre("\n".join(extra))]) if extra else "")
        return (knob_panel(knobs, values, token), source, base.description, shown,
                None if pending else no_update)

    @app.callback(
        Output("pinned", "data", allow_duplicate=True), Input("pin", "n_clicks"),
        State("settings", "data"), prevent_initial_call=True)
    def pin(_: Any, data: dict | None) -> dict:
        """This setting becomes system A."""
        if not data or data.get("error"):
            raise PreventUpdate
        return data["settings"]["side"]

    @app.callback(Output("pinned-text", "children"), Input("pinned", "data"))
    def pinned_text(side: dict | None) -> str:
        if not side:
            return "no A yet"
        changes = ", ".join(side.get("overrides") or ()) or "no changes"
        return f"A: {side['scenario']} ({changes})"


# ---------------------------------------------------------------- one setting
def _knob_overrides(values: list[Any], ids: list[dict], source: dict) -> list[str]:
    knobs = {p: Knob(p, "", "", kind, base, options=tuple(opts))
             for p, kind, base, opts in source["knobs"]}
    out = []
    for value, kid in zip(values, ids, strict=True):
        if kid["src"] != source["token"] or kid["path"] not in knobs:
            continue  # a knob of the scenario before
        knob = knobs[kid["path"]]
        text = override(knob, bool(value) if knob.kind == SWITCH else value)
        if text is not None:
            out.append(text)
    return out


def _setting(app: Dash) -> None:
    @app.callback(
        Output("settings", "data"), Output("settings-error", "children"),
        Input(KNOB, "value"), Input("knob-source", "data"), Input("agents", "value"),
        Input("days", "value"), Input("seeds", "value"), Input("seed", "value"),
        Input("mode", "value"), Input("pinned", "data"), State(KNOB, "id"),
        prevent_initial_call=True)
    def collect(values: list, source: dict | None, agents: Any, days: Any, seeds: Any,
                seed: Any, mode: str, pinned: dict | None, ids: list) -> tuple:
        """The controls as one setting, checked as a run would check it."""
        if not source:
            raise PreventUpdate
        if source.get("error"):
            return {"error": source["error"]}, source["error"]
        overrides = (*_knob_overrides(values, ids, source), *source["extra"])
        try:
            s = Settings(Side(source["scenario"], source["yaml"], overrides),
                         *(int(v) if v is not None and float(v).is_integer() else -1
                           for v in (agents, days, seeds, seed)),
                         mode=mode, pinned=side_from_dict(pinned) if pinned else None)
            validate(s)
        except (ScenarioError, ValueError) as exc:
            return {"error": str(exc)}, str(exc)
        return {"settings": s.to_dict(), "query": to_query(s)}, ""


# ---------------------------------------------------------------- running
def _run(app: Dash, explorer: Explorer) -> None:
    figure_outputs = [Output(f"fig-{name}", "figure") for name in FIGURES]

    @app.callback(
        *figure_outputs, Output("fig-differences", "figure"), Output("compare-box", "style"),
        Output("compare-table", "children"), Output("headline", "children"),
        Output("command", "children"), Output("downloads", "children"),
        Output("status", "children"), Output("error", "children", allow_duplicate=True),
        Output("result-id", "children"),
        Input("run", "n_clicks"), Input("settings", "data"),
        State("auto", "value"), State("visitor", "data"), prevent_initial_call=True)
    def run(_: Any, data: dict | None, auto: list | None, visitor: str) -> tuple:
        """Run the setting (cancelling the visitor's previous run) and show the answer."""
        keep = [no_update] * (len(FIGURES) + 6)
        if ctx.triggered_id == "settings" and "auto" not in (auto or []):
            raise PreventUpdate
        if not data:
            raise PreventUpdate
        if data.get("error"):
            return (*keep, "the charts show the last setting that ran",
                    f"Not run: {data['error']}", no_update)
        answer = explorer.request(visitor, Settings.from_dict(data["settings"]))
        if answer.cancelled:
            raise PreventUpdate  # a newer request of this visitor answers instead
        if answer.error is not None or answer.result is None:
            return (*keep, "the charts show the last setting that ran",
                    f"Not run: {answer.error}", no_update)
        r = answer.result
        figures = all_figures(r.series, r.id)
        compare = r.comparison is not None
        return (*(figures[n] for n in FIGURES),
                differences(r.comparison.summary, r.id) if compare else no_update,
                SHOWN if compare else HIDDEN,
                panels.compare_table(r) if compare else "",
                "" if compare else panels.headline(r),
                panels.command_line(r), panels.download_links(r), panels.status(r), "", r.id)

    @app.callback(
        Output("status", "children", allow_duplicate=True), Input("stop", "n_clicks"),
        State("visitor", "data"), prevent_initial_call=True)
    def stop(_: Any, visitor: str) -> str:
        """Stop the visitor's run."""
        return "stopped" if explorer.cancel(visitor) else no_update


def _progress(app: Dash, explorer: Explorer) -> None:
    # polling starts with every request and stops when the visitor has nothing running
    app.clientside_callback(
        "function() { return false; }", Output("tick", "disabled", allow_duplicate=True),
        Input("run", "n_clicks"), Input("settings", "data"), prevent_initial_call=True)

    @app.callback(
        Output("progress-box", "style"), Output("progress", "value"), Output("progress", "max"),
        Output("progress-text", "children"), Output("tick", "disabled"),
        Input("tick", "n_intervals"), State("visitor", "data"), prevent_initial_call=True)
    def poll(_: Any, visitor: str) -> tuple:
        """The progress bar, for a run that has taken more than a second."""
        p = explorer.progress(visitor)
        if p is None:
            return HIDDEN, "0", "1", "", not explorer.busy(visitor)
        elapsed, done, total = p
        if elapsed < SHOW_PROGRESS_AFTER or not total:
            return HIDDEN, "0", "1", "", False
        return (SHOWN, str(done), str(total),
                f"{100 * done / total:.0f} % of the days run, {elapsed:.1f} s", False)

    @app.callback(
        Output("kernels", "children"), Output("kernels", "className"),
        Output("warm", "disabled"), Input("warm", "n_intervals"))
    def kernels(_: Any) -> tuple:
        """Say so while the workers compile the kernels."""
        pool = explorer.pool
        if pool.failure:
            return pool.failure, "kernels failed", True
        if pool.ready.is_set():
            return "", "kernels ready", True
        return ("Compiling the simulation kernels (about a minute after an install; later "
                "starts take seconds). Runs start as soon as they are ready.",
                "kernels busy", False)
