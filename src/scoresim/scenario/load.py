"""Loading scenarios: YAML files and built-ins, ``--set`` overrides, timeline changes, and
errors that name the file, the line and the key.

Paths are dotted (``behaviours.online_criticism.rate``); list items are addressed by index
(``timeline.0.day``); inside a timeline entry's ``set`` the rest of the path is one key
(``timeline.0.set.scoring.rules.online_criticism``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scoresim.scenario.schema import Scenario

__all__ = ["ScenarioError", "apply_changes", "builtin_scenarios", "load_scenario",
           "scenario_hash", "scenario_to_yaml"]

Path_ = tuple[str, ...]

# Mappings keyed by name: a path may add a new entry to these ("*" matches any one key).
NAMED_MAPPINGS: tuple[Path_, ...] = tuple(
    tuple(p.split("."))
    for p in (
        "behaviours", "channels", "layers", "lists", "sanctions", "services",
        "scoring.rules", "scoring.grades", "population.regions", "population.groups",
        "population.traits", "layers.*.size", "timeline.*.set", "scoring.regional_rules",
        "scoring.regional_rules.*", "overseas", "overseas.*.groups", "overseas.*.venues",
        "overseas.*.venues.*.visit",
    )
)
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_KEYED_MESSAGE = re.compile(r"^([A-Za-z_]\w*(?:\.[\w-]+)+): (.*)$", re.S)


class ScenarioError(Exception):
    """A scenario that cannot be used. ``str(err)`` is one line:
    ``file:line: key: message``, or ``--set key=value: message`` for an override."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 key: str | None = None, override: str | None = None,
                 more: Sequence[ScenarioError] = ()) -> None:
        self.message, self.file, self.line, self.key = message, file, line, key
        self.override = override  # the --set text this error comes from, if any
        self.more = list(more)  # further errors found in the same validation
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.override is not None:
            parts.append(f"--set {self.override}")
        elif self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.key and not (self.override and self.override.split("=", 1)[0] == self.key):
            parts.append(self.key)
        parts.append(self.message)
        text = ": ".join(parts)
        if self.more:
            text += f" (and {len(self.more)} more error{'s' * (len(self.more) > 1)})"
        return text

    def __reduce__(self) -> Any:  # picklable (process pools, Ray)
        return (ScenarioError, (self.message, self.file, self.line, self.key, self.override,
                                self.more))


# ---------------------------------------------------------------- reading YAML with lines
class _Source:
    """Where a scenario came from: the file name and the line of every key in it."""

    def __init__(self, file: str | None = None, lines: dict[Path_, int] | None = None):
        self.file, self.lines = file, lines or {}

    def line(self, path: Path_) -> int | None:
        for n in range(len(path), -1, -1):  # the key itself, else its nearest parent
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def error(self, key: Path_, message: str, **kw: Any) -> ScenarioError:
        return ScenarioError(message, file=self.file, line=self.line(key),
                             key=".".join(key) or None, **kw)


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            sub = (*path, str(knode.value))
            if sub in lines:
                raise ScenarioError("duplicate key", file=file, line=knode.start_mark.line + 1,
                                    key=".".join(sub))
            lines[sub] = knode.start_mark.line + 1
            _index_lines(vnode, sub, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, str(i))] = item.start_mark.line + 1
            _index_lines(item, (*path, str(i)), lines, file)


def _parse_yaml(text: str, file: str) -> tuple[Any, _Source]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError("the file is empty", file=file)
        lines: dict[Path_, int] = {}
        _index_lines(node, (), lines, file)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and cmark is not None and mark is not None and cmark.line != mark.line:
            problem += f" ({context} on line {cmark.line + 1})"
        raise ScenarioError(f"YAML syntax error: {problem}", file=file,
                            line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError("a scenario file must be a mapping of keys to values", file=file,
                            line=node.start_mark.line + 1)
    return data, _Source(file, lines)


def _builtin_dir() -> Any:
    return resources.files("scoresim.scenario").joinpath("builtin")


def _builtin_names() -> list[str]:
    names = (e.name for e in _builtin_dir().iterdir())
    return sorted(n[: -len(".yaml")] for n in names if n.endswith(".yaml"))


def builtin_scenarios() -> dict[str, str]:
    """Name -> one-line description of every built-in scenario."""
    out = {}
    for name in _builtin_names():
        text = _builtin_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        out[name] = " ".join(str(data.get("description", "")).split())
    return out


def _read_source(source: Any) -> tuple[Any, _Source]:
    if isinstance(source, Scenario):
        return source.model_dump(mode="json"), _Source()
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source)), _Source()
    if not isinstance(source, str | Path):
        raise ScenarioError(f"cannot load a scenario from {type(source).__name__}")
    builtins = _builtin_names()
    if isinstance(source, str) and source in builtins:
        entry = _builtin_dir().joinpath(f"{source}.yaml")
        return _extend(*_parse_yaml(entry.read_text(encoding="utf-8"), str(entry)), None)
    path = Path(source)
    if not path.is_file():
        names = ", ".join(builtins) or "none"
        what = "no such file" if path.suffix in (".yaml", ".yml") or len(path.parts) > 1 \
            else "not a built-in scenario or a file"
        raise ScenarioError(f"{what}; built-in scenarios: {names}", file=str(source))
    data, where = _parse_yaml(path.read_text(encoding="utf-8"), str(source))
    data, where = _extend(data, where, path.parent)
    data.setdefault("name", path.stem)
    return data, where


