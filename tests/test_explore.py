"""The explorer in a real browser: `scoresim explore` in a subprocess, driven by Playwright
through Debian's Chromium (no browser is downloaded).

What must hold: the page loads with no console errors and asks nothing of any other host;
moving a knob updates the charts; the numbers shown are `scoresim run`'s for the same settings
and seed; a malformed YAML shows its error (line and key) and the app keeps working; a
downloaded YAML re-runs to the same numbers; a shared address reproduces the run; a visitor's
new request cancels their previous one and no other's; the server listens on 127.0.0.1 only.

The screenshots in docs/explorer.md are taken here: set SCORESIM_DOC_SCREENSHOTS=docs/images.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psutil
import pytest

from explore_browser import CHROMIUM, CHROMIUM_ARGS, POLL_MS, Server, Visitor, lookup

SMALL = "agents=3000&days=365"
MOVED = ("layers.household.spillover", "0.3")  # a knob, and where a test moves it


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("SCORESIM_DOC_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("hold") / "fifo")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs it", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, accept_downloads=True, viewport={"width": 1400, "height": 1100})
        yield ctx
        ctx.close()


@pytest.fixture(scope="module")
def moved(server, context, tmp_path_factory):
    """A visitor who ran 5,000 people for a year, then moved a knob; and `scoresim run`'s
    folder for the same settings and seed."""
    v = Visitor(context, server)
    first = v.open("agents=5000&days=365&seed=3")
    before, causes = v.numbers(), v.chart("causes")
    v.set_knob(*MOVED)
    v.rid = v.wait_result(first)
    v.before, v.causes_before = before, causes
    out = tmp_path_factory.mktemp("cli") / "run"
    subprocess.run([str(Path(sys.executable).with_name("scoresim")), "run", "default",
                    "--agents", "5000", "--days", "365", "--seed", "3", "--set",
                    "=".join(MOVED), "--counterfactual", "--quiet", "--threads", "1",
                    "--out", str(out)], check=True)
    v.cli = out
    return v


def test_the_server_listens_on_loopback_only(server) -> None:
    listening = [c.laddr for c in psutil.Process(server.proc.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert [(a.ip, a.port) for a in listening] == [("127.0.0.1", server.port)]
    assert any("loopback only" in line for line in server.lines)


def test_the_page_loads_clean_and_asks_no_other_host(server, context, shots) -> None:
    v = Visitor(context, server)
    v.open(SMALL)
    assert v.page.inner_text("#kernels") == ""
    assert v.page.locator(".number").count() >= 7
    assert all(len(v.chart(c)) > 0 for c in ("chilling", "causes", "denials"))
    v.shot(shots, "overview", height=2700)
    assert v.errors() == []
    assert any("plotly" in u for u in v.requests)  # the charts' script came from the app
    assert v.outside_requests() == []


def test_moving_a_knob_reruns_and_updates_the_charts(moved) -> None:
    assert "set=layers.household.spillover%3D0.3" in moved.page.url
    assert moved.chart("causes") != moved.causes_before
    assert moved.numbers() != moved.before
    assert "--set layers.household.spillover=0.3" in moved.page.inner_text("#command-text")
    assert moved.errors() == []


def test_the_numbers_shown_are_scoresim_runs(moved) -> None:
    summary = json.loads((moved.cli / "summary.json").read_text())
    shown = moved.numbers()
    assert len(shown) >= 7 and shown["final.ever_sanctioned_frac"] > 0
    for path, value in shown.items():
        assert value == lookup(summary, path), path
    daily = pd.read_parquet(moved.download("#dl-daily-parquet"))
    assert (daily["seed"] == 3).all()
    pd.testing.assert_frame_equal(daily.drop(columns="seed"),
                                  pd.read_parquet(moved.cli / "daily.parquet"))
    cf = pd.read_parquet(moved.download("#dl-counterfactual-parquet"))
    pd.testing.assert_frame_equal(cf.drop(columns="seed"),
                                  pd.read_parquet(moved.cli / "counterfactual.parquet"))
    csv = pd.read_csv(moved.download("#dl-daily-csv"))
    assert csv.shape == daily.shape and (csv["day"] == daily["day"]).all()


def test_every_figure_and_the_report_download(moved, shots) -> None:
    for chart in ("chilling", "causes", "lists"):
        svg = moved.download(f"button[data-figure='fig-{chart}'][data-format='svg']")
        assert svg.read_text(encoding="utf-8").lstrip().startswith("<svg")
        png = moved.download(f"button[data-figure='fig-{chart}'][data-format='png']")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = moved.download("#dl-report-html").read_text(encoding="utf-8")
    assert "scoresim report: default" in report and "layers.household.spillover=0.3" in report
    moved.shot(shots, "knob")


def test_a_downloaded_yaml_reruns_to_the_same_numbers(moved, server, context) -> None:
    yaml_file = moved.download("#dl-scenario-yaml")
    assert "spillover: 0.3" in yaml_file.read_text(encoding="utf-8")
    v = Visitor(context, server)
    first = v.open("agents=5000&days=365&seed=3")
    v.page.click("#yaml-box summary")
    v.page.set_input_files("#upload input[type=file]", str(yaml_file))
    v.page.wait_for_selector("#yaml-ok")
    v.wait_result(first)
    assert "scenario=custom" in v.page.url
    assert v.numbers() == moved.numbers()


def test_a_shared_address_reproduces_the_run(moved, server, context) -> None:
    v = Visitor(context, server)
    v.open(moved.page.url)
    assert v.numbers() == moved.numbers()
    assert v.knob(MOVED[0]).locator("input[type=number]").input_value() == MOVED[1]
    assert v.chart("causes") == moved.chart("causes")


def test_a_malformed_yaml_shows_its_line_and_key_and_the_app_goes_on(server, context,
                                                                      shots) -> None:
    v = Visitor(context, server)
    first = v.open(SMALL)
    v.page.click("#yaml-box summary")
    v.page.fill("#yaml", "extends: default\nbehaviours:\n  online_criticism:\n    rate: lots\n")
    error = v.page.wait_for_selector("#yaml-error").inner_text()
    assert "your-scenario.yaml:4" in error and "behaviours.online_criticism.rate" in error
    v.page.fill("#yaml", "name: broken\nbehaviours: [\n  online\n")
    v.page.wait_for_function(
        "(document.querySelector('#yaml-error')?.textContent || '').includes('syntax')",
        polling=POLL_MS)
    assert "your-scenario.yaml:" in v.page.inner_text("#yaml-error")
    v.shot(shots, "yaml-error")
    v.page.click("#run")  # the selected scenario still runs
    second = v.wait_result(first)
    v.page.fill("#yaml", "extends: default\nsafeguards:\n  human_review: true\n")
    v.page.wait_for_selector("#yaml-ok")
    v.wait_result(second)
    assert "scenario=custom" in v.page.url
    assert v.errors() == []


def test_a_run_too_big_for_the_machine_is_refused_with_the_plan(server, context) -> None:
    v = Visitor(context, server)
    first = v.open(SMALL)
    v.page.fill("#agents", "100000000000")
    v.page.press("#agents", "Tab")
    v.page.wait_for_function("document.querySelector('#error').textContent.includes('GiB')",
                             polling=POLL_MS)
    assert "use fewer agents" in v.page.inner_text("#error")
    v.page.fill("#agents", "2000")
    v.page.press("#agents", "Tab")
    v.wait_result(first)
    assert v.page.inner_text("#error") == ""


def test_progress_shows_and_a_new_request_cancels_only_the_visitors_own(server, context,
                                                                       shots) -> None:
    os.mkfifo(server.hold)  # runs stop after their first day while it exists
    one, two = Visitor(context, server), Visitor(context, server)
    one.page.goto(server.url + "?agents=3000&days=40&seed=11")
    one.page.wait_for_selector("#progress-box", state="visible")
    one.shot(shots, "progress")
    os.unlink(server.hold)  # the held run stays held; new runs do not stop
    mark = len(server.lines)
    two.open("agents=3000&days=40&seed=12")  # another visitor: the other worker answers
    assert one.result_id() == "" and one.page.is_visible("#progress-box")
    assert not any("cancelled" in line for line in server.lines[mark:])
    one.set_knob(*MOVED)
    server.wait_for(lambda line: "cancelled job" in line, mark)
    one.wait_result("")
    assert "spillover%3D0.3" in one.page.url
    assert one.errors() == [] and two.errors() == []


def test_a_against_b_pairs_the_seeds(server, context, shots) -> None:
    import scoresim

    v = Visitor(context, server)
    first = v.open("agents=3000&days=365&seeds=3")
    v.page.click("#pin")
    v.page.wait_for_function("document.querySelector('#pinned-text').textContent.includes('A:')",
                             polling=POLL_MS)
    v.page.click("#mode input[value=compare]")
    second = v.wait_result(first)
    same = v.page.locator("tr[data-metric='ever_sanctioned_frac'] td").nth(3).inner_text()
    assert same.startswith("0 %")  # a system against itself: exactly zero
    v.knob("safeguards.association_penalties").locator("input").click()
    v.wait_result(second)
    shown = v.page.locator("tr[data-metric='ever_sanctioned_by_cause.association']")
    diff = float(shown.get_attribute("data-difference"))
    v.shot(shots, "compare", height=2000)
    expected = scoresim.compare(
        ["default", "default@safeguards.association_penalties=false"], seeds=3, agents=3000,
        days=365, executor="serial", threads=1)
    row = expected[(expected["kind"] == "difference")
                   & (expected["metric"] == "ever_sanctioned_by_cause.association")]
    assert diff == row["mean"].iloc[0] < 0
    assert v.errors() == []
