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

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ..context import DayKey, Span
from ..state import CAPTURED_ABROAD, IDENTIFIED_ABROAD
from .candidates import gap
from .observe import AT_VENUE, FALSE, OBSERVED, UNIDENTIFIED


class VenueParams(NamedTuple):
    """The venues abroad, one entry per kind of venue (see scenario/overseas.py)."""

    region: np.ndarray  # int64[K]: the city (a region)
    count: np.ndarray  # int64[K]: venues of this kind
    tables: np.ndarray  # int64[K]: tables per venue
    capture: np.ndarray  # float64[K]: a patron is captured by the cameras
    open: np.ndarray  # float64[K]: share of days open
    feed: np.ndarray  # bool[K]: the feed reaches the home system
    act_share: np.ndarray  # float64[K]: share of a visit day's acts done at the venue
    visit: np.ndarray  # float64[K, G]: daily visit probability by group
    channel: np.ndarray  # int64[K]: the channel of the venue cameras


class Visits(NamedTuple):
    """The day's visits: who, which kind of venue, which venue and table, captured or not.
    Every range needs all of them (patrons of one venue are held anywhere)."""

    agent: np.ndarray  # int32[k]
    kind: np.ndarray  # int32[k]
    instance: np.ndarray  # int64[k]
    table: np.ndarray  # int64[k]: instance * tables + the table
    captured: np.ndarray  # bool[k]


class Victims(NamedTuple):
    """Agents a venue's false match named: marked as identified abroad where they are held."""

    agent: np.ndarray  # int32[k]


class VenueCounts(NamedTuple):
    """The day at the venues abroad, counted by the ranges that hold the patrons."""

    visits: np.ndarray  # int64[K]
    identified: np.ndarray  # int64[K]: enrolled patrons recognised
    false_matches: np.ndarray  # int64[K]: patrons matched onto someone else
    records: np.ndarray  # int64[K, G]: captures sent home, by the patron's group
    acts: np.ndarray  # int64[3]: acts at venues, of them observed, of them pinned on others
    associations: int  # pairs of patrons captured at one table (the feed home records them)


class _Patrons(NamedTuple):
    """Visits sorted by venue, each knowing its venue's range of visits."""

    agent: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    captured: np.ndarray


@nb.njit(cache=True)
def _visits(fill, key, vp, cell_start, span, out):
    """Count (fill=False) or list (into ``out``, a ``Visits``) the day's visits of agents
    [lo, hi), by kind, then group, then agent."""
    n, lo_, hi_ = span
    G = vp.visit.shape[1]
    w = 0
    for k in range(vp.visit.shape[0]):
        pick = rng.stream(key.seed, key.day, rng.VISIT, rng.venue_pick(k))
        for g in range(G):
            q = vp.visit[k, g] * vp.open[k]
            cell = vp.region[k] * G + g
            lo, hi = cell_start[cell], cell_start[cell + 1]
            if q <= 0 or hi <= lo:
                continue
            stream = rng.stream(key.seed, key.day, rng.VISIT, rng.venue_group(k, g))
            pos, j = lo, 0
            while True:
                pos += gap(stream, 0, j, q, hi - pos)
                j += 1
                if pos >= hi:
                    break
                if not lo_ <= pos < hi_:
                    pos += 1
                    continue
                if fill:
                    out.agent[w] = pos
                    out.kind[w] = k
                    out.instance[w] = int(rng.uniform(pick, pos, 0) * vp.count[k])
                    out.table[w] = out.instance[w] * vp.tables[k] + int(
                        rng.uniform(pick, pos, 1) * vp.tables[k])
                    out.captured[w] = rng.uniform(pick, pos, 2) < vp.capture[k]
                w += 1
                pos += 1
    return w


@nb.njit(cache=True)
def _enrolled_in(region, cell_start, enrolled, u):
    """An enrolled resident of ``region`` drawn uniformly (-1 if there is none)."""
    G = enrolled.shape[0]
    total = 0
    for g in range(G):
        if enrolled[g]:
            total += cell_start[region * G + g + 1] - cell_start[region * G + g]
    if total == 0:
        return -1
    x = int(u * total)
    for g in range(G):
        if enrolled[g]:
            size = cell_start[region * G + g + 1] - cell_start[region * G + g]
            if x < size:
                return cell_start[region * G + g] + x
            x -= size
    return -1


