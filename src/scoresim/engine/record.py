"""The day's record: every count the stages take in a day, as named fields, and the outputs
made of them, each declared once (as Mesa's ``DataCollector`` declares its reporters).

A field's shape is given by the names it runs over (behaviours, groups, ...): ``DayRecord``
sizes them from a scenario's ``Names``. Every field is an integer count or sum, so the records
of ranges of agents add up to the whole population's (a partitioned run sums them).
``DAILY`` declares daily.parquet's columns, in order, each with the field it reads and, where
summary.json's ``final`` holds the run's total of it, that total's key; results/columns.py
renders them. Column names are part of the public contract (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, make_dataclass
from typing import Any

import numpy as np

from ..core.constants import FIXED
from ..core.memo import once_per
from .measure import CAUTION_UNIT

# field -> (dimensions, the stage that counts it, what it counts)
FIELDS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "acts": (("behaviours",), "act", "acts committed"),
    "expression_acts": (("groups",), "act", "expression acts, by the actor's group"),
    "expression_acts_by_group": (("expression", "groups"), "act",
                                 "acts of each expression behaviour, by the actor's group"),
    "observed": (("behaviours",), "score", "acts captured by their channel"),
    "false_attributions": ((), "score", "acts pinned on someone else"),
    "dismissed_by_review": ((), "score", "alerts human review rejected"),
    "spill_penalties": ((), "spill", "penalties spilled onto neighbours"),
    "listings": (("lists",), "score, rate_firms, sanction", "listings taking effect"),
    "delistings": (("lists",), "score, sanction", "listings ended (repair, expiry, appeal)"),
    "listed_now": (("lists",), "sanction", "agents on each list"),
    "sanctioned": (("sanctions+any",), "settle", "agents under each sanction; last: any"),
    "sanction_activations": (("sanctions",), "settle", "sanctions switched on"),
    "new_sanctioned_people": (("sanctions+any",), "settle",
                              "people under each sanction (last: any) for the first time"),
    "activations_by_cause": (("activation_causes",), "settle",
                             "activations by but-for cause: own, false match, association, "
                             "expression"),
    "new_people_by_cause": (("harms",), "settle", "people newly sanctioned in each harm"),
    "appeals_won": ((), "sanction", "appeals that lifted a false match's penalty"),
    "requests": (("services", "groups"), "services", "requests for each service"),
    "denied": (("services", "groups"), "services", "requests a sanction turned down"),
    "score_sum": ((), "recover, sanction", "scores summed (fixed point)"),
    "caution_units": ((), "respond", "caution summed (units of 2**-30)"),
    "grades": (("grades",), "recover, sanction", "agents per grade, highest first"),
    "sanctioned_by_group": (("groups",), "respond", "agents under any sanction, per group"),
    "venue_visits": (("venues",), "observe", "visits to each kind of venue abroad"),
    "venue_identified": (("venues",), "observe", "enrolled patrons recognised"),
    "venue_false_matches": (("venues",), "observe", "patrons matched onto someone else"),
    "venue_records": (("venues", "groups"), "observe", "captures sent home"),
    "venue_acts": (("venue_acts",), "observe", "acts at venues; observed; pinned on others"),
    "venue_associations": ((), "observe", "pairs captured at one table, feed home"),
    "faces_scanned": (("groups",), "observe", "faces searched (home and venues), by group"),
    "alerts": (("groups",), "observe", "searches returning someone on the watch list"),
    "true_alerts": (("groups",), "observe", "alerts naming the face's own person"),
    "false_alerts": (("groups",), "observe", "alerts naming someone else"),
    "true_actions": (("groups",), "observe", "true alerts acted on (after any review)"),
    "false_actions": (("groups",), "observe", "false alerts acted on (after any review)"),
    "falsely_named": (("groups",), "observe", "false alerts, by the named person's group"),
    "falsely_named_actions": (("groups",), "observe",
                              "false alerts acted on, by the named person's group"),
    "caution_by_group": (("groups", "caution_parts"), "respond",
                         "caution and perceived risk summed (units of 2**-30), and agents, "
                         "per group"),
    "salience_caution": (("behaviours",), "respond",
                         "caution from each rule's salience, summed over agents (units)"),
    "ties_cut": ((), "cut", "ties cut (avoidance of the sanctioned)"),
    "delistings_by_route": (("lists", "exit_routes"), "score, sanction",
                            "listings ended, by route: repaid, expired, removed, appealed"),
    "repeat_cases": (("lists",), "score", "further cases against agents already listed"),
    "blocked": (("services",), "services",
                "people turned away, for the first time since they were last served"),
    "switched": (("services",), "services",
                 "requests turned away (or given up) and taken to the other service"),
}


# causes of an activation, and harms a person can be newly counted in (docs/model.md)
ACTIVATION_CAUSES = ("own", "false_match", "association", "expression")
HARMS = ("own", "false_match", "association", "for_others_acts", "for_expression")
# how a listing ends (stages/listing.py: REPAID, EXPIRED, REMOVED, APPEALED)
EXIT_ROUTES = ("repaid", "expired", "removed", "appealed")
# caution_by_group's parts: caution, perceived risk, agents
SIZES = {"activation_causes": len(ACTIVATION_CAUSES), "harms": len(HARMS),
         "exit_routes": len(EXIT_ROUTES),
         "caution_parts": 3}


def _size(dim: str, names) -> int:
    if dim == "sanctions+any":
        return len(names.sanctions) + 1
    if dim in SIZES:
        return SIZES[dim]
    if dim == "venue_acts":
        return 3
    if dim == "grades":  # none counted when no grades are declared
        return len(names.grades) if len(names.grades) > 1 else 0
    return len(getattr(names, dim))


def _shapes(names) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(_size(d, names) for d in dims) for dims, _, _ in FIELDS.values())


def _zeros(names) -> dict[str, Any]:
    """Each field's zero for these names, shared by every record (read-only: a record never
    changes an array in place)."""
    out: dict[str, Any] = {}
    for field, shape in zip(FIELDS, _shapes(names), strict=True):
        if not shape:  # a single count is a Python int (adding to it: a tenth of a 0-d add)
            out[field] = 0
            continue
        zero = out[field] = np.zeros(shape, np.int64)
        zero.flags.writeable = False
    return out


_NONE: dict[str, Any] = {}


class _Record:
    """The counts of one day (of one range of agents, or of all of them): per field of
    ``FIELDS``, an int64 array (or a Python int for a single count).

    A record never changes an array in place: a field starts as a shared zero, takes the first
    int64 array of its shape added to it as it is, and becomes a new array on each further
    addition. So a day costs one assignment per count, not an allocation and an addition; an
    array handed to ``add`` must not be changed afterwards (the stages hand over fresh ones)."""

    @classmethod
    def zeros(cls, names) -> DayRecord:
        """An empty record for a scenario's ``Names``."""
        zero = once_per(names, "record zeros", _zeros)
        record = cls(**zero)
        record._zero = zero
        return record

    def __add__(self, other: DayRecord) -> DayRecord:
        return type(self)(**{f: getattr(self, f) + getattr(other, f) for f in FIELDS})

    def add(self, **counts) -> None:
        """Add counts to named fields."""
        zero = self.__dict__.get("_zero", _NONE)
        for name, value in counts.items():
            a = getattr(self, name)
            if (a is zero.get(name) and type(a) is np.ndarray and type(value) is np.ndarray
                    and value.dtype == np.int64 and value.shape == a.shape):
                setattr(self, name, value)  # the first addition to a zero: taken as it is
            else:
                setattr(self, name, a + value)


