"""The agents' changing state: a struct of arrays, narrowest dtypes that hold the values."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from ..core.memory import Window

# flags: what has ever happened to an agent (uint16 bits). A sanction's causes are but-for
# (docs/model.md): "own" when the agent's own acts alone would have caused it; otherwise it was
# caused by others' acts, false match or association being the decisive cause
COMMITTED = 1  # committed a scored act (observed or not)
EVER_SANCTIONED = 2
EVER_OWN = 4  # sanctioned on its own acts alone
EVER_FALSE = 8  # sanctioned for others' acts, a false match decisive
EVER_ASSOC = 16  # sanctioned for others' acts, association decisive (spill, a relative's sanction)
FALSE_ATTRIBUTED = 32  # an act of someone else was pinned on it
ASSOC_PENALISED = 64  # received a spilled penalty
CAPTURED_ABROAD = 128  # captured by a venue camera abroad whose feed reaches home
EVER_FOR_EXPRESSION = 256  # sanctioned where, without penalties on expression, it would not be
EVER_FOR_OTHERS = 512  # sanctioned where its own acts alone would not have caused it
IDENTIFIED_ABROAD = 1024  # identified (rightly or by a false match) from a venue feed
FROM_ABROAD = 2048  # at home, received a spilled penalty of someone abroad
ISOLATED = 4096  # lost at least the avoidance's lost_share of its ties (they cut them)

# causes of a penalty, a listing or a sanction activation
OWN, FALSE_MATCH, ASSOCIATION = 1, 2, 3

# list_cause: the cause of each listing (own unless one of these bits is set)
ASSOC_LIST_SHIFT = 8

# today: per-day marks that the respond stage reads and clears (set only when the response
# to them is not zero: a mark with no effect would make the respond stage visit its block)
PENALISED_TODAY = 1
SANCTIONED_TODAY = 2

# live: one mark per block of 2**LIVE_SHIFT agents, set where an agent's caution may change
# today (caution or own risk above 0, a visibly sanctioned tie, a mark in today); the respond
# stage visits those blocks alone: in every other block caution and own risk are 0 and stay 0
# (with no risk they only fall, and values below the respond stage's floor are 0)
LIVE_SHIFT = 10

# fields that do not hold one value per agent: per-partition counts (a partitioned run adds
# them up), block marks, the cut ties' marks (a bit per slot of the tie rows held), values every
# range keeps alike (the caution from the rules' salience) and short lists
COUNTS = ("sanctioned_count", "sanctioned_group")
NOT_PER_AGENT = ("reached", "firm_rating", "live", "cut", "salience_caution", *COUNTS)


def live_blocks(n: int) -> int:
    """The number of live marks for ``n`` agents: one per block of 2**LIVE_SHIFT agents."""
    return (n + (1 << LIVE_SHIFT) - 1) >> LIVE_SHIFT


class StateArrays(NamedTuple):
    """The state as one kernel argument: every array of ``State`` but the reach list."""

    score: np.ndarray
    caution: np.ndarray
    flags: np.ndarray
    today: np.ndarray
    list_state: np.ndarray
    list_cause: np.ndarray
    firm_rating: np.ndarray
    ever_listed: np.ndarray
    own_mask: np.ndarray
    reach_mask: np.ndarray
    eff_mask: np.ndarray
    scratch: np.ndarray
    sanctioned_ties: np.ndarray
    since: np.ndarray
    appeal_day: np.ndarray
    paths: np.ndarray
    ever_mask: np.ndarray
    sanctioned_count: np.ndarray
    sanctioned_group: np.ndarray
    live: np.ndarray
    own_risk: np.ndarray
    cut: np.ndarray
    salience_caution: np.ndarray
    blocked: np.ndarray


_ARRAY_FIELDS = frozenset(StateArrays._fields)


@dataclass
class State:
    """The agents' changing state (``init_state`` makes a fresh one)."""

    score: np.ndarray  # int32[n], fixed point
    caution: np.ndarray  # float32[n] in [0, 1]
    flags: np.ndarray  # uint16[n]: bits above; bits 8-9: cause of the last penalty
    today: np.ndarray  # uint8[n]
    list_state: np.ndarray  # int32[L, n]: 0 off; -(due+1) pending; (expiry+1) listed
    list_cause: np.ndarray  # uint16[n]: bit l: listing on l from a false match; l+8: association
    firm_rating: np.ndarray  # int32[groups of all group layers] (empty without ratings)
    ever_listed: np.ndarray  # uint8[n]: bit per list
    own_mask: np.ndarray  # uint8[n]: sanctions active on the agent's own account
    reach_mask: np.ndarray  # uint8[n]: sanctions reaching it from a group member
    eff_mask: np.ndarray  # uint8[n]: own | reach, what services see
    scratch: np.ndarray  # uint8[n]: working space of the sanction stage
    sanctioned_ties: np.ndarray  # uint16[n]: tie neighbours with a visible sanction
    since: np.ndarray  # int32[S with min_days, n]: day the sanction became active
    appeal_day: np.ndarray  # int32[n] (or empty): day a pending appeal resolves, -1 none
    # but-for paths (stages/paths.py), with grade sanctions (else n = 0): per agent, in one
    # cache line, the deficit (initial - score, fixed point) its own acts alone would leave,
    # its own acts and false matches, everything but penalties on expression, and the first
    # day whose recovery they lack (they are brought up to date lazily)
    paths: np.ndarray  # int32[n, 4]
    ever_mask: np.ndarray  # uint8[n]: sanctions ever active on the agent
    reached: np.ndarray  # int32[k]: agents reached by a group member's sanction today
    sanctioned_count: np.ndarray  # int64[S + 1]: agents under each sanction; last: any
    sanctioned_group: np.ndarray  # int64[G]: agents under any sanction, per group
    live: np.ndarray  # uint8[blocks]: blocks where caution may change (LIVE_SHIFT)
    # the perceived risk of the agent's own recent penalties and sanctions (float32[n] in
    # [0, 1]; empty when no plan of the run lets them add any)
    own_risk: np.ndarray
    # avoidance: one bit per tie slot (ties' indices), set on a cut tie's first slot at both
    # ends; empty without avoidance, so that a run without it reads no mark
    cut: np.ndarray  # uint8[(slots + 7) // 8]
    # per behaviour, the caution everyone holds from the salience of its rules
    salience_caution: np.ndarray  # float64[B]
    blocked: np.ndarray  # uint8[n]: bit v: turned away from service v since last served

    def __setattr__(self, name: str, value) -> None:
        """Set a field (an array set anew drops the kernels' bundle made of the old ones)."""
        object.__setattr__(self, name, value)
        if name in _ARRAY_FIELDS:  # the kernels' bundle holds the array set before
            self.__dict__.pop("_arrays", None)

    def __getstate__(self) -> dict:
        """The fields, for pickling (without the bundle: it is made again on demand)."""
        return {k: v for k, v in self.__dict__.items() if k != "_arrays"}

    @property
    def arrays(self) -> StateArrays:
        """The arrays as one kernel argument (made once, and anew after any of them is set:
        never stale; a day asks for it a dozen times)."""
        a = self.__dict__.get("_arrays")
        if a is None:
            a = StateArrays(*(getattr(self, f) for f in StateArrays._fields))
            object.__setattr__(self, "_arrays", a)
        return a

    def nbytes(self, window: Window | None = None) -> int:
        """Bytes held by the state's arrays (those of a window's range, if given)."""
        w = window or Window(self.score.shape[0], 0, self.score.shape[0])
        out = 0
        for f in fields(self):
            a = getattr(self, f.name)
            if f.name == "live":
                out += Window(a.shape[0], w.lo >> LIVE_SHIFT,
                              live_blocks(w.hi)).nbytes(a) if not w.whole else a.nbytes
            elif f.name in NOT_PER_AGENT:
                out += a.nbytes
            else:
                out += w.nbytes(a, agents_first=f.name == "paths")
        return out

    def mark_live(self) -> None:
        """Every block may change: after caution, today or sanctioned ties were set other than
        by the stages (a test, a recount), the respond stage visits all agents once (a state
        of the whole population only)."""
        self.live[:] = 1


