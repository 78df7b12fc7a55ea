"""Reading scenario files: YAML with the line of every key, built-ins, ``extends:``, and the
error that names the file, the line and the key."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from scoresim.scenario.schema import Scenario

Path_ = tuple[str, ...]


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
class Source:
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


def parse_yaml(text: str, file: str) -> tuple[Any, Source]:
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
    return data, Source(file, lines)


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


def read_source(source: Any) -> tuple[Any, Source]:
    if isinstance(source, Scenario):
        return source.model_dump(mode="json"), Source()
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source)), Source()
    if not isinstance(source, str | Path):
        raise ScenarioError(f"cannot load a scenario from {type(source).__name__}")
    builtins = _builtin_names()
    if isinstance(source, str) and source in builtins:
        entry = _builtin_dir().joinpath(f"{source}.yaml")
        return _extend(*parse_yaml(entry.read_text(encoding="utf-8"), str(entry)), None)
    path = Path(source)
    if not path.is_file():
        names = ", ".join(builtins) or "none"
        what = "no such file" if path.suffix in (".yaml", ".yml") or len(path.parts) > 1 \
            else "not a built-in scenario or a file"
        raise ScenarioError(f"{what}; built-in scenarios: {names}", file=str(source))
    data, where = parse_yaml(path.read_text(encoding="utf-8"), str(source))
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


def _extend(data: Any, where: Source, folder: Path | None) -> tuple[Any, Source]:
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
    base, _ = read_source(parent)
    return _merged(base, data), where
