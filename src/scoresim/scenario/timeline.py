"""The timeline: the scenario in force from each change day on, and what a change may not do
(rebuild the people or their ties, add or remove named things, switch scoring on or off).
``validate`` and a run plan a timeline with this one function, so a scenario that validates
is a scenario whose timeline runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .errors import ScenarioError
from .paths import raise_all, related, set_path, split_path, validation_errors
from .schema import Scenario

# timeline changes may retune the system, never rebuild the people or their ties
FROZEN_LAYER_FIELDS = ("kind", "size", "mean_degree", "coverage", "assortativity",
                       "local_share", "local_window")


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
        for path, msg in validation_errors(exc, data, Scenario):
            best = max(paths, key=lambda p: related(p, path), default=())
            if not related(best, path):
                errors.append(ScenarioError(msg, key=".".join(path) or None))
            else:  # name the change; say which value inside it is wrong if it is deeper
                inner = "" if len(path) <= len(best) else f"{'.'.join(path)}: "
                errors.append(ScenarioError(inner + msg, key=".".join(best)))
        raise_all(errors)
    raise AssertionError("unreachable")


def _named(scenario: Scenario) -> dict[str, list[Any]]:
    """Every kind of named thing (the engine indexes arrays by these names, in this order)."""
    return {
        "behaviours": list(scenario.behaviours), "channels": list(scenario.channels),
        "lists": list(scenario.lists), "sanctions": list(scenario.sanctions),
        "services": list(scenario.services), "layers": list(scenario.layers),
        "scoring.grades": list(scenario.scoring.grades),
        "overseas": [(c, list(city.groups), list(city.venues))
                     for c, city in scenario.overseas.items()],
    }


def change_problem(before: Scenario, after: Scenario) -> tuple[str, str] | None:
    """(the path at fault, what is wrong) if a change from ``before`` to ``after`` cannot
    happen during a run, else None."""
    if before.scoring_enabled != after.scoring_enabled:
        return "scoring_enabled", ("scoring_enabled cannot change during a run; to end a "
                                   "system, change its rules, lists and sanctions")
    if before.population != after.population:
        return "population", "the population cannot change during a run"
    old, new = _named(before), _named(after)
    for kind in old:
        if old[kind] != new[kind]:
            gained = [str(x) for x in new[kind] if x not in old[kind]]
            lost = [str(x) for x in old[kind] if x not in new[kind]]
            what = (f"adds {', '.join(gained)}" if gained else f"removes {', '.join(lost)}"
                    if lost else "reorders them")
            return kind, f"a change may not add, remove or reorder named things ({what})"
    for name, layer in before.layers.items():
        for f in FROZEN_LAYER_FIELDS:
            if getattr(layer, f) != getattr(after.layers[name], f):
                return f"layers.{name}.{f}", "cannot change during a run (only spillover)"
    return None


def _culprit(changes: Mapping[str, Any], path: str) -> str | None:
    """The key of ``changes`` that touches ``path`` (or lies under it), if one does."""
    for key in changes:
        if key == path or key.startswith(path + ".") or path.startswith(key + "."):
            return key
    return None


def plan_timeline(scenario: Scenario) -> dict[int, Scenario]:
    """The scenario in force from each change day on, the changes applied in day order.

    Raises ScenarioError keyed ``timeline.<i>.set[.<key>]`` for the first change that does
    not apply or may not happen during a run.
    """
    plans, current = {}, scenario
    for i in sorted(range(len(scenario.timeline)), key=lambda i: scenario.timeline[i].day):
        change = scenario.timeline[i]
        key = f"timeline.{i}.set"
        try:
            after = apply_changes(current, change.set)
        except ScenarioError as exc:
            msg = exc.message
            if exc.key in change.set:
                key += f".{exc.key}"
            elif exc.key:  # a change broke something elsewhere (a reference, say)
                msg = f"{exc.key}: {msg}"
            raise ScenarioError(msg, key=key) from None
        problem = change_problem(current, after)
        if problem is not None:
            path, msg = problem
            culprit = _culprit(change.set, path)
            if culprit is None:
                msg = f"{path}: {msg}"
            raise ScenarioError(f"the change on day {change.day}: {msg}",
                                key=key + (f".{culprit}" if culprit else ""))
        plans[change.day] = current = after
    return plans
