"""Stage 7, use services: agents ask for services with daily demand probabilities; an active
sanction that denies the service turns the request down. Requests are candidate events (one
draw per request, not per agent); counts are per group so disparity can be measured."""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import rng
from .candidates import BLOCK, gap, log_miss, n_blocks


@nb.njit(parallel=True, cache=True)
def _services(n, lo, hi, seed, day, v_demand, v_denied_by, eff_mask, group, out):
    """out[t] = [requests by group (G) | denials by group (G)] for task t = (service, block),
    over the blocks of the agents [lo, hi) (requests of agents outside are skipped)."""
    k0 = lo // BLOCK
    nb_ = (hi - 1) // BLOCK + 1 - k0 if hi > lo else 0
    G = out.shape[1] // 2
    for t in nb.prange(v_demand.shape[0] * nb_):
        v, k = t // nb_, k0 + t % nb_
        key = rng.stream(seed, day, rng.SERVICE, v)
        lq = log_miss(v_demand[v])
        end = min(n, hi, (k + 1) * BLOCK)
        pos, j = k * BLOCK, 0
        while True:
            pos += gap(key, k, j, v_demand[v], end - pos, lq)
            j += 1
            if pos >= end:
                break
            if pos < lo:
                pos += 1
                continue
            g = group[pos]
            out[t, g] += 1
            if eff_mask[pos] & v_denied_by[v]:
                out[t, G + g] += 1
            pos += 1


def use_services(n, seed, day, p, people, s, lo=0, hi=None):
    """Requests and denials per service and group, of agents [lo, hi) (default: all): two
    int64[V, G] arrays."""
    V, G = p.v_demand.shape[0], len(people.group_names)
    hi = n if hi is None else hi
    blocks = n_blocks(n) if lo == 0 and hi == n else (
        (hi - 1) // BLOCK + 1 - lo // BLOCK if hi > lo else 0)
    out = np.zeros((V * blocks, 2 * G), np.int64)
    _services(n, lo, hi, seed, day, p.v_demand, p.v_denied_by, s.eff_mask, people.group, out)
    per = out.reshape(V, -1, 2 * G).sum(axis=1) if V else np.zeros((0, 2 * G), np.int64)
    return per[:, :G], per[:, G:]
