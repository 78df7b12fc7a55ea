"""Reports: written by `run` (with and without its counterfactual) and `compare`,
self-contained, and rendered by a real browser (headless Chromium) into a screenshot that shows
the plots, with nothing in the console.

Chromium is installed by `make chromium` (a prerequisite of `make test`). If it is missing the
browser tests fail, loudly: a report nobody checked in a browser is not tested.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image
from typer.testing import CliRunner

import scoresim
from scoresim.cli import app

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0",
         "--host-resolver-rules=MAP * ~NOTFOUND"]  # no network: the page must not need it
# a page of text alone renders in about 450 colours; with its plots (antialiased lines, fills,
# several palettes) a report shows 3,000 to 5,000 in a 1280 x 4000 window
MIN_COLOURS = 1500


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    r = runner.invoke(app, ["run", "--agents", "4000", "--days", "60", "--seed", "2",
                            "--threads", "1", "--counterfactual", "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmp") / "c"
    r = runner.invoke(app, ["compare", "default", "protect=default@safeguards.protected="
                            "[online_criticism,offline_criticism]", "--seeds", "2",
                            "--agents", "2000", "--days", "40", "--executor", "serial",
                            # half the faces off the watch list: false alerts in a small run
                            "--set", "channels.camera.watch_list=0.5",
                            "--threads", "1", "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed ({CHROMIUM} is missing): the report test needs "
                    "a real browser. Run `make chromium` (apt-get install chromium).",
                    pytrace=False)
    return CHROMIUM


def render(page: Path, png: Path, size: str = "1280,4000") -> list[str]:
    """Screenshot ``page`` in headless Chromium; returns the console lines it logged."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        proc = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
             f"--screenshot={png}", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=180)
    assert png.exists(), f"Chromium wrote no screenshot (exit {proc.returncode}):\n" + \
        proc.stderr[-3000:]
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def colours(png: Path) -> int:
    return len(Image.open(png).convert("RGB").getcolors(2**24))


class _Resources(HTMLParser):
    """Every tag and every address a page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.addresses += [v or "" for k, v in attrs if k in ("src", "href", "srcset")]


def resources(page: Path) -> _Resources:
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_the_console_check_catches_a_script_error(tmp_path: Path) -> None:
    """A control: if this fails, a clean console below would prove nothing."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>throw new Error('control-boom')</script>")
    lines = render(bad, tmp_path / "bad.png", "400,300")
    assert any("control-boom" in line for line in lines), lines


@pytest.mark.parametrize("which", ["run", "compare"])
def test_report_renders_in_headless_chromium(which, run_dir, compare_dir,
                                             tmp_path: Path) -> None:
    page = (run_dir if which == "run" else compare_dir) / "report.html"
    png = tmp_path / f"{which}.png"
    console = render(page, png)
    assert console == [], "the report logged to the console:\n" + "\n".join(console)
    n = colours(png)
    assert n >= MIN_COLOURS, f"screenshot has {n} colours: the plots did not render"


@pytest.mark.parametrize("which", ["run", "compare"])
def test_report_is_self_contained(which, run_dir, compare_dir) -> None:
    found = resources((run_dir if which == "run" else compare_dir) / "report.html")
    assert "script" not in found.tags and "link" not in found.tags and "iframe" not in found.tags
    assert found.addresses and all(a.startswith("data:image/png;base64,")
                                   for a in found.addresses), found.addresses
    assert found.tags.count("img") >= 6
    figures = (run_dir if which == "run" else compare_dir) / "figures"
    assert found.tags.count("img") == len(list(figures.glob("*.svg")))  # each one a file too
    text = ((run_dir if which == "run" else compare_dir) / "report.html").read_text()
    assert "url(" not in text and "@import" not in text


def test_run_report_carries_counterfactual_parameters_and_provenance(run_dir: Path) -> None:
    s = json.loads((run_dir / "summary.json").read_text())
    cf = s["counterfactual"]
    assert cf["scoring"] is False
    assert set(cf["chilling"]) == {"online_criticism", "offline_criticism", "overall"}
    assert 0 < cf["chilling"]["overall"] < 1
    daily = pd.read_parquet(run_dir / "daily.parquet")
    cf_daily = pd.read_parquet(run_dir / "counterfactual.parquet")
    assert list(cf_daily.columns) == list(daily.columns)
    assert cf["acts"]["online_criticism"] == cf_daily["acts_online_criticism"].sum()
    assert (cf_daily["sanctioned_any"] == 0).all()
    text = (run_dir / "report.html").read_text()
    for needle in ("Chilling effect", "Scenario parameters", "Provenance", s["version"],
                   "command", "online_criticism", "wall time", "Lists: stock"):
        assert needle in text, needle


def test_run_without_counterfactual_says_how_to_get_one(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", "--agents", "1500", "--days", "15", "--threads", "1",
                            "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert not (out / "counterfactual.parquet").exists()
    assert "counterfactual" not in json.loads((out / "summary.json").read_text())
    assert "Not measured in this run: run with --counterfactual" in (
        out / "report.html").read_text()


def test_results_plot_returns_a_figure_and_saves_it(tmp_path: Path) -> None:
    res = scoresim.Sim("default", agents=3000, days=90, seed=1).run()
    fig = res.plot()
    assert isinstance(fig, Figure) and len([a for a in fig.axes if a.get_visible()]) >= 4
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert all(titles), "every panel has a title"
    png = tmp_path / "overview.png"
    res.plot(png)
    assert colours(png) >= MIN_COLOURS


def test_a_run_of_zero_days_still_writes_a_valid_report(tmp_path: Path) -> None:
    out = tmp_path / "r0"
    r = runner.invoke(app, ["run", "--agents", "500", "--days", "0", "--counterfactual",
                            "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())  # strict JSON: no NaN
    assert s["counterfactual"]["chilling"]["overall"] is None
    assert "nothing to plot" in (out / "report.html").read_text()
