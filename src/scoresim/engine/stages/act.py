"""Stage 1, act: each agent commits each behaviour with a probability its caution lowers.

Agent i commits behaviour b with

    p = rate_b * m_ib * (1 - deter_b * w_i * min(1, caution_i + k_b)),   clipped to [0, 1],

where k_b is everyone's caution from the salience of b's rules and w_i the agent's attitude
(how justified it finds surveillance, divided by its mean; 1 without one): it scales the
agent's response (docs/model.md, "How people respond").

Candidates are drawn at the behaviour's highest possible probability (``ActParams.bound``) and
each is kept with probability p / bound: exactly Bernoulli(p) per agent and day. Output: the
day's acts as (agent, behaviour), ordered by behaviour then agent.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...core.constants import BLOCK
from ...core.memo import once_per
from ...core.prefetch import prefetch
from ..context import DayKey, Span
from .candidates import gap, log_miss, n_blocks

AHEAD = 16  # candidates drawn (and their caution prefetched) before the first is decided


class ActParams(NamedTuple):
    """What the act stage reads of the scenario, one entry per behaviour."""

    rate: np.ndarray  # float64[B]: the population's mean daily probability at zero caution
    bound: np.ndarray  # float64[B]: the highest probability any agent can have (thinning)
    trait: np.ndarray  # int64[B]: the propensity row that scales it, -1 for none
    deterrability: np.ndarray  # float64[B]: how much caution deters it (< 0: encourages)
    attitude: int  # the trait row that scales every response to caution, -1 for none
    requires: np.ndarray  # int64[B]: the list the actor must be on, -1 for none
    expression: np.ndarray  # bool[B]: an expression behaviour (speech)


class TaskRoom(NamedTuple):
    """Per task (behaviour, block): where its acts go, room for them, and how many it had."""

    offsets: np.ndarray  # int64[tasks]
    caps: np.ndarray  # int64[tasks]
    counts: np.ndarray  # int64[tasks]


@nb.njit(inline="always", cache=True)
def act_probability(b, i, ap, propensity, caution, salience_caution):
    """Agent i's probability of committing behaviour b today."""
    p = ap.rate[b]
    if ap.trait[b] >= 0:
        p *= propensity[ap.trait[b], i]
    c = min(np.float64(caution[i]) + salience_caution[b], 1.0)
    w = np.float64(propensity[ap.attitude, i]) if ap.attitude >= 0 else 1.0
    p *= 1.0 - ap.deterrability[b] * w * c
    return min(max(p, 0.0), 1.0)


@nb.njit(parallel=True, cache=True)
def _acts(room, out_agent, out_beh, span, key, ap, propensity, caution, salience_caution,
          list_state):
    """Task t = (behaviour, block) writes at most room.caps[t] acts from room.offsets[t] on and
    counts all of them in room.counts[t] (a count above the cap means: rerun with exact room).

    Only agents in [lo, hi) act (a partition's range); the blocks are still the global ones,
    walked from their start, so an agent's candidates do not depend on the range."""
    n, lo, hi = span
    counts = room.counts  # written in the loop: a local (a bundle's field is not, in prange)
    k0 = lo // BLOCK
    nb_ = (hi - 1) // BLOCK + 1 - k0 if hi > lo else 0
    for t in nb.prange(ap.rate.shape[0] * nb_):
        b, k = t // nb_, k0 + t % nb_
        q = ap.bound[b]
        lq = log_miss(q)
        stream = rng.stream(key.seed, key.day, rng.ACT, b)
        accept = rng.stream(key.seed, key.day, rng.ACT_ACCEPT, b)
        end = min(n, hi, (k + 1) * BLOCK)
        pos, j, w, cap = k * BLOCK, 0, room.offsets[t], room.caps[t]
        count = 0
        cand = np.empty(AHEAD, np.int64)
        done = False
        while not done:
            # a few candidates first, their caution prefetched (each is a cache miss, so
            # several are in flight at once); then each is decided, in agent order
            m = 0
            while m < AHEAD:
                pos += gap(stream, k, j, q, end - pos, lq)
                j += 1
                if pos >= end:
                    done = True
                    break
                cand[m] = pos
                prefetch(caution, pos)
                if ap.attitude >= 0:
                    prefetch(propensity[ap.attitude], pos)
                m += 1
                pos += 1
            for c in range(m):
                i = cand[c]
                if i < lo:
                    continue
                if ap.requires[b] >= 0 and list_state[ap.requires[b], i] == 0:
                    continue
                p = act_probability(b, i, ap, propensity, caution, salience_caution)
                if rng.uniform(accept, i, 0) * q < p:
                    if count < cap:
                        out_agent[w] = i
                        out_beh[w] = b
                        w += 1
                    count += 1
        counts[t] = count


