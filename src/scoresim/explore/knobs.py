"""The main knobs of a scenario, each an override path: the penalty on each expression
behaviour, spillover per layer, camera coverage per region, false matches and the groups'
multipliers, and the safeguards.

A knob's value becomes ``path=value`` (the text ``scoresim run --set`` takes) only when it
differs from the scenario's own value, so an untouched knob adds nothing to the address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..scenario import Scenario

SLIDER, SWITCH, CHOICE, NUMBER = "slider", "switch", "choice", "number"


@dataclass(frozen=True)
class Knob:
    """One control: the override path it sets, its words and its range."""

    path: str
    section: str
    label: str
    kind: str
    value: Any  # the scenario's own value
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    options: tuple[str, ...] = ()


def _slider(path: str, section: str, label: str, value: float, low: float, high: float,
            step: float) -> Knob:
    # widen the range rather than clip a scenario's own value
    return Knob(path, section, label, SLIDER, value, min(low, value), max(high, value), step)


def _words(name: str) -> str:
    return name.replace("_", " ")


def knobs_for(sc: Scenario) -> list[Knob]:
    """The knobs of a scenario, in the order the page shows them."""
    out: list[Knob] = []
    rules = sc.scoring.rules
    for b, spec in sc.behaviours.items():
        if spec.expression:
            out.append(_slider(f"scoring.rules.{b}", "Penalty on expression",
                               f"points for {_words(b)}", float(rules.get(b, 0)), -200, 0, 1))
    for name, layer in sc.layers.items():
        out.append(_slider(f"layers.{name}.spillover", "Spillover to ties",
                           f"{_words(name)}: share of a penalty passed on",
                           layer.spillover, 0, 0.5, 0.005))
    for r, region in sc.population.regions.items():
        out.append(_slider(f"population.regions.{r}.camera_coverage", "Cameras",
                           f"{_words(r)}: camera coverage", region.camera_coverage, 0, 1, 0.01))
    for c, ch in sc.channels.items():
        if ch.fmr is not None and ch.gallery is not None:
            out.append(Knob(f"channels.{c}.fmr", "Recognition",
                            f"{_words(c)}: false match rate per comparison", NUMBER, ch.fmr,
                            0, 1, 1e-9))
        elif ch.observe == "coverage" or ch.false_match > 0:
            out.append(_slider(f"channels.{c}.false_match", "Recognition",
                               f"{_words(c)}: false match probability", ch.false_match,
                               0, 0.05, 0.0005))
    for g, grp in sc.population.groups.items():
        watch = grp.watch_multiplier
        if isinstance(watch, dict):  # one multiplier per channel
            for c, m in watch.items():
                out.append(_slider(f"population.groups.{g}.watch_multiplier.{c}", "Groups",
                                   f"{_words(g)}: {_words(c)} watch multiplier", float(m),
                                   0, 10, 0.1))
        else:
            out.append(_slider(f"population.groups.{g}.watch_multiplier", "Groups",
                               f"{_words(g)}: watch multiplier", float(watch), 0, 10, 0.1))
        out.append(_slider(f"population.groups.{g}.false_match_multiplier", "Groups",
                           f"{_words(g)}: false match multiplier", grp.false_match_multiplier,
                           0, 100, 0.5))
    sg = sc.safeguards
    out += [
        Knob("safeguards.protected", "Safeguards", "protected behaviours (never scored)",
             CHOICE, list(sg.protected), options=tuple(sc.behaviours)),
        Knob("safeguards.association_penalties", "Safeguards",
             "penalties through association", SWITCH, sg.association_penalties),
        Knob("safeguards.human_review", "Safeguards", "human review of camera matches",
             SWITCH, sg.human_review),
        Knob("safeguards.appeals.enabled", "Safeguards", "appeals against false matches",
             SWITCH, sg.appeals.enabled),
    ]
    return out


def format_value(value: Any) -> str:
    """A value as ``--set`` reads it (YAML): numbers without float noise, true/false, [a,b]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(str(v) for v in value) + "]"
    if isinstance(value, int | float):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(float(f"{v:.10g}"))  # 0.1 + 0.2 from a slider's steps is 0.3
    return str(value)


def _same(knob: Knob, value: Any) -> bool:
    if knob.kind == CHOICE:
        return sorted(value or []) == sorted(knob.value)
    if knob.kind == SWITCH:
        return bool(value) == bool(knob.value)
    if value is None:
        return True
    return math.isclose(float(value), float(knob.value), rel_tol=1e-12, abs_tol=1e-15)


def override(knob: Knob, value: Any) -> str | None:
    """``path=value`` for a knob moved away from the scenario's value, else None."""
    if _same(knob, value):
        return None
    if knob.kind == CHOICE:  # in the scenario's order, so one choice has one address
        value = [b for b in knob.options if b in (value or [])]
    return f"{knob.path}={format_value(value)}"


def split_overrides(knobs: list[Knob], overrides: tuple[str, ...] | list[str]
                    ) -> tuple[dict[str, Any], list[str]]:
    """Knob values set by ``overrides`` (path -> value), and the overrides no knob shows."""
    import yaml

    by_path = {k.path: k for k in knobs}
    values: dict[str, Any] = {}
    rest: list[str] = []
    for text in overrides:
        path, sep, raw = text.partition("=")
        knob = by_path.get(path.strip())
        try:
            value = yaml.safe_load(raw) if sep else None
        except yaml.YAMLError:
            knob = None
        value = _coerce(knob, value) if knob is not None and sep else None
        if value is None:
            rest.append(text)
            continue
        values[path.strip()] = value
    return values, rest


def _coerce(knob: Knob, value: Any) -> Any:
    """The value as the knob holds it, or None if the knob cannot show it."""
    if knob.kind == SWITCH:
        return value if isinstance(value, bool) else None
    if knob.kind == CHOICE:
        ok = isinstance(value, list) and all(v in knob.options for v in value)
        return value if ok else None
    if isinstance(value, str):
        try:
            value = float(value)  # YAML 1.1 reads 1e-3 as a string
        except ValueError:
            return None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
