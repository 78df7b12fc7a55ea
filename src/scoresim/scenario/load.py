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
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from scoresim.scenario.paths import (
    parse_overrides,
    raise_all,
    related,
    set_path,
    split_path,
    validation_errors,
)
from scoresim.scenario.schema import Scenario
from scoresim.scenario.source import Path_, ScenarioError, Source, builtin_scenarios, read_source

__all__ = ["ScenarioError", "apply_changes", "builtin_scenarios", "load_scenario",
           "scenario_hash", "scenario_to_yaml"]


def _validate(data: Any, where: Source, overrides: list[tuple[str, Path_, Any]],
              blame_overrides: bool) -> Scenario:
    """Validate; blame an error on the override whose path it shares, else on the file.
    With ``blame_overrides`` (the data was valid before the overrides) every error is theirs."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = []
        for path, msg in validation_errors(exc, data):
            best = max(overrides, key=lambda o: related(o[1], path), default=None)
            if best is not None and (related(best[1], path) or blame_overrides):
                text = best[0] if related(best[1], path) else " --set ".join(
                    o[0] for o in overrides)
                errors.append(ScenarioError(msg, key=".".join(path) or None, override=text))
            else:
                errors.append(where.error(path, msg))
        raise_all(errors)
    raise AssertionError("unreachable")


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
    for text, path, value in sets:
        try:
            set_path(data, path, value)
        except KeyError as exc:
            if base is None:  # the file's own errors come first
                _validate(data, where, [], False)
            raise ScenarioError(exc.args[0], key=".".join(path), override=text) from None
    if sets or base is None:
        base = _validate(data, where, sets, blame_overrides=base is not None)
    _check_timeline(base, where, sets)
    return base


def apply_changes(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A new validated scenario with each dotted path in ``changes`` set to its value
    (the original is left unchanged). Raises ScenarioError naming the key."""
    data = scenario.model_dump(mode="json")
    paths = []
    for key, value in changes.items():
        try:
            path = split_path(key)
            if path[0] == "timeline":
                raise KeyError("a change cannot change the timeline")
            set_path(data, path, value)
        except (KeyError, ValueError) as exc:
            raise ScenarioError(exc.args[0], key=key) from None
        paths.append(path)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = []
        for path, msg in validation_errors(exc, data):
            best = max(paths, key=lambda p: related(p, path), default=())
            if not related(best, path):
                errors.append(ScenarioError(msg, key=".".join(path) or None))
            else:  # name the change; say which value inside it is wrong if it is deeper
                inner = "" if len(path) <= len(best) else f"{'.'.join(path)}: "
                errors.append(ScenarioError(inner + msg, key=".".join(best)))
        raise_all(errors)
    raise AssertionError("unreachable")


def _check_timeline(scenario: Scenario, where: Source, sets: list) -> None:
    """Apply the timeline's changes in day order, as the engine will, and report the first
    that does not apply as ``timeline.<i>.set.<path>`` at its line."""
    current = scenario
    for i in sorted(range(len(scenario.timeline)), key=lambda i: scenario.timeline[i].day):
        try:
            current = apply_changes(current, scenario.timeline[i].set)
        except ScenarioError as exc:
            key, msg = ("timeline", str(i), "set"), exc.message
            if exc.key in scenario.timeline[i].set:
                key += (exc.key,)
            elif exc.key:  # a change broke something elsewhere (a reference, say)
                msg = f"{exc.key}: {msg}"
            override = next((t for t, p, _ in sets if related(p, key) >= 2), None)
            if override is not None:
                raise ScenarioError(msg, key=".".join(key), override=override) from None
            raise where.error(key, msg) from None


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
