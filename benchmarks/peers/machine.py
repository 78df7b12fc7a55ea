"""The machine's bound for the peers workload: streaming bandwidth and the cost of a random draw.

Bandwidth is a STREAM-style triad ``a = b + s * c`` over float64 arrays much larger than the
caches, in a Numba parallel loop (the engine's threads) and on one thread; bytes counted as
STREAM does (24 per element, without the write-allocate read). The draw cost is scoresim's own
counter-based generator (``scoresim.engine.rng.uniform``) in a Numba loop, summed so nothing is
optimised away; also a candidate gap (a uniform and a logarithm, as the act stage draws them).
"""

from __future__ import annotations

import math
import time

import numba as nb
import numpy as np

from scoresim.core import rng


@nb.njit(parallel=True)
def _triad(a, b, c, s):
    for i in nb.prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@nb.njit(parallel=True)
def _uniforms(key, n, out):
    chunks = out.shape[0]
    per = (n + chunks - 1) // chunks
    for c in nb.prange(chunks):
        acc = 0.0
        for i in range(c * per, min(n, (c + 1) * per)):
            acc += rng.uniform(key, i, 0)
        out[c] = acc


@nb.njit(parallel=True)
def _gaps(key, n, q, out):
    chunks = out.shape[0]
    per = (n + chunks - 1) // chunks
    lq = math.log1p(-q)
    for c in nb.prange(chunks):
        acc = 0.0
        for i in range(c * per, min(n, (c + 1) * per)):
            acc += math.log1p(-rng.uniform(key, i, 0)) / lq
        out[c] = acc


def _best(fn, reps: int) -> float:
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(elements: int = 1 << 25, draws: int = 1 << 26, reps: int = 5) -> dict:
    """Best of ``reps``: triad GB/s and ns per draw, with all of Numba's threads and with one."""
    threads = nb.get_num_threads()
    a, b, c = np.zeros(elements), np.ones(elements), np.full(elements, 2.0)
    out = np.zeros(256)
    key = rng.stream(1, 0, 99, 0)
    _triad(a[:8], b[:8], c[:8], 3.0)  # compile
    _uniforms(key, 8, out)
    _gaps(key, 8, 0.002, out)
    res = {"threads": threads, "triad_bytes_per_element": 24, "triad_elements": elements,
           "draws": draws}
    for label, k in (("", threads), ("_1thread", 1)):
        nb.set_num_threads(k)
        t = _best(lambda: _triad(a, b, c, 3.0), reps)
        res[f"triad_gbps{label}"] = 24 * elements / t / 1e9
        t = _best(lambda: _uniforms(key, draws, out), reps)
        res[f"ns_per_draw{label}"] = t / draws * 1e9
        t = _best(lambda: _gaps(key, draws, 0.002, out), reps)
        res[f"ns_per_gap_draw{label}"] = t / draws * 1e9
    nb.set_num_threads(threads)
    return res


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))
