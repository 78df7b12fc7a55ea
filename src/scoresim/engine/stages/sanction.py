"""Stage 6, sanction: lists advance (grace ends, listings expire), appeals resolve, and each
sanction is active while its condition holds (a grade at most G, or being on list L), for at
least its minimum duration. A sanction that ``reaches`` a group layer also falls on the other
members of the sanctioned agent's group (a debtor's children refused by schools).

Every activation is accounted by cause: own scored act, false match, or association. A grade
sanction's cause is the cause of the penalty that last moved the agent's score (the one that
tipped it over); a list sanction's cause is that of the act that put the agent on the list.

Cost follows the agents with something going on, not the population: a flat sweep marks the
busy agents (sanctioned, listed or pending, below a grade threshold, appeal pending); then
(A) over the busy agents in parallel: list transitions, appeals, new own sanctions; (B) split
out those whose sanctions changed and those whose sanctions reach others; (C) sequential over
those few: reach, effective sanctions, accounting by cause, visibility pushes to ties.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import rng
from ..groups import group_id, member_at
from ..measure import columns, grade_of
from ..state import (
    ASSOC_LIST_SHIFT,
    ASSOCIATION,
    CAUSE_SHIFT,
    EVER_ASSOC,
    EVER_FALSE,
    EVER_OWN,
    EVER_SANCTIONED,
    FALSE_MATCH,
    LIVE_SHIFT,
    OWN,
    SANCTIONED_TODAY,
)
from ..ties import tie_at
from .busy import busy_agents
from .listing import clear_cause

CHUNK = 65536
NEVER = 2**31 - 1


@nb.njit(parallel=True, cache=True)
def _pass_a(day, seed, agents, l_expire, s_list, s_threshold, s_min_days, s_min_row,
            reach_bits, appeals, appeal_success, score, list_state, list_cause, ever_listed,
            own_mask, scratch, since, appeal_day, fm_penalty, bounds, out):
    """Over the busy agents, in fixed chunks: list transitions, appeals, new own sanctions
    (into scratch). out[chunk] = [changed, reachers, appeals won, listings L, expiries L,
    listed now L | a row of the day's counts (engine/measure.py): the points appeals restore
    and the agents they move between grades]."""
    L, S = list_state.shape[0], s_list.shape[0]
    m0 = 3 + 3 * L
    akey = rng.stream(seed, day, rng.APPEAL, 0)
    k_all = agents.shape[0]
    for c in nb.prange((k_all + CHUNK - 1) // CHUNK):
        row = out[c]
        for k in range(c * CHUNK, min(k_all, (c + 1) * CHUNK)):
            i = agents[k]
            if appeals and appeal_day[i] >= 0 and day >= appeal_day[i]:
                appeal_day[i] = -1
                if rng.uniform(akey, i, 0) < appeal_success:
                    old = score[i]
                    score[i] += fm_penalty[i]
                    fm_penalty[i] = 0
                    row[m0] += score[i] - old
                    row[m0 + 2 + grade_of(old, bounds)] -= 1
                    row[m0 + 2 + grade_of(score[i], bounds)] += 1
                    for l in range(L):
                        if list_cause[i] & (1 << l) and list_state[l, i] != 0:
                            list_state[l, i] = 0
                            row[3 + L + l] += 1
                    list_cause[i] &= ~0xFF  # false-match causes cleared, association kept
                    row[2] += 1
            for l in range(L):
                st = list_state[l, i]
                if st < 0 and day >= -st - 1:
                    st = (day + l_expire[l] + 1) if l_expire[l] > 0 else NEVER
                    ever_listed[i] |= 1 << l
                    row[3 + l] += 1
                elif st > 0 and day >= st - 1:
                    st = 0
                    clear_cause(l, i, list_cause)
                    row[3 + L + l] += 1
                list_state[l, i] = st
                if st > 0:
                    row[3 + 2 * L + l] += 1
            old = own_mask[i]
            m = 0
            for s in range(S):
                bit = 1 << s
                if s_list[s] >= 0:
                    on = list_state[s_list[s], i] > 0
                else:
                    on = score[i] < s_threshold[s]
                r = s_min_row[s]
                if r >= 0:
                    if on and not (old & bit):
                        since[r, i] = day
                    elif not on and (old & bit) and day < since[r, i] + s_min_days[s]:
                        on = True
                if on:
                    m |= bit
            scratch[i] = m
            if m != old:
                row[0] += 1
            if m & reach_bits:
                row[1] += 1


@nb.njit(cache=True)
def _split(agents, reach_bits, own_mask, scratch, changed, reachers):
    """Busy agents whose own sanctions changed, and those whose sanctions reach others."""
    w = v = 0
    for k in range(agents.shape[0]):
        i = agents[k]
        m = scratch[i]
        if m != own_mask[i]:
            changed[w] = i
            w += 1
            own_mask[i] = m
        if m & reach_bits:
            reachers[v] = i
            v += 1


@nb.njit(cache=True)
def _activate(i, s, day, s_list, list_cause, own_mask, flags, today, mark, live, appeals,
              appeal_delay, appeal_day, by_cause):
    if own_mask[i] & (1 << s):
        if s_list[s] >= 0:
            bit = 1 << s_list[s]
            cause = (FALSE_MATCH if list_cause[i] & bit else
                     ASSOCIATION if list_cause[i] & (bit << ASSOC_LIST_SHIFT) else OWN)
        else:
            cause = (flags[i] >> CAUSE_SHIFT) & 3
            if cause == 0:
                cause = OWN
    else:
        cause = ASSOCIATION
    flags[i] |= EVER_SANCTIONED | (EVER_OWN if cause == OWN else
                                   EVER_FALSE if cause == FALSE_MATCH else EVER_ASSOC)
    if mark:  # only when caution responds to it (state.py)
        today[i] |= SANCTIONED_TODAY
        live[i >> LIVE_SHIFT] = 1
    by_cause[cause - 1] += 1
    if cause == FALSE_MATCH and appeals and appeal_day[i] < 0:
        appeal_day[i] = day + appeal_delay


@nb.njit(cache=True)
def _settle(agents, day, s_list, visible_bits, appeals, appeal_delay, tie_base, tie_indptr,
            tie_indices, own_mask, reach_mask, eff_mask, list_cause, flags, today, mark, live,
            appeal_day, group, sanctioned_ties, sanctioned_count, sanctioned_group, by_cause, lo,
            hi, out_tie, out_delta, w):
    """Effective sanctions of these agents: count (per sanction and per group), account by
    cause, push visibility (to ties in [lo, hi) here; to the others through out_* from
    position w on, returned)."""
    S = s_list.shape[0]
    for k in range(agents.shape[0]):
        i = agents[k]
        old, new = eff_mask[i], own_mask[i] | reach_mask[i]
        if new == old:
            continue
        for s in range(S):
            bit = 1 << s
            if new & bit and not old & bit:
                sanctioned_count[s] += 1
                _activate(i, s, day, s_list, list_cause, own_mask, flags, today, mark, live,
                          appeals, appeal_delay, appeal_day, by_cause)
            elif old & bit and not new & bit:
                sanctioned_count[s] -= 1
        sanctioned_count[S] += (new != 0) - (old != 0)
        sanctioned_group[group[i]] += (new != 0) - (old != 0)
        if ((old & visible_bits) != 0) != ((new & visible_bits) != 0):
            delta = 1 if new & visible_bits else -1
            for l in range(tie_indptr.shape[0]):
                j, end = tie_base[l] + tie_indptr[l, i], tie_base[l] + tie_indptr[l, i + 1]
                while j < end:
                    t, j = tie_at(tie_indices, j, i)
                    if lo <= t < hi:
                        sanctioned_ties[t] += delta
                        live[t >> LIVE_SHIFT] = 1
                    else:
                        out_tie[w], out_delta[w] = t, delta
                        w += 1
        eff_mask[i] = new
    return w


@nb.njit(cache=True)
def apply_ties(tie, delta, sanctioned_ties, live):
    """Visibility changes that another partition sent here (integer adds: any order)."""
    for k in range(tie.shape[0]):
        sanctioned_ties[tie[k]] += delta[k]
        live[tie[k] >> LIVE_SHIFT] = 1


@nb.njit(cache=True)
def reach_pairs(reachers, s_reach, reach_bits, group_row, group_ids, group_off, group_start,
                group_hint,
                group_members, member_base, own_mask):
    """(member, sanction bit) for every other member of each reacher's group that one of its
    sanctions reaches, in the reachers' order."""
    S = s_reach.shape[0]
    size = 0
    for k in range(reachers.shape[0]):
        for s in range(S):
            if own_mask[reachers[k]] & reach_bits & (1 << s):
                g = group_id(s_reach[s], reachers[k], group_row, group_ids, group_off,
                             group_start, group_hint)
                if g >= 0:
                    gg = group_off[s_reach[s]] + g
                    size += group_start[gg + 1] - group_start[gg]
    pm, pbit = np.empty(size, np.int32), np.empty(size, np.uint8)
    w = 0
    for k in range(reachers.shape[0]):
        a = reachers[k]
        for s in range(S):
            bit = 1 << s
            if own_mask[a] & reach_bits & bit:
                g = group_id(s_reach[s], a, group_row, group_ids, group_off, group_start,
                             group_hint)
                if g < 0:
                    continue
                gg = group_off[s_reach[s]] + g
                for j in range(group_start[gg], group_start[gg + 1]):
                    m = member_at(j, member_base, group_members)
                    if m != a:
                        pm[w], pbit[w] = m, bit
                        w += 1
    return pm[:w], pbit[:w]