def _merged(base: Any, over: Any) -> Any:
    """``over`` on top of ``base``: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merged(base[k], v) if k in base else v
        return out
    return over


def _extend(data: Any, where: _Source, folder: Path | None) -> tuple[Any, _Source]:
    """``extends: NAME`` (a built-in, or a file beside this one): this file's values on top of
    that scenario's, so a variant states only what it changes."""
    if not isinstance(data, dict) or "extends" not in data:
        return data, where
    parent = data.pop("extends")
    if not isinstance(parent, str):
        raise ScenarioError("extends: names a built-in scenario or a file", file=where.file,
                            key="extends")
    if folder is not None and parent not in _builtin_names() and (folder / parent).is_file():
        parent = str(folder / parent)
    base, _ = _read_source(parent)
    return _merged(base, data), where


# ---------------------------------------------------------------- dotted paths
def _split(path: str) -> Path_:
    parts = tuple(path.strip().split("."))
    if "set" in parts[2:3] and parts[:1] == ("timeline",) and len(parts) > 3:
        parts = (*parts[:3], ".".join(parts[3:]))  # a timeline change's key is itself a path
    if not path.strip() or any(not p for p in parts):
        raise ValueError(f"'{path}' is not a dotted path like behaviours.x.rate")
    return parts


def _named(path: Path_) -> bool:
    return any(len(p) == len(path) and all(a in ("*", b) for a, b in zip(p, path, strict=True))
               for p in NAMED_MAPPINGS)


def _lookup_key(container: dict, part: str) -> Any:
    if part in container:
        return part
    if part.lstrip("-").isdigit() and int(part) in container:
        return int(part)
    return None


def _set_path(data: Any, parts: Path_, value: Any) -> None:
    """Set ``value`` at ``parts``; raise KeyError naming the first part that does not exist."""
    node, fresh = data, False  # fresh: inside an optional sub-object that was not given
    for depth, part in enumerate(parts):
        last, here = depth == len(parts) - 1, parts[:depth]
        if isinstance(node, list):
            if not (part.isdigit() and int(part) < len(node)):
                raise KeyError(f"no item {part} (the list has {len(node)})")
            key: Any = int(part)
        elif isinstance(node, dict):
            key = _lookup_key(node, part)
            if key is None and fresh:
                key = part
                if not last:
                    node[key] = {}
            elif key is None:
                if not _named(here):
                    known = ", ".join(map(str, node)) or "none"
                    raise KeyError(f"unknown key '{part}' (known here: {known})")
                if not last:
                    known = ", ".join(map(str, node)) or "none"
                    raise KeyError(f"no entry '{part}' in {'.'.join(here)} (known: {known}); "
                                   f"to add one, set it whole: {'.'.join(parts[:depth + 1])}"
                                   "={...}")
                key = part
        else:
            raise KeyError(f"'{'.'.join(here)}' holds a {type(node).__name__}, not a mapping")
        if last:
            node[key] = copy.deepcopy(value)
        else:
            if node[key] is None:
                node[key], fresh = {}, True  # an optional sub-object not given yet
            node = node[key]


def _parse_overrides(overrides: Any) -> list[tuple[str, Path_, Any]]:
    """(text for messages, path, value) for each override."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        overrides = [overrides]
    out = []
    if isinstance(overrides, Mapping):
        pairs = [(f"{k}={json.dumps(v, default=str)}", k, v) for k, v in overrides.items()]
    else:
        pairs = []
        for text in overrides:
            if "=" not in text:
                raise ScenarioError("an override is KEY=VALUE, e.g. behaviours.x.rate=0.001",
                                    override=text)
            path, raw = text.split("=", 1)
            try:
                value = yaml.safe_load(raw) if raw.strip() else None
            except yaml.YAMLError as exc:
                raise ScenarioError(f"cannot parse the value: {getattr(exc, 'problem', exc)}",
                                    override=text) from None
            if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
                value = float(value)  # YAML 1.1 reads 1e-3 as a string
            pairs.append((text, path, value))
    for text, path, value in pairs:
        try:
            out.append((text, _split(path), value))
        except ValueError as exc:
            raise ScenarioError(str(exc), override=text) from None
    return out


# ---------------------------------------------------------------- validation errors
_MISSING = object()
_SCALAR_TAGS = {"float", "int", "str", "bool", "list", "dict", "tuple", "none"}


def _is_tag(part: str) -> bool:
    """A union member's tag in a pydantic loc: "ZipfSize", "dict[int,float]", "float"..."""
    return "[" in part or part[:1].isupper() or part in _SCALAR_TAGS or part.startswith("func")


