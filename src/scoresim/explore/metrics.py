"""Every name the explorer reads from a run's summary, its daily table or a comparison.

Keeping every name here makes a rename of the engine's metrics one edit. Nothing outside this
module spells a metric or column name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.constants import CAUSES

# ---------------------------------------------------------------- summary.json
FINAL = "final"
COUNTERFACTUAL = "counterfactual"
CHILLING = "chilling"
OVERALL = "overall"
BY_GROUP = "by_group"
GROUP_AGENTS = "agents"
DENIED = "denied"
REQUESTS = "requests"
WALL_SECONDS = "wall_seconds"
CAUSE_WORDS = {"own": "their own scored acts", "false_match": "a false match (wrong person)",
               "association": "association (family, work, friends)"}


@dataclass(frozen=True)
class Headline:
    """One key number: where it sits in summary.json, in words, and how to show it."""

    key: str  # the element's id on the page
    path: tuple[str, ...]  # its place in summary.json
    label: str
    share: bool  # a fraction of people or acts (shown as %), else a count


HEADLINES = (
    Headline("ever-sanctioned", (FINAL, "ever_sanctioned_frac"), "ever sanctioned", True),
    Headline("for-others", (FINAL, "sanctioned_for_others_acts_frac"),
             "sanctioned for others' acts (own acts alone would not have done it)", True),
    Headline("for-expression", (FINAL, "sanctioned_for_expression_frac"),
             "sanctioned for lawful speech", True),
    Headline("never-acted", (FINAL, "never_acted_sanctioned_frac"),
             "sanctioned without ever committing a scored act", True),
    *(Headline(f"cause-{c}", (FINAL, "ever_sanctioned_by_cause", c),
               f"sanctioned through {CAUSE_WORDS[c]}", True) for c in CAUSES),
    Headline("chilling", (COUNTERFACTUAL, CHILLING, OVERALL),
             "expression chilled (acts lost against no scoring)", True),
    Headline("false-attributions", (FINAL, "false_attributions"),
             "acts pinned on the wrong person", False),
)


def denied_headline(service: str) -> Headline:
    """The key number for the requests for ``service`` turned down by a sanction."""
    return Headline(f"denied-{service}", (FINAL, DENIED, service),
                    f"{service.replace('_', ' ')} requests denied", False)


def services(summary: dict[str, Any]) -> list[str]:
    """The run's services, in the scenario's order."""
    return list(summary[FINAL][DENIED])


def groups(summary: dict[str, Any]) -> dict[str, float]:
    """Each group's number of people."""
    return {g: v[GROUP_AGENTS] for g, v in summary[FINAL][BY_GROUP].items()}


def lookup(summary: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in a summary (None where a part is missing or null)."""
    node: Any = summary
    for part in path:
        if not isinstance(node, dict) or node.get(part) is None:
            return None
        node = node[part]
    return node


# ---------------------------------------------------------------- daily.parquet
# one row per day; a column's name is its template filled with a behaviour, cause, group,
# service or list: ACTS.format("online_criticism") is "acts_online_criticism"
DAY = "day"
ACTS = "acts_{}"  # acts of a behaviour committed that day
EXPRESSION_ACTS = "expression_acts__{}"  # expression acts by a group's members
NEW_SANCTIONED = "new_sanctioned_people_by_{}"  # people first sanctioned that day, by cause
SANCTIONED_IN = "sanctioned_any__{}"  # a group's members under any sanction
DENIED_COL = "denied_{}"  # requests for a service turned down
LISTED = "listed_{}"  # people on a list (stock)
LISTINGS = "listings_{}"  # people put on a list that day
DELISTINGS = "delistings_{}"  # people taken off a list that day


def named(template: str, columns: list[str]) -> list[str]:
    """The names a template is filled with in ``columns`` (per-group columns left out)."""
    head, tail = template.split("{}")
    return [c[len(head):len(c) - len(tail)] for c in columns
            if c.startswith(head) and c.endswith(tail) and "__" not in c[len(head):]]


# ---------------------------------------------------------------- scoresim.compare's metrics
# A against B: the paired differences drawn with their intervals (every other metric of the
# comparison is listed in the table beside them)
COMPARE_HEADLINES = (
    "chilling.overall", "ever_sanctioned_frac", "sanctioned_for_others_acts_frac",
    "sanctioned_for_expression_frac",
    *(f"ever_sanctioned_by_cause.{c}" for c in CAUSES), "falsely_attributed_frac",
)
KIND_VALUE, KIND_DIFFERENCE = "value", "difference"
