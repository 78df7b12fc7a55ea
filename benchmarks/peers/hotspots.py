"""Where scoresim's day goes on the peers workload, kernel by kernel, and what a rewrite could save.

    python benchmarks/peers/hotspots.py --agents 10000000

Times the engine's own full-sweep kernels (imported from src/scoresim/engine, called on arrays
shaped like the workload's state on day 100: 29% of scores a little below 1,000, no caution,
a handful sanctioned) next to sketches of the same work written to vectorise: no branch,
inner loop or division per agent, integer reductions (exact in any order), float32 caution
with 1/degree precomputed; the busy list from a bool view; and the spill loop with each
agent's score and flags side by side in one array.
The sketches are evidence for suggestions, not engine code: they are not wired into the
engine, cover only what this workload uses (one grade bound, one group), and the float32
caution would change results in the last bits. Best of --reps.
SYNTHETIC arrays only.
"""

from __future__ import annotations

import argparse
import time

import numba as nb
import numpy as np

import scoresim  # noqa: F401  (sets the engine's OpenMP wait policy before Numba's threads start)


@nb.njit(parallel=True)
def sketch_recover(score, initial, step):
    """Branch-free: both candidates computed, one selected (vectorises)."""
    for i in nb.prange(score.shape[0]):
        x = score[i]
        up, down = min(initial, x + step), max(initial, x - step)
        score[i] = up if x < initial else down


@nb.njit(parallel=True)
def sketch_busy(score, own_mask, floor, busy):
    """The sanction stage's busy marks and their number (an exact integer reduction)."""
    k = 0
    for i in nb.prange(score.shape[0]):
        b = np.uint8(own_mask[i] != 0) | np.uint8(score[i] < floor)
        busy[i] = b
        k += np.int64(b)
    return k


@nb.njit(parallel=True)
def sketch_respond(caution, today, sanctioned_ties, inv_degree, from_penalty, from_sanction,
                   from_ties, decay):
    """No branch and no row walk per agent: 1/degree precomputed once (the ties are static),
    float32 arithmetic."""
    d, fp, fs, ft = (np.float32(decay), np.float32(from_penalty), np.float32(from_sanction),
                     np.float32(from_ties))
    for i in nb.prange(caution.shape[0]):
        t = today[i]
        x = (caution[i] - d + fp * np.float32(t & 1) + fs * np.float32((t >> 1) & 1)
             + ft * np.float32(sanctioned_ties[i]) * inv_degree[i])
        caution[i] = min(np.float32(1.0), max(np.float32(0.0), x))
        today[i] = 0


@nb.njit(parallel=True)
def sketch_measure(score, eff_mask, bound):
    """The day's score sum, agents below the grade bound and sanctioned agents: exact integer
    reductions, so the same whatever the number of threads."""
    s, below, sanctioned = 0, 0, 0
    for i in nb.prange(score.shape[0]):
        x = score[i]
        s += x
        below += np.int64(x < bound)
        sanctioned += np.int64(eff_mask[i] != 0)
    return s, below, sanctioned


@nb.njit
def sequential_spill(pen_agent, pen_points, spill, indptr, indices, score, flags, mark):
    """The spill loop the engine had until 27 November, for one tie layer (no abroad check)."""
    for e in range(pen_agent.shape[0]):
        a = pen_agent[e]
        amt = np.int32(round(pen_points[e] * spill))
        for k in range(indptr[a], indptr[a + 1]):
            m = indices[k]
            score[m] += amt
            flags[m] = (flags[m] & 0xFF) | mark


@nb.njit
def packed_spill(pen_agent, pen_points, spill, indptr, indices, packed, mark):
    """The same loop with each agent's score and flags side by side in one int64 (score in
    the low 32 bits, flags above): one cache line per hit instead of two."""
    for e in range(pen_agent.shape[0]):
        a = pen_agent[e]
        amt = np.int64(round(pen_points[e] * spill))
        for k in range(indptr[a], indptr[a + 1]):
            m = indices[k]
            v = packed[m]
            score = np.int64(np.int32(v & 0xFFFFFFFF)) + amt
            flags = ((v >> 32) & 0xFF) | mark
            packed[m] = (flags << 32) | (score & 0xFFFFFFFF)


def best(fn, reps: int) -> float:
    out = np.inf
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out * 1e3