@nb.njit(parallel=True, cache=True)
def _compact(room, dest, agent, beh, out_agent, out_beh):
    for t in nb.prange(room.counts.shape[0]):
        for k in range(room.counts[t]):
            out_agent[dest[t] + k] = agent[room.offsets[t] + k]
            out_beh[dest[t] + k] = beh[room.offsets[t] + k]


def _room(n: int, bound: np.ndarray) -> np.ndarray:
    """Room per task: the mean number of candidates plus 10 standard deviations; a task needs
    more with probability far below 1e-20, and then the day is redone with exact room. Made
    once per plan's bounds and population (the caller only reads it)."""
    return once_per(bound, ("act room", n), lambda b: _room_of(n, b))


def _room_of(n: int, bound: np.ndarray) -> np.ndarray:
    nb_ = n_blocks(n)
    size = np.full(nb_, BLOCK, np.float64)
    size[-1] = n - (nb_ - 1) * BLOCK
    mean = np.outer(bound, size).ravel()
    return np.ceil(mean + 10 * np.sqrt(mean) + 10).astype(np.int64)


def _with_room(caps: np.ndarray) -> tuple[TaskRoom, np.ndarray, np.ndarray]:
    offsets = np.zeros_like(caps)
    np.cumsum(caps[:-1], out=offsets[1:])
    room = int(caps.sum())
    return (TaskRoom(offsets, caps, np.zeros_like(caps)), np.empty(room, np.int32),
            np.empty(room, np.uint8))


def act(span: Span, key: DayKey, ap: ActParams, propensity: np.ndarray, caution: np.ndarray,
        list_state: np.ndarray, salience_caution: np.ndarray | None = None,
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The day's acts of agents [lo, hi): (agent int32[k], behaviour uint8[k]), and the acts per
    behaviour. ``salience_caution``: everyone's caution from each rule's salience (none: 0)."""
    n, lo, hi = span
    B = ap.rate.shape[0]
    caps = _room(n, ap.bound)
    if lo > 0 or hi < n:  # a partition: the room of its blocks only
        k0, k1 = lo // BLOCK, (hi - 1) // BLOCK + 1 if hi > lo else lo // BLOCK
        caps = caps.reshape(B, -1)[:, k0:k1].ravel().copy()
    room, agent, beh = _with_room(caps)
    if salience_caution is None:
        salience_caution = np.zeros(B, np.float64)
    args = (span, key, ap, propensity, caution, salience_caution, list_state)
    _acts(room, agent, beh, *args)
    if np.any(room.counts > room.caps):  # practically never: redo with exact room
        room, agent, beh = _with_room(room.counts.copy())
        _acts(room, agent, beh, *args)
    counts = room.counts
    dest = np.zeros_like(counts)
    np.cumsum(counts[:-1], out=dest[1:])
    total = int(counts.sum())
    out_agent, out_beh = np.empty(total, np.int32), np.empty(total, np.uint8)
    _compact(room, dest, agent, beh, out_agent, out_beh)
    per_behaviour = counts.reshape(B, -1).sum(axis=1) if B else np.zeros(0, np.int64)
    return out_agent, out_beh, per_behaviour
