"""Sweeps on a local Ray instance (2 CPUs): runs land in DuckDB once each, a driver killed with
kill -9 resumes to the same results, failed runs are stored as failed, bad files exit 2, and
compare on Ray equals compare in one process. Populations are small (2,000 agents)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import scoresim
from scoresim.cli import app
from scoresim.experiments.compare import run_compare
from scoresim.experiments.executors import RayExecutor, make_executor, ray_init
from scoresim.experiments.sweep import load_sweep
from scoresim.experiments.sweep_analysis import analyze_sweep
from scoresim.experiments.sweep_run import SweepBusy, run_sweep
from scoresim.scenario import ScenarioError

runner = CliRunner()

GRID = """\
scenario: default
parameters:
  scoring.rules.online_criticism: [-10, -50]
seeds: 2
agents: 2000
days: 30
"""


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    started = ray_init(num_cpus=2)
    yield
    if started:
        ray.shutdown()


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def counts(folder: Path) -> dict[str, int]:
    with scoresim.open_results(folder) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("runs", "metrics", "daily")}


def test_a_small_sweep_stores_every_run_once(tmp_path: Path, ray_cluster) -> None:
    sweep = load_sweep(write(tmp_path, GRID))
    out = tmp_path / "out"
    report = run_sweep(sweep, out, RayExecutor())
    assert (report.runs, report.done, report.failed, report.already_done) == (4, 4, 0, 0)
    with scoresim.open_results(out) as con:
        runs = con.sql("SELECT * FROM runs ORDER BY run_id").df()
        per_run = con.sql("SELECT run_id, count(*) n FROM metrics GROUP BY run_id").df()
        days = con.sql("SELECT run_id, count(DISTINCT day) d, count(*) n FROM daily "
                       "GROUP BY run_id").df()
        series = con.sql("SELECT DISTINCT series FROM daily").df()["series"].tolist()
        with pytest.raises(duckdb.Error):  # read-only by default
            con.execute("DELETE FROM runs")
    assert len(runs) == 4 and runs["run_id"].is_unique and set(runs["status"]) == {"done"}
    assert sorted(runs["seed"]) == [0, 0, 1, 1]
    assert runs["version"].eq(scoresim.__version__).all() and runs["host"].notna().all()
    assert runs["scenario_hash"].nunique() == 2  # two parameter sets, two scenarios
    assert (runs["wall_seconds"] > 0).all() and runs["error"].isna().all()
    assert len(per_run) == 4 and per_run["n"].nunique() == 1 and per_run["n"].iloc[0] > 10
    assert (days["d"] == 30).all() and (days["n"] == 30 * len(series)).all()
    assert "acts_online_criticism" in series and "cf_acts_online_criticism" in series
    # the runs match a plain run of the same scenario and seed
    res = scoresim.Sim("default", agents=2000, days=30, seed=1,
                       overrides=["scoring.rules.online_criticism=-50"]).run()
    with scoresim.open_results(out) as con:
        got = con.sql("""SELECT m.value FROM runs r JOIN metrics m USING (run_id)
            WHERE r.seed = 1 AND m.metric = 'ever_sanctioned_frac'
            AND (r.params->>'$."scoring.rules.online_criticism"')::INT = -50""").fetchall()
    assert got == [(res.summary["final"]["ever_sanctioned_frac"],)]
    # the same sweep again computes nothing
    again = run_sweep(sweep, out, RayExecutor())
    assert (again.done, again.already_done) == (0, 4)
    assert counts(out) == {"runs": 4, "metrics": 4 * per_run["n"].iloc[0],
                           "daily": 4 * 30 * len(series)}


def test_a_failing_run_is_stored_failed_and_the_rest_finish(tmp_path: Path,
                                                            ray_cluster) -> None:
    sweep = load_sweep(write(tmp_path, """\
        scenario: default
        counterfactual: false
        parameters:
          behaviours.online_criticism.rate: [0.003, -1, 0.006]
        seeds: 1
        agents: 2000
        days: 30
        """))
    out = tmp_path / "out"
    report = run_sweep(sweep, out, RayExecutor())
    assert (report.done, report.failed) == (2, 1)
    with scoresim.open_results(out) as con:
        runs = con.sql("SELECT params, status, error, attempts FROM runs").df()
        failed_metrics = con.sql("""SELECT count(*) FROM metrics JOIN runs USING (run_id)
                                    WHERE status = 'failed'""").fetchone()[0]
    bad = runs[runs["status"] == "failed"].iloc[0]
    assert '"behaviours.online_criticism.rate": -1' in bad["params"]
    assert "greater than or equal to 0" in bad["error"] and bad["attempts"] == 2
    assert failed_metrics == 0
    assert (runs.loc[runs["status"] == "done", "attempts"] == 1).all()


def _driver(cmd: list[str], fault: str) -> SimpleNamespace:
    """Run a driver that kills itself (SIGKILL) at the point SCORESIM_FAULT names; its
    returncode, stderr and pid."""
    env = {**os.environ, "SCORESIM_PROGRESS": "0", "SCORESIM_FAULT": fault}
    # the driver leads its own process group, so anything it started can be cleaned up after
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=600)  # a safety net for a hang, not a timing
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return SimpleNamespace(returncode=p.returncode, stderr=err.decode(), pid=p.pid)


def test_sweep_killed_with_kill_9_resumes_to_the_same_results(tmp_path: Path,
                                                               ray_cluster) -> None:
    file = write(tmp_path, """\
        scenario: default
        parameters:
          scoring.rules.online_criticism: [0, -10, -20, -30, -40, -50]
        seeds: 2
        agents: 2000
        days: 30
        """)
    import ray

    total, killed_after = 12, 3
    out = tmp_path / "killed"
    # the driver joins the test's Ray instance as it would a cluster (--address): no second
    # instance to start, and kill -9 of a driver on a cluster is the case that matters
    address = ray.get_runtime_context().gcs_address
    cmd = [str(Path(sys.executable).parent / "scoresim"), "sweep", str(file), "--out", str(out),
           "--address", address]
    p = _driver(cmd, f"kill-after-stored-runs:{killed_after}")
    assert p.returncode == -signal.SIGKILL, p.stderr
    c = counts(out)
    assert c["runs"] == killed_after  # exactly the runs stored before the kill
    assert c["metrics"] % c["runs"] == 0 and c["daily"] % (c["runs"] * 30) == 0
    # the same command again (in this process: it joins the test's Ray instance)
    rerun = runner.invoke(app, cmd[1:])
    assert rerun.exit_code == 0, rerun.output
    assert f"{total - killed_after} computed now, {killed_after} already done" in " ".join(
        rerun.output.split())
    # an uninterrupted sweep gives the same runs and the same metrics
    whole = tmp_path / "whole"
    run_sweep(load_sweep(file), whole, RayExecutor())
    with scoresim.open_results(out) as con:
        a = con.sql("SELECT run_id, metric, value FROM metrics ORDER BY ALL").df()
        ids = con.sql("SELECT run_id, count(*) n FROM runs GROUP BY run_id").df()
        daily_a = con.sql("SELECT * FROM daily ORDER BY ALL").df()
    with scoresim.open_results(whole) as con:
        b = con.sql("SELECT run_id, metric, value FROM metrics ORDER BY ALL").df()
        daily_b = con.sql("SELECT * FROM daily ORDER BY ALL").df()
    assert len(ids) == total and (ids["n"] == 1).all()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(daily_a, daily_b)


KILLED_WRITER = """\
import sys
import pandas as pd
from scoresim.results.store import Store
store = Store(sys.argv[1])
daily = pd.DataFrame({"day": [0, 1], "series": ["x", "x"], "value": [1.0, 2.0]})
for k in range(3):
    store.save_run({"run_id": f"r{k}", "status": "done"}, {"m": float(k)}, daily)
