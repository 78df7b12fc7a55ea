"""What one range's stage does to agents another range may hold: typed effect records, and
how each kind is delivered.

A stage returns its effects (``Day.emit``); a runner delivers them before the stage that
receives them. In one process every agent is in the range, so delivery hands the records on
as they are; across partitions (experiments/partitioned.py) each record goes to the ranges
that hold its receivers, merged from the senders in range order and, where the receiving
kernel's result depends on the order, sorted by the kind's order key. The records are the
NamedTuples declared by the stages that emit them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .stages.avoid import CutBacks, Cuts
from .stages.firms import FirmPenalties
from .stages.sanction import Reach, Visibility
from .stages.score import Acts
from .stages.spill import Hits
from .stages.venues import Victims, Visits


@dataclass(frozen=True)
class EffectKind:
    """One kind of effect: its record type, the fields naming the agents it lands on (a record
    goes once to every range holding one of them, -1 naming nobody; no fields: every range
    receives every record), and the fields that order records at a receiver (lexicographic;
    none: the receiving kernel's result does not depend on their order)."""

    name: str
    record: type
    to: tuple[str, ...]
    order: tuple[str, ...]
    what: str



EFFECTS: dict[str, EffectKind] = {k.name: k for k in (
    EffectKind("visits", Visits, (), (),
               "the day's visits abroad (every range needs every venue's patrons)"),
    EffectKind("acts", Acts, ("agent", "target"), ("beh", "agent"),
               "attributed acts, to the actor's and the attributed agent's ranges"),
    EffectKind("victims", Victims, ("agent",), (),
               "people a venue's acted-on alert named (marked identified abroad)"),
    EffectKind("hits", Hits, ("agent",), (), "spilled penalties on neighbours"),
    EffectKind("firm_penalties", FirmPenalties, ("owner",), ("event",),
               "members' penalties, to the ranges that rate their firms"),
    EffectKind("reach", Reach, ("member",), (), "sanctions reaching group members"),
    EffectKind("visibility", Visibility, ("tie",), (),
               "changes in ties' counts of visibly sanctioned ties"),
    EffectKind("cuts", Cuts, ("agent",), (),
               "ties to visibly sanctioned agents cut today, to the range of the end who cuts"),
    EffectKind("cut_backs", CutBacks, ("agent",), (),
               "the sanctioned end of each tie cut today"),
)}