def engine_rows(n, score, caution, today, masks, sanctioned_ties, indptr, floor, out_m):
    """The engine's own full-sweep kernels, as the stages call them (None if a kernel's
    signature has changed since this script was written)."""
    from scoresim.engine.measure import chunk_rows
    from scoresim.engine.stages.busy import CHUNK, _gather, _recover_and_mark
    from scoresim.engine.stages.recover import _recover
    from scoresim.engine.stages.respond import _respond
    from scoresim.engine.state import live_blocks

    list_state, no_appeal = np.zeros((0, n), np.int32), np.zeros(0, np.int32)
    bounds = np.array([floor], np.int64)
    tie_base = np.zeros(2, np.int64)
    no_ties = np.zeros(0, np.int16)  # degrees are decoded only for agents with sanctioned ties
    rows = chunk_rows(n, 1, 1)
    counts = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
    units = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
    idle, live = np.zeros(live_blocks(n), np.uint8), np.ones(live_blocks(n), np.uint8)

    def recover_busy_and_measure():
        _recover_and_mark(score, 100_000, 50, floor, False, masks["own"], list_state, no_appeal,
                          masks["busy"], counts, bounds, rows)
        starts = np.zeros_like(counts)
        np.cumsum(counts[:-1], out=starts[1:])
        _gather(masks["busy"], counts, starts, np.empty(int(counts.sum()), np.int32))

    def respond(blocks):
        def run():
            blocks_now = blocks.copy()
            _respond(0.0, 0.0, 0.05, 0.01, tie_base, indptr[None, :], no_ties, 0, n, caution,
                     today, sanctioned_ties, blocks_now, units)
        return run

    return [
        ("engine: recover", 8, lambda: _recover(score, 100_000, 50)),
        ("engine: recover + busy list + the scores' measurements", 10,
         recover_busy_and_measure),
        ("engine: respond, every block live", 11, respond(live)),
        ("engine: respond, the workload's blocks (none live)", 0, respond(idle)),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=10_000_000)
    ap.add_argument("--degree", type=int, default=20)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    n, deg = a.agents, a.degree
    gen = np.random.default_rng(1)
    initial, step, floor = 100_000, 50, 90_000
    # the workload's steady state (day 100): 29% of agents below 1,000, by 1 to 25 points,
    score = np.full(n, initial, np.int32)
    hurt = gen.random(n) < 0.29
    score[hurt] -= 50 * gen.integers(1, 50, int(hurt.sum()), dtype=np.int32)
    masks = {k: np.zeros(n, np.uint8) for k in ("own", "eff", "busy", "group")}
    # and about 1.4 per million sanctioned (below 900): the busy list is never empty
    low = gen.choice(n, max(2, round(1.4e-6 * n)), replace=False)
    score[low] = floor - 1000
    masks["own"][low] = masks["eff"][low] = 1
    caution = np.zeros(n, np.float32)
    today = np.zeros(n, np.uint8)
    flags = np.zeros(n, np.uint16)
    sanctioned_ties = np.zeros(n, np.uint16)
    indptr = (np.arange(n + 1, dtype=np.int64) * deg).astype(
        np.int32 if n * deg < 2**31 else np.int64)
    indices = gen.integers(0, n, n * deg, dtype=np.int32)
    inv_degree = np.full(n, 1 / deg, np.float32)
    pen_agent = np.sort(gen.choice(n, int(0.0012 * n), replace=False)).astype(np.int32)
    pen_points = np.full(pen_agent.shape[0], -3000, np.int32)
    out_m = np.zeros(((n + 65535) // 65536, 3), np.int64)
    mark = np.uint16(64 | (3 << 8))
    packed = score.astype(np.int64) & 0xFFFFFFFF

    try:
        rows = engine_rows(n, score, caution, today, masks, sanctioned_ties, indptr, floor, out_m)
    except ImportError as err:
        print(f"(engine kernels not found: {err})")
        rows = []
    rows += [
        ("sketch: recover, branch-free", 8, lambda: sketch_recover(score, initial, step)),
        ("sketch: busy marks + their count", 6,
         lambda: sketch_busy(score, masks["own"], floor, masks["busy"])),
        ("NumPy: the busy list from a bool view of the marks", 1,
         lambda: np.flatnonzero(masks["busy"].view(np.bool_))),
        ("sketch: respond with 1/degree precomputed", 12, lambda: sketch_respond(
            caution, today, sanctioned_ties, inv_degree, 0.0, 0.0, 0.05, 0.01)),
        ("sketch: measure + score sum, integer reductions", 5,
         lambda: sketch_measure(score, masks["eff"], floor)),
        ("NumPy: mean caution (float32 summed in float64)", 4,
         lambda: np.sum(caution, dtype=np.float64)),
        ("sketch: spill, one thread walking every row (the engine before 27 Nov)", 0,
         lambda: sequential_spill(pen_agent, pen_points, 1 / 6, indptr, indices, score, flags,
                                  mark)),
        ("sketch: spill, score and flags packed in one array", 0, lambda: packed_spill(
            pen_agent, pen_points, 1 / 6, indptr, indices, packed, np.int64(mark))),
    ]
    print(f"{n:,} agents, {nb.get_num_threads()} threads ({nb.threading_layer()}), "
          f"{pen_agent.shape[0]:,} penalties x {deg} ties a day")
    print("| kernel | bytes per agent | ms per day | GB/s |")
    print("|---|---:|---:|---:|")
    for name, nbytes, fn in rows:
        try:
            fn()  # compile
        except TypeError as err:  # the engine changed under this script
            print(f"| {name} | - | skipped: {err} | - |")
            continue
        ms = best(fn, a.reps)
        gbps = f"{nbytes * n / ms / 1e6:.1f}" if nbytes else "-"
        print(f"| {name} | {nbytes or '-'} | {ms:.2f} | {gbps} |")


if __name__ == "__main__":
    main()
