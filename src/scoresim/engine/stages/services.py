"""Stage 7, use services: agents ask for services; an active sanction that denies a service
turns the request down. Requests are candidate events (one draw per request, not per agent);
counts are per group so disparity can be measured.

Demand like travel (docs/model.md, "Services"): a service's ``propensity`` spreads its demand
over people (a few fly often: candidates are drawn at the highest propensity and kept in
proportion, as the act stage does); a denied request is tried again the same day with
probability ``retry`` (every try counted); a person turned away before, and still barred,
does not ask at all with probability ``give_up``; and a denied or given-up request goes to
another service (``switch_to``: rail for a flight) with probability ``switch`` when that one
is not denied to the person. ``blocked`` (a bit per service) marks the people turned away
since they were last served: the day counts those newly marked.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...core.constants import BLOCK
from ..context import DayKey, Span
from .candidates import gap, log_miss, n_blocks

MAX_TRIES = 1000  # a request's tries in a day at most (retry <= 0.999: reached < 1e-4 a try)


class ServiceParams(NamedTuple):
    """Each service's demand, the sanctions that deny it, and what the denied do."""

    demand: np.ndarray  # float64[V]: the mean daily probability an agent asks for it
    denied_by: np.ndarray  # uint8[V]: bitmask of the sanctions that deny it
    trait: np.ndarray  # int64[V]: the propensity row that spreads the demand, -1 for none
    bound: np.ndarray  # float64[V]: the highest daily probability of any agent (thinning)
    retry: np.ndarray  # float64[V]: probability a denied request is tried again today
    give_up: np.ndarray  # float64[V]: probability a barred person who knows does not ask
    switch_to: np.ndarray  # int64[V]: the service a denied request may go to, -1 none
    switch: np.ndarray  # float64[V]: probability it goes there (when not denied there)


class Asker(NamedTuple):
    """Who asks: each agent's group and propensities, what it is denied, and its blocked
    bits (written)."""

    group: np.ndarray  # uint8[n]
    propensity: np.ndarray  # float32[T, n]
    eff_mask: np.ndarray  # uint8[n]
    blocked: np.ndarray  # uint8[n]


@nb.njit(inline="always", cache=True)
def _tries(i, v, vp, after):
    """How many times a denied request is made today (1 + same-day retries)."""
    k = 1
    while k < MAX_TRIES and vp.retry[v] > 0.0 and rng.uniform(after, i, k) < vp.retry[v]:
        k += 1
    return k


@nb.njit(cache=True)
def _request(i, v, vp, who, after, row, G):
    """Agent i asks for service v: served, denied (with its retries), or not asked (it knows
    it is barred); a denied or unasked request may switch. Counts go to ``row`` (the block's
    [V, 2G + 2]: requests by group, denials by group, newly blocked, switched away)."""
    g = who.group[i]
    bit = np.uint8(1 << v)
    if not (who.eff_mask[i] & vp.denied_by[v]):
        row[v, g] += 1
        who.blocked[i] &= ~bit
        return
    knows = (who.blocked[i] & bit) != 0
    if not (knows and vp.give_up[v] > 0.0
            and rng.uniform(after, i, rng.SERVICE_GIVE_UP) < vp.give_up[v]):
        k = _tries(i, v, vp, after)
        row[v, g] += k
        row[v, G + g] += k
        if not knows:
            who.blocked[i] |= bit
            row[v, 2 * G] += 1
    a = vp.switch_to[v]
    if a >= 0 and vp.switch[v] > 0.0 and not (who.eff_mask[i] & vp.denied_by[a]) \
            and rng.uniform(after, i, rng.SERVICE_SWITCH) < vp.switch[v]:
        row[a, g] += 1  # served there
        who.blocked[i] &= ~np.uint8(1 << a)
        row[v, 2 * G + 1] += 1


@nb.njit(parallel=True, cache=True)
def _services(span, key, vp, who, out):
    """out[b] = the counts of block b of the agents [lo, hi) (``_request``); requests of
    agents outside the range are skipped. A block asks for each service in turn."""
    n, lo, hi = span
    k0 = lo // BLOCK
    nb_ = (hi - 1) // BLOCK + 1 - k0 if hi > lo else 0
    G = (out.shape[2] - 2) // 2
    for b in nb.prange(nb_):
        k = k0 + b
        row = out[b]
        end = min(n, hi, (k + 1) * BLOCK)
        for v in range(vp.demand.shape[0]):
            stream = rng.stream(key.seed, key.day, rng.SERVICE, v)
            accept = rng.stream(key.seed, key.day, rng.SERVICE_ACCEPT, v)
            after = rng.stream(key.seed, key.day, rng.SERVICE_AFTER, v)
            q = vp.bound[v]
            lq = log_miss(q)
            t = vp.trait[v]
            pos, j = k * BLOCK, 0
            while True:
                pos += gap(stream, k, j, q, end - pos, lq)
                j += 1
                if pos >= end:
                    break
                if pos < lo or (t >= 0 and rng.uniform(accept, pos, 0) * q
                                >= vp.demand[v] * who.propensity[t, pos]):
                    pos += 1
                    continue
                _request(pos, v, vp, who, after, row, G)
                pos += 1


class ServiceCounts(NamedTuple):
    """The services' counts of the day, per service."""

    requests: np.ndarray  # int64[V, G]
    denied: np.ndarray  # int64[V, G]
    blocked: np.ndarray  # int64[V]: people newly turned away
    switched: np.ndarray  # int64[V]: requests taken to the other service


def use_services(span: Span, key: DayKey, vp: ServiceParams, who: Asker,
                 n_groups: int) -> ServiceCounts:
    """Requests, denials, newly blocked people and switches per service (by group for the
    first two), of agents [lo, hi)."""
    n, lo, hi = span
    V, G = vp.demand.shape[0], n_groups
    blocks = n_blocks(n) if lo == 0 and hi == n else (
        (hi - 1) // BLOCK + 1 - lo // BLOCK if hi > lo else 0)
    out = np.zeros((blocks, V, 2 * G + 2), np.int64)
    if V:
        _services(span, key, vp, who, out)
    per = out.sum(axis=0)
    return ServiceCounts(per[:, :G], per[:, G:2 * G], per[:, 2 * G], per[:, 2 * G + 1])
