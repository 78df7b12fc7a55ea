"""Stage 6, sanction: lists advance (grace ends, listings expire), appeals resolve, and each
sanction is active while its condition holds (a grade at most G, or being on list L), for at
least its minimum duration. A sanction that ``reaches`` a group layer also falls on the other
members of the sanctioned agent's group (a debtor's children refused by schools).

Every activation is accounted by cause: own scored act, false match, or association. A grade
sanction's cause is the cause of the penalty that last moved the agent's score (the one that
tipped it over); a list sanction's cause is that of the act that put the agent on the list.

Cost follows the agents with something going on, not the population: the recover stage marks
the busy agents (sanctioned, listed or pending, below a grade threshold, appeal pending);
``sanction_own`` works over them in parallel (list transitions, appeals, new own sanctions)
and returns who changed and the (member, sanction) pairs their sanctions reach; ``settle``
applies the reach and settles the effective sanctions of the few that changed: counts,
accounting by cause, visibility pushes to ties.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...core.constants import CHUNK
from ...network.groups import group_id, member_at
from ...network.ties import tie_at
from ..context import DayKey, Span
from ..measure import GRADES, SCORE_SUM, columns, grade_of
from ..state import (
    ASSOC_LIST_SHIFT,
    EVER_ASSOC,
    EVER_FALSE,
    EVER_FOR_EXPRESSION,
    EVER_FOR_OTHERS,
    EVER_OWN,
    EVER_SANCTIONED,
    LIVE_SHIFT,
    SANCTIONED_TODAY,
)
from .avoid import is_cut
from .listing import clear_cause, listing_end, removed
from .paths import NO_EXPRESSION_PATH, OWN_FM_PATH, OWN_PATH, path_after, settle_appeal

# an activation's but-for causes (docs/model.md), in the day's counts
BY_OWN, BY_FALSE_MATCH, BY_ASSOCIATION, BY_EXPRESSION = 0, 1, 2, 3
# people newly in each harm (first time ever), in the day's counts
NEW_OWN, NEW_FALSE_MATCH, NEW_ASSOCIATION, NEW_FOR_OTHERS, NEW_FOR_EXPRESSION = range(5)


class SanctionParams(NamedTuple):
    """Each sanction's condition, reach and duration; visibility; appeals."""

    on_list: np.ndarray  # int64[S]: the list it follows; -1 for a grade sanction
    threshold: np.ndarray  # int64[S]: a grade sanction is active while score < threshold
    reach: np.ndarray  # int64[S]: the group layer it reaches, -1 none
    min_days: np.ndarray  # int64[S]
    min_row: np.ndarray  # int64[S]: its row in State.since, -1 without a minimum duration
    visible_bits: int  # sanctions ties see
    reach_bits: int  # sanctions that reach a group layer
    grade_bounds: np.ndarray  # int64[grades - 1]: fixed-point lower bounds, highest first
    initial: int  # the initial score, fixed point (a grade sanction's paths are deficits)
    recovery: int  # the score's recovery per day, fixed point (the but-for paths follow it)
    list_expression: np.ndarray  # bool[L]: entered by an expression behaviour
    expression_scored: bool  # penalties on expression exist (else no sanction is for them)
    appeals: bool
    appeal_success: float
    appeal_delay: int
    mark: bool  # mark new sanctions for the respond stage (caution answers to them)


class Reach(NamedTuple):
    """A sanction reaching a group member: the member, the sanction's bit, and whether the
    reaching agent's sanction was for expression (a relative sanctioned for another's
    speech)."""

    member: np.ndarray  # int32[k]
    bit: np.ndarray  # uint8[k]
    expression: np.ndarray  # bool[k]


class Visibility(NamedTuple):
    """A tie's count of visibly sanctioned ties changes: whose count, and by how much."""

    tie: np.ndarray  # int32[k]
    delta: np.ndarray  # int32[k]