DayRecord = make_dataclass("DayRecord", [(f, np.ndarray) for f in FIELDS], bases=(_Record,),
                           namespace={"__doc__": _Record.__doc__, "__module__": __name__})


@dataclass(frozen=True)
class Column:
    """A daily column, or a family of them (one per name of ``over``).

    ``name``: the column's name, with ``{}`` for the name it runs over (``{0}``/``{1}`` for
    two); ``field``: the record field; ``over``: the names it runs over (``Names``
    attributes, or "causes"); ``total``: summary.json's final key holding the run's total
    (per name when over one kind); ``read``: how a value is taken from the field, given the
    field (its element, for a column over names) and the population (default: the element,
    summed over any further axis)."""

    name: str
    field: str
    over: tuple[str, ...] = ()
    total: str | None = None
    read: Any = None


def _mean_score(a: np.ndarray, n: int) -> float:
    return float(a) / max(n, 1) / FIXED


def _mean_caution(a: np.ndarray, n: int) -> float:
    return float(a) / CAUTION_UNIT / max(n, 1)


def _group_mean(part: int):
    """A group's mean of caution_by_group's part (0: caution, 1: perceived risk)."""
    return lambda a, n: float(a[part]) / CAUTION_UNIT / max(int(a[2]), 1)


def _mean_risk(a: np.ndarray, n: int) -> float:
    return float(a[:, 1].sum()) / CAUTION_UNIT / max(n, 1)


