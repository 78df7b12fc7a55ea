"""Stage 7, use services: agents ask for services with daily demand probabilities; an active
sanction that denies the service turns the request down. Requests are candidate events (one
draw per request, not per agent); counts are per group so disparity can be measured."""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ...core import rng
from ...core.constants import BLOCK
from ..context import DayKey, Span
from .candidates import gap, log_miss, n_blocks


class ServiceParams(NamedTuple):
    """Each service's demand and the sanctions that deny it."""

    demand: np.ndarray  # float64[V]: daily probability an agent asks for it
    denied_by: np.ndarray  # uint8[V]: bitmask of the sanctions that deny it


@nb.njit(parallel=True, cache=True)
def _services(span, key, vp, eff_mask, group, out):
    """out[t] = [requests by group (G) | denials by group (G)] for task t = (service, block),
    over the blocks of the agents [lo, hi) (requests of agents outside are skipped)."""
    n, lo, hi = span
    k0 = lo // BLOCK
    nb_ = (hi - 1) // BLOCK + 1 - k0 if hi > lo else 0
    G = out.shape[1] // 2
    for t in nb.prange(vp.demand.shape[0] * nb_):
        v, k = t // nb_, k0 + t % nb_
        stream = rng.stream(key.seed, key.day, rng.SERVICE, v)
        lq = log_miss(vp.demand[v])
        end = min(n, hi, (k + 1) * BLOCK)
        pos, j = k * BLOCK, 0
        while True:
            pos += gap(stream, k, j, vp.demand[v], end - pos, lq)
            j += 1
            if pos >= end:
                break
            if pos < lo:
                pos += 1
                continue
            g = group[pos]
            out[t, g] += 1
            if eff_mask[pos] & vp.denied_by[v]:
                out[t, G + g] += 1
            pos += 1


def use_services(span: Span, key: DayKey, vp: ServiceParams, eff_mask: np.ndarray,
                 group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Requests and denials per service and group, of agents [lo, hi): two int64[V, G]
    arrays."""
    n, lo, hi = span
    V, G = vp.demand.shape[0], n_groups
    blocks = n_blocks(n) if lo == 0 and hi == n else (
        (hi - 1) // BLOCK + 1 - lo // BLOCK if hi > lo else 0)
    out = np.zeros((V * blocks, 2 * G), np.int64)
    _services(span, key, vp, eff_mask, group, out)
    per = out.reshape(V, -1, 2 * G).sum(axis=1) if V else np.zeros((0, 2 * G), np.int64)
    return per[:, :G], per[:, G:]
