"""Stage 1, act: agent i commits behaviour b with p = rate_b * m_ib * (1 - deter_b * caution_i).

Candidates are drawn at the behaviour's highest possible probability (``b_bound``) and each is
kept with probability p / bound: exactly Bernoulli(p) per agent and day. Output: the day's acts
as (agent, behaviour), ordered by behaviour then agent.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import rng
from ..prefetch import prefetch
from .candidates import BLOCK, gap, log_miss, n_blocks

AHEAD = 16  # candidates drawn (and their caution prefetched) before the first is decided


@nb.njit(inline="always", cache=True)
def act_probability(b, i, b_rate, b_prop, b_deter, propensity, caution):
    p = b_rate[b]
    if b_prop[b] >= 0:
        p *= propensity[b_prop[b], i]
    p *= 1.0 - b_deter[b] * caution[i]
    return min(max(p, 0.0), 1.0)


@nb.njit(parallel=True, cache=True)
def _acts(offsets, caps, counts, out_agent, out_beh, n, lo, hi, seed, day, b_rate, b_bound,
          b_prop, b_deter, b_requires, propensity, caution, list_state):
    """Task t = (behaviour, block) writes at most caps[t] acts from offsets[t] on and counts
    all of them in counts[t] (a count above the cap means: rerun with exact room).

    Only agents in [lo, hi) act (a partition's range); the blocks are still the global ones,
    walked from their start, so an agent's candidates do not depend on the range."""
    k0 = lo // BLOCK
    nb_ = (hi - 1) // BLOCK + 1 - k0 if hi > lo else 0
    for t in nb.prange(b_rate.shape[0] * nb_):
        b, k = t // nb_, k0 + t % nb_
        q = b_bound[b]
        lq = log_miss(q)
        key = rng.stream(seed, day, rng.ACT, b)
        akey = rng.stream(seed, day, rng.ACT_ACCEPT, b)
        end = min(n, hi, (k + 1) * BLOCK)
        pos, j, w, cap = k * BLOCK, 0, offsets[t], caps[t]
        count = 0
        cand = np.empty(AHEAD, np.int64)
        done = False
        while not done:
            # a few candidates first, their caution prefetched (each is a cache miss, so
            # several are in flight at once); then each is decided, in agent order
            m = 0
            while m < AHEAD:
                pos += gap(key, k, j, q, end - pos, lq)
                j += 1
                if pos >= end:
                    done = True
                    break
                cand[m] = pos
                prefetch(caution, pos)
                m += 1
                pos += 1
            for c in range(m):
                i = cand[c]
                if i < lo:
                    continue
                if b_requires[b] >= 0 and list_state[b_requires[b], i] == 0:
                    continue
                p = act_probability(b, i, b_rate, b_prop, b_deter, propensity, caution)
                if rng.uniform(akey, i, 0) * q < p:
                    if count < cap:
                        out_agent[w] = i
                        out_beh[w] = b
                        w += 1
                    count += 1
        counts[t] = count


@nb.njit(parallel=True, cache=True)
def _compact(offsets, counts, dest, agent, beh, out_agent, out_beh):
    for t in nb.prange(counts.shape[0]):
        for k in range(counts[t]):
            out_agent[dest[t] + k] = agent[offsets[t] + k]
            out_beh[dest[t] + k] = beh[offsets[t] + k]


def _room(n: int, bound: np.ndarray) -> np.ndarray:
    """Room per task: the mean number of candidates plus 10 standard deviations; a task needs
    more with probability far below 1e-20, and then the day is redone with exact room."""
    nb_ = n_blocks(n)
    size = np.full(nb_, BLOCK, np.float64)
    size[-1] = n - (nb_ - 1) * BLOCK
    mean = np.outer(bound, size).ravel()
    return np.ceil(mean + 10 * np.sqrt(mean) + 10).astype(np.int64)


def act(n, seed, day, p, propensity, caution, list_state, lo=0, hi=None):
    """The day's acts of agents [lo, hi) (default: all): (agent int32[k], behaviour uint8[k])
    and acts per behaviour."""
    B = p.b_rate.shape[0]
    hi = n if hi is None else hi
    caps = _room(n, p.b_bound)
    if lo > 0 or hi < n:  # a partition: the room of its blocks only
        k0, k1 = lo // BLOCK, (hi - 1) // BLOCK + 1 if hi > lo else lo // BLOCK
        caps = caps.reshape(B, -1)[:, k0:k1].ravel().copy()
    offsets = np.zeros_like(caps)
    np.cumsum(caps[:-1], out=offsets[1:])
    counts = np.zeros_like(caps)
    room = int(caps.sum())
    agent, beh = np.empty(room, np.int32), np.empty(room, np.uint8)
    args = (n, lo, hi, seed, day, p.b_rate, p.b_bound, p.b_prop, p.b_deter, p.b_requires,
            propensity, caution, list_state)
    _acts(offsets, caps, counts, agent, beh, *args)
    if np.any(counts > caps):  # practically never: redo with the exact counts as room
        caps = counts.copy()
        np.cumsum(caps[:-1], out=offsets[1:])
        agent, beh = np.empty(int(caps.sum()), np.int32), np.empty(int(caps.sum()), np.uint8)
        _acts(offsets, caps, counts, agent, beh, *args)
    dest = np.zeros_like(counts)
    np.cumsum(counts[:-1], out=dest[1:])
    total = int(counts.sum())
    out_agent, out_beh = np.empty(total, np.int32), np.empty(total, np.uint8)
    _compact(offsets, counts, dest, agent, beh, out_agent, out_beh)
    per_behaviour = counts.reshape(B, -1).sum(axis=1) if B else np.zeros(0, np.int64)
    return out_agent, out_beh, per_behaviour