class OwnResult(NamedTuple):
    """What ``sanction_own`` returns: its counts, who changed, and whom they reach."""

    appeals_won: int
    listings: np.ndarray  # int64[L]
    expiries: np.ndarray  # int64[L]
    listed_now: np.ndarray  # int64[L]
    removals: np.ndarray  # int64[L]
    appealed: np.ndarray  # int64[L]
    measured: np.ndarray  # int64[row] (engine/measure.py)
    changed: np.ndarray  # int32[k]
    reach: Reach


def _no_visibility() -> Visibility:
    return Visibility(np.zeros(0, np.int32), np.zeros(0, np.int32))


@nb.njit(inline="always", cache=True)
def _appeal(i, sp, st, stream, row):
    """A pending appeal resolves: when it succeeds, the false-match points are restored and
    the listings the false matches caused are lifted."""
    if not (sp.appeals and st.appeal_day[i] >= 0 and row.key.day >= st.appeal_day[i]):
        return
    st.appeal_day[i] = -1
    if rng.uniform(stream, i, 0) < sp.appeal_success:
        old = st.score[i]
        st.score[i] += max(settle_appeal(st.paths, i, row.key.day, sp.recovery), 0)
        row.measured[SCORE_SUM] += st.score[i] - old
        row.measured[GRADES + grade_of(old, sp.grade_bounds)] -= 1
        row.measured[GRADES + grade_of(st.score[i], sp.grade_bounds)] += 1
        for l in range(st.list_state.shape[0]):
            if st.list_cause[i] & (1 << l) and st.list_state[l, i] != 0:
                st.list_state[l, i] = 0
                row.appealed[l] += 1
        st.list_cause[i] &= ~0xFF  # false-match causes cleared, association kept
        row.appeals_won[0] += 1


class _ChunkRow(NamedTuple):
    """The day's key, and one chunk's counts: views of its row of ``_sanction_own``'s
    table."""

    key: DayKey
    changed: np.ndarray
    reachers: np.ndarray
    appeals_won: np.ndarray
    listings: np.ndarray
    expiries: np.ndarray
    listed_now: np.ndarray
    removals: np.ndarray
    appealed: np.ndarray
    measured: np.ndarray


@nb.njit(cache=True)
def _own(agents, lo, hi, sp, lp, st, streams, row):
    """The busy agents[lo:hi], each in turn: its appeal, its list transitions (grace ends,
    terms end, the court removes), its own sanctions (into scratch). ``streams``: the
    appeals' stream, then each list's removal stream. A function of its own so that the
    parallel loop writes the state through it (Numba loses a write through a bundle's field
    made directly in a prange body). The bundles' arrays are taken into locals once a chunk,
    and the appeal is looked at only when appeals exist: its inlined body, left in the loop
    unguarded, made the loop about 15 times slower even with appeals off."""
    key, appeals = row.key, sp.appeals
    day = key.day
    list_state, list_cause, ever_listed = st.list_state, st.list_cause, st.ever_listed
    score, own_mask, scratch, since = st.score, st.own_mask, st.scratch, st.since
    on_list, threshold, min_row, min_days = sp.on_list, sp.threshold, sp.min_row, sp.min_days
    reach_bits = sp.reach_bits
    listings, expiries, removals = row.listings, row.expiries, row.removals
    listed_now, changed, reachers = row.listed_now, row.changed, row.reachers
    L, S = list_state.shape[0], on_list.shape[0]
    for k in range(lo, hi):
        i = agents[k]
        if appeals:
            _appeal(i, sp, st, streams[0], row)
        for l in range(L):
            s = list_state[l, i]
            if s < 0 and day >= -s - 1:
                s = listing_end(l, i, key, lp)
                ever_listed[i] |= 1 << l
                listings[l] += 1
            elif s > 0 and day >= s - 1:
                s = 0
                clear_cause(l, i, list_cause)
                expiries[l] += 1
            if s > 0 and removed(l, i, streams[1 + l], lp):
                s = 0
                clear_cause(l, i, list_cause)
                removals[l] += 1
            list_state[l, i] = s
            if s > 0:
                listed_now[l] += 1
        old = own_mask[i]
        m = 0
        for s in range(S):
            bit = 1 << s
            if on_list[s] >= 0:
                on = list_state[on_list[s], i] > 0
            else:
                on = score[i] < threshold[s]
            r = min_row[s]
            if r >= 0:
                if on and not (old & bit):
                    since[r, i] = day
                elif not on and (old & bit) and day < since[r, i] + min_days[s]:
                    on = True
            if on:
                m |= bit
        scratch[i] = m
        if m != old:
            changed[0] += 1
        if m & reach_bits:
            reachers[0] += 1


