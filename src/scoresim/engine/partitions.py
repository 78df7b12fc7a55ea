"""One population split into contiguous agent ranges (partitions): the split, the message
routing, and each stage's part for one range [lo, hi).

A partition computes only its own agents' part of every stage; an effect that lands on an
agent of another partition (a spilled penalty, a false match, a sanction reaching a relative,
a visibility change seen by a tie, a penalty lowering a firm owned elsewhere) becomes a message
for that partition. Every draw is keyed by (seed, day, stage, agent, draw) and every message
is applied either in the single process's order (penalties, firm ratings) or where the order
cannot matter (integer adds, bits set), so the partitioned run equals the single-process run
bit for bit. No Ray here: the actors and the driver are in ``experiments/partitioned.py``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .groups import member_at
from .measure import measure_counts
from .stages.act import act
from .stages.busy import busy_agents
from .stages.candidates import BLOCK
from .stages.firms import rate_firms
from .stages.observe import observe
from .stages.recover import _recover
from .stages.respond import respond
from .stages.sanction import _settle, apply_reach, reach_pairs, sanction_own
from .stages.score import score_and_list
from .stages.spill import spill_routed
from .state import LIVE_SHIFT
from .ties import tie_at


def split(region_start: np.ndarray, k: int) -> np.ndarray:
    """K + 1 boundaries of K contiguous agent ranges: whole regions, as balanced as possible,
    when there are at least K regions; else multiples of the act stage's 4,096-agent blocks."""
    n = int(region_start[-1])
    starts = np.unique(np.asarray(region_start, np.int64))
    if k < 1:
        raise ValueError("partitions must be at least 1")
    if len(starts) - 1 >= k:  # choose k - 1 inner region starts nearest the even cuts
        inner = starts[1:-1]
        cuts, lo = [], 0
        for j in range(1, k):
            free = inner[(inner > lo) & (np.arange(len(inner)) < len(inner) - (k - 1 - j))]
            best = int(free[np.argmin(np.abs(free - n * j / k))])
            cuts.append(best)
            lo = best
        return np.array([0, *cuts, n], np.int64)
    blocks = (n + BLOCK - 1) // BLOCK
    if blocks < k:
        raise ValueError(f"{n} agents make only {blocks} blocks of {BLOCK}: too few for "
                         f"{k} partitions")
    return np.array([min(n, round(blocks * j / k) * BLOCK) for j in range(k + 1)], np.int64)


