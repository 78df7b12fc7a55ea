"""One population across K Ray actors (``scoresim run --partitions K``) gives the same
summary.json and daily.parquet as the single process, bit for bit, and really splits the work.

Runs on a local Ray instance (2 CPUs; the actors take no CPU reservation, so 4 fit).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray
from typer.testing import CliRunner

from scoresim import build_population, load_scenario
from scoresim.cli import app
from scoresim.engine.context import Span
from scoresim.engine.measure import measure_counts
from scoresim.engine.partitions import merge, route, split
from scoresim.engine.stages.busy import busy_agents
from scoresim.engine.stages.respond import respond
from scoresim.engine.stages.sanction import Visibility
from scoresim.engine.stages.score import Acts
from scoresim.engine.state import LIVE_SHIFT
from scoresim.experiments.partitioned import partition_bounds, run_partitioned, start_workers
from scoresim.sim import Sim

# summary.json fields that measure the machine (or the command line), not the model: the only
# fields allowed to differ between a partitioned and a single-process run
TIMING = ("wall_seconds", "build_seconds", "run_seconds", "agent_days_per_second")
# and what only a partitioned run reports (its actors' memory and traffic) or counts otherwise
# (the bytes every actor holds)
NOT_MODEL = (*TIMING, "command", "partitions", "bytes_per_agent")

N, DAYS = 16_000, 20  # 4 blocks of 4,096 agents: enough for 4 partitions

# the overseas scenario pushed so that every cross-partition path is taken with 4 partitions:
# the city abroad spans partitions (false alerts at its venues and at home name people held
# elsewhere), list
# sanctions reach work teams (which span partitions), work firms are rated (and owned
# elsewhere than some of their members), and visibility is switched off and on again
CROSS = {
    "overseas.vancouver.share": 0.4,
    "behaviours.debt_default.rate": 0.01,
    "lists.dishonest_debtors.grace_days": 0,
    "sanctions.school_ban.reaches": "work",
    "layers.work.rating": {"weight": 1.0, "threshold": 990},
    "lists.firm_list": {"enter_on_rating": "work", "grace_days": 0},
    # false alerts name people on a watch list anywhere in the gallery; review checks them
    "channels.camera.watch_list": 0.5,
    "channels.venue_camera.watch_list": 0.5,
    "safeguards.human_review": True,
    "timeline": [{"day": 7, "set": {"sanctions.travel_ban.visible": False}},
                 {"day": 14, "set": {"sanctions.travel_ban.visible": True}}],
    # ties to the listed are cut, and the listed and their neighbours are in other ranges
    "responses.avoidance": {"enabled": True, "daily_probability": 0.3},
}


@pytest.fixture(scope="module")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def actors(local_ray):
    """Four partition actors, reused by every run here (each run sets them up afresh)."""
    workers = start_workers(4)
    yield workers
    for w in workers:
        ray.kill(w)


def _model(summary: dict) -> str:
    return json.dumps({k: v for k, v in summary.items() if k not in NOT_MODEL}, sort_keys=True)


def _check_same(got, want) -> None:
    assert _model(got.summary) == _model(want.summary)
    pd.testing.assert_frame_equal(got.daily, want.daily, check_exact=True)


def _run_and_inspect(sim: Sim, k: int, actors: list) -> tuple[object, list[dict], list[dict]]:
    res = run_partitioned(sim, k, workers=actors)
    finals = ray.get([w.final.remote() for w in actors[:k]])
    infos = ray.get([w.info.remote() for w in actors[:k]])
    return res, [f["work"] for f in finals], infos


def _check_split(work: list[dict], infos: list[dict], bounds: np.ndarray, days: int,
                 total_acts: int) -> None:
    """Each actor did only its own agents' part: it measured exactly its range each day, the
    acts are divided among the actors, and it holds its range's state alone (every agent
    outside it is mapped with no access: a touch would have stopped the actor)."""
    assert [w["agent_days"] for w in work] == list(np.diff(bounds) * days)
    assert [(i["lo"], i["hi"]) for i in infos] == list(zip(bounds[:-1], bounds[1:], strict=True))
    state = [i["state_bytes"] for i in infos]
    n = int(bounds[-1])
    for b, lo, hi in zip(state, bounds[:-1], bounds[1:], strict=True):
        # a range's share of the whole state, give or take a page a row of each array
        assert b <= (hi - lo) / n * state_bytes_of_whole(n) + 64 * 4096 + 1
    assert sum(w["acts"] for w in work) == total_acts
    assert all(0 < w["acts"] < total_acts for w in work) or len(work) == 1


# ------------------------------------------------------------------ pure parts
def test_split_takes_whole_regions_else_blocks() -> None:
    starts = np.array([0, 3000, 9000, 20000])
    np.testing.assert_array_equal(split(starts, 1), [0, 20000])
    np.testing.assert_array_equal(split(starts, 2), [0, 9000, 20000])
    np.testing.assert_array_equal(split(starts, 3), [0, 3000, 9000, 20000])
    four = split(starts, 4)  # fewer regions than partitions: block boundaries
    assert four[0] == 0 and four[-1] == 20000 and np.all(four[1:-1] % 4096 == 0)
    with pytest.raises(ValueError):
        split(np.array([0, 5000]), 4)


def test_route_sends_each_record_once_to_each_range_of_its_receivers() -> None:
    bounds = np.array([0, 10, 20, 30])
    vis = Visibility(np.array([12, 3, 15, 25, 4], np.int32), np.arange(5, dtype=np.int32))
    out = route("visibility", vis, bounds)
    assert [list(o.delta) for o in out] == [[1, 4], [0, 2], [3]]  # order kept
    # an act goes to its actor's range and to the range of the agent it is pinned on, once
    acts = Acts(np.array([3, 12, 25], np.int32), np.array([1, 0, 0], np.uint8),
                np.array([15, 13, -1], np.int32), np.zeros(3, np.uint8))
    out = route("acts", acts, bounds)
    assert [list(o.agent) for o in out] == [[3], [3, 12], [25]]
    # merged at a receiver in (behaviour, agent) order, the single process's
    got = merge("acts", [out[1], Acts(np.array([11], np.int32), np.array([0], np.uint8),
                                      np.array([-1], np.int32), np.zeros(1, np.uint8))])
    assert list(zip(got.beh.tolist(), got.agent.tolist(), strict=True)) == [
        (0, 11), (0, 12), (1, 3)]


@pytest.mark.parametrize("cuts", [[0, 20_000], [0, 5000, 9000, 20_000],
                                  [0, 4096, 4097, 12_000, 20_000]])
def test_ranges_respond_and_measure_as_the_whole(cuts: list[int]) -> None:
    """recover (with the scores' measurements) and respond (with caution's) over ranges of
    agents: the same scores, caution and busy agents, and rows of integer totals that add up
    to the whole population's, which equal one sweep's measurement of the final state."""
    sc = load_scenario("default")
    pop = build_population(sc, cuts[-1], 3)
    _, plans, whole = Sim(sc, agents=cuts[-1], days=1, seed=3).prepare(pop)
    p, net, group, G = plans[0], pop.network, pop.people.group, len(pop.people.group_names)
    gen = np.random.default_rng(1)
    n = cuts[-1]
    whole.caution[:] = (gen.random(n) ** 4).astype(np.float32)
    whole.caution[:7000] = 0  # blocks where nothing happens: skipped, and must stay 0
    whole.today[:] = gen.integers(0, 4, n).astype(np.uint8)
    whole.today[:7000] = 0
    whole.sanctioned_ties[:] = (gen.random(n) < 0.01) * gen.integers(1, 3, n)
    whole.sanctioned_ties[:7000] = 0
    whole.score[:] += gen.integers(-20_000, 1, n).astype(np.int32)
    whole.eff_mask[:] = gen.random(n) < 0.05
    whole.sanctioned_group[:] = np.bincount(group[whole.eff_mask != 0], minlength=G)
    whole.mark_live()
    whole.live[: 7000 >> LIVE_SHIFT] = 0
    start = copy.deepcopy(whole)
    step = p.scoring.recovery if p.scoring.recovery > 0 else 0
    k = p.scoring.grade_bounds.shape[0]
    everyone = Span(n, 0, n)
    busy, expected = busy_agents(everyone, p.scoring, p.sanction, whole.arrays, step)
    whole_resp = respond(everyone, p.respond, k, net.ties, whole.arrays, pop.people.arrays)
    expected = expected + whole_resp.row
    got, got_busy, by_group = 0, [], 0
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        part = copy.deepcopy(start)  # each partition's actor has its own state
        part.sanctioned_group[:] = np.bincount(group[lo:hi][part.eff_mask[lo:hi] != 0],
                                               minlength=G)
        b, row = busy_agents(Span(n, lo, hi), p.scoring, p.sanction, part.arrays, step)
        resp = respond(Span(n, lo, hi), p.respond, k, net.ties, part.arrays, pop.people.arrays)
        got = got + row + resp.row
        by_group = by_group + resp.by_group
        got_busy.append(b)
        for name in ("caution", "own_risk", "today", "score"):
            np.testing.assert_array_equal(getattr(part, name)[lo:hi],
                                          getattr(whole, name)[lo:hi])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(by_group, whole_resp.by_group)
    np.testing.assert_array_equal(whole_resp.by_group[:, 2], np.bincount(group, minlength=G))
    np.testing.assert_array_equal(np.concatenate(got_busy), busy)
    sweep = measure_counts(p.scoring.grade_bounds, G, whole.score, whole.caution,
                           whole.eff_mask, group)
    np.testing.assert_array_equal(expected, sweep)
    assert expected[1] > 0 and np.all(whole.today[whole.sanctioned_ties == 0] == 0)
    assert np.all(whole.caution[:7000] == 0)


def test_ranges_on_one_state_keep_the_marks_of_blocks_they_cut() -> None:
    """A range that cuts one of respond's blocks of live marks leaves the mark for the part
    it did not visit: ranges run one after another on one state update every agent."""
    sc = load_scenario("default")
    n = 20_000
    pop = build_population(sc, n, 3)
    _, plans, whole = Sim(sc, agents=n, days=1, seed=3).prepare(pop)
    p, net = plans[0], pop.network
    whole.caution[4097:5000] = 0.5  # in block 4 (agents 4096-5119), after the cut at 4097
    whole.mark_live()
    shared = copy.deepcopy(whole)
    k = p.scoring.grade_bounds.shape[0]
    people = pop.people.arrays
    respond(Span(n, 0, n), p.respond, k, net.ties, whole.arrays, people)
    for lo, hi in zip([0, 4096, 4097, 12_000], [4096, 4097, 12_000, n], strict=True):
        respond(Span(n, lo, hi), p.respond, k, net.ties, shared.arrays, people)
    np.testing.assert_array_equal(shared.caution, whole.caution)
    assert whole.caution[4097] < 0.5  # caution fell toward its (zero) perceived risk


def state_bytes_of_whole(n: int, scenario: str = "default") -> int:
    """The bytes of the state of a whole population of n (the single process's)."""
    sim = Sim(scenario, agents=n, days=0, seed=7)
    return sim.prepare(build_population(sim.scenario, n, 7))[2].nbytes()


# ------------------------------------------------------------------ whole runs
@pytest.fixture(scope="module")
def default_single():
    return Sim("default", agents=N, days=DAYS, seed=7).run()


@pytest.mark.parametrize("k", [1, 2, 4])
def test_default_partitioned_is_bit_identical(actors, default_single, k: int) -> None:
    sim = Sim("default", agents=N, days=DAYS, seed=7)
    res, work, infos = _run_and_inspect(sim, k, actors)
    _check_same(res, default_single)
    total = sum(default_single.summary["final"]["acts"].values())
    _check_split(work, infos, partition_bounds(sim, k), DAYS, total)


def test_cli_partitions_writes_identical_files(local_ray, tmp_path: Path) -> None:
    """``scoresim run --partitions 2`` and the single process write the same summary.json
    (but for the timing fields and the command) and the same daily.parquet; here with a city
    abroad, whose diaspora's kin ties home cross from one partition to the other."""
    runner = CliRunner()
    args = ["run", "overseas-venue", "--agents", "8000", "--days", "10", "--seed", "7", "-q"]
    one, two = tmp_path / "one", tmp_path / "two"
    r = runner.invoke(app, [*args, "--out", str(one)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, [*args, "--out", str(two), "--partitions", "2"])
    assert r.exit_code == 0, r.output
    a, b = (json.loads((d / "summary.json").read_text()) for d in (one, two))
    assert set(b) - set(a) == {"partitions"}  # the actors' memory and traffic
    assert {k for k in a if a[k] != b[k]} <= set(NOT_MODEL)
    assert (one / "daily.parquet").read_bytes() == (two / "daily.parquet").read_bytes()


def test_cross_partition_paths_are_bit_identical(actors) -> None:
    k = 4
    sim = lambda: Sim("overseas-venue", agents=N, days=DAYS, seed=5, overrides=CROSS)  # noqa: E731
    want = sim().run()
    res, work, infos = _run_and_inspect(sim(), k, actors)
    _check_same(res, want)
    total = sum(want.summary["final"]["acts"].values())
    _check_split(work, infos, partition_bounds(sim(), k), DAYS, total)
    sent = {key: sum(w.get(key, 0) for w in work) for key in
            ("sent_hits", "sent_visibility", "sent_reach", "sent_firm_penalties",
             "sent_victims", "sent_cuts", "sent_cut_backs")}
    assert all(v > 0 for v in sent.values()), sent  # every kind of message went across
    assert want.summary["final"]["ever_listed"]["firm_list"] > 0
    assert want.summary["overseas"]["false_matches_onto_enrolled"] > 0
    assert want.summary["final"]["ties_cut"] > 0


def test_an_actor_holds_its_range_and_faults_on_another(tmp_path: Path) -> None:
    """A partition's state and traits hold memory for its range alone: its own agents read
    and write, and a touch of another range's agent stops the process (no silent reads)."""
    import subprocess
    import sys

    code = (
        "import numpy as np, sys\n"
        "from scoresim import load_scenario\n"
        "from scoresim.experiments.partition_worker import PartitionWorker\n"
        "w = PartitionWorker(load_scenario('default'), 16000, 1, 0, True,\n"
        "                    np.array([0, 8192, 16000]), 1)\n"
        "assert w.pop.people.propensity.shape[1] == 16000\n"
        "print(int(w.s.score[9000]), float(w.pop.people.propensity[0, 9000]) > 0, flush=True)\n"
        f"print(int(w.s.{'{}'}[100]), flush=True)\n")
    for array in ("score", "caution", "list_state[0]"):
        p = subprocess.run([sys.executable, "-c", code.format(array)], capture_output=True,
                           text=True, timeout=300)
        assert p.stdout.split("\n")[0] == "100000 True", (array, p.stdout, p.stderr[-2000:])
        assert p.returncode == -11, (array, p.returncode, p.stderr[-2000:])  # SIGSEGV


def _sent_bytes_per_day(agents: int, region_mixing: float) -> float:
    """The effects two ranges send each other per day, run in process (as `scoresim plan`
    does), when each tie layer keeps a share ``region_mixing`` of ties in their region."""
    from scoresim.experiments.partition_worker import PartitionWorker
    from scoresim.experiments.partitioned import exchange_day

    days = 6
    # false alerts off: they name anyone in the gallery, wherever the ties are
    over = ["channels.camera.fmr=0", *(
        f"layers.{name}.assortativity={{group: 0.5, region: {region_mixing}}}"
        for name in ("kin", "friends"))]
    sim = Sim("default", agents=agents, days=days, seed=3, overrides=over)
    bounds = partition_bounds(sim, 2)
    workers = [PartitionWorker(sim.scenario, agents, days, 3, True, bounds, j)
               for j in range(2)]
    for day in range(days):
        exchange_day(lambda r, inbox, d=day: [w.run_round(d, r, inbox[j])
                                               for j, w in enumerate(workers)], 2)
    return sum(w.work.get("sent_bytes", 0) for w in workers) / days


def test_exchange_follows_the_ties_that_cross_cuts_not_the_population() -> None:
    """Cut between whole regions (and no false alerts): with every tie in its region nothing
    crosses, at any size; the more ties leave their region, the more is exchanged."""
    assert _sent_bytes_per_day(16_384, 1.0) == 0
    assert _sent_bytes_per_day(65_536, 1.0) == 0
    some, more = _sent_bytes_per_day(16_384, 0.9), _sent_bytes_per_day(16_384, 0.5)
    assert 0 < some < more