@nb.njit(parallel=True, cache=True)
def _own_chunks(key, agents, sp, lp, st, streams, table):
    """Over the busy agents, in fixed chunks: list transitions, appeals, new own sanctions
    (into st.scratch); each chunk's counts into its row of ``table``."""
    k_all = agents.shape[0]
    L = st.list_state.shape[0]
    for c in nb.prange(table.shape[0]):
        t = table[c]
        row = _ChunkRow(key, t[0:1], t[1:2], t[2:3], t[3:3 + L], t[3 + L:3 + 2 * L],
                        t[3 + 2 * L:3 + 3 * L], t[3 + 3 * L:3 + 4 * L],
                        t[3 + 4 * L:3 + 5 * L], t[3 + 5 * L:])
        _own(agents, c * CHUNK, min(k_all, (c + 1) * CHUNK), sp, lp, st, streams, row)


@nb.njit(cache=True)
def _sanction_own(key, agents, sp, lp, st, width):
    """``_own_chunks``, its counts summed in chunk order, then, in the agents' order, those
    whose own sanctions changed and those whose sanctions reach others. Returns (the counts as
    ``_tally_cuts`` lays them out, changed, reachers). Not parallel itself: there every array
    expression would be a parallel region of its own, each costing a launch."""
    L = st.list_state.shape[0]
    streams = np.empty(1 + L, np.uint64)  # the appeals' stream, then each list's removals'
    streams[0] = rng.stream(key.seed, key.day, rng.APPEAL, 0)
    for l in range(L):
        streams[1 + l] = rng.stream(key.seed, key.day, rng.LIST_REMOVAL, l)
    n_chunks = (agents.shape[0] + CHUNK - 1) // CHUNK
    table = np.zeros((n_chunks, 3 + 5 * L + width), np.int64)
    if n_chunks:  # no parallel launch on a day with nobody busy
        _own_chunks(key, agents, sp, lp, st, streams, table)
    totals = np.zeros(table.shape[1], np.int64)
    for c in range(n_chunks):
        totals += table[c]
    changed = np.empty(totals[0], np.int32)
    reachers = np.empty(totals[1], np.int32)
    w = v = 0
    for k in range(agents.shape[0]):
        i = agents[k]
        m = st.scratch[i]
        if m != st.own_mask[i]:
            changed[w] = i
            w += 1
            st.own_mask[i] = m
        if m & sp.reach_bits:
            reachers[v] = i
            v += 1
    return totals, changed, reachers


@nb.njit(cache=True)
def for_expression(i, s, day, sp, st):
    """Agent i's own sanction s would not hold without penalties on expression: a list it
    entered by an expression behaviour, or a grade its score without them stays above."""
    if not sp.expression_scored:
        return False
    if sp.on_list[s] >= 0:
        return sp.list_expression[sp.on_list[s]]
    if st.paths.shape[0] == 0:
        return False
    without = path_after(st.paths, i, day, sp.recovery, NO_EXPRESSION_PATH)
    return sp.initial - without >= sp.threshold[s]