@nb.njit(cache=True)
def apply_reach(prev_reached, pm, pbit, reach_mask):
    """Yesterday's reach is lifted, today's (member, bit) pairs set; returns the agents
    reached today, each once."""
    for k in range(prev_reached.shape[0]):
        reach_mask[prev_reached[k]] = 0
    reached = np.empty(pm.shape[0], np.int32)
    n_reached = 0
    for k in range(pm.shape[0]):
        m = pm[k]
        if reach_mask[m] == 0:
            reached[n_reached] = m
            n_reached += 1
        reach_mask[m] |= pbit[k]
    return reached[:n_reached]


@nb.njit(cache=True)
def _pass_c(day, changed, reachers, prev_reached, s_list, s_reach, visible_bits, reach_bits,
            appeals, appeal_delay, group_row, group_ids, group_off, group_start, group_hint,
            group_members,
            member_base, tie_base, tie_indptr, tie_indices, own_mask, reach_mask, eff_mask,
            list_cause, flags, today, mark, live, appeal_day, group, sanctioned_ties,
            sanctioned_count, sanctioned_group, by_cause):
    pm, pbit = reach_pairs(reachers, s_reach, reach_bits, group_row, group_ids, group_off,
                           group_start, group_hint, group_members, member_base, own_mask)
    reached = apply_reach(prev_reached, pm, pbit, reach_mask)
    e32 = np.zeros(0, np.int32)
    args = (day, s_list, visible_bits, appeals, appeal_delay, tie_base, tie_indptr, tie_indices,
            own_mask, reach_mask, eff_mask, list_cause, flags, today, mark, live, appeal_day,
            group, sanctioned_ties, sanctioned_count, sanctioned_group, by_cause, 0,
            own_mask.shape[0], e32, e32, 0)
    _settle(changed, *args)
    _settle(prev_reached, *args)
    _settle(reached, *args)
    return reached


