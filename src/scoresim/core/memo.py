"""Values a run makes once from an object it keeps for the whole run (the names of a
scenario, a plan, a plan's bundle): a day's record and row layouts, the stages that run, the
act stage's room. Made at most once per object, not every day.

Objects are told apart by identity; an entry holds its object, so that an id is never reused
while the entry lives. The objects are not changed once made (plans and names are fixed for a
run), so a value made from one stays right.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

_MADE: dict[tuple[int, Hashable], tuple[Any, Any]] = {}
LIMIT = 256  # entries kept (a run needs a few; a long session of many runs starts afresh)


def once_per(obj: Any, what: Hashable, build: Callable[[Any], Any]) -> Any:
    """``build(obj)``, made once per object and ``what`` (the kind of value made from it)."""
    key = (id(obj), what)
    hit = _MADE.get(key)
    if hit is not None and hit[0] is obj:
        return hit[1]
    if len(_MADE) >= LIMIT:
        _MADE.clear()
    value = build(obj)
    _MADE[key] = (obj, value)
    return value
