"""Dotted paths into scenario data: ``--set`` overrides, and pydantic's validation errors
turned into the path of the value at fault."""

from __future__ import annotations

import copy
import json
import re
import types
from collections.abc import Mapping, Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .errors import Path_, ScenarioError, did_you_mean
from .reader import bad_character, parse_value

# Mappings keyed by name: a path may add a new entry to these ("*" matches any one key).
NAMED_MAPPINGS: tuple[Path_, ...] = tuple(
    tuple(p.split("."))
    for p in (
        "behaviours", "channels", "layers", "lists", "sanctions", "services",
        "scoring.rules", "scoring.grades", "population.regions", "population.groups",
        "population.traits", "layers.*.size", "timeline.*.set", "scoring.regional_rules",
        "scoring.regional_rules.*", "overseas", "overseas.*.groups", "overseas.*.venues",
        "overseas.*.venues.*.visit", "responses.salience",
    )
)
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_KEYED_MESSAGE = re.compile(r"^([A-Za-z_]\w*(?:\.[\w-]+)+): (.*)$", re.S)


# ---------------------------------------------------------------- dotted paths
def split_path(path: str) -> Path_:
    """The parts of a dotted path (a timeline change's key, itself a path, stays one part);
    raise ValueError if it is empty or has an empty part."""
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


def set_path(data: Any, parts: Path_, value: Any) -> None:
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
                    raise KeyError(f"unknown key '{part}'" + did_you_mean(part, node,
                                                                          "known here"))
                if not last:
                    raise KeyError(f"no entry '{part}' in {'.'.join(here)}"
                                   + did_you_mean(part, node) + "; to add one, set it whole: "
                                   f"{'.'.join(parts[:depth + 1])}={{...}}")
                key = part
        else:
            raise KeyError(f"'{'.'.join(here)}' holds a {type(node).__name__}, not a mapping")
        if last:
            node[key] = copy.deepcopy(value)
        else:
            if node[key] is None:
                node[key], fresh = {}, True  # an optional sub-object not given yet
            node = node[key]


def parse_overrides(overrides: Any) -> list[tuple[str, Path_, Any]]:
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
            problem = bad_character(text)
            if problem:
                raise ScenarioError(f"the override has {problem}", override=text)
            try:
                value = parse_value(raw) if raw.strip() else None
            except ScenarioError as exc:
                raise ScenarioError(f"cannot parse the value: {exc.message}",
                                    override=text) from None
            if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
                value = float(value)  # YAML 1.1 reads 1e-3 as a string
            pairs.append((text, path, value))
    for text, path, value in pairs:
        try:
            out.append((text, split_path(path), value))
        except ValueError as exc:
            raise ScenarioError(str(exc), override=text) from None
    return out


# ---------------------------------------------------------------- validation errors
_MISSING = object()
_SCALAR_TAGS = {"float", "int", "str", "bool", "list", "dict", "tuple", "none"}


def _is_tag(part: str) -> bool:
    """A union member's tag in a pydantic loc: "ZipfSize", "dict[int,float]", "float"..."""
    return "[" in part or part[:1].isupper() or part in _SCALAR_TAGS or part.startswith("func")


def _members(tp: Any) -> list[Any]:
    """The types a value of annotation ``tp`` may have (a union's members, flattened)."""
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def fields_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The field names of the model(s) that hold the value at a pydantic ``loc`` (union tags
    and mapping keys followed through the annotations): what an unknown key could have been."""
    here: list[Any] = _members(model)
    for item in loc:
        part, step = str(item), []
        for tp in here:
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if part in tp.model_fields:
                    step += _members(tp.model_fields[part].annotation)
                elif part == tp.__name__:  # the union tag of this member
                    step.append(tp)
            elif get_origin(tp) in (dict, list, tuple) and get_args(tp):
                step += _members(get_args(tp)[-1 if get_origin(tp) is dict else 0])
        here = step
    return [f for tp in here if isinstance(tp, type) and issubclass(tp, BaseModel)
            for f in tp.model_fields]


def _error_key(err: dict, data: Any, model: type[BaseModel] | None = None
               ) -> tuple[Path_, str, Any]:
    """The data path of a pydantic error (union tags dropped), its message, and the union
    (path, member) it belongs to, if any."""
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden" and err["loc"]:
        known = fields_at(model, err["loc"][:-1]) if model is not None else []
        msg = "unknown key" + did_you_mean(err["loc"][-1], known, "known here")
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
        path += split_path(keyed.group(1))
        msg = keyed.group(2)
    return tuple(path), msg, union


def validation_errors(exc: ValidationError, data: Any, model: type[BaseModel] | None = None
                      ) -> list[tuple[Path_, str]]:
    """(path, message) of each of pydantic's errors about ``data``; an unknown key's message
    suggests the closest field of ``model`` (the model validated)."""
    found = [_error_key(err, data, model) for err in exc.errors()]
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


def related(a: Path_, b: Path_) -> int:
    """How closely two paths are related: the length of the shorter when it is a prefix of
    the other, else 0."""
    n = min(len(a), len(b))
    return n if n and a[:n] == b[:n] else 0


def raise_all(errors: list[ScenarioError]) -> None:
    """Raise the first error, carrying the others as its further errors."""
    errors[0].more = errors[1:]
    raise errors[0]