@nb.njit(cache=True)
def reach_pairs(reachers, day, sp, groups, st):
    """(member, sanction bit, for expression) for every other member of each reacher's group
    that one of its sanctions reaches, in the reachers' order."""
    S = sp.reach.shape[0]
    own_mask = st.own_mask
    size = 0
    for k in range(reachers.shape[0]):
        for s in range(S):
            if own_mask[reachers[k]] & sp.reach_bits & (1 << s):
                g = group_id(sp.reach[s], reachers[k], groups)
                if g >= 0:
                    gg = groups.off[sp.reach[s]] + g
                    size += groups.start[gg + 1] - groups.start[gg]
    pm, pbit, pexpr = np.empty(size, np.int32), np.empty(size, np.uint8), np.empty(size, np.bool_)
    w = 0
    for k in range(reachers.shape[0]):
        a = reachers[k]
        for s in range(S):
            bit = 1 << s
            if own_mask[a] & sp.reach_bits & bit:
                g = group_id(sp.reach[s], a, groups)
                if g < 0:
                    continue
                expr = for_expression(a, s, day, sp, st)
                gg = groups.off[sp.reach[s]] + g
                for j in range(groups.start[gg], groups.start[gg + 1]):
                    m = member_at(j, groups)
                    if m != a:
                        pm[w], pbit[w], pexpr[w] = m, bit, expr
                        w += 1
    return pm[:w], pbit[:w], pexpr[:w]


def _tally_cuts(L: int) -> tuple[slice, ...]:
    """Where ``_sanction_own``'s counts lie after changed, reachers and appeals won:
    listings, expiries, listed now, removals, appealed (L each), measured."""
    return (*(slice(3 + k * L, 3 + (k + 1) * L) for k in range(5)), slice(3 + 5 * L, None))


def sanction_own(key: DayKey, sp: SanctionParams, lp, groups, st, busy: np.ndarray,
                 n_groups: int) -> OwnResult:
    """The agents' own part of the stage, for the busy agents (marked by the recover stage,
    stages/busy.py): list transitions, appeals, own sanctions; and the group members their
    sanctions reach (wherever those members are held)."""
    width = columns(sp.grade_bounds.shape[0], n_groups)
    totals, changed, reachers = _sanction_own(key, busy, sp, lp, st, width)
    reach = Reach(*reach_pairs(reachers, key.day, sp, groups, st))  # every day (loaded once)
    return OwnResult(int(totals[2]), *(totals[c] for c in _tally_cuts(st.list_state.shape[0])),
                     changed, reach)


@nb.njit(cache=True)
def apply_reach(prev_reached, reach, reach_mask, expression_mask):
    """Yesterday's reach is lifted, today's (member, bit) pairs set; returns the agents
    reached today, each once. ``expression_mask`` (the sanction stage's working space, free
    once own sanctions are split off) gets the bits reaching a member for expression."""
    for k in range(prev_reached.shape[0]):
        reach_mask[prev_reached[k]] = 0
    reached = np.empty(reach.member.shape[0], np.int32)
    n_reached = 0
    for k in range(reach.member.shape[0]):
        m = reach.member[k]
        if reach_mask[m] == 0:
            reached[n_reached] = m
            n_reached += 1
            expression_mask[m] = 0
        reach_mask[m] |= reach.bit[k]
        if reach.expression[k]:
            expression_mask[m] |= reach.bit[k]
    return reached[:n_reached]


class SettleCounts(NamedTuple):
    """The settle step's counts of the day."""

    activations: np.ndarray  # int64[S]: sanctions switched on
    new_people: np.ndarray  # int64[S + 1]: people under a sanction for the first time; any
    by_cause: np.ndarray  # int64[4]: activations by but-for cause (BY_*)
    new_by_cause: np.ndarray  # int64[5]: people newly in each harm (NEW_*)


@nb.njit(cache=True)
def _cause(i, s, day, sp, st):
    """The but-for cause of agent i's sanction s switching on today (BY_OWN, BY_FALSE_MATCH
    or BY_ASSOCIATION; docs/model.md) and whether it is for expression."""
    bit = 1 << s
    if not st.own_mask[i] & bit:  # it reaches i from a relative or colleague
        return BY_ASSOCIATION, (st.scratch[i] & bit) != 0
    expression = for_expression(i, s, day, sp, st)
    if sp.on_list[s] >= 0:  # the cause of the act that listed it
        lbit = 1 << sp.on_list[s]
        if st.list_cause[i] & lbit:
            return BY_FALSE_MATCH, expression
        if st.list_cause[i] & (lbit << ASSOC_LIST_SHIFT):
            return BY_ASSOCIATION, expression
        return BY_OWN, expression
    if st.paths.shape[0] == 0:
        return BY_OWN, expression
    t = sp.threshold[s]
    if sp.initial - path_after(st.paths, i, day, sp.recovery, OWN_PATH) < t:
        return BY_OWN, expression  # its own acts alone would have done it
    if sp.initial - path_after(st.paths, i, day, sp.recovery, OWN_FM_PATH) < t:
        return BY_FALSE_MATCH, expression  # with the false matches pinned on it
    return BY_ASSOCIATION, expression  # only with what spilled onto it


