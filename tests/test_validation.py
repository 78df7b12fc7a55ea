"""``scoresim validation --quick``: every check of docs/validation.md at the size of ``make
test`` (the full size is ``make validate``), its report, and what must hold of the calibrated
``national`` (issue 17): the list's stock rises through 2023 and falls in 2024 and 2025, and
the early ever-listed points are within a factor of 1.5 of the published ones. A figure that
fails stays in the report as failed: the tests read the report, they never drop a row."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from markupsafe import escape
from typer.testing import CliRunner

from scoresim.cli import app
from scoresim.experiments.executors import ProcessExecutor
from scoresim.experiments.validation import (
    CHECKS,
    Check,
    CheckResult,
    Row,
    run_validation,
)
from scoresim.report.validation_report import validation_files
from scoresim.results.outputs import write_folder

# every area docs/validation.md describes has a registered check
AREAS = {"households", "rongcheng", "recognition-trials", "nist-arithmetic", "spc-early",
         "spc-stock-flows", "travel-denials", "stock-turning-point", "size-agreement",
         "chilling-shock"}


@pytest.fixture(scope="module")
def quick():
    """The quick validation, once for the module (both cores)."""
    return run_validation("quick", executor=ProcessExecutor(2))


def _rows(v, check: str) -> dict[str, Row]:
    return {r.name: r for r in v.results[check].rows}


def test_every_check_of_the_docs_is_registered_and_run(quick):
    assert AREAS <= set(CHECKS)
    assert set(quick.results) == set(CHECKS)
    for name, res in quick.results.items():
        assert res.rows, name
        for r in res.rows:
            assert r.role in ("fitted", "held out", "arithmetic", "property", "agreement")
            assert r.verdict in ("pass", "inconclusive", "fail")
            if r.published is not None and r.role in ("fitted", "held out"):
                assert r.address.startswith("http"), (name, r.figure)  # its source's address


def test_the_report_has_a_row_per_figure_and_a_plot_per_series(quick, tmp_path):
    out = tmp_path / "val"
    write_folder(out, validation_files(quick, "scoresim validation --quick"))
    table = pd.read_csv(out / "validation.csv")
    assert len(table) == sum(len(r.rows) for r in quick.results.values())
    for col in ("figure", "role", "published", "simulated", "low", "high", "relative_error",
                "tolerance", "verdict", "source", "address"):
        assert col in table.columns
    assert {"fitted", "held out"} <= set(table["role"])
    data = json.loads((out / "validation.json").read_text())
    assert data["passed"] == quick.passed and set(data["failed"]) == set(quick.failed())
    html = (out / "report.html").read_text()
    n_series = sum(len(r.series) for r in quick.results.values())
    assert n_series >= 6
    assert len(list((out / "figures").glob("*.svg"))) == n_series
    for r in table.itertuples():
        assert str(escape(r.figure)) in html  # every row, failed or not, is in the report


def test_the_stock_rises_through_2023_and_falls_in_2024_and_2025(quick):
    """The year-end stock's change, mean over seeds, has the published sign every year."""
    rows = _rows(quick, "stock-turning-point")
    for year in range(2014, 2026):
        r = rows[f"stock_change_{year}"]
        assert (r.simulated > 0) == (year <= 2023), (year, r.simulated)


def test_early_ever_listed_points_are_within_a_factor_of_1_5(quick):
    """31,000 (Nov 2013), 75,500 (Mar 2014) and 203,000 (Jul 2014) names published."""
    rows = _rows(quick, "spc-early")
    for name in ("ever_listed_2013_11", "ever_listed_2014_03", "ever_listed_2014_07"):
        r = rows[name]
        assert r.published / 1.5 <= r.simulated <= r.published * 1.5, (name, r.simulated)


def test_a_failing_figure_stays_in_the_report_and_the_command_exits_1(tmp_path):
    """A check whose figure misses its tolerance fails, and its row is reported as failed."""
    def miss(ctx) -> CheckResult:
        return CheckResult([Row(figure="a held-out figure the model misses", published=10.0,
                                simulated=20.0, low=19.0, high=21.0, seeds=3,
                                band=(9.0, 11.0), tolerance="within 10%", role="held out",
                                address="https://example.org/", name="missed")])

    CHECKS["test-miss"] = Check("test-miss", "a failing check", "tests", "tests", "10%", miss)
    try:
        v = run_validation("quick", only=["test-miss", "nist-arithmetic"])
        assert not v.passed and v.failed() == ["test-miss"]
        row = v.results["test-miss"].rows[0]
        assert row.verdict == "fail" and math.isclose(row.rel_error, 1.0)
        r = CliRunner().invoke(app, ["validation", "--quick", "--only", "test-miss",
                                     "--out", str(tmp_path / "v"), "-q"])
        assert r.exit_code == 1, r.output
        table = pd.read_csv(tmp_path / "v" / "validation.csv")
        assert list(table["verdict"]) == ["fail"] and list(table["role"]) == ["held out"]
    finally:
        del CHECKS["test-miss"]
    r = CliRunner().invoke(app, ["validation", "--quick", "--only", "nist-arithmetic",
                                 "--out", str(tmp_path / "ok"), "-q"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["validation", "--only", "no-such-check",
                                 "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "unknown check" in r.output
    assert not (tmp_path / "bad").exists()