"""


def test_a_kill_inside_a_result_transaction_leaves_whole_runs_only(tmp_path: Path) -> None:
    out = tmp_path / "store"
    cmd = [sys.executable, "-c", KILLED_WRITER, str(out)]
    p = _driver(cmd, "kill-inside-transaction:2")
    assert p.returncode == -signal.SIGKILL, p.stderr
    with scoresim.open_results(out) as con:  # DuckDB replays its log: run r1 never committed
        assert con.sql("SELECT run_id FROM runs").fetchall() == [("r0",)]
        assert con.sql("SELECT run_id, metric, value FROM metrics").fetchall() == [
            ("r0", "m", 0.0)]
        assert con.execute("SELECT count(*) FROM daily WHERE run_id <> 'r0'").fetchone() == (0,)
    again = subprocess.run(cmd, capture_output=True, text=True)  # no fault: every run lands
    assert again.returncode == 0, again.stderr
    assert counts(out) == {"runs": 3, "metrics": 3, "daily": 6}


def test_a_bad_fault_name_is_refused(monkeypatch) -> None:
    from scoresim.results import faults

    monkeypatch.setenv(faults.ENV, "kill-after-stord-runs:3")
    with pytest.raises(ValueError, match="not one of"):
        faults.reach("kill-after-stored-runs")


def test_local_ray_listens_on_loopback_only(ray_cluster) -> None:
    import ipaddress

    import psutil
    import ray

    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    mine = {p.pid for p in psutil.Process().children(recursive=True)} | {os.getpid()}
    listening = [c.laddr for c in psutil.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in mine]
    assert len(listening) >= 3  # the GCS, the raylet, this driver's core worker
    for addr in listening:
        ip = ipaddress.ip_address(addr.ip)
        ip = getattr(ip, "ipv4_mapped", None) or ip
        assert ip.is_loopback, f"Ray listens on {addr.ip}:{addr.port}"


def test_ray_processes_of_a_killed_driver_end_on_the_next_start(tmp_path: Path) -> None:
    import psutil

    from scoresim.experiments.ray_local import end_left_behind, records_dir

    file = write(tmp_path, GRID)
    cmd = [str(Path(sys.executable).parent / "scoresim"), "sweep", str(file), "--out",
           str(tmp_path / "out"), "--threads", "1", "--workers", "1"]
    p = _driver(cmd, "kill-after-stored-runs:1")  # starts its own local Ray, then dies
    assert p.returncode == -signal.SIGKILL, p.stderr
    record = records_dir() / f"{p.pid}.json"
    procs = json.loads(record.read_text())["processes"]
    left = [psutil.Process(pid) for pid, created in procs
            if psutil.pid_exists(pid) and psutil.Process(pid).create_time() == created]
    assert left, "the killed driver left no Ray process running"
    end_left_behind()  # what the next start does first
    gone, alive = psutil.wait_procs(left, timeout=10)
    assert not alive and not record.exists()


def test_query_and_analyze_from_the_command_line(tmp_path: Path, ray_cluster) -> None:
    out = tmp_path / "out"
    run_sweep(load_sweep(write(tmp_path, GRID)), out, RayExecutor())
    r = runner.invoke(app, ["query", str(out), "SELECT status, count(*) AS n FROM runs "
                            "GROUP BY status"])
    assert r.exit_code == 0, r.output
    assert "done" in r.output and "4" in r.output
    r = runner.invoke(app, ["query", str(out), "SELECT status, count(*) AS n FROM runs "
                            "GROUP BY status", "--format", "csv"])
    assert r.exit_code == 0 and r.stdout.splitlines() == ["status,n", "done,4"]
    r = runner.invoke(app, ["query", str(out), "SELECT run_id, seed, params FROM runs "
                            "ORDER BY run_id", "--format", "json"])
    rows = json.loads(r.stdout)
    assert len(rows) == 4 and sorted(x["seed"] for x in rows) == [0, 0, 1, 1]
    assert all(json.loads(x["params"]) for x in rows)
    r = runner.invoke(app, ["query", str(out), "SELECT 1", "--format", "xml"])
    assert r.exit_code == 2 and "--format must be table, csv or json" in r.output
    r = runner.invoke(app, ["query", str(out), "SELECT nothing FROM nowhere"])
    assert r.exit_code == 2 and "SQL:" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["query", str(tmp_path / "missing"), "SELECT 1"])
    assert r.exit_code == 2 and "no such file" in r.output
    r = runner.invoke(app, ["sweep", "--analyze", str(out), "--metric",
                            "ever_sanctioned_frac"])
    assert r.exit_code == 0, r.output
    assert "scoring.rules.online_criticism" in r.output.replace("\n", "") or "-50" in r.output
    with scoresim.open_results(out) as con:
        res = analyze_sweep(con, "ever_sanctioned_frac")
        raw = con.sql("""SELECT (params->>'$."scoring.rules.online_criticism"')::INT p,
                         avg(value) v FROM runs JOIN metrics USING (run_id)
                         WHERE metric = 'ever_sanctioned_frac' GROUP BY p""").df()
    assert res.kind == "by_value" and len(res.table) == 2 and (res.table["n"] == 2).all()
    for row in res.table.itertuples(index=False):
        expected = raw.loc[raw["p"] == row[0], "v"].iloc[0]
        assert math.isclose(row.mean, expected, rel_tol=1e-12, abs_tol=1e-15)
    r = runner.invoke(app, ["sweep", "--analyze", str(out), "--metric",
                            "ever_sanctioned_frac", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [row["mean"] for row in json.loads(r.stdout)] == res.table["mean"].tolist()
    r = runner.invoke(app, ["sweep", "--analyze", str(out), "--metric", "no_such_metric"])
    assert r.exit_code == 2 and "no metric 'no_such_metric'" in r.output
    # a third seed in the file: only its runs are computed, and the analysis follows
    more = run_sweep(load_sweep(write(tmp_path, GRID.replace("seeds: 2", "seeds: 3"))), out,
                     RayExecutor())
    assert (more.runs, more.done, more.already_done) == (6, 2, 4)
    with scoresim.open_results(out) as con:
        assert (analyze_sweep(con, "ever_sanctioned_frac").table["n"] == 3).all()
        assert con.execute("SELECT count(*) FROM sweeps").fetchone()[0] == 2


def test_sobol_sweep_gives_indices_for_every_parameter(tmp_path: Path, ray_cluster) -> None:
    sweep = load_sweep(write(tmp_path, """\
        scenario: default
        counterfactual: false
        sampler: sobol
        samples: 4
        parameters:
          behaviours.minor_infraction.rate: {range: [0.001, 0.02], log: true}
          scoring.rules.minor_infraction: {range: [-20, -1]}
        agents: 2000
        days: 30
        """))
    assert len(sweep.samples) == 4 * (2 + 2)
    out = tmp_path / "out"
    assert run_sweep(sweep, out, RayExecutor()).done == 16
    with scoresim.open_results(out) as con:
        res = analyze_sweep(con, "mean_score")
    assert res.kind == "sobol"
    assert list(res.table["parameter"]) == list(sweep.ranges)
    assert res.table[["first_order", "total", "total_ci"]].notna().all().all()


BAD_FILES = {
    "unknown key": ("scenario: default\nagents: 10\nparametres: {a: [1]}\n", 3, "parametres"),
    "unknown path": ("scenario: default\nparameters:\n  behaviours.nope.rate: [1, 2]\n", 3,
                     "parameters.behaviours.nope.rate"),
    "grid needs a list": ("parameters:\n  layers.kin.spillover: {range: [0, 1]}\n", 2,
                          "parameters.layers.kin.spillover"),
    "bad range": ("sampler: lhs\nsamples: 4\nparameters:\n  layers.kin.spillover:\n"
                  "    range: [1, 0]\n", 5, "parameters.layers.kin.spillover.range"),
    "bad type": ("parameters: {layers.kin.spillover: [0]}\ndays: many\n", 2, "days"),
    "sobol not a power of 2": ("sampler: sobol\nsamples: 6\nparameters:\n"
                               "  layers.kin.spillover: {range: [0, 1]}\n", 2, "samples"),
    "bad override": ("set:\n  - scoring.rules.online_criticism=-1\n  - layers.kin.spillover=x\n"
                     "parameters: {layers.kin.spillover: [0]}\n", 3, "set.1"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_sweep_file_names_file_line_and_key(tmp_path: Path, case: str) -> None:
    text, line, key = BAD_FILES[case]
    file = write(tmp_path, text)
    r = runner.invoke(app, ["sweep", str(file), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    assert f"{file}:{line}: {key}" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "out").exists()


def test_run_ids_are_stable_and_a_changed_sweep_keeps_the_runs_it_shares(
        tmp_path: Path) -> None:
    a = load_sweep(write(tmp_path, GRID))
    b = load_sweep(write(tmp_path, GRID, "again.yaml"))
    c = load_sweep(write(tmp_path, GRID.replace("seeds: 2", "seeds: 3"), "more.yaml"))
    assert a.plan()["run_id"].tolist() == b.plan()["run_id"].tolist()
    assert a.sweep_id == b.sweep_id != c.sweep_id
    assert set(a.plan()["run_id"]) < set(c.plan()["run_id"]) and len(c.plan()) == 6
    with pytest.raises(ScenarioError):
        load_sweep(tmp_path / "missing.yaml")


def _flaky(task: tuple[str, str]) -> str:
    """Fails on its first attempt (the marker file tells): its worker dies, or it raises."""
    marker, how = task
    if how == "always":
        raise RuntimeError("this task always fails")
    if how != "fine" and not os.path.exists(marker):
        open(marker, "w").close()
        if how == "die":
            os._exit(1)  # the worker process dies, as on a lost node
        raise RuntimeError("the first attempt fails")
    return how


def test_a_dead_worker_and_a_raising_task_are_retried(tmp_path: Path, ray_cluster) -> None:
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import it
    try:
        tasks = [(str(tmp_path / "die"), "die"), (str(tmp_path / "raise"), "raise"),
                 (str(tmp_path / "never"), "always"), (str(tmp_path / "ok"), "fine")]
        outcomes = {o.index: o for o in RayExecutor().each(_flaky, tasks, retries=1)}
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert (outcomes[0].value, outcomes[0].attempts) == ("die", 1)  # Ray re-ran it
    assert (outcomes[1].value, outcomes[1].attempts) == ("raise", 2)  # we re-ran it
    assert outcomes[2].value is None and outcomes[2].attempts == 2
    assert "RuntimeError: this task always fails" in outcomes[2].error
    assert (outcomes[3].value, outcomes[3].attempts) == ("fine", 1)


def test_one_writer_per_results_folder(tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".sweep.lock", "w") as held:  # as a running sweep holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(SweepBusy, match="another sweep is writing"):
            run_sweep(load_sweep(write(tmp_path, GRID)), out)
    assert not (out / "results.duckdb").exists()


def test_compare_on_ray_equals_compare_in_one_process(ray_cluster) -> None:
    specs = ["default", "no-assoc=default@safeguards.association_penalties=false"]
    done: list[int] = []
    ray_cmp = run_compare(specs, seeds=2, agents=2000, days=30, executor=RayExecutor(),
                          on_done=lambda i, r: done.append(i))
    serial = run_compare(specs, seeds=2, agents=2000, days=30, executor="serial")
    assert sorted(done) == [0, 1, 2, 3] and ray_cmp.meta["executor"] == "ray"
    pd.testing.assert_frame_equal(ray_cmp.per_seed, serial.per_seed)
    pd.testing.assert_frame_equal(ray_cmp.summary, serial.summary)
    for label in ray_cmp.labels:
        for x, y in zip(ray_cmp.daily[label], serial.daily[label], strict=True):
            pd.testing.assert_frame_equal(x, y)
    assert isinstance(make_executor("ray", address="auto"), RayExecutor)
    with pytest.raises(ValueError):
        make_executor("process", address="auto")
    with pytest.raises(ValueError, match="threads per task"):  # would wait forever
        RayExecutor(threads=64).start()
    r = runner.invoke(app, ["compare", "default", "--address", "auto", "--out", "x"])
    assert r.exit_code == 2 and "--address needs --executor ray" in r.output