def _error_key(err: dict, data: Any) -> tuple[Path_, str, Any]:
    """The data path of a pydantic error (union tags dropped), its message, and the union
    (path, member) it belongs to, if any."""
    msg = err["msg"].removeprefix("Value error, ")
    path: list[str] = []
    node, union = data, None
    for item in err["loc"]:
        part = str(item)
        if isinstance(node, dict) and _lookup_key(node, part) is not None:
            node = node[_lookup_key(node, part)]
        elif isinstance(node, list) and isinstance(item, int) and item < len(node):
            node = node[item]
        elif node is not _MISSING and (not isinstance(node, dict | list) or _is_tag(part)):
            union = union or (tuple(path), part)
            continue
        else:
            node = _MISSING
        path.append(part)
    keyed = _KEYED_MESSAGE.match(msg)
    if keyed:  # cross-reference errors name their key: "behaviours.x.channel: unknown ..."
        path += _split(keyed.group(1))
        msg = keyed.group(2)
    return tuple(path), msg, union


def _validation_errors(exc: ValidationError, data: Any) -> list[tuple[Path_, str]]:
    found = [_error_key(err, data) for err in exc.errors()]
    # A value that fits no member of a union: keep the member(s) it came closest to fitting.
    count: dict[Any, int] = {}
    for _, _, union in found:
        if union is not None:
            count[union] = count.get(union, 0) + 1
    best: dict[Path_, int] = {}
    for (where, _), n in count.items():
        best[where] = min(n, best.get(where, n))
    merged: dict[Path_, list[str]] = {}
    for path, msg, union in found:
        if union is not None and count[union] > best[union[0]]:
            continue
        if msg not in merged.setdefault(path, []):
            merged[path].append(msg)
    return [(path, " or ".join(msgs)) for path, msgs in merged.items()]


def _related(a: Path_, b: Path_) -> int:
    n = min(len(a), len(b))
    return n if n and a[:n] == b[:n] else 0


def _raise(errors: list[ScenarioError]) -> None:
    errors[0].more = errors[1:]
    raise errors[0]


def _validate(data: Any, where: _Source, overrides: list[tuple[str, Path_, Any]],
              blame_overrides: bool) -> Scenario:
    """Validate; blame an error on the override whose path it shares, else on the file.
    With ``blame_overrides`` (the data was valid before the overrides) every error is theirs."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = []
        for path, msg in _validation_errors(exc, data):
            best = max(overrides, key=lambda o: _related(o[1], path), default=None)
            if best is not None and (_related(best[1], path) or blame_overrides):
                text = best[0] if _related(best[1], path) else " --set ".join(
                    o[0] for o in overrides)
                errors.append(ScenarioError(msg, key=".".join(path) or None, override=text))
            else:
                errors.append(where.error(path, msg))
        _raise(errors)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- the public API
def load_scenario(source: Any, overrides: Any = None) -> Scenario:
    """A validated scenario from a built-in name, a YAML file, a dict or a Scenario, with
    ``overrides`` ("a.b.c=value" strings, or a dict {"a.b.c": value}) applied on top.

    Raises ScenarioError naming the file, line and key (or the override) of the first problem.
    """
    data, where = _read_source(source)
    sets = _parse_overrides(overrides)
    try:
        base: Scenario | None = Scenario.model_validate(data)
    except ValidationError:
        base = None
    if base is not None:
        data = base.model_dump(mode="json")  # so that defaults can be overridden too
    for text, path, value in sets:
        try:
            _set_path(data, path, value)
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
            path = _split(key)
            if path[0] == "timeline":
                raise KeyError("a change cannot change the timeline")
            _set_path(data, path, value)
        except (KeyError, ValueError) as exc:
            raise ScenarioError(exc.args[0], key=key) from None
        paths.append(path)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = []
        for path, msg in _validation_errors(exc, data):
            best = max(paths, key=lambda p: _related(p, path), default=())
            if not _related(best, path):
                errors.append(ScenarioError(msg, key=".".join(path) or None))
            else:  # name the change; say which value inside it is wrong if it is deeper
                inner = "" if len(path) <= len(best) else f"{'.'.join(path)}: "
                errors.append(ScenarioError(inner + msg, key=".".join(best)))
        _raise(errors)
    raise AssertionError("unreachable")


def _check_timeline(scenario: Scenario, where: _Source, sets: list) -> None:
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
            override = next((t for t, p, _ in sets if _related(p, key) >= 2), None)
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
