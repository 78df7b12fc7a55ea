"""Comparisons: counterfactuals, paired differences and intervals, the executors, the CLI.

Small populations on one Numba thread: these tests check exact properties of common random
numbers (a system against itself, scoring off against its counterfactual, monotone
deterrence), which hold at any size.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scoresim
from scoresim.cli import app
from scoresim.experiments import (
    ProcessExecutor,
    SerialExecutor,
    parse_spec,
    run_compare,
    run_with_counterfactual,
)
from scoresim.experiments.metrics import interval, t975

runner = CliRunner()
ONE_THREAD = SerialExecutor(threads=1)
SMALL = {"agents": 3000, "days": 40}
NO_TIMELINE = "default@timeline=[]"  # the day-180 change would soften an overridden rule
HARSH = "@scoring.rules.online_criticism=-100@scoring.rules.offline_criticism=-250"
HARSHER = "@scoring.rules.online_criticism=-500@scoring.rules.offline_criticism=-1000"


def test_t_quantiles_and_intervals() -> None:
    assert t975(1) == pytest.approx(12.7062, abs=1e-4)
    assert t975(10) == pytest.approx(2.2281, abs=1e-4)
    assert t975(50) == pytest.approx(2.0086, abs=2e-3)
    assert t975(10**6) == pytest.approx(1.96, abs=1e-3)
    iv = interval([1.0, 2.0, 3.0])
    assert iv["mean"] == 2.0 and iv["n"] == 3
    assert iv["hi"] - 2.0 == pytest.approx(4.302653 / math.sqrt(3))
    one = interval([0.25])
    assert one["mean"] == 0.25 and math.isnan(one["lo"]) and math.isnan(one["hi"])
    assert interval([0.1, 0.1, 0.1]) == {"mean": 0.1, "lo": 0.1, "hi": 0.1, "n": 3}
    assert interval([float("nan")])["n"] == 0


def test_parse_spec() -> None:
    assert parse_spec("default") == (None, "default", [])
    assert parse_spec("x=default@a.b=1@c=[p,q]") == ("x", "default", ["a.b=1", "c=[p,q]"])
    assert parse_spec("dir/my.yaml@layers.kin.spillover=0") == (
        None, "dir/my.yaml", ["layers.kin.spillover=0"])


def test_a_scenario_compared_with_itself_differs_by_exactly_zero() -> None:
    comp = run_compare(["default", "default"], seeds=2, executor=ONE_THREAD, **SMALL)
    assert comp.labels == ["default", "default #2"]
    diffs = comp.summary[comp.summary["kind"] == "difference"]
    assert len(diffs) == len(comp.summary[comp.summary["kind"] == "value"]) / 2
    values = comp.summary[(comp.summary["kind"] == "value")
                          & (comp.summary["scenario"] == "default")].set_index("metric")
    for row in diffs.itertuples():
        if math.isnan(values.loc[row.metric, "mean"]):  # undefined in both: no difference
            assert row.n == 0
            continue
        if row.n < 2:  # defined in one seed only (a share of rare false alerts): no interval
            assert row.mean == 0.0 and row.n == 1, row.metric
            continue
        assert (row.mean, row.lo, row.hi, row.n) == (0.0, 0.0, 0.0, 2), row.metric
    a, b = (comp.per_seed[comp.per_seed["scenario"] == x]["value"].to_numpy()
            for x in comp.labels)
    assert np.array_equal(a, b, equal_nan=True)
    # the system did something, so the zero differences are not vacuous
    assert values.loc["chilling.overall", "mean"] > 0


def test_scoring_off_equals_its_counterfactual_exactly() -> None:
    sim = scoresim.Sim("default", seed=5, overrides=["scoring_enabled=false"], **SMALL)
    res = run_with_counterfactual(sim)
    pd.testing.assert_frame_equal(res.daily, res.counterfactual.daily)
    assert res.summary["final"] == res.counterfactual.summary["final"]
    assert all(v == 0.0 for v in res.summary["counterfactual"]["chilling"].values())

    comp = run_compare(["off=default@scoring_enabled=false"], seeds=1, executor=ONE_THREAD,
                       **SMALL)
    chill = comp.summary[comp.summary["metric"].str.startswith("chilling.")]
    assert len(chill) == 3 and (chill["mean"] == 0.0).all() and (chill["n"] == 1).all()
    assert chill["lo"].isna().all()  # one seed: a value and no interval


def test_harsher_penalties_on_criticism_never_increase_criticism() -> None:
    comp = run_compare([NO_TIMELINE, NO_TIMELINE + HARSH, NO_TIMELINE + HARSHER], seeds=3,
                       agents=4000, days=90, executor=ONE_THREAD)
    lost = 0
    for b in ("online_criticism", "offline_criticism"):
        for k in range(3):
            acts = [int(comp.daily[label][k][f"acts_{b}"].sum()) for label in comp.labels]
            cf = {int(comp.cf_daily[label][k][f"acts_{b}"].sum()) for label in comp.labels}
            assert len(cf) == 1  # one counterfactual: rules do not matter with scoring off
            assert acts[0] >= acts[1] >= acts[2], (b, k, acts)
            lost += acts[0] - acts[2]
    assert lost > 0


def test_process_pool_gives_the_serial_results() -> None:
    args = (["default", "no-assoc=default@safeguards.association_penalties=false"],)
    kw = {"seeds": 2, "agents": 2000, "days": 20}
    serial = run_compare(*args, executor=ONE_THREAD, **kw)
    pooled = run_compare(*args, executor=ProcessExecutor(workers=2, threads_per_worker=1), **kw)
    pd.testing.assert_frame_equal(serial.per_seed, pooled.per_seed)
    assert pooled.meta["executor"] == "process"


def test_python_compare_returns_a_dataframe() -> None:
    df = scoresim.compare(["default"], seeds=2, executor=ONE_THREAD, agents=2000, days=20)
    assert {"scenario", "metric", "kind", "mean", "lo", "hi", "n"} <= set(df.columns)
    metrics = set(df["metric"])
    for m in ("chilling.overall", "chilling.online_criticism", "ever_sanctioned_frac",
              "sanctioned_for_others_acts_frac", "sanctioned_for_expression_frac",
              "never_acted_sanctioned_frac", "ever_sanctioned_by_cause.false_match",
              "chilling_by_group.overall.minority", "disparity.chilling_ratio.overall.minority",
              "false_attributions_per_1000_per_year", "denied_per_1000_per_year.flight",
              "disparity.ever_sanctioned_ratio.minority",
              "disparity.false_attribution_share.majority",
              "lists.dishonest_debtors.listings_per_1000_per_year"):
        assert m in metrics


def test_cli_compare_writes_its_outputs(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    r = runner.invoke(app, ["compare", "default", "no-assoc=default@layers.kin.spillover=0",
                            "--seeds", "2", "--agents", "2000", "--days", "20", "--executor",
                            "serial", "--threads", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads((out / "compare.json").read_text())
    assert [s["label"] for s in data["scenarios"]] == ["default", "no-assoc"]
    assert data["seeds"] == [0, 1] and data["agents"] == 2000 and "command" in data
    assert set(data["differences"]) == {"no-assoc"}
    value = data["metrics"]["default"]["chilling.overall"]
    assert set(value) == {"mean", "lo", "hi", "n", "interval"}
    assert value["interval"] == "bootstrap"
    diff = data["differences"]["no-assoc"]["chilling.overall"]
    assert diff["interval"] == "t" and set(diff["relative"]) == {"mean", "lo", "hi"}
    per_seed = pd.read_parquet(out / "compare.parquet")
    assert list(per_seed.columns) == ["scenario", "seed", "metric", "value"]
    n_metrics = per_seed["metric"].nunique()
    assert len(per_seed) == 2 * 2 * n_metrics
    assert (out / "report.html").stat().st_size > 10_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("args,needle", [
    (["no-such-scenario"], "no-such-scenario"),
    (["default", "--seeds", "0"], "--seeds"),
    (["default@behaviours.online_criticism.rate=2"], "behaviours.online_criticism.rate"),
    (["default", "--executor", "dask"], "--executor"),
])
def test_cli_compare_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args, needle) -> None:
    out = tmp_path / "never"
    r = runner.invoke(app, ["compare", *args, "--agents", "500", "--days", "5", "--executor",
                            "serial", "--out", str(out)] if "--executor" not in args else
                      ["compare", *args, "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_compare_refuses_a_folder_that_is_not_a_result(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    r = runner.invoke(app, ["compare", "default", "--agents", "500", "--days", "5",
                            "--executor", "serial", "--out", str(out)])
    assert r.exit_code == 2 and "not a previous scoresim result" in r.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
