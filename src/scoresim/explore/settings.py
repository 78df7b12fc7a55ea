"""What a visitor asked for, as one value: the scenario, its overrides and the run's size; and
its address, so that a shared link reproduces the run.

A setting is always a scenario plus ``--set``-style overrides (``path=value``), exactly as
``scoresim run SCENARIO --set path=value`` takes them, so the explorer and the command line
give the same numbers for the same seed.
"""

from __future__ import annotations

import base64
import functools
import shlex
import tempfile
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from ..scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario
from ..sim import Sim

CUSTOM = "custom"  # the scenario is the visitor's own YAML
CUSTOM_FILE = "your-scenario.yaml"  # how error messages name it
MODES = ("run", "compare")
DEFAULTS = {"scenario": "default", "agents": 100_000, "days": 365, "seeds": 1, "seed": 0}


@dataclass(frozen=True)
class Side:
    """A scenario and the overrides on top of it."""

    scenario: str = DEFAULTS["scenario"]
    yaml: str = ""  # the scenario's text when ``scenario`` is CUSTOM
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """One request: the system (and, to compare, a pinned system A) and the run's size."""

    side: Side = field(default_factory=Side)
    agents: int = DEFAULTS["agents"]
    days: int = DEFAULTS["days"]
    seeds: int = DEFAULTS["seeds"]
    seed: int = DEFAULTS["seed"]
    mode: str = "run"
    pinned: Side | None = None  # system A of a comparison (this setting is B)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (a Dash store)."""
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Settings:
        """The inverse of :meth:`to_dict`."""
        side = side_from_dict(data["side"])
        pinned = side_from_dict(data["pinned"]) if data.get("pinned") else None
        return Settings(side, int(data["agents"]), int(data["days"]), int(data["seeds"]),
                        int(data["seed"]), data.get("mode", "run"), pinned)


def side_from_dict(d: dict[str, Any]) -> Side:
    """A Side from its dictionary form (``dataclasses.asdict``)."""
    return Side(d["scenario"], d.get("yaml") or "", tuple(d.get("overrides") or ()))


def check_size(agents: Any, days: Any, seeds: Any, seed: Any) -> str | None:
    """None if the run's size is usable, else what is wrong with it."""
    for name, value, low in (("agents", agents, 1), ("days", days, 1), ("seeds", seeds, 1),
                             ("seed", seed, 0)):
        if value is None or not float(value).is_integer() or value < low:
            return f"{name} must be a whole number of at least {low}"
    if seed + seeds > 2**63:
        return "seed must be below 2**63"
    if seeds > 100:
        return "at most 100 seeds"
    return None


# ---------------------------------------------------------------- loading
@functools.cache
def builtin_names() -> tuple[str, ...]:
    """The built-in scenarios' names (read once: they ship with the package)."""
    return tuple(builtin_scenarios())


@functools.lru_cache(maxsize=32)
def _base(name: str, text: str) -> Scenario:
    """A scenario before overrides (parsing a built-in's YAML takes tens of milliseconds, a
    knob's override on a loaded scenario one or two)."""
    if name != CUSTOM:
        if name not in builtin_names():
            raise ScenarioError(f"no built-in scenario '{name}'", key="scenario")
        return load_scenario(name)
    if not text.strip():
        raise ScenarioError("paste or upload a scenario first", file=CUSTOM_FILE)
    with tempfile.TemporaryDirectory(prefix="scoresim-explore-") as folder:
        path = Path(folder) / CUSTOM_FILE
        path.write_text(text, encoding="utf-8")
        try:
            return load_scenario(path)
        except ScenarioError as err:
            _rename(err, str(path))
            raise


def load_side(side: Side) -> Scenario:
    """The scenario with its overrides applied, as ``scoresim run SCENARIO --set ...`` loads
    it; a ScenarioError names the line and key (the visitor's own YAML is called
    ``your-scenario.yaml`` in messages)."""
    base = _base(side.scenario, side.yaml if side.scenario == CUSTOM else "")
    return load_scenario(base, list(side.overrides)) if side.overrides else base