@nb.njit(cache=True)
def _activate(i, s, day, sp, st, counts):
    cause, expression = _cause(i, s, day, sp, st)
    f = st.flags[i]
    harm = (EVER_OWN if cause == BY_OWN else EVER_FALSE | EVER_FOR_OTHERS
            if cause == BY_FALSE_MATCH else EVER_ASSOC | EVER_FOR_OTHERS)
    if expression:
        harm |= EVER_FOR_EXPRESSION
    new = harm & ~f
    for k, b in ((NEW_OWN, EVER_OWN), (NEW_FALSE_MATCH, EVER_FALSE),
                 (NEW_ASSOCIATION, EVER_ASSOC), (NEW_FOR_OTHERS, EVER_FOR_OTHERS),
                 (NEW_FOR_EXPRESSION, EVER_FOR_EXPRESSION)):
        counts.new_by_cause[k] += (new & b) != 0
    S = counts.activations.shape[0]
    counts.new_people[S] += (f & EVER_SANCTIONED) == 0
    st.flags[i] = f | EVER_SANCTIONED | harm
    bit = 1 << s
    counts.activations[s] += 1
    counts.new_people[s] += (st.ever_mask[i] & bit) == 0
    st.ever_mask[i] |= bit
    counts.by_cause[cause] += 1
    if expression:
        counts.by_cause[BY_EXPRESSION] += 1
    if sp.mark:  # only when caution responds to it (state.py)
        st.today[i] |= SANCTIONED_TODAY
        st.live[i >> LIVE_SHIFT] = 1
    if cause == BY_FALSE_MATCH and sp.appeals and st.appeal_day[i] < 0:
        st.appeal_day[i] = day + sp.appeal_delay


@nb.njit(cache=True)
def _settle(agents, day, sp, ties, st, group, span, counts, sent, w):
    """Effective sanctions of these agents: count (per sanction and per group), account by
    cause, push visibility (to ties in [lo, hi) here; to the others into ``sent`` from
    position w on: returns the new position)."""
    n, lo, hi = span
    S = sp.on_list.shape[0]
    for k in range(agents.shape[0]):
        i = agents[k]
        old, new = st.eff_mask[i], st.own_mask[i] | st.reach_mask[i]
        if new == old:
            continue
        for s in range(S):
            bit = 1 << s
            if new & bit and not old & bit:
                st.sanctioned_count[s] += 1
                _activate(i, s, day, sp, st, counts)
            elif old & bit and not new & bit:
                st.sanctioned_count[s] -= 1
        st.sanctioned_count[S] += (new != 0) - (old != 0)
        st.sanctioned_group[group[i]] += (new != 0) - (old != 0)
        if ((old & sp.visible_bits) != 0) != ((new & sp.visible_bits) != 0):
            delta = 1 if new & sp.visible_bits else -1
            for l in range(ties.indptr.shape[0]):
                j, end = ties.base[l] + ties.indptr[l, i], ties.base[l] + ties.indptr[l, i + 1]
                while j < end:
                    slot = j
                    t, j = tie_at(ties.indices, j, i)
                    if is_cut(st.cut, slot):
                        continue  # a cut tie sees nothing
                    if lo <= t < hi:
                        st.sanctioned_ties[t] += delta
                        st.live[t >> LIVE_SHIFT] = 1
                    else:
                        sent.tie[w], sent.delta[w] = t, delta
                        w += 1
        st.eff_mask[i] = new
    return w


@nb.njit(cache=True)
def _tie_slots(ties, agents):
    """The tie slots of these agents, over every layer."""
    room = 0
    for k in range(agents.shape[0]):
        for l in range(ties.indptr.shape[0]):
            room += ties.indptr[l, agents[k] + 1] - ties.indptr[l, agents[k]]
    return room


