"""Calibration: the targets language, the shipped SPC targets, recovering a known parameter,
and the `scoresim calibrate` command end to end. SYNTHETIC populations only."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scoresim import Sim, load_scenario
from scoresim.cli import app
from scoresim.experiments.calibrate import (
    calibrate,
    calibrated_yaml,
    fit_json,
    scenario_value,
    write_calibration,
)
from scoresim.experiments.targets import (
    TargetsError,
    builtin_targets,
    evaluate,
    load_targets,
    metric_days,
)

CHINA = 1_411_800_000
TOY = {"name": "toy", "population": {"regions": {"all": {"share": 1.0}}},
       "channels": {"rec": {"observe": 1.0}},
       "behaviours": {"bad": {"rate": 0.02, "channel": "rec"}}}


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


# ---------------------------------------------------------------- the metric language
def test_metrics_read_the_daily_table():
    daily = pd.DataFrame({"day": range(5), "x": [1, 2, 3, 4, 5], "y": [2, 2, 2, 2, 0]})
    assert evaluate("cum(x, 2)", daily) == 6
    assert evaluate("total(x, 1, 3)", daily) == 9
    assert evaluate("mean(x, 0, 4)", daily) == 3
    assert evaluate("at(x, 4) / at(y, 0) - 1", daily) == 1.5
    start = date(2020, 1, 1)
    assert evaluate("cum(x, '2020-01-03')", daily, start) == 6
    assert metric_days("total(x, '2020-01-02', '2020-01-05')", start) == [1, 4]
    assert evaluate("at(x, 0) / at(y, 4)", daily) != evaluate("at(x, 0) / at(y, 4)", daily)  # nan
    assert evaluate("2 * a + b", names={"a": 1.5, "b": 1}) == 4


@pytest.mark.parametrize("expr, message", [
    ("cum(x)", "takes a column name"),
    ("x + 1", "must be inside a function"),
    ("total(x, 3, 1)", "in order"),
    ("cum(x, '2020-01-03')", "start_date"),
    ("sum(x, 1)", "unknown function"),
    ("__import__('os')", "unknown function"),
    ("cum(x, 1) ** 2", "cannot use"),
])
def test_bad_metrics_are_refused_before_anything_runs(tmp_path, expr, message):
    path = write(tmp_path, "t.yaml", f"""\
        parameters: {{r: {{path: behaviours.bad.rate, range: [0.001, 0.1]}}}}
        targets: {{t: {{metric: "{expr}", per_capita: 1.0}}}}
        """)
    with pytest.raises(TargetsError, match=message):
        load_targets(path)


def test_a_metric_past_the_run_or_on_a_missing_column_is_an_error(tmp_path):
    path = write(tmp_path, "t.yaml", """\
        parameters: {r: {path: behaviours.bad.rate, range: [0.001, 0.1]}}
        targets: {t: {metric: "cum(acts_nothing, 5)", per_capita: 1.0}}
        """)
    with pytest.raises(TargetsError, match="no daily column 'acts_nothing'"):
        calibrate(TOY, path, trials=1, agents=100, days=10)
    path = write(tmp_path, "u.yaml", """\
        parameters: {r: {path: behaviours.nope.rate, range: [0.001, 0.1]}}
        targets: {t: {metric: "cum(acts_bad, 5)", per_capita: 1.0}}
        """)
    with pytest.raises(TargetsError, match="parameters.r.path"):
        calibrate(TOY, path, trials=1, agents=100, days=10)
    with pytest.raises(TargetsError, match="run at least 6 days"):
        calibrate(TOY, str(tmp_path / "t.yaml"), trials=1, agents=100, days=5)


# ---------------------------------------------------------------- the shipped targets
SPC_PUBLISHED = {
    "national-spc": {"ever_listed_2017": 9.59e6, "ever_listed_2018": 13e6,
                     "new_listings_2024": 2.457e6, "exits_2024": 2.821e6},
    "national-travel": {"flights_denied_2017": 9.36e6, "flights_denied_2018": 17.46e6,
                        "rail_denied_2017": 3.67e6, "rail_denied_2018": 5.47e6}}


@pytest.mark.parametrize("file", sorted(SPC_PUBLISHED))
def test_the_spc_targets_are_shipped_and_scaled_by_china(file):
    assert file in builtin_targets()
    ts = load_targets(file)
    assert ts.scenario == "national" and ts.population == CHINA
    assert ts.start_date == date(2013, 11, 1)
    for name, count in SPC_PUBLISHED[file].items():
        assert ts.targets[name].count == count
        assert ts.per_capita_target(name) == pytest.approx(count / CHINA)
    assert len(ts.parameters) < len(ts.fitted())  # the fit cannot be exact by construction


def test_the_travel_ratios_are_held_out_and_the_spc_figures_run_to_2025():
    assert load_targets("national-travel").targets["flight_rail_ratio_2018"].held_out
    last = load_targets("national-spc").last_day()
    assert last == (date(2025, 12, 31) - date(2013, 11, 1)).days


@pytest.mark.parametrize("file", ["national-early", "national-spc", "national-travel"])
def test_the_spc_targets_fit_the_national_scenario(file):
    ts, sc = load_targets(file), load_scenario("national")
    for name, p in ts.parameters.items():
        value = scenario_value(sc, p.path)
        assert p.range[0] <= value <= p.range[1], name
    if "listing_rate_2019" not in ts.parameters:
        return
    rate_2019 = scenario_value(sc, ts.parameters["listing_rate_2019"].path)
    for path, value in ts.derived_values({"listing_rate_2019": rate_2019}).items():
        assert scenario_value(sc, path) == pytest.approx(value, rel=1e-3)  # national is in sync


# ---------------------------------------------------------------- recovery
def test_calibration_recovers_a_known_rate(tmp_path):
    """Data simulated with rate 0.02 (seed 11); fitting the rate from 0.002-0.2 on another seed
    finds it again within 10%."""
    daily = Sim(TOY, agents=3000, days=60, seed=11).run().daily
    observed = float(daily["acts_bad"].sum()) / 3000
    path = write(tmp_path, "t.yaml", f"""\
        parameters: {{rate: {{path: behaviours.bad.rate, range: [0.002, 0.2], log: true}}}}
        targets: {{acts: {{metric: "cum(acts_bad, 59)", per_capita: {observed}}}}}
        """)
    start = load_scenario(TOY, ["behaviours.bad.rate=0.005"])  # start far from the truth
    cal = calibrate(start, path, trials=20, agents=3000, seed=3, allow_exact=True)
    assert cal.days == 60 and cal.start["rate"] == 0.005 and cal.sampler == "tpe"
    assert cal.values["rate"] == pytest.approx(0.02, rel=0.10)
    assert abs(cal.fit[0].rel_error) < 0.05
    assert cal.scenario.behaviours["bad"].rate == cal.values["rate"]
    assert cal.loss <= min(h["loss"] for h in cal.trials)
    out = write_calibration(tmp_path / "out", cal, "test")
    assert {p.name for p in out} == {"scenario.yaml", "fit.json", "summary.json",
                                     "daily.parquet"}
    assert load_scenario(str(tmp_path / "out" / "scenario.yaml")) == cal.scenario
    fit = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert fit["parameters"]["rate"]["value"] == cal.values["rate"]
    assert len(fit["history"]) == 20


def test_cmaes_refines_two_rates_from_a_start_nearby(tmp_path):
    """Two parameters: CMA-ES (the default) starts at the scenario's values, 30% off, and
    recovers both rates within 10%."""
    toy = {**TOY, "behaviours": {"bad": {"rate": 0.02, "channel": "rec"},
                                 "worse": {"rate": 0.005, "channel": "rec"}}}
    daily = Sim(toy, agents=3000, days=40, seed=11).run().daily
    per = {b: float(daily[f"acts_{b}"].sum()) / 3000 for b in ("bad", "worse")}
    path = write(tmp_path, "t.yaml", f"""\
        step: 0.1
        parameters:
          bad: {{path: behaviours.bad.rate, range: [0.002, 0.2], log: true}}
          worse: {{path: behaviours.worse.rate, range: [0.0005, 0.05], log: true}}
        targets:
          bad: {{metric: "cum(acts_bad, 39)", per_capita: {per["bad"]}}}
          worse: {{metric: "cum(acts_worse, 39)", per_capita: {per["worse"]}}}
        """)
    start = load_scenario(toy, ["behaviours.bad.rate=0.026", "behaviours.worse.rate=0.0035"])
    cal = calibrate(start, path, trials=30, agents=3000, seed=3, allow_exact=True)
    assert cal.sampler == "cmaes (step 0.1)"
    assert cal.values["bad"] == pytest.approx(0.02, rel=0.10)
    assert cal.values["worse"] == pytest.approx(0.005, rel=0.10)


def test_several_seeds_per_trial_compare_the_mean(tmp_path):
    path = write(tmp_path, "t.yaml", """\
        parameters: {rate: {path: behaviours.bad.rate, range: [0.002, 0.2], log: true}}
        targets: {acts: {metric: "cum(acts_bad, 9)", per_capita: 0.2}}
        """)
    cal = calibrate(TOY, path, trials=1, agents=500, days=10, seed=5, seeds=2, allow_exact=True)
    runs = [Sim(TOY, agents=500, days=10, seed=s).run().daily["acts_bad"].sum() / 500
            for s in (5, 6)]
    assert cal.seeds == 2 and cal.fit[0].simulated == pytest.approx(sum(runs) / 2)


def test_derived_values_follow_the_fitted_ones(tmp_path):
    toy = {**TOY, "behaviours": {"bad": {"rate": 0.02, "channel": "rec"},
                                 "worse": {"rate": 0.01, "channel": "rec"}}}
    path = write(tmp_path, "t.yaml", """\
        parameters: {rate: {path: behaviours.bad.rate, range: [0.002, 0.2], log: true}}
        derived: {behaviours.worse.rate: 0.5 * rate}
        targets: {acts: {metric: "cum(acts_bad, 9)", per_capita: 0.2}}
        """)
    cal = calibrate(toy, path, trials=3, agents=500, days=10, seed=1, allow_exact=True)
    sc = cal.scenario
    assert sc.behaviours["worse"].rate == pytest.approx(0.5 * sc.behaviours["bad"].rate)


# ---------------------------------------------------------------- the command
def test_the_calibrate_command_prints_the_fit_and_writes_the_scenario(tmp_path):
    scenario = tmp_path / "toy.yaml"
    scenario.write_text(json.dumps(TOY))
    targets = write(tmp_path, "t.yaml", """\
        description: toy targets
        population: 1000000
        parameters: {rate: {path: behaviours.bad.rate, range: [0.002, 0.2], log: true}}
        targets:
          acts: {metric: "cum(acts_bad, 19)", count: 400000}
          early: {metric: "cum(acts_bad, 9)", count: 200000}
          ratio: {metric: "cum(acts_bad, 19) / cum(acts_bad, 9)", value: 2, held_out: true}
        """)
    out = tmp_path / "cal"
    args = ["calibrate", str(scenario), "--targets", targets, "--trials", "4",
            "--agents", "1000", "--seed", "2", "--out", str(out)]
    runner = CliRunner()
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "relative error" in r.output and "held out (never fitted): 1 targets" in r.output
    assert "fitted: 2 targets" in r.output
    assert "0.400 M" in r.output  # the published count, scaled
    assert load_scenario(str(out / "scenario.yaml")).name == "toy"
    assert json.loads((out / "summary.json").read_text())["calibration"]["trials"] == 4
    r = runner.invoke(app, [*args, "--quiet"])  # a previous result is replaced
    assert r.exit_code == 0 and r.output == ""
    r = runner.invoke(app, ["calibrate", str(scenario), "--targets", "no-such-targets",
                            "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "no such file or built-in targets" in r.output
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- the declared split
SPLIT = """\
    parameters:
      bad: {path: behaviours.bad.rate, range: [0.002, 0.2], log: true}
      worse: {path: behaviours.worse.rate, range: [0.0005, 0.05], log: true}
    targets:
      bad: {metric: "cum(acts_bad, 9)", per_capita: 0.2}
      worse: {metric: "cum(acts_worse, 9)", per_capita: 0.05}
      both: {metric: "cum(acts_bad, 9) + cum(acts_worse, 9)", per_capita: 0.25, held_out: true}
    """
TWO = {**TOY, "behaviours": {"bad": {"rate": 0.02, "channel": "rec"},
                             "worse": {"rate": 0.005, "channel": "rec"}}}


def test_a_fit_as_free_as_its_fitted_targets_is_refused_unless_allowed(tmp_path):
    """Two free parameters for two fitted targets could match them whatever the model: refused
    before anything runs, unless --allow-exact; held-out targets do not count."""
    path = write(tmp_path, "t.yaml", SPLIT)
    with pytest.raises(TargetsError, match="2 free parameters for 2 fitted targets"):
        calibrate(TWO, path, trials=1, agents=300, days=10)
    cal = calibrate(TWO, path, trials=1, agents=300, days=10, allow_exact=True)
    assert len(cal.fit) == 3
    scenario = tmp_path / "two.yaml"
    scenario.write_text(json.dumps(TWO))
    args = ["calibrate", str(scenario), "--targets", path, "--trials", "1", "--agents", "300",
            "--out", str(tmp_path / "out")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "--allow-exact" in r.output and not (tmp_path / "out").exists()
    r = CliRunner().invoke(app, [*args, "--allow-exact"])
    assert r.exit_code == 0, r.output


def test_held_out_targets_are_reported_apart_and_never_fitted(tmp_path):
    path = write(tmp_path, "t.yaml", SPLIT)
    cal = calibrate(TWO, path, trials=1, agents=300, days=10, allow_exact=True)
    fitted = [r for r in cal.fit if not r.held_out]
    held = [r for r in cal.fit if r.held_out]
    assert [r.name for r in held] == ["both"] and held[0].weight == 0
    assert cal.loss == pytest.approx(sum(r.rel_error ** 2 for r in fitted) / 2)
    fit = json.loads(json.dumps(fit_json(cal)))
    assert fit["errors"]["fitted"]["targets"] == 2 and fit["errors"]["held_out"]["targets"] == 1
    assert fit["errors"]["held_out"]["rms"] == pytest.approx(abs(held[0].rel_error))
    header = calibrated_yaml(cal)
    assert "held out (never fitted): 1 targets" in header and "fitted: 2 targets" in header
    with pytest.raises(TargetsError, match="at least one target must be fitted"):
        load_targets(write(tmp_path, "u.yaml", SPLIT.replace(
            'per_capita: 0.2}', 'per_capita: 0.2, held_out: true}').replace(
            'per_capita: 0.05}', 'per_capita: 0.05, held_out: true}')))
    with pytest.raises(TargetsError, match="greater than 0"):  # weight 0 is not a way to hold out
        load_targets(write(tmp_path, "v.yaml", SPLIT.replace(
            'per_capita: 0.2}', 'per_capita: 0.2, weight: 0}')))
