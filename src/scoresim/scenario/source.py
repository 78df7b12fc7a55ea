"""Reading scenarios: built-ins, files (through the defensive YAML reader) and ``extends:``
chains, with cycles refused; the error that names the file, the line and the key lives in
errors.py."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import Path_, ScenarioError, Source, did_you_mean
from .reader import parse_yaml, read_text
from .schema import Scenario

__all__ = ["Path_", "ScenarioError", "Source", "builtin_scenarios", "builtin_text",
           "parse_yaml", "read_source"]

MAX_EXTENDS = 16  # scenarios in one extends: chain


def _builtin_dir() -> Any:
    return resources.files("scoresim.scenario").joinpath("builtin")


def _builtin_names() -> list[str]:
    names = (e.name for e in _builtin_dir().iterdir())
    return sorted(n[: -len(".yaml")] for n in names if n.endswith(".yaml"))


def builtin_scenarios() -> dict[str, str]:
    """Name -> one-line description of every built-in scenario."""
    out = {}
    for name in _builtin_names():
        data = yaml.safe_load(builtin_text(name)) or {}
        out[name] = " ".join(str(data.get("description", "")).split())
    return out


def builtin_text(name: str) -> str:
    """A built-in scenario's YAML file as shipped (comments and sources included); raises
    ScenarioError for an unknown name, with a "did you mean"."""
    if name not in _builtin_names():
        raise ScenarioError("not a built-in scenario" + did_you_mean(name, _builtin_names(),
                                                                     "built-in scenarios"),
                            file=name)
    return _builtin_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def read_source(source: Any, chain: tuple[str, ...] = ()) -> tuple[Any, Source]:
    """Scenario data and where it came from: a Scenario, a mapping, a built-in name or a
    file; ``chain`` holds the scenarios that extend this one (to refuse a cycle)."""
    if isinstance(source, Scenario):
        return source.model_dump(mode="json"), Source()
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source)), Source()
    if not isinstance(source, str | Path):
        raise ScenarioError(f"cannot load a scenario from {type(source).__name__}")
    builtins = _builtin_names()
    if isinstance(source, str) and source in builtins:
        entry = _builtin_dir().joinpath(f"{source}.yaml")
        data, where = parse_yaml(entry.read_text(encoding="utf-8"), str(entry))
        return _extend(data, where, None, (*chain, f"built-in {source}"))
    path = Path(source)
    if not path.is_file():
        what = "no such file" if path.suffix in (".yaml", ".yml") or len(path.parts) > 1 \
            else "not a built-in scenario or a file"
        raise ScenarioError(what + did_you_mean(str(source), builtins, "built-in scenarios"),
                            file=str(source))
    data, where = parse_yaml(read_text(path, str(source)), str(source))
    data, where = _extend(data, where, path.parent, (*chain, str(path.resolve())))
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


def _extend(data: Any, where: Source, folder: Path | None, chain: tuple[str, ...]
            ) -> tuple[Any, Source]:
    """``extends: NAME`` (a built-in, or a file beside this one): this file's values on top of
    that scenario's, so a variant states only what it changes. A missing parent or a cycle is
    an error at this file's ``extends:`` line."""
    if not isinstance(data, dict) or "extends" not in data:
        return data, where
    parent = data.pop("extends")
    if not isinstance(parent, str) or not parent.strip():
        raise where.error(("extends",), "names a built-in scenario or a file beside this one")
    builtins = _builtin_names()
    if parent in builtins:
        source: str | Path = parent
        identity = f"built-in {parent}"
    elif folder is not None and (folder / parent).is_file():
        source = folder / parent
        identity = str(source.resolve())
    else:
        beside = "" if folder is None else " nor a file beside this one"
        raise where.error(("extends",), f"'{parent}' is neither a built-in scenario{beside}"
                          + did_you_mean(parent, builtins, "built-in scenarios"))
    if identity in chain:
        names = [c.removeprefix("built-in ") for c in (*chain, identity)]
        raise where.error(("extends",), "a cycle of extends: " + " -> ".join(
            Path(n).name for n in names[names.index(names[-1]):]))
    if len(chain) >= MAX_EXTENDS:
        raise where.error(("extends",), f"more than {MAX_EXTENDS} scenarios extend one another")
    base, _ = read_source(source, chain)
    return _merged(base, data), where
