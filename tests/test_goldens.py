"""The golden outputs (tests/goldens/record.py): every built-in scenario at two seeds, the peers
workload and two stress variants reproduce their recorded summary.json and daily.parquet bit
for bit, in one process and split across 1, 2 and 4 partitions.

A model change regenerates them on purpose (``python tests/goldens/record.py --diff``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import ray

sys.path.insert(0, str(Path(__file__).resolve().parent / "goldens"))
import record  # noqa: E402

from scoresim.experiments.partitioned import run_partitioned, start_workers  # noqa: E402

CASES = sorted(record.cases())


def _check(name: str, seed: int, summary: dict, daily: pd.DataFrame) -> None:
    want_summary, want_daily = record.load(name, seed)
    got = record.model_summary(summary)
    import json

    got = json.loads(json.dumps(got))  # the same types as the file (tuples -> lists)
    moved = record.diff(want_summary, got)
    assert not moved, f"{name} seed {seed}: summary moved:\n" + "\n".join(moved[:20])
    pd.testing.assert_frame_equal(daily, want_daily, check_exact=True, check_dtype=True)


@pytest.mark.parametrize("seed", record.SEEDS)
@pytest.mark.parametrize("name", CASES)
def test_single_process_reproduces_the_goldens(name: str, seed: int) -> None:
    res = record.sim(name, seed).run()
    _check(name, seed, res.summary, res.daily)


@pytest.fixture(scope="module")
def workers():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ws = start_workers(4)
    yield ws
    for w in ws:
        ray.kill(w)
    if started:
        ray.shutdown()


# every cross-partition path is in the stress cases; the others at the widest split (the full
# matrix, every case at K = 1, 2, 4, takes about four minutes here: run it with
# SCORESIM_GOLDENS=all)
PARTITIONED = ([(n, k) for n in CASES for k in (1, 2, 4)] if os.environ.get("SCORESIM_GOLDENS")
               == "all" else [(n, k) for n in ("stress", "stress-review") for k in (1, 2, 4)]
               + [("peers-busy", 4), ("national", 4)])


@pytest.mark.parametrize(("name", "k"), PARTITIONED)
def test_partitions_reproduce_the_goldens(workers, name: str, k: int) -> None:
    seed = record.SEEDS[0]
    res = run_partitioned(record.sim(name, seed), k, threads=1, workers=workers)
    _check(name, seed, res.summary, res.daily)
