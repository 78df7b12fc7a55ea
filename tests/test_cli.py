"""The command line end to end: outputs, errors (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scoresim.cli import app
from scoresim.engine.day import STAGE_NAMES

runner = CliRunner()
SMALL = ["--agents", "3000", "--days", "20", "--seed", "3", "--quiet"]

SUMMARY_KEYS = ["scenario", "agents", "days", "seed", "version", "wall_seconds", "network",
                "final"]
FINAL_KEYS = ["mean_score", "mean_caution", "sanctioned_frac", "ever_sanctioned_frac",
              "sanctioned_for_others_acts_frac", "sanctioned_for_expression_frac",
              "never_acted_sanctioned_frac", "ever_sanctioned_by_cause", "acts", "observed",
              "false_attributions", "denied", "requests", "listed_now", "ever_listed"]


def test_run_writes_the_contracted_outputs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", *SMALL, "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    for k in SUMMARY_KEYS:
        assert k in s
    assert s["agents"] == 3000 and s["days"] == 20 and s["seed"] == 3
    for layer in ("household", "work", "kin", "friends"):
        assert s["network"][layer]["mean_degree"] > 0
    for k in FINAL_KEYS:
        assert k in s["final"]
    assert set(s["final"]["ever_sanctioned_by_cause"]) == {"own", "false_match", "association"}
    daily = pd.read_parquet(out / "daily.parquet")
    assert list(daily["day"]) == list(range(20))
    for col in ("acts_online_criticism", "observed_online_criticism", "false_attributions",
                "spill_penalties", "listed_dishonest_debtors", "sanctioned_travel_ban",
                "requests_flight", "denied_flight", "mean_score", "mean_caution"):
        assert col in daily.columns
    assert s["final"]["acts"]["online_criticism"] == daily["acts_online_criticism"].sum()
    assert (out / "scenario.yaml").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporaries


def test_set_override_is_applied_and_recorded(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", *SMALL, "--out", str(out),
                            "--set", "behaviours.online_criticism.rate=0"])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["final"]["acts"]["online_criticism"] == 0
    assert "rate: 0" in (out / "scenario.yaml").read_text()


@pytest.mark.parametrize("args,needle", [
    (["--set", "behaviours.online_criticism.rate=abc"], "behaviours.online_criticism.rate"),
    (["--set", "behaviours.online_criticism.rate=2"], "behaviours.online_criticism.rate"),
    (["--set", "nosuch.key=1"], "nosuch"),
    (["no-such-scenario"], "no-such-scenario"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args, needle) -> None:
    out = tmp_path / "never"
    r = runner.invoke(app, ["run", *SMALL, "--out", str(out), *args])
    assert r.exit_code == 2
    assert needle in r.output
    assert "Traceback" not in r.output
    assert not out.exists()


def test_bad_file_names_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npopulation:\n  regions: {a: {share: 1}}\n"
                   "channels: {c: {observe: 1}}\nbehaviours:\n  b: {rate: -1, channel: c}\n")
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == 2
    assert f"{bad}:6" in r.output and "behaviours.b.rate" in r.output


def test_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    r = runner.invoke(app, ["run", *SMALL, "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert not (tmp_path / "summary.json").exists()


def test_rerun_replaces_a_previous_result_only_with_force(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", *SMALL, "--out", str(out)]).exit_code == 0
    again = ["run", "--agents", "2000", "--days", "5", "-q", "--out", str(out)]
    r = runner.invoke(app, again)
    assert r.exit_code == 2 and "--force" in r.output
    assert json.loads((out / "summary.json").read_text())["agents"] == 3000
    r = runner.invoke(app, [*again, "--force"])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "summary.json").read_text())["agents"] == 2000
    # without --out, a run goes to out/NAME: a second one does not silently replace it
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["run", "none", *SMALL])
    assert first.exit_code == 0, first.output
    before = (tmp_path / "out" / "none" / "summary.json").read_text()
    r = runner.invoke(app, ["run", "none", *SMALL])
    assert r.exit_code == 2 and "out/none" in r.output and "--force" in r.output
    assert (tmp_path / "out" / "none" / "summary.json").read_text() == before


def test_scenarios_lists_default_and_validate_accepts_it() -> None:
    r = runner.invoke(app, ["scenarios"])
    assert r.exit_code == 0 and "default" in r.output
    assert runner.invoke(app, ["validate", "default"]).exit_code == 0


def test_scenarios_show_prints_a_builtin_that_loads_back(tmp_path: Path) -> None:
    from scoresim.scenario import load_scenario

    r = runner.invoke(app, ["scenarios", "show", "rongcheng"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("# scoresim built-in scenario \"rongcheng\"")
    copy = tmp_path / "mine.yaml"
    copy.write_text(r.output)
    assert load_scenario(str(copy)) == load_scenario("rongcheng")
    r = runner.invoke(app, ["scenarios", "show", "rongchen"])
    assert r.exit_code == 2 and "did you mean 'rongcheng'?" in r.output
    assert runner.invoke(app, ["scenarios", "shwo", "default"]).exit_code == 2


def test_validate_lists_every_error_with_did_you_mean(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npopulation:\n  regions: {a: {share: 1}}\n"
                   "channels: {online: {observe: 1}}\nbehaviours:\n"
                   "  b: {rate: -1, chanel: online}\n"
                   "  c: {rate: 0.5, channel: online, deterability: 0.2}\n")
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == 2
    lines = [x for x in r.output.splitlines() if x.startswith("error:")]
    assert f"error: {bad}:6: behaviours.b.rate: Input should be greater than or equal to 0" \
        in lines
    assert f"error: {bad}:6: behaviours.b.chanel: unknown key (did you mean 'channel'?)" \
        in lines
    assert f"error: {bad}:7: behaviours.c.deterability: unknown key (did you mean " \
        "'deterrability'?)" in lines
    assert "more error" not in r.output and f"{len(lines)} errors" in r.output
    r = runner.invoke(app, ["validate", "default", "--set",
                            "behaviours.online_criticism.channel=onlin"])
    assert r.exit_code == 2 and "unknown channel 'onlin' (did you mean 'online'?)" in r.output
    # run prints the first error and says validate lists them all
    r = runner.invoke(app, ["run", str(bad), *SMALL, "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
    assert "more errors: `scoresim validate` lists them all" in r.output


def test_profile_writes_stage_times(tmp_path: Path) -> None:
    out = tmp_path / "p"
    r = runner.invoke(app, ["run", *SMALL, "--profile", "--out", str(out)])
    assert r.exit_code == 0, r.output
    prof = pd.read_parquet(out / "profile.parquet")
    # the stages of the day, as the engine declares them (scoresim stages)
    assert list(prof.columns) == ["day", *STAGE_NAMES]
    assert STAGE_NAMES[:2] == ("retune", "act") and STAGE_NAMES[-1] == "measure"
    assert len(prof) == 20 and (prof.drop(columns="day") >= 0).all().all()


def test_console_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("scoresim")
    out = tmp_path / "sub"
    p = subprocess.run([str(exe), "run", *SMALL, "--out", str(out)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    assert (out / "summary.json").exists()
    p = subprocess.run([str(exe), "run", "--set", "x=", "--out", str(out)], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr.strip()


def test_compare_tables_fit_80_columns_and_csv_json_hold_every_metric(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from scoresim.cli.compare import HEADLINE, _compare_table
    from scoresim.experiments.compare import run_compare
    from scoresim.report.html import interval_cells

    specs = ["default", "without-association=default@safeguards.association_penalties=false",
             "human-review=default@safeguards.human_review=true"]
    comp = run_compare(specs, seeds=2, agents=1500, days=20, executor="serial")
    console = Console(file=io.StringIO(), width=80)
    console.print(_compare_table(comp))
    text = console.file.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    for metric in HEADLINE:  # every interval whole, on one line
        for cell in interval_cells(comp.summary, comp.labels, metric, "-"):
            assert cell in text, cell
    args = ["compare", *specs[:2], "--seeds", "2", "--agents", "1500", "--days", "20",
            "--executor", "serial", "-q"]
    r = runner.invoke(app, [*args, "--format", "csv", "--out", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    csv = pd.read_csv(io.StringIO(r.stdout))
    saved = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert set(csv["metric"]) == set(saved["metrics"]["default"])
    assert list(csv.columns[:7]) == ["scenario", "kind", "metric", "mean", "lo", "hi", "n"]
    r = runner.invoke(app, [*args, "--format", "json", "--out", str(tmp_path / "j")])
    rows = json.loads(r.stdout)
    row = next(x for x in rows if x["scenario"] == "default" and x["metric"]
               == "ever_sanctioned_frac")
    assert row["mean"] == saved["metrics"]["default"]["ever_sanctioned_frac"]["mean"]


def test_wide_frames_print_as_records_and_times_are_labelled() -> None:
    import io

    from rich.console import Console

    from scoresim.cli import common

    wide = pd.DataFrame({f"parameter_number_{k}": [k * 1.234567, -k / 3] for k in range(12)})
    console = Console(file=io.StringIO(), width=80)
    table = common.frame_table(wide)
    assert not common.fits(table, console)
    console.print(common.records_view(wide))
    text = console.file.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "parameter_number_11  13.5802" in text and "parameter_number_3   -1" in text
    assert common.times_text(60.0, 1, 4) == "elapsed 0:01:00, left 0:03:00"
    assert common.times_text(3725.0, 2, 2) == "elapsed 1:02:05, left 0:00:00"
    assert common.times_text(None, 0, None) == "elapsed -:--:--, left -:--:--"


def test_a_cold_kernel_cache_is_announced_once(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("scoresim")
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [str(exe), "run", "--agents", "200", "--days", "2", "--out", str(tmp_path / "o")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("compiling kernels (first run only, about") == 1
    p = subprocess.run([*cmd, "--force"], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "compiling" not in p.stderr  # the cache is warm now