@nb.njit(cache=True)
def _patron(start, end, agent, group, enrolled, exclude, u):
    """An enrolled patron among visits [start, end) (one venue, one day), not ``exclude``."""
    n = 0
    for x in range(start, end):
        if agent[x] != exclude and enrolled[group[agent[x]]]:
            n += 1
    if n == 0:
        return -1
    pick = int(u * n)
    for x in range(start, end):
        if agent[x] != exclude and enrolled[group[agent[x]]]:
            if pick == 0:
                return agent[x]
            pick -= 1
    return -1


@nb.njit(cache=True)
def _victim(i, k, x, u, vp, op, people, patrons):
    """Whom a false match names: an enrolled patron of the same venue that day, else an
    enrolled resident of the city."""
    v = _patron(patrons.start[x], patrons.end[x], patrons.agent, people.group, op.enrolled, i, u)
    if v < 0:
        v = _enrolled_in(vp.region[k], people.cell_start, op.enrolled, u)
    return v


@nb.njit(cache=True)
def _identify(key, vp, op, people, patrons, flags, span, counts, victims):
    """Faces in the feeds: identified, false matches and records home, per kind of venue.

    Only patrons in [lo, hi); a false match onto someone outside is written to ``victims``
    (returns how many) for the range that holds that person."""
    n, lo, hi = span
    group = people.group
    stream = rng.stream(key.seed, key.day, rng.VISIT, rng.VENUE_IDENTIFY)
    w = 0
    for x in range(patrons.agent.shape[0]):
        k = patrons.kind[x]
        i = patrons.agent[x]
        if not (patrons.captured[x] and vp.feed[k]) or not lo <= i < hi:
            continue
        counts.records[k, group[i]] += 1
        flags[i] |= CAPTURED_ABROAD
        c = vp.channel[k]
        if op.enrolled[group[i]]:
            if rng.uniform(stream, i, k * 4) < op.recognition[c]:
                counts.identified[k] += 1
                flags[i] |= IDENTIFIED_ABROAD
        elif rng.uniform(stream, i, k * 4 + 1) < min(
                1.0, op.false_match[c] * op.false_match_multiplier[group[i]]):
            v = _victim(i, k, x, rng.uniform(stream, i, k * 4 + 2), vp, op, people, patrons)
            if v >= 0:
                counts.false_matches[k] += 1
                if lo <= v < hi:
                    flags[v] |= IDENTIFIED_ABROAD
                else:
                    victims[w] = v
                    w += 1
    return w


@nb.njit(cache=True)
def _acts_at_venues(key, acts, vp, op, people, patrons, by_agent, counts):
    """Acts done at a venue are seen by its cameras (if they feed home): counts = [acts at
    venues, of them observed, of them pinned on someone else]. ``by_agent``: the patrons'
    agents sorted, and the visit of each."""
    region, group = people.region, people.group
    sorted_agent, sorted_visit = by_agent
    stream = rng.stream(key.seed, key.day, rng.VENUE_ACT, 0)
    for e in range(acts.agent.shape[0]):
        i, b = acts.agent[e], acts.beh[e]
        if not op.abroad[region[i]] or op.observe[op.channel[b]] >= 0:
            continue  # at home, or not a camera behaviour: its own channel stands
        p = np.searchsorted(sorted_agent, i)
        if p >= sorted_agent.shape[0] or sorted_agent[p] != i:
            continue  # no visit today
        x = sorted_visit[p]
        k = patrons.kind[x]
        idx = np.int64(i) * rng.MAX_KINDS + b
        if rng.uniform(stream, idx, 0) >= vp.act_share[k]:
            continue
        st, t = AT_VENUE, -1
        counts[0] += 1
        if patrons.captured[x] and vp.feed[k]:
            st |= OBSERVED
            counts[1] += 1
            c = vp.channel[k]
            f = min(1.0, op.false_match[c] * op.false_match_multiplier[group[i]])
            enrolled = op.enrolled[group[i]]
            if enrolled and rng.uniform(stream, idx, 1) < op.recognition[c]:
                t = i
            if rng.uniform(stream, idx, 2) < f:
                v = _victim(i, k, x, rng.uniform(stream, idx, 3), vp, op, people, patrons)
                if v >= 0:
                    t = v
                    st |= FALSE
                    counts[2] += 1
            if t < 0:
                st |= UNIDENTIFIED
        acts.target[e], acts.status[e] = t, st


