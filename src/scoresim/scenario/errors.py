"""The error every bad scenario gets: one line naming the file, the line and the key, with a
"did you mean" for a misspelt name; and where a scenario came from (its file and key lines)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

Path_ = tuple[str, ...]


def one_line(text: str) -> str:
    """``text`` with every control character, line break and unencodable character (a lone
    surrogate) written as an escape, so a message is always one printable line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(text))


def did_you_mean(name: Any, known: Iterable[Any], what: str = "known") -> str:
    """" (did you mean 'x'?)" for the closest of ``known`` names, else " (known: a, b, c)"
    (the first dozen), else "" when nothing is known."""
    names = [str(k) for k in known]
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    if not names:
        return ""
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f" ({what}: {shown})"


class ScenarioError(Exception):
    """A scenario that cannot be used. ``str(err)`` is one line:
    ``file:line: key: message``, or ``--set key=value: message`` for an override;
    ``all_errors()`` lists it and every further error found in the same validation."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 key: str | None = None, override: str | None = None,
                 more: Sequence[ScenarioError] = ()) -> None:
        self.message, self.file, self.line, self.key = message, file, line, key
        self.override = override  # the --set text this error comes from, if any
        self.more = list(more)  # further errors found in the same validation
        super().__init__(self.message)

    def headline(self) -> str:
        """This error alone, as one line (without the count of further errors)."""
        parts = []
        if self.override is not None:
            parts.append(f"--set {self.override}")
        elif self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.key and not (self.override and self.override.split("=", 1)[0] == self.key):
            parts.append(self.key)
        parts.append(self.message)
        return one_line(": ".join(parts))

    def all_errors(self) -> list[ScenarioError]:
        """This error and the further ones found with it, in order."""
        return [self, *self.more]

    def __str__(self) -> str:
        """The headline, plus a count of the further errors when there are any."""
        text = self.headline()
        if self.more:
            n = len(self.more)
            text += f" (and {n} more error{'s' * (n > 1)}: `scoresim validate` lists them all)"
        return text

    def __reduce__(self) -> Any:  # picklable (process pools, Ray)
        """Rebuild the error with all its fields in another process."""
        return (ScenarioError, (self.message, self.file, self.line, self.key, self.override,
                                self.more))


class Source:
    """Where a scenario came from: the file name and the line of every key in it."""

    def __init__(self, file: str | None = None, lines: dict[Path_, int] | None = None):
        self.file, self.lines = file, lines or {}

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, else of its nearest parent that has one."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def error(self, key: Path_, message: str, **kw: Any) -> ScenarioError:
        """A ScenarioError at ``key`` of this source (its file and line)."""
        return ScenarioError(message, file=self.file, line=self.line(key),
                             key=".".join(key) or None, **kw)