def init_state(n: int, plan, n_lists: int, n_sanctions: int,
               since_rows: int | None = None, appeals: bool | None = None,
               ratings: bool | None = None, paths: bool | None = None, *,
               n_groups: int, window: Window | None = None, tie_slots: int = 0) -> State:
    """Fresh state. ``since_rows`` and ``appeals`` size the optional arrays for a whole run
    (a timeline may switch minimum durations or appeals on later); by default, from the plan
    (``engine.compile.Plan``). ``paths``: keep the but-for score paths (needed by grade
    sanctions; by default, when the plan has one).
    ``n_groups``: the population's groups (people.group takes values below it).
    ``window``: the range of agents this state holds (a partition's; default all): its
    per-agent arrays have the whole population's shape but hold memory for the range only
    (core/memory.py). ``tie_slots``: the slots of the tie rows held (the cut marks need a bit
    each when the plan keeps them)."""
    w = window or Window(n, 0, n)
    u8 = lambda: w.zeros((n,), np.uint8)  # noqa: E731
    n_min = int(np.sum(plan.sanction.min_days > 0)) if since_rows is None else since_rows
    appeals = plan.sanction.appeals if appeals is None else appeals
    ratings = bool(plan.rating.weight.any()) if ratings is None else ratings
    initial = plan.scoring.initial
    paths = bool(np.any(plan.sanction.on_list < 0)) if paths is None else paths
    blocks = live_blocks(n)
    live = Window(blocks, w.lo >> LIVE_SHIFT, live_blocks(w.hi) if not w.whole else blocks)
    return State(
        score=w.zeros((n,), np.int32, fill=initial),
        caution=w.zeros((n,), np.float32),
        flags=w.zeros((n,), np.uint16), today=u8(),
        list_state=w.zeros((n_lists, n), np.int32),
        list_cause=w.zeros((n,), np.uint16), ever_listed=u8(),
        firm_rating=np.full(plan.firms if ratings else 0, initial, np.int32),
        own_mask=u8(), reach_mask=u8(), eff_mask=u8(), scratch=u8(),
        sanctioned_ties=w.zeros((n,), np.uint16),
        since=w.zeros((n_min, n), np.int32),
        appeal_day=w.zeros((n if appeals else 0,), np.int32, fill=-1),
        paths=w.zeros((n if paths else 0, 4), np.int32, agents_first=True),
        ever_mask=u8(),
        reached=np.zeros(0, np.int32),
        sanctioned_count=np.zeros(n_sanctions + 1, np.int64),
        sanctioned_group=np.zeros(max(n_groups, 1), np.int64),
        live=live.zeros((blocks,), np.uint8),
        own_risk=w.zeros((n if plan.respond.own_risk else 0,), np.float32),
        cut=np.zeros((tie_slots + 7) // 8 if plan.respond.cut_marks else 0, np.uint8),
        salience_caution=np.zeros(plan.act.rate.shape[0], np.float64),
        blocked=u8(),
    )
