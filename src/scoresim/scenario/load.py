"""Loading scenarios: YAML files and built-ins, ``--set`` overrides, timeline changes, and
errors that name the file, the line and the key (reading: source.py; paths and validation
errors: paths.py).

Paths are dotted (``behaviours.online_criticism.rate``); list items are addressed by index
(``timeline.0.day``); inside a timeline entry's ``set`` the rest of the path is one key
(``timeline.0.set.scoring.rules.online_criticism``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import Path_, ScenarioError, Source
from .paths import (
    parse_overrides,
    raise_all,
    related,
    set_path,
    split_path,
    validation_errors,
)
from .reader import check_text
from .schema import Scenario
from .source import builtin_scenarios, read_source
from .timeline import apply_changes, plan_timeline

__all__ = ["ScenarioError", "apply_changes", "builtin_scenarios", "load_scenario",
           "scenario_hash", "scenario_to_yaml"]


def _validate(data: Any, where: Source, overrides: list[tuple[str, Path_, Any]],
              blame_overrides: bool, also: list[ScenarioError] | None = None) -> Scenario:
    """Validate; blame an error on the override whose path it shares, else on the file.
    With ``blame_overrides`` (the data was valid before the overrides) every error is theirs.
    Errors found before (``also``) are raised after the validation's own."""
    errors: list[ScenarioError] = []
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        for path, msg in validation_errors(exc, data, Scenario):
            best = max(overrides, key=lambda o: related(o[1], path), default=None)
            if best is not None and (related(best[1], path) or blame_overrides):
                text = best[0] if related(best[1], path) else " --set ".join(
                    o[0] for o in overrides)
                errors.append(ScenarioError(msg, key=".".join(path) or None, override=text))
            else:
                errors.append(where.error(path, msg))
    errors += also or []
    if errors:
        raise_all(errors)
    return scenario


# ---------------------------------------------------------------- the public API
def load_scenario(source: Any, overrides: Any = None) -> Scenario:
    """A validated scenario from a built-in name, a YAML file, a dict or a Scenario, with
    ``overrides`` ("a.b.c=value" strings, or a dict {"a.b.c": value}) applied on top.

    Raises ScenarioError naming the file, line and key (or the override) of the first problem.
    """
    data, where = read_source(source)
    sets = parse_overrides(overrides)
    try:
        base: Scenario | None = Scenario.model_validate(data)
    except ValidationError:
        base = None
    if base is not None:
        data = base.model_dump(mode="json")  # so that defaults can be overridden too
    unknown = []  # overrides whose path does not exist
    for text, path, value in sets:
        try:
            set_path(data, path, value)
        except KeyError as exc:
            unknown.append(ScenarioError(exc.args[0], key=".".join(path), override=text))
    if unknown and base is None:  # the file's own errors come first
        _validate(data, where, [], False, unknown)
    if unknown:
        raise_all(unknown)
    if sets or base is None:
        base = _validate(data, where, sets, blame_overrides=base is not None)
    check_text(data, where)  # files are checked as read; overrides and mappings here
    _check_timeline(base, where, sets)
    return base


def _check_timeline(scenario: Scenario, where: Source, sets: list) -> None:
    """Plan the timeline as a run will (timeline.plan_timeline) and report the first change
    that does not apply, or may not happen during a run, at its file and line."""
    try:
        plan_timeline(scenario)
    except ScenarioError as exc:
        key = split_path(exc.key or "timeline")
        override = next((t for t, p, _ in sets if related(p, key) >= 2), None)
        if override is not None:
            raise ScenarioError(exc.message, key=exc.key, override=override) from None
        raise where.error(key, exc.message) from None


def scenario_hash(scenario: Scenario) -> str:
    """sha256 (hex) of the scenario's canonical JSON: equal scenarios, equal hashes."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario as YAML that loads back to an equal scenario (key order kept: grades
    are ordered from highest to lowest)."""
    return yaml.safe_dump(_plain(scenario.model_dump(mode="python")), sort_keys=False,
                          allow_unicode=True, default_flow_style=False, width=100)