@nb.njit(cache=True)
def _settle_day(day, span, sp, ties, st, reached, changed, reach, group):
    """``settle`` in one call: the reach applied, then ``_settle`` on the agents whose own
    sanctions changed, yesterday's reached and today's, in turn."""
    today = apply_reach(reached, reach, st.reach_mask, st.scratch)
    n, lo, hi = span
    # the slots visibility pushes to ties outside [lo, hi) may need (none in one process)
    room = 0 if lo == 0 and hi == n else (_tie_slots(ties, changed) + _tie_slots(ties, reached)
                                          + _tie_slots(ties, today))
    sent = Visibility(np.empty(room, np.int32), np.empty(room, np.int32))
    S = sp.on_list.shape[0]
    counts = SettleCounts(np.zeros(S, np.int64), np.zeros(S + 1, np.int64),
                          np.zeros(4, np.int64), np.zeros(5, np.int64))
    w = _settle(changed, day, sp, ties, st, group, span, counts, sent, 0)
    w = _settle(reached, day, sp, ties, st, group, span, counts, sent, w)
    w = _settle(today, day, sp, ties, st, group, span, counts, sent, w)
    return today, counts, Visibility(sent.tie[:w], sent.delta[:w])


def settle(day: int, span: Span, sp: SanctionParams, ties, st, reached: np.ndarray,
           changed: np.ndarray, reach: Reach, group: np.ndarray,
           ) -> tuple[np.ndarray, SettleCounts, Visibility]:
    """Apply today's reach (every pair landing in [lo, hi)), lifting yesterday's
    (``reached``); settle the effective sanctions of the agents whose own or reached
    sanctions changed. Returns today's reached agents, the day's counts (activations and
    people, by sanction and by cause), and the visibility changes for ties outside [lo, hi).
    Called on quiet days too: a kernel first loaded mid-run costs more than the call."""
    return _settle_day(day, span, sp, ties, st, reached, changed, reach, group)


@nb.njit(cache=True)
def _apply_visibility(vis, sanctioned_ties, live):
    for k in range(vis.tie.shape[0]):
        sanctioned_ties[vis.tie[k]] += vis.delta[k]
        live[vis.tie[k] >> LIVE_SHIFT] = 1


def apply_visibility(vis: Visibility, st) -> None:
    """Visibility changes another range sent here land (integer adds: any order)."""
    if vis.tie.shape[0]:
        _apply_visibility(vis, st.sanctioned_ties, st.live)


@nb.njit(cache=True)
def _recount(span, visible_bits, ties, st, sent):
    n, lo, hi = span
    st.sanctioned_ties[lo:hi] = 0
    if hi > lo:
        st.live[lo >> LIVE_SHIFT:((hi - 1) >> LIVE_SHIFT) + 1] = 1
    w = 0
    for i in range(lo, hi):
        if st.eff_mask[i] & visible_bits:
            for l in range(ties.indptr.shape[0]):
                j, end = ties.base[l] + ties.indptr[l, i], ties.base[l] + ties.indptr[l, i + 1]
                while j < end:
                    slot = j
                    t, j = tie_at(ties.indices, j, i)
                    if is_cut(st.cut, slot):
                        continue
                    if lo <= t < hi:
                        st.sanctioned_ties[t] += 1
                    else:
                        sent.tie[w] = t
                        w += 1
    return w


def recount_visibility(span: Span, sp: SanctionParams, ties, st) -> Visibility:
    """Recount the visibly sanctioned ties from agents [lo, hi) from scratch (a timeline
    change made a sanction visible or hidden: the daily pushes only follow changes); the
    pushes to ties outside [lo, hi) are returned."""
    n, lo, hi = span
    room = 0 if (lo == 0 and hi == n) else int(ties.indptr[:, hi].sum() - ties.indptr[:, lo].sum())
    sent = Visibility(np.empty(room, np.int32), np.ones(room, np.int32))
    w = _recount(span, sp.visible_bits, ties, st, sent)
    return Visibility(sent.tie[:w], sent.delta[:w])
