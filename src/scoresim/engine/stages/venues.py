"""Venues abroad (part of stage 2, observe): visits, cameras, identification, records home.

Each day residents of a city abroad visit its venues and sit at tables. A patron is captured by
the venue's cameras with the venue's capture probability; where the feed reaches the home
system, each capture is a record crossing the border. An enrolled patron (in the home gallery)
is identified with the channel's recognition rate; a patron who is not enrolled may be falsely
matched to an enrolled person (the channel's false-match probability, which grows with the
gallery searched, times the patron's group multiplier), drawn among the enrolled patrons of
the same venue that day, else among the city's enrolled residents. Patrons captured at one
table are recorded as associated. An act done at a venue (with the venue's act share) by a
patron is seen by its cameras instead of the home cameras, which do not reach abroad.

Everything here is sequential: visits abroad are few, and one pass keeps every count exact.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import rng
from ..state import CAPTURED_ABROAD, IDENTIFIED_ABROAD
from .candidates import gap
from .observe import AT_VENUE, FALSE, OBSERVED, UNIDENTIFIED


@nb.njit(cache=True)
def _visits(fill, seed, day, v_region, v_count, v_tables, v_capture, v_open, v_visit,
            cell_start, lo_, hi_, agent, kind, instance, table, captured):
    """Count (fill=False) or list the day's visits of agents [lo, hi), by kind, then group,
    then agent."""
    G = v_visit.shape[1]
    w = 0
    for k in range(v_visit.shape[0]):
        pick = rng.stream(seed, day, rng.VISIT, 65536 + k)
        for g in range(G):
            q = v_visit[k, g] * v_open[k]
            cell = v_region[k] * G + g
            lo, hi = cell_start[cell], cell_start[cell + 1]
            if q <= 0 or hi <= lo:
                continue
            key = rng.stream(seed, day, rng.VISIT, k * 256 + g)
            pos, j = lo, 0
            while True:
                pos += gap(key, 0, j, q, hi - pos)
                j += 1
                if pos >= hi:
                    break
                if not lo_ <= pos < hi_:
                    pos += 1
                    continue
                if fill:
                    agent[w] = pos
                    kind[w] = k
                    instance[w] = int(rng.uniform(pick, pos, 0) * v_count[k])
                    table[w] = instance[w] * v_tables[k] + int(rng.uniform(pick, pos, 1)
                                                               * v_tables[k])
                    captured[w] = rng.uniform(pick, pos, 2) < v_capture[k]
                w += 1
                pos += 1
    return w


@nb.njit(cache=True)
def _enrolled_in(region, cell_start, g_enrolled, u):
    """An enrolled resident of ``region`` drawn uniformly (-1 if there is none)."""
    G = g_enrolled.shape[0]
    total = 0
    for g in range(G):
        if g_enrolled[g]:
            total += cell_start[region * G + g + 1] - cell_start[region * G + g]
    if total == 0:
        return -1
    x = int(u * total)
    for g in range(G):
        if g_enrolled[g]:
            size = cell_start[region * G + g + 1] - cell_start[region * G + g]
            if x < size:
                return cell_start[region * G + g] + x
            x -= size
    return -1


@nb.njit(cache=True)
def _patron(v, start, end, agent, group, g_enrolled, exclude, u):
    """An enrolled patron among visits [start, end) (one venue, one day), not ``exclude``."""
    n = 0
    for x in range(start, end):
        if agent[x] != exclude and g_enrolled[group[agent[x]]]:
            n += 1
    if n == 0:
        return -1
    pick = int(u * n)
    for x in range(start, end):
        if agent[x] != exclude and g_enrolled[group[agent[x]]]:
            if pick == 0:
                return agent[x]
            pick -= 1
    return -1


@nb.njit(cache=True)
def _identify(seed, day, v_region, v_feed, v_channel, c_recognition, c_false_match,
              g_false_match, g_enrolled, group, cell_start, agent, kind, vstart, vend,
              captured, flags, out, lo, hi, victims):
    """Faces in the feeds: out[k] = [identified, false matches, records home by group...].

    Only patrons in [lo, hi) (a partition's); a false match onto someone outside is written to
    ``victims`` (returns how many) for that person's partition to mark."""
    key = rng.stream(seed, day, rng.VISIT, 2 * 65536)
    w = 0
    for x in range(agent.shape[0]):
        k = kind[x]
        i = agent[x]
        if not (captured[x] and v_feed[k]) or not lo <= i < hi:
            continue
        out[k, 2 + group[i]] += 1
        flags[i] |= CAPTURED_ABROAD
        c = v_channel[k]
        if g_enrolled[group[i]]:
            if rng.uniform(key, i, k * 4) < c_recognition[c]:
                out[k, 0] += 1
                flags[i] |= IDENTIFIED_ABROAD
        elif rng.uniform(key, i, k * 4 + 1) < min(1.0, c_false_match[c] * g_false_match[group[i]]):
            v = _victim(i, k, x, rng.uniform(key, i, k * 4 + 2), v_region, cell_start, agent,
                        vstart, vend, group, g_enrolled)
            if v >= 0:
                out[k, 1] += 1
                if lo <= v < hi:
                    flags[v] |= IDENTIFIED_ABROAD
                else:
                    victims[w] = v
                    w += 1
    return w


@nb.njit(cache=True)
def _victim(i, k, x, u, v_region, cell_start, agent, vstart, vend, group, g_enrolled):
    """Whom a false match names: an enrolled patron of the same venue that day, else an
    enrolled resident of the city."""
    v = _patron(k, vstart[x], vend[x], agent, group, g_enrolled, i, u)
    if v < 0:
        v = _enrolled_in(v_region[k], cell_start, g_enrolled, u)
    return v


@nb.njit(cache=True)
def _acts_at_venues(seed, day, act_agent, act_beh, target, status, region, r_abroad,
                    b_channel, c_observe, c_recognition, c_false_match, g_false_match,
                    g_enrolled, group, cell_start, v_region, v_feed, v_act_share, v_channel,
                    sorted_agent, sorted_visit, agent, kind, vstart, vend, captured, counts):
    """Acts done at a venue are seen by its cameras (if they feed home): counts = [acts at
    venues, of them observed, of them pinned on someone else]."""
    key = rng.stream(seed, day, rng.VENUE_ACT, 0)
    for e in range(act_agent.shape[0]):
        i, b = act_agent[e], act_beh[e]
        if not r_abroad[region[i]] or c_observe[b_channel[b]] >= 0:
            continue  # at home, or not a camera behaviour: its own channel stands
        p = np.searchsorted(sorted_agent, i)
        if p >= sorted_agent.shape[0] or sorted_agent[p] != i:
            continue  # no visit today
        x = sorted_visit[p]
        k = kind[x]
        idx = np.int64(i) * 256 + b
        if rng.uniform(key, idx, 0) >= v_act_share[k]:
            continue
        st, t = AT_VENUE, -1
        counts[0] += 1
        if captured[x] and v_feed[k]:
            st |= OBSERVED
            counts[1] += 1
            c = v_channel[k]
            f = min(1.0, c_false_match[c] * g_false_match[group[i]])
            enrolled = g_enrolled[group[i]]
            if enrolled and rng.uniform(key, idx, 1) < c_recognition[c]:
                t = i
            if rng.uniform(key, idx, 2) < f:
                v = _victim(i, k, x, rng.uniform(key, idx, 3), v_region, cell_start, agent,
                            vstart, vend, group, g_enrolled)
                if v >= 0:
                    t = v
                    st |= FALSE
                    counts[2] += 1
            if t < 0:
                st |= UNIDENTIFIED
        target[e], status[e] = t, st


def venue_visits(seed, day, p, people, lo=0, hi=None) -> tuple[np.ndarray, ...]:
    """The day's visits of agents [lo, hi) (default all): agent, kind, instance, table,
    captured, each in the order of the visits."""
    hi = people.n if hi is None else hi
    args = (seed, day, p.v_region, p.v_count, p.v_tables, p.v_capture, p.v_open, p.v_visit,
            people.cell_start, lo, hi)
    e32, e64, eb = np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.bool_)
    n = _visits(False, *args, e32, e32, e64, e64, eb)
    agent, kind = np.empty(n, np.int32), np.empty(n, np.int32)
    instance, table, captured = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, bool)
    _visits(True, *args, agent, kind, instance, table, captured)
    return agent, kind, instance, table, captured