# the columns, in daily.parquet's order; a tuple of columns over the same names interleaves
# them (listed_x, listings_x, delistings_x, listed_y, ...)
DAILY: tuple[Column | tuple[Column, ...], ...] = (
    Column("acts_{}", "acts", ("behaviours",), total="acts"),
    Column("observed_{}", "observed", ("behaviours",), total="observed"),
    Column("false_attributions", "false_attributions", total="false_attributions"),
    Column("dismissed_by_review", "dismissed_by_review", total="dismissed_by_review"),
    Column("spill_penalties", "spill_penalties", total="spill_penalties"),
    (Column("listed_{}", "listed_now", ("lists",)),
     Column("listings_{}", "listings", ("lists",)),
     Column("delistings_{}", "delistings", ("lists",))),
    Column("sanctioned_{}", "sanctioned", ("sanctions",)),
    Column("sanctioned_any", "sanctioned", read=lambda a, n: int(a[-1])),
    Column("sanction_activations_{}", "sanction_activations", ("sanctions",),
           total="sanction_activations"),
    Column("new_sanctioned_people_{}", "new_sanctioned_people", ("sanctions",),
           total="ever_sanctioned_people"),
    Column("new_sanctioned_people_any", "new_sanctioned_people", read=lambda a, n: int(a[-1])),
    Column("sanction_activations_by_{}", "activations_by_cause", ("activation_causes",)),
    Column("new_sanctioned_people_by_{}", "new_people_by_cause", ("harms",)),
    Column("appeals_won", "appeals_won", total="appeals_won"),
    (Column("requests_{}", "requests", ("services",), total="requests"),
     Column("denied_{}", "denied", ("services",), total="denied")),
    Column("denied_{0}__{1}", "denied", ("services", "groups")),
    Column("grade_{}", "grades", ("grades",)),
    (Column("sanctioned_any__{}", "sanctioned_by_group", ("groups",)),
     Column("expression_acts__{}", "expression_acts", ("groups",))),
    Column("acts_{0}__{1}", "expression_acts_by_group", ("expression", "groups"),
           total="expression_acts_by_group"),
    Column("mean_score", "score_sum", read=_mean_score),
    Column("mean_caution", "caution_units", read=_mean_caution),
    # face searches by group: of the face, then of the person a false alert names
    (Column("faces_scanned__{}", "faces_scanned", ("groups",), total="faces_scanned"),
     Column("alerts__{}", "alerts", ("groups",), total="alerts"),
     Column("true_alerts__{}", "true_alerts", ("groups",), total="true_alerts"),
     Column("false_alerts__{}", "false_alerts", ("groups",), total="false_alerts"),
     Column("true_actions__{}", "true_actions", ("groups",), total="true_actions"),
     Column("false_actions__{}", "false_actions", ("groups",), total="false_actions"),
     Column("falsely_named__{}", "falsely_named", ("groups",), total="falsely_named"),
     Column("falsely_named_actions__{}", "falsely_named_actions", ("groups",),
            total="falsely_named_actions")),
    Column("mean_perceived_risk", "caution_by_group", read=_mean_risk),
    (Column("mean_caution__{}", "caution_by_group", ("groups",), read=_group_mean(0)),
     Column("mean_perceived_risk__{}", "caution_by_group", ("groups",), read=_group_mean(1))),
    Column("salience_caution_{}", "salience_caution", ("behaviours",), read=_mean_caution),
    Column("ties_cut", "ties_cut", total="ties_cut"),
    Column("delistings_{0}__{1}", "delistings_by_route", ("lists", "exit_routes"),
           total="delistings_by_route"),
    Column("repeat_cases_{}", "repeat_cases", ("lists",), total="repeat_cases"),
    Column("blocked_{}", "blocked", ("services",), total="blocked"),
    Column("switched_{}", "switched", ("services",), total="switched"),
)

# the venues abroad: only in scenarios with a city abroad
ABROAD: tuple[Column | tuple[Column, ...], ...] = (
    Column("venue_records_home", "venue_records"),
    Column("venue_visits", "venue_visits"),
    Column("venue_identified", "venue_identified"),
    Column("venue_false_matches", "venue_false_matches"),
    Column("venue_associations", "venue_associations"),
    Column("acts_at_venues", "venue_acts", read=lambda a, n: int(a[0])),
    Column("observed_at_venues", "venue_acts", read=lambda a, n: int(a[1])),
    Column("pinned_at_venues", "venue_acts", read=lambda a, n: int(a[2])),
    Column("records_home__{0}__{1}", "venue_records", ("venues", "groups")),
)
