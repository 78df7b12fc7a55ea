"""Stage 1, act: agent i commits behaviour b with p = rate_b * m_ib * (1 - deter_b * caution_i).

Candidates are drawn at the behaviour's highest possible probability (``b_bound``) and each is
kept with probability p / bound: exactly Bernoulli(p) per agent and day. Output: the day's acts
as (agent, behaviour), ordered by behaviour then agent.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import rng
from .candidates import BLOCK, gap, n_blocks


@nb.njit(inline="always", cache=True)
def act_probability(b, i, b_rate, b_prop, b_deter, propensity, caution):
    p = b_rate[b]
    if b_prop[b] >= 0:
        p *= propensity[b_prop[b], i]
    p *= 1.0 - b_deter[b] * caution[i]
    return min(max(p, 0.0), 1.0)


@nb.njit(parallel=True, cache=True)
def _acts(fill, offsets, out_agent, out_beh, n, seed, day, b_rate, b_bound, b_prop, b_deter,
          b_requires, propensity, caution, list_state):
    nb_ = (n + BLOCK - 1) // BLOCK
    for t in nb.prange(b_rate.shape[0] * nb_):
        b, k = t // nb_, t % nb_
        q = b_bound[b]
        key = rng.stream(seed, day, rng.ACT, b)
        akey = rng.stream(seed, day, rng.ACT_ACCEPT, b)
        hi = min(n, (k + 1) * BLOCK)
        pos, j, w = k * BLOCK, 0, offsets[t]
        count = 0
        while True:
            pos += gap(key, k, j, q, hi - pos)
            j += 1
            if pos >= hi:
                break
            i = pos
            pos += 1
            if b_requires[b] >= 0 and list_state[b_requires[b], i] == 0:
                continue
            p = act_probability(b, i, b_rate, b_prop, b_deter, propensity, caution)
            if rng.uniform(akey, i, 0) * q < p:
                if fill:
                    out_agent[w] = i
                    out_beh[w] = b
                    w += 1
                count += 1
        if not fill:
            offsets[t] = count


def act(n, seed, day, p, propensity, caution, list_state):
    """The day's acts: (agent int32[k], behaviour uint8[k]) and acts per behaviour."""
    B = p.b_rate.shape[0]
    counts = np.zeros(B * n_blocks(n), np.int64)
    dummy_a, dummy_b = np.zeros(0, np.int32), np.zeros(0, np.uint8)
    args = (n, seed, day, p.b_rate, p.b_bound, p.b_prop, p.b_deter, p.b_requires,
            propensity, caution, list_state)
    _acts(False, counts, dummy_a, dummy_b, *args)
    per_behaviour = counts.reshape(B, -1).sum(axis=1) if B else np.zeros(0, np.int64)
    offsets = np.zeros_like(counts)
    np.cumsum(counts[:-1], out=offsets[1:])
    total = int(counts.sum())
    agent, beh = np.empty(total, np.int32), np.empty(total, np.uint8)
    _acts(True, offsets, agent, beh, *args)
    return agent, beh, per_behaviour