def owner(agents: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The partition holding each agent."""
    return np.searchsorted(bounds, agents, side="right") - 1


def route(dest: np.ndarray, k: int, *arrays: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Split messages by destination partition, keeping their order within each."""
    order = np.argsort(dest, kind="stable")
    cuts = np.searchsorted(dest[order], np.arange(k + 1))
    return [tuple(a[order[cuts[j]: cuts[j + 1]]] for a in arrays) for j in range(k)]


def gather(messages: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Messages from every partition for one destination, in partition order."""
    return tuple(np.concatenate(parts) for parts in zip(*messages, strict=True))


# ------------------------------------------------------------------ stages
def act_observe(day: int, seed: int, p, people, s, lo: int, hi: int):
    """Act, and observe the acts, of agents [lo, hi)."""
    agent, beh, acts = act(people.n, seed, day, p, people.propensity, s.caution, s.list_state,
                           lo, hi)
    if p.scoring_enabled:
        target, status = observe(agent, beh, seed, day, p, people)
    else:
        target, status = np.full(agent.shape[0], -1, np.int32), np.zeros(agent.shape[0], np.uint8)
    return agent, beh, acts, target, status


def global_order(beh: list[np.ndarray]) -> np.ndarray:
    """The single process's order of the day's acts (by behaviour, then agent) over the
    partitions' lists concatenated: each list is in that order and the ranges ascend."""
    part = np.concatenate([np.full(b.shape[0], j, np.int64) for j, b in enumerate(beh)])
    return np.lexsort((part, np.concatenate(beh)))


def score_part(acts: tuple[np.ndarray, ...], day: int, p, people, s, lo: int, hi: int):
    """Score the acts that concern [lo, hi) (done by its agents or pinned on them), given in
    the single process's order with their position ``event`` in it. Returns the penalties
    (agent, points, event) and the counts."""
    agent, beh, target, status, event = acts
    pen_agent, pen_points, counts, at = score_and_list(agent, beh, target, status, day, p, s,
                                                       people.region, lo, hi, events=True)
    return pen_agent, pen_points, event[at], counts


def spill_part(pen_agent, pen_points, p, net, s, people, lo: int, hi: int):
    """Spill the penalties of agents in [lo, hi): hits on its agents land here, the others
    come back as messages (agent, amount, from abroad). Returns (hits, messages)."""
    e32 = np.zeros(0, np.int32)
    if not p.association or pen_agent.shape[0] == 0:
        return 0, (e32, e32, np.zeros(0, np.bool_))
    return spill_routed(pen_agent, pen_points, p, net, s, people, lo, hi)


def firm_owners(net, bounds: np.ndarray) -> np.ndarray:
    """The partition of each group's owner (its first member): the one that rates it."""
    pos = net.group_start[:-1].astype(np.int64)
    return owner(_members_at(pos, net.member_base, net.group_members), bounds)


@nb.njit(cache=True)
def _members_at(pos, member_base, group_members):
    out = np.empty(pos.shape[0], np.int64)
    for k in range(pos.shape[0]):
        out[k] = member_at(pos[k], member_base, group_members)
    return out


def firm_messages(pen_agent, pen_points, pen_event, p, net, firm_part: np.ndarray, k: int):
    """Penalties that lower a rated firm, for the partition rating that firm: one message
    (agent, points, event) per penalty and partition."""
    empty = np.zeros(0, np.int64)
    dest = [empty]
    if p.association and firm_part.shape[0] and pen_agent.shape[0]:
        for l in np.flatnonzero(p.g_rating_weight > 0):
            g = net.group_of_agents(l, pen_agent)
            dest.append(np.where(g >= 0, firm_part[net.group_off[l] + np.maximum(g, 0)], -1))
    d = np.stack(dest[1:]) if len(dest) > 1 else np.full((1, pen_agent.shape[0]), -1)
    return [(pen_agent[m], pen_points[m], pen_event[m])
            for m in (np.any(d == j, axis=0) for j in range(k))]


def rate_part(firm_events: tuple[np.ndarray, ...], day: int, p, net, s, lo: int, hi: int):
    """Rate the firms owned in [lo, hi) from every penalty of their members, in the single
    process's order."""
    agent, points, event = firm_events
    order = np.argsort(event, kind="stable")
    return rate_firms(agent[order], points[order], day, p, net, s, lo, hi)


def recover_part(p, s, lo: int, hi: int, firms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recovery of agents [lo, hi) and of the firms rated here; returns the agents of the
    range that the sanction stage must look at (marked in the same pass) and the range's
    scores in a row of the day's counts (engine/measure.py)."""
    if p.recovery > 0 and s.firm_rating.shape[0] and firms.shape[0]:
        rating = s.firm_rating[firms]
        _recover(rating, p.initial, p.recovery)
        s.firm_rating[firms] = rating
    return busy_agents(p, s, p.recovery if p.recovery > 0 else 0, lo, hi)


def sanction_begin(day: int, seed: int, p, net, s, n_lists: int, busy: np.ndarray):
    """Own sanctions of the range's busy agents; the (member, bit) pairs they reach. The
    totals' row of the day's counts is ``stages.sanction.appeals_row(tot, n_lists)``."""
    tot, changed, reachers = sanction_own(day, seed, p, s, n_lists, busy)
    pm, pbit = reach_pairs(reachers, p.s_reach, p.reach_bits, net.group_row, net.group_ids,
                           net.group_off, net.group_start, net.group_hint, net.group_members,
                           net.member_base,
                           s.own_mask)
    return tot, changed, (pm, pbit)


def sanction_end(day: int, p, net, s, changed, pairs, lo: int, hi: int, group: np.ndarray):
    """Reach (pairs from every partition), effective sanctions and accounting of agents
    [lo, hi); returns (by cause, visibility messages (tie, delta) for other partitions)."""
    before = s.reached
    s.reached = apply_reach(before, pairs[0], pairs[1], s.reach_mask)
    lists = (changed, before, s.reached)
    room = 0
    for a in lists:
        room += int(np.sum(net.tie_indptr[:, a + 1] - net.tie_indptr[:, a]))
    out_tie, out_delta = np.empty(room, np.int32), np.empty(room, np.int32)
    by_cause = np.zeros(3, np.int64)
    w = 0
    for a in lists:
        w = _settle(a, day, p.s_list, p.visible_bits, p.appeals, p.appeal_delay, net.tie_base,
                    net.tie_indptr, net.tie_indices, s.own_mask, s.reach_mask, s.eff_mask,
                    s.list_cause, s.flags, s.today, p.caution_from_sanction != 0, s.live,
                    s.appeal_day, group, s.sanctioned_ties, s.sanctioned_count,
                    s.sanctioned_group, by_cause, lo, hi, out_tie, out_delta, w)
    return by_cause, (out_tie[:w], out_delta[:w])


@nb.njit(cache=True)
def _recount_part(lo, hi, eff_mask, visible_bits, tie_base, tie_indptr, tie_indices,
                  sanctioned_ties, live, out_tie):
    sanctioned_ties[lo:hi] = 0
    if hi > lo:
        live[lo >> LIVE_SHIFT:((hi - 1) >> LIVE_SHIFT) + 1] = 1
    w = 0
    for i in range(lo, hi):
        if eff_mask[i] & visible_bits:
            for l in range(tie_indptr.shape[0]):
                j, end = tie_base[l] + tie_indptr[l, i], tie_base[l] + tie_indptr[l, i + 1]
                while j < end:
                    t, j = tie_at(tie_indices, j, i)
                    if lo <= t < hi:
                        sanctioned_ties[t] += 1
                    else:
                        out_tie[w] = t
                        w += 1
    return w


def recount_part(p, net, s, lo: int, hi: int):
    """Recount the visibly sanctioned ties from agents [lo, hi) (a timeline change of
    visibility); returns the messages (tie, +1) for other partitions."""
    room = int(net.tie_indptr[:, hi].sum() - net.tie_indptr[:, lo].sum())
    out = np.empty(room, np.int32)
    w = _recount_part(lo, hi, s.eff_mask, p.visible_bits, net.tie_base, net.tie_indptr,
                      net.tie_indices, s.sanctioned_ties, s.live, out)
    return out[:w], np.ones(w, np.int32)


def respond_part(p, net, s, lo: int, hi: int) -> np.ndarray:
    """Caution of agents [lo, hi); the range's caution sum and sanctioned agents per group as
    integer totals (a row of engine/measure.py): with the scores' row from ``recover_part``
    and the appeals' from ``sanction_begin``, the partitions' rows add up to the single
    process's."""
    return respond(p, net, s, lo, hi)


def measure_part(p, s, group, n_groups: int, lo: int, hi: int) -> np.ndarray:
    """The range's measurements on a day nobody responds (scoring off)."""
    return measure_counts(p.grade_bounds, n_groups, s.score[lo:hi], s.caution[lo:hi],
                          s.eff_mask[lo:hi], group[lo:hi])
