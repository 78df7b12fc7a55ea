"""YAML read defensively: the text must be UTF-8 without control characters, and a document
is refused before it is expanded when it has too many values (aliases counted each time they
are used: a "billion laughs" file is a few hundred bytes) or is nested too deep. Every refusal
is a ScenarioError naming the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import Path_, ScenarioError, Source

MAX_BYTES = 8 * 2**20  # a scenario file is a few kilobytes; the largest built-in is 30 KB
MAX_NODES = 100_000  # values in a document, aliases expanded (the largest built-in: 413)
MAX_DEPTH = 32  # levels of nesting, aliases expanded (the built-ins: at most 7)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting nodes and depth while it composes (an alias adds no
    node here: it points at the anchored node, which ``_check_expansion`` counts again)."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file, self.depth, self.nodes = file, 0, 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - PyYAML's hook
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH or self.nodes > MAX_NODES:
            line = self.peek_event().start_mark.line + 1
            raise ScenarioError(_too_deep() if self.depth > MAX_DEPTH else _too_many(),
                                file=self.file, line=line)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def _too_many() -> str:
    return (f"more than {MAX_NODES:,} values (an alias counts its anchored values each time "
            "it is used)")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse a document whose aliases expand past MAX_NODES values or MAX_DEPTH levels, or
    that contains itself (a recursive anchor), without expanding it: each node's expanded
    size and height are computed once."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels) once expanded
    open_: set[int] = set()

    def expand(node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in open_:
            raise ScenarioError("an alias refers to a node that contains it (a recursive "
                                "anchor)", file=file, line=node.start_mark.line + 1)
        if key not in sizes:
            open_.add(key)
            total, height = 1, 1
            for child in _children(node):
                if depth + 1 > MAX_DEPTH:
                    raise ScenarioError(_too_deep(), file=file, line=child.start_mark.line + 1)
                n, h = expand(child, depth + 1)
                total, height = total + n, max(height, h + 1)
                if total > MAX_NODES:
                    raise ScenarioError(_too_many(), file=file,
                                        line=child.start_mark.line + 1)
            open_.discard(key)
            sizes[key] = (total, height)
        total, height = sizes[key]
        if depth + height - 1 > MAX_DEPTH:
            raise ScenarioError(_too_deep(), file=file, line=node.start_mark.line + 1)
        return total, height

    expand(root, 1)


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


def _yaml_error(exc: yaml.YAMLError, text: str, file: str) -> ScenarioError:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        return ScenarioError(f"control character {chr(exc.character)!r} is not allowed in a "
                             "YAML file", file=file, line=line)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and cmark is not None and mark is not None and cmark.line != mark.line:
        problem += f" ({context} on line {cmark.line + 1})"
    return ScenarioError(f"YAML syntax error: {problem}", file=file,
                         line=mark.line + 1 if mark else None)


def compose(text: str, file: str) -> yaml.Node | None:
    """The document's node graph, checked against the budgets (None for an empty one)."""
    loader = None
    try:
        loader = _BoundedLoader(text, file)  # the reader checks the characters here
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, file)
        return node
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, file) from None
    finally:
        if loader is not None:
            loader.dispose()


def _construct(node: yaml.Node, text: str, file: str) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, file) from None
    finally:
        loader.dispose()


def parse_yaml(text: str, file: str, what: str = "a scenario file") -> tuple[Any, Source]:
    """A YAML mapping and the line of every key in it; ScenarioError naming the file and the
    line for a syntax error, a bad character, a duplicate key, too many values or too deep."""
    node = compose(text, file)
    if node is None:
        raise ScenarioError("the file is empty", file=file)
    lines: dict[Path_, int] = {}
    _index_lines(node, (), lines, file)
    data = _construct(node, text, file)
    if not isinstance(data, dict):
        raise ScenarioError(f"{what} must be a mapping of keys to values", file=file,
                            line=node.start_mark.line + 1)
    source = Source(file, lines)
    check_text(data, source)
    return data, source


def parse_value(text: str) -> Any:
    """One YAML value (an override's), under the same budgets; ScenarioError (with no file)
    if it is not valid."""
    node = compose(text, "the value")
    return None if node is None else _construct(node, text, "the value")


def read_text(path: Path, file: str) -> str:
    """A file's text: UTF-8 (a byte-order mark is dropped), at most MAX_BYTES."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError(f"{size:,} bytes: too big for a scenario file (at most "
                                f"{MAX_BYTES // 2**20} MiB)", file=file)
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as "
                            "UTF-8", file=file, line=line) from None


def bad_character(text: str, free_text: bool = False) -> str | None:
    """What is wrong with a name or value's characters, or None: no control characters (line
    breaks and tabs only in free text) and nothing that cannot be written as UTF-8."""
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return f"a lone surrogate (\\u{code:04x}) that cannot be written as UTF-8"
        if (code < 32 or 0x7F <= code < 0xA0) and not (free_text and ch in "\n\t\r"):
            return f"control character {ch!r}"
    return None


FREE_TEXT = ("description",)  # values that may hold line breaks


def check_text(data: Any, where: Source, path: Path_ = ()) -> None:
    """Every key and string in ``data`` is writable text (see bad_character)."""
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list | tuple):
        items = list(enumerate(data))
    else:
        if isinstance(data, str):
            problem = bad_character(data, free_text=bool(path) and path[-1] in FREE_TEXT)
            if problem:
                raise where.error(path, f"the text has {problem}")
        return
    for key, value in items:
        problem = bad_character(key) if isinstance(key, str) else None
        if problem:
            raise where.error((*path, key), f"the key has {problem}")
        check_text(value, where, (*path, str(key)))
