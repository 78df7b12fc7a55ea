"""Figures people can publish: each one its own SVG, 300 dpi PNG and CSV of what it plots;
labels taken literally (no mathtext); calendar dates and timeline changes; bins for the run's
length; intervals that stay in range; reports for compare, sweep and calibrate, rebuilt by
``scoresim report DIR``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

import scoresim
from scoresim.cli import app
from scoresim.experiments import SerialExecutor, load_comparison, run_compare
from scoresim.experiments.metrics import bounded_interval, interval, t975, wilson
from scoresim.report import rebuild_report, run_report_files
from scoresim.report.calibrate_report import calibrate_report
from scoresim.report.charts import chart
from scoresim.report.plots import PANELS
from scoresim.report.run_context import run_context
from scoresim.report.style import TimeAxis
from scoresim.report.sweep_report import sweep_report
from scoresim.results.store import Store

runner = CliRunner()
ONE_THREAD = SerialExecutor(threads=1)
ODD = "a$\\frac{1$"  # mathtext would fail on this name (an unclosed group)


@pytest.fixture(scope="module")
def national_run():
    """250 days of national (day 0 = 1 Nov 2013; a timeline change on day 242)."""
    return scoresim.Sim("national", agents=3000, days=250, seed=1).run()


def test_t_quantiles_come_from_scipy_and_intervals_stay_in_range() -> None:
    assert t975(1) == pytest.approx(12.7062, abs=1e-4)
    assert t975(50) == pytest.approx(2.00856, abs=1e-5)
    shares = [0.0, 0.0, 0.012]
    assert interval(shares)["lo"] < 0  # the t-interval of a share leaves its range...
    b = bounded_interval(shares)
    assert 0.0 <= b["lo"] <= b["mean"] <= b["hi"] <= 0.012  # ...the bootstrap does not
    assert bounded_interval([0.3])["n"] == 1 and math.isnan(bounded_interval([0.3])["lo"])
    lo, hi = wilson(0, 1000)
    assert lo == 0.0 and 0 < hi < 0.01
    lo, hi = wilson(1000, 1000)
    assert 0.99 < lo < hi == 1.0


def test_bins_suit_the_run_and_partial_periods_are_not_drawn_short() -> None:
    axis = TimeAxis(583 * 7)
    assert axis.bin().name == "quarter" and 583 * 7 / axis.bin().days <= 60
    assert TimeAxis(40).bin().name == "day" and TimeAxis(200).bin().name == "week"
    days = pd.Series(np.arange(100))
    out = TimeAxis(100).binned(days, pd.DataFrame({"n": np.full(100, 3.0)}))
    assert out["partial"].tolist() == [False] * 14 + [True]  # 100 = 14 weeks and 2 days
    assert np.allclose(out["n"], 21.0)  # the last, partial week at the full week's rate
    cal = TimeAxis(100, start=pd.Timestamp("2013-11-01").date())
    out = cal.binned(days, pd.DataFrame({"n": np.ones(100)}))
    assert out["partial"].iloc[0] and out["partial"].iloc[-1]  # weeks start on Mondays
    assert np.allclose(out["n"], 7.0)


def test_figure_files_hold_exactly_what_the_report_shows(tmp_path: Path) -> None:
    res = scoresim.Sim("default", agents=3000, days=120, seed=2).run()
    files = run_report_files({**res.summary, "overrides": ["layers.kin.spillover=0.2"]},
                             res.daily, res.scenario)
    files["figures"](tmp_path / "figures")
    files["report.html"](tmp_path / "report.html")
    svgs = sorted((tmp_path / "figures").glob("*.svg"))
    assert len(svgs) >= 5
    html = (tmp_path / "report.html").read_text()
    for svg in svgs:
        stem = svg.with_suffix("")
        png = Image.open(stem.with_suffix(".png"))
        assert png.info["dpi"] == pytest.approx((300, 300), abs=0.1)
        assert not pd.read_csv(stem.with_suffix(".csv")).empty
        assert f"figures/{stem.name}.svg" in html
    mean = pd.read_csv(tmp_path / "figures" / "score-mean.csv")
    assert mean["mean_score"].tolist() == pytest.approx(res.daily["mean_score"].tolist())
    assert "overridden: layers.kin.spillover=0.2" in html
    assert "This run overrides the scenario with --set" in html


def test_a_dollar_in_a_name_is_a_dollar_sign_not_mathtext(tmp_path: Path) -> None:
    res = scoresim.Sim("default", agents=1500, days=10, seed=1).run()
    final = res.summary["final"]
    summary = {**res.summary, "final": {**final, "denied": {ODD: 7}, "requests": {ODD: 70}}}
    c = chart(PANELS["denials"][0], run_context(summary, res.daily, res.scenario))
    assert c is not None
    c.figure.savefig(tmp_path / "odd.svg")  # mathtext would raise on the label here
    assert ODD in (tmp_path / "odd.svg").read_text()


def test_calendar_dates_and_timeline_changes(national_run, tmp_path: Path) -> None:
    res = national_run
    ctx = run_context(res.summary, res.daily, res.scenario)
    assert ctx.axis.calendar and ctx.axis.changes[0].day == 242
    # the mean score: drawn whatever the run (a small national run may list no one by then)
    c = chart(PANELS["score"][0], ctx)
    assert c is not None and c.data["date"].iloc[0] == "2013-11-01"
    assert c.data["date"].iloc[-1] == "2014-07-08"
    c.figure.savefig(tmp_path / "score.svg")
    svg = (tmp_path / "score.svg").read_text()
    assert "1: Jul 2014, joint_punishment.denies" in svg  # the change, marked and labelled
    assert "2014" in svg  # the axis shows dates, not day numbers


def test_a_comparison_keeps_per_seed_daily_series_and_draws_bands(tmp_path: Path) -> None:
    comp = run_compare(["default", "protect=default@safeguards.protected=[online_criticism]"],
                       seeds=3, agents=2000, days=50, executor=ONE_THREAD)
    from scoresim.experiments import write_comparison
    from scoresim.report import compare_report_files

    out = tmp_path / "c"
    write_comparison(out, comp, compare_report_files(comp, "test"), {"command": "test"})
    long = pd.read_parquet(out / "compare_daily.parquet")
    assert list(long.columns) == ["scenario", "seed", "day", "column", "value"]
    assert len(long) == long[["scenario", "seed", "day", "column"]].drop_duplicates().shape[0]
    one = long[(long["scenario"] == "default") & (long["seed"] == 1)
               & (long["column"] == "sanctioned_any")]
    assert one["value"].tolist() == comp.daily["default"][1]["sanctioned_any"].tolist()
    assert {"cf_acts_online_criticism"} <= set(long["column"])
    bands = pd.read_csv(out / "figures" / "compare-chilling-over-time.csv")
    ok = bands.dropna(subset=["lo"])
    assert len(ok) > 0 and (ok["lo"] <= ok["mean"] + 1e-12).all()
    assert (ok["mean"] <= ok["hi"] + 1e-12).all()
    # values of shares stay in [0, 1]; differences come with their relative change
    values = comp.summary[comp.summary["kind"] == "value"]
    shares = values[values["metric"].str.endswith("_frac")]
    assert (shares["lo"].dropna() >= 0).all() and (shares["hi"].dropna() <= 1).all()
    html = (out / "report.html").read_text()
    assert "percentage points" in html and " pp" in html
    # read back: the same summary, and the report rebuilt with the same figures
    back = load_comparison(out)
    pd.testing.assert_frame_equal(back.summary, comp.summary)
    before = sorted(p.name for p in (out / "figures").iterdir())
    r = runner.invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (out / "figures").iterdir()) == before


def test_report_rebuilds_a_run_folder_and_refuses_other_folders(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", "--agents", "1500", "--days", "30", "--threads", "1",
                            "--quiet", "--out", str(out), "--set", "layers.kin.spillover=0.3"])
    assert r.exit_code == 0, r.output
    first = (out / "report.html").read_text()
    assert "overridden: layers.kin.spillover=0.3" in first
    (out / "report.html").unlink()
    for f in (out / "figures").iterdir():
        f.unlink()
    assert rebuild_report(out)
    assert (out / "report.html").read_text().split("<h2>Provenance")[0] == \
        first.split("<h2>Provenance")[0]
    assert any((out / "figures").glob("*.svg"))
    r = runner.invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2 and "not a scoresim output folder" in r.output
    assert "Traceback" not in r.output


def test_a_sweep_report_draws_response_curves_with_bands(tmp_path: Path) -> None:
    store = Store(tmp_path)
    spec = {"scenario": "default", "sampler": "grid", "agents": 10, "days": 5,
            "parameters": {"layers.kin.spillover": [0.0, 0.1, 0.2]}}
    plan = pd.DataFrame([{"sample": i, "seed": s, "run_id": f"r{i}{s}",
                          "params": json.dumps({"layers.kin.spillover": v})}
                         for i, v in enumerate((0.0, 0.1, 0.2)) for s in range(3)])
    store.add_sweep("sw", "sweep.yaml", spec, "grid", plan)
    for row in plan.itertuples():
        v = json.loads(row.params)["layers.kin.spillover"]
        store.save_run({"run_id": row.run_id, "status": "done", "params": json.loads(
            row.params)}, {"ever_sanctioned_frac": 0.01 + v / 10 + row.seed / 1000})
    page, found = sweep_report(tmp_path)
    assert [c.name for c in found] == ["sweep-response-ever-sanctioned-frac"]
    data = found[0].data
    assert data["x"].tolist() == [0.0, 0.1, 0.2]
    assert data["mean"].tolist() == pytest.approx([0.011, 0.021, 0.031])
    assert ((data["lo"] <= data["mean"]) & (data["mean"] <= data["hi"])).all()
    assert "3 runs" not in page and "9 runs planned, 9 done" in page
    rebuild_report(tmp_path)
    assert (tmp_path / "figures" / "sweep-response-ever-sanctioned-frac.png").exists()


def test_a_calibration_report_puts_targets_on_calendar_dates(national_run) -> None:
    res = national_run
    agents = res.summary["agents"]
    sim = float(res.daily["listings_dishonest_debtors"][:200].sum()) / agents
    fit = {"scenario": "national", "targets": "t.yaml", "agents": agents, "days": 250,
           "seed": 1, "trials": 1, "sampler": "tpe", "loss": 0.01, "population": 1.4e9,
           "start_date": "2013-11-01", "parameters": {},
           "fit": [{"name": "listed", "metric": "cum(listings_dishonest_debtors, 199)",
                    "target": sim * 1.1, "simulated": sim, "rel_error": -1 / 11,
                    "weight": 1.0, "per_capita": True},
                   {"name": "held", "metric": "at(sanctioned_any, '2014-06-01')",
                    "target": 0.5, "simulated": 0.4, "rel_error": -0.2, "weight": 0.0,
                    "per_capita": False}]}
    page, found = calibrate_report(fit, res.daily)
    names = {c.name: c for c in found}
    totals = names["calibration-running-totals"].data
    point = totals.dropna(subset=["target"])
    assert point["date"].tolist() == ["2014-05-19"] and point["fitted"].tolist() == [1.0]
    assert point["target"].iloc[0] == pytest.approx(sim * 1.1 * 1.4e9)
    errors = names["calibration-errors"].data.set_index("target_name")
    assert errors.loc["held", "date"] == "2014-06-01" and not errors.loc["held", "fitted"]
    assert "held (held out)" in page