def table_associations(visits, p) -> int:
    """Patrons captured at one table, feed home: each pair is a recorded association."""
    _, kind, _, table, captured = visits
    home = captured & p.v_feed[kind]
    _, at_table = np.unique(kind[home].astype(np.int64) * (1 << 40) + table[home],
                            return_counts=True)
    return int(np.sum(at_table * (at_table - 1) // 2))


def venue_observe(visits, act_agent, act_beh, target, status, seed, day, p, people, s,
                  lo=0, hi=None) -> tuple[dict, np.ndarray]:
    """Identification at the venues and the acts done there, given all the day's visits: the
    parts of patrons and actors in [lo, hi) (default all). Returns the counts and the
    falsely matched people outside [lo, hi) (to mark in their partition)."""
    K, G = p.v_region.shape[0], len(people.group_names)
    hi = people.n if hi is None else hi
    agent, kind, instance, table, captured = visits
    n = agent.shape[0]
    e64 = np.zeros(0, np.int64)
    # group the visits by venue (kind, instance): each visit knows its venue's range
    order = np.lexsort((agent, instance, kind))
    agent, kind, instance = agent[order], kind[order], instance[order]
    table, captured = table[order], captured[order]
    venue_key = kind.astype(np.int64) * (int(p.v_count.max()) + 1) + instance
    edges = np.flatnonzero(np.diff(venue_key)) + 1
    starts = np.concatenate([[0], edges]).astype(np.int64)
    ends = np.concatenate([edges, [n]]).astype(np.int64)
    run = np.repeat(np.arange(len(starts)), ends - starts) if n else np.zeros(0, np.int64)
    vstart, vend = starts[run] if n else e64, ends[run] if n else e64
    out = np.zeros((K, 2 + G), np.int64)
    victims = np.empty(n, np.int32)
    w = _identify(seed, day, p.v_region, p.v_feed, p.v_channel, p.c_recognition,
                  p.c_false_match, p.g_false_match, p.g_enrolled, people.group,
                  people.cell_start, agent, kind, vstart, vend, captured, s.flags, out, lo, hi,
                  victims)
    by_agent = np.argsort(agent, kind="stable")
    counts = np.zeros(3, np.int64)
    _acts_at_venues(seed, day, act_agent, act_beh, target, status, people.region, p.r_abroad,
                    p.b_channel, p.c_observe, p.c_recognition, p.c_false_match,
                    p.g_false_match, p.g_enrolled, people.group, people.cell_start, p.v_region,
                    p.v_feed, p.v_act_share, p.v_channel, agent[by_agent],
                    by_agent.astype(np.int64), agent, kind, vstart, vend, captured, counts)
    own = (agent >= lo) & (agent < hi)
    return {"visits": np.bincount(kind[own], minlength=K), "identified": out[:, 0],
            "false_matches": out[:, 1], "records": out[:, 2:],
            "acts_at_venues": int(counts[0]), "observed_at_venues": int(counts[1]),
            "pinned_at_venues": int(counts[2])}, victims[:w]


def venue_day(act_agent, act_beh, target, status, seed, day, p, people, s) -> dict:
    """The day at the venues abroad; rewrites the observation of acts done there."""
    if p.v_region.shape[0] == 0:
        return {}
    visits = venue_visits(seed, day, p, people)
    out, _ = venue_observe(visits, act_agent, act_beh, target, status, seed, day, p, people, s)
    out["associations"] = table_associations(visits, p)
    return out