@nb.njit(cache=True)
def _recount_ties(eff_mask, visible_bits, tie_base, tie_indptr, tie_indices, sanctioned_ties):
    sanctioned_ties[:] = 0
    for i in range(eff_mask.shape[0]):
        if eff_mask[i] & visible_bits:
            for l in range(tie_indptr.shape[0]):
                j, end = tie_base[l] + tie_indptr[l, i], tie_base[l] + tie_indptr[l, i + 1]
                while j < end:
                    m, j = tie_at(tie_indices, j, i)
                    sanctioned_ties[m] += 1


def recount_visible_ties(p, net, s) -> None:
    """Recount every agent's visibly sanctioned ties from scratch: needed when a timeline
    change makes a sanction visible or hidden (the daily pushes only follow changes)."""
    _recount_ties(s.eff_mask, p.visible_bits, net.tie_base, net.tie_indptr, net.tie_indices,
                  s.sanctioned_ties)
    s.mark_live()


def sanction_own(day, seed, p, s, n_lists, busy):
    """The agents' own part of the stage, for the busy agents (the recover stage marks them,
    stages/busy.py): list transitions, appeals, own sanctions. Returns the counts
    (``_pass_a``'s totals; ``appeals_row(tot, L)`` is their row of the day's counts), the agents
    whose own sanctions changed, and those whose sanctions reach others."""
    L = n_lists
    width = 3 + 3 * L + columns(p.grade_bounds.shape[0], s.sanctioned_group.shape[0])
    out = np.zeros(((busy.shape[0] + CHUNK - 1) // CHUNK, width), np.int64)
    _pass_a(day, seed, busy, p.l_expire, p.s_list, p.s_threshold, p.s_min_days, p.s_min_row,
            p.reach_bits, p.appeals, p.appeal_success, s.score, s.list_state, s.list_cause,
            s.ever_listed, s.own_mask, s.scratch, s.since, s.appeal_day, s.fm_penalty,
            p.grade_bounds, out)
    tot = out.sum(axis=0) if out.shape[0] else np.zeros(width, np.int64)
    changed = np.empty(int(tot[0]), np.int32)
    reachers = np.empty(int(tot[1]), np.int32)
    _split(busy, p.reach_bits, s.own_mask, s.scratch, changed, reachers)
    return tot, changed, reachers


def appeals_row(tot: np.ndarray, n_lists: int) -> np.ndarray:
    """The row of the day's counts in ``sanction_own``'s totals (what appeals changed)."""
    return tot[3 + 3 * n_lists:]


def sanction(day, seed, p, net, s, n_lists, group, busy=None):
    """Update sanctions. ``group``: each agent's group (below ``s.sanctioned_group``'s
    length); ``busy``: the agents marked by the recover stage (found here when not given).
    Returns a dict of the day's counts, with "measured": the change to the day's row of
    counts (appeals)."""
    L = n_lists
    if busy is None:
        busy = busy_agents(p, s, 0)[0]
    tot, changed, reachers = sanction_own(day, seed, p, s, L, busy)
    by_cause = np.zeros(3, np.int64)
    s.reached = _pass_c(day, changed, reachers, s.reached, p.s_list, p.s_reach,
                        p.visible_bits, p.reach_bits, p.appeals, p.appeal_delay, net.group_row,
                        net.group_ids, net.group_off, net.group_start, net.group_hint,
                        net.group_members,
                        net.member_base, net.tie_base, net.tie_indptr, net.tie_indices,
                        s.own_mask, s.reach_mask, s.eff_mask, s.list_cause, s.flags, s.today,
                        p.caution_from_sanction != 0, s.live, s.appeal_day, group,
                        s.sanctioned_ties, s.sanctioned_count, s.sanctioned_group, by_cause)
    return {
        "appeals_won": int(tot[2]),
        "listings": tot[3 : 3 + L],
        "expiries": tot[3 + L : 3 + 2 * L],
        "listed_now": tot[3 + 2 * L : 3 + 3 * L],
        "newly_sanctioned": by_cause,
        "measured": appeals_row(tot, L),
    }