def _rename(err: ScenarioError, path: str) -> None:
    for e in (err, *err.more):
        if e.file == path:
            e.file = CUSTOM_FILE


def validate(settings: Settings) -> tuple[Scenario, Scenario | None]:
    """The scenario to run (and system A's, when comparing), with the timeline checked as a
    run checks it; raises ScenarioError or ValueError with a one-line message."""
    size = check_size(settings.agents, settings.days, settings.seeds, settings.seed)
    if size:
        raise ValueError(size)
    b = load_side(settings.side)
    Sim(b, agents=settings.agents, days=settings.days, seed=settings.seed)  # the timeline
    if settings.mode != "compare":
        return b, None
    if settings.pinned is None:
        raise ValueError("pin a setting as A first (the 'Pin as A' button)")
    a = load_side(settings.pinned)
    Sim(a, agents=settings.agents, days=settings.days, seed=settings.seed)
    return b, a


# ---------------------------------------------------------------- the address
def _pack(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def _unpack(text: str) -> str:
    try:
        return zlib.decompress(base64.urlsafe_b64decode(text.encode("ascii"))).decode("utf-8")
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"the address's scenario text is damaged ({exc})") from None


def _side_query(side: Side, prefix: str) -> list[tuple[str, str]]:
    q = [(f"{prefix}scenario", side.scenario)]
    if side.scenario == CUSTOM:
        q.append((f"{prefix}yaml", _pack(side.yaml)))
    q += [(f"{prefix}set", o) for o in side.overrides]
    return q


def to_query(settings: Settings) -> str:
    """The address's query string (without the '?')."""
    q = _side_query(settings.side, "")
    q += [(k, str(getattr(settings, k))) for k in ("agents", "days", "seeds", "seed")]
    if settings.mode != "run":
        q.append(("mode", settings.mode))
    if settings.pinned is not None:
        q += _side_query(settings.pinned, "a_")
    return urlencode(q)


def _query_side(q: dict[str, list[str]], prefix: str) -> Side | None:
    if f"{prefix}scenario" not in q:
        return None
    name = q[f"{prefix}scenario"][0]
    text = _unpack(q[f"{prefix}yaml"][0]) if name == CUSTOM and f"{prefix}yaml" in q else ""
    return Side(name, text, tuple(q.get(f"{prefix}set", [])))


def from_query(search: str) -> Settings | None:
    """The settings an address encodes, or None if it encodes none; raises ValueError for a
    damaged one."""
    q = parse_qs(search.lstrip("?"), keep_blank_values=True)
    if not q:
        return None
    side = _query_side(q, "") or Side()
    numbers = {}
    for k in ("agents", "days", "seeds", "seed"):
        raw = q.get(k, [str(DEFAULTS[k])])[0]
        try:
            numbers[k] = int(raw)
        except ValueError:
            raise ValueError(f"the address's {k} is not a whole number: {raw!r}") from None
    mode = q.get("mode", ["run"])[0]
    if mode not in MODES:
        raise ValueError(f"the address's mode must be one of {', '.join(MODES)}")
    return Settings(side, mode=mode, pinned=_query_side(q, "a_"), **numbers)


def command(settings: Settings, side: Side | None = None, seed: int | None = None) -> str:
    """The same run from the command line (a custom scenario as the downloaded YAML)."""
    side = side or settings.side
    source = CUSTOM_FILE if side.scenario == CUSTOM else side.scenario
    args = ["scoresim", "run", source, "--agents", str(settings.agents), "--days",
            str(settings.days), "--seed", str(settings.seed if seed is None else seed)]
    for o in side.overrides:
        args += ["--set", o]
    return shlex.join([*args, "--counterfactual"])


def with_side(settings: Settings, side: Side) -> Settings:
    """The same settings for another system."""
    return replace(settings, side=side)