def venue_visits(span: Span, key: DayKey, vp: VenueParams, people) -> Visits:
    """The day's visits of agents [lo, hi), in the order of the visits."""
    e = Visits(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64),
               np.zeros(0, np.int64), np.zeros(0, np.bool_))
    k = _visits(False, key, vp, people.cell_start, span, e)
    out = Visits(np.empty(k, np.int32), np.empty(k, np.int32), np.empty(k, np.int64),
                 np.empty(k, np.int64), np.empty(k, np.bool_))
    _visits(True, key, vp, people.cell_start, span, out)
    return out


def _table_pairs(visits: Visits, vp: VenueParams, span: Span) -> int:
    """Pairs of patrons captured at one table with the feed home (recorded as associated),
    each counted by the range holding the pair's first patron: the ranges' counts add up."""
    n, lo, hi = span
    home = visits.captured & vp.feed[visits.kind]
    table = visits.kind[home].astype(np.int64) * (1 << 40) + visits.table[home]
    agent = visits.agent[home]
    order = np.lexsort((agent, table))
    table, agent = table[order], agent[order]
    first = np.r_[0, np.flatnonzero(np.diff(table)) + 1] if table.size else np.zeros(0, int)
    size = np.diff(np.r_[first, table.size])
    rank = np.arange(table.size) - np.repeat(first, size)  # place within its table
    later = np.repeat(size, size) - 1 - rank  # patrons after it at its table
    mine = (agent >= lo) & (agent < hi)
    return int(np.sum(later[mine]))


def _by_venue(visits: Visits, vp: VenueParams) -> _Patrons:
    """The visits grouped by venue (kind, instance): each visit knows its venue's range."""
    n = visits.agent.shape[0]
    e64 = np.zeros(0, np.int64)
    order = np.lexsort((visits.agent, visits.instance, visits.kind))
    agent, kind, instance = visits.agent[order], visits.kind[order], visits.instance[order]
    venue_key = kind.astype(np.int64) * (int(vp.count.max()) + 1) + instance
    edges = np.flatnonzero(np.diff(venue_key)) + 1
    starts = np.concatenate([[0], edges]).astype(np.int64)
    ends = np.concatenate([edges, [n]]).astype(np.int64)
    run = np.repeat(np.arange(len(starts)), ends - starts) if n else np.zeros(0, np.int64)
    return _Patrons(agent, kind, starts[run] if n else e64, ends[run] if n else e64,
                    visits.captured[order])


def venue_observe(visits: Visits, acts, span: Span, key: DayKey, vp: VenueParams, op, people,
                  flags: np.ndarray) -> tuple[VenueCounts, Victims]:
    """Identification at the venues and the acts done there, given all the day's visits: the
    parts of the patrons and actors in [lo, hi). Rewrites the observation of acts done at a
    venue (``acts``: their ``Acts``, attributed at home). Returns the counts and the
    falsely matched people outside [lo, hi) (to mark in their range)."""
    n, lo, hi = span
    K, G = vp.region.shape[0], op.watch.shape[0]
    patrons = _by_venue(visits, vp)
    counts = VenueCounts(np.zeros(K, np.int64), np.zeros(K, np.int64), np.zeros(K, np.int64),
                         np.zeros((K, G), np.int64), np.zeros(3, np.int64),
                         _table_pairs(visits, vp, span))
    victims = np.empty(patrons.agent.shape[0], np.int32)
    w = _identify(key, vp, op, people, patrons, flags, span, counts, victims)
    by_agent = np.argsort(patrons.agent, kind="stable")
    _acts_at_venues(key, acts, vp, op, people, patrons,
                    (patrons.agent[by_agent], by_agent.astype(np.int64)), counts.acts)
    own = (patrons.agent >= lo) & (patrons.agent < hi)
    counts = counts._replace(visits=np.bincount(patrons.kind[own], minlength=K))
    return counts, Victims(victims[:w])


def mark_victims(victims: Victims, flags: np.ndarray) -> None:
    """Agents a venue's false match named elsewhere are marked identified abroad here."""
    flags[victims.agent] |= IDENTIFIED_ABROAD
