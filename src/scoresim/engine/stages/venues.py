"""Venues abroad (part of stage 2, observe): visits, cameras, identification, records home.

Each day residents of a city abroad visit its venues and sit at tables. A patron is captured by
the venue's cameras with the venue's capture probability; where the feed reaches the home
system, each capture is a record crossing the border, and the face is searched as at home
(observe.py's ``search``: the channel's watch list, FNIR, FPIR from the FMR and the gallery,
review, action). An enrolled patron on the list is identified; any other face may raise a
false alert that names someone on the home system's list: an enrolled person drawn among the
whole gallery, mostly at home. An acted-on alert marks the person named as identified from a
venue feed, and the acts the patron does at the venue that day (the venue's act share) are
pinned on that person, with the penalties and association that follow. Patrons captured at
one table are recorded as associated. The home cameras do not reach abroad.

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
from .observe import (
    ALERT,
    AT_VENUE,
    FALSE,
    NOT_ACTED,
    OBSERVED,
    RecognitionCounts,
    gallery_sizes,
    recognition_counts,
    search,
)


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
    """Agents a venue's acted-on alert named outside the range of the face: marked as
    identified abroad where they are held."""

    agent: np.ndarray  # int32[k]


class VenueCounts(NamedTuple):
    """The day at the venues abroad, counted by the ranges that hold the patrons."""

    visits: np.ndarray  # int64[K]
    identified: np.ndarray  # int64[K]: true alerts (patrons on the list recognised)
    false_matches: np.ndarray  # int64[K]: false alerts (patrons matched onto someone else)
    records: np.ndarray  # int64[K, G]: captures sent home, by the patron's group
    acts: np.ndarray  # int64[3]: acts at venues, of them observed, of them pinned on others
    associations: int  # pairs of patrons captured at one table (the feed home records them)
    searches: RecognitionCounts  # the faces searched, by group


class _Patrons(NamedTuple):
    """Visits sorted by venue (kind, instance), then agent: one order in every range."""

    agent: np.ndarray
    kind: np.ndarray
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
def _identify(key, vp, op, people, sizes, patrons, flags, span, counts, outcome, victims):
    """Faces in the feeds, searched: counts per kind of venue, each visit's outcome (the
    person named, the status bits) in ``outcome``.

    Only patrons in [lo, hi); an acted-on alert naming someone outside is written to
    ``victims`` (returns how many) for the range that holds that person."""
    n, lo, hi = span
    group = people.group
    stream = rng.stream(key.seed, key.day, rng.VISIT, rng.VENUE_IDENTIFY)
    named, status = outcome
    w = 0
    for x in range(patrons.agent.shape[0]):
        k = patrons.kind[x]
        i = patrons.agent[x]
        if not (patrons.captured[x] and vp.feed[k]) or not lo <= i < hi:
            continue
        counts.records[k, group[i]] += 1
        flags[i] |= CAPTURED_ABROAD
        names = rng.stream(key.seed, key.day, rng.NAME, rng.name_at_venue(k))
        t, st = search(i, vp.channel[k], key.seed, stream, 4 * k, names, op, people, sizes)
        named[x], status[x] = t, st
        if st & ALERT:
            if st & FALSE:
                counts.false_matches[k] += 1
            else:
                counts.identified[k] += 1
        if st & NOT_ACTED:
            continue
        if lo <= t < hi:
            flags[t] |= IDENTIFIED_ABROAD
        else:
            victims[w] = t
            w += 1
    return w


@nb.njit(cache=True)
def _acts_at_venues(key, acts, vp, op, people, patrons, outcome, by_agent, counts):
    """Acts done at a venue are seen by its cameras (if they feed home) and pinned on whom
    the patron's face was matched to that day: counts = [acts at venues, of them observed,
    of them pinned on someone else]. ``by_agent``: the patrons' agents sorted, and the visit
    of each."""
    region = people.region
    sorted_agent, sorted_visit = by_agent
    named, status = outcome
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
            st |= OBSERVED | status[x]
            counts[1] += 1
            t = named[x]
            if not status[x] & NOT_ACTED and status[x] & FALSE:
                counts[2] += 1
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


def _by_venue(visits: Visits) -> _Patrons:
    """The visits sorted by venue (kind, instance), then agent."""
    order = np.lexsort((visits.agent, visits.instance, visits.kind))
    return _Patrons(visits.agent[order], visits.kind[order], visits.captured[order])


def venue_observe(visits: Visits, acts, span: Span, key: DayKey, vp: VenueParams, op, people,
                  flags: np.ndarray) -> tuple[VenueCounts, Victims]:
    """Identification at the venues and the acts done there, given all the day's visits: the
    parts of the patrons and actors in [lo, hi). Rewrites the observation of acts done at a
    venue (``acts``: their ``Acts``, attributed at home). Returns the counts and the people
    named outside [lo, hi) (to mark in their range)."""
    n, lo, hi = span
    K, G = vp.region.shape[0], op.watch.shape[1]
    patrons = _by_venue(visits)
    v = patrons.agent.shape[0]
    counts = VenueCounts(np.zeros(K, np.int64), np.zeros(K, np.int64), np.zeros(K, np.int64),
                         np.zeros((K, G), np.int64), np.zeros(3, np.int64),
                         _table_pairs(visits, vp, span), None)
    outcome = (np.full(v, -1, np.int32), np.zeros(v, np.uint8))
    victims = np.empty(v, np.int32)
    w = _identify(key, vp, op, people, gallery_sizes(people, op.enrolled), patrons, flags, span,
                  counts, outcome, victims)
    by_agent = np.argsort(patrons.agent, kind="stable")
    _acts_at_venues(key, acts, vp, op, people, patrons, outcome,
                    (patrons.agent[by_agent], by_agent.astype(np.int64)), counts.acts)
    own = (patrons.agent >= lo) & (patrons.agent < hi)
    searches = recognition_counts(patrons.agent, outcome[0], outcome[1], people.group, G)
    counts = counts._replace(visits=np.bincount(patrons.kind[own], minlength=K),
                             searches=searches)
    return counts, Victims(victims[:w])


def mark_victims(victims: Victims, flags: np.ndarray) -> None:
    """Agents a venue's false match named elsewhere are marked identified abroad here."""
    flags[victims.agent] |= IDENTIFIED_ABROAD
