"""Output folders and memory, checked before anything is computed: a bad --out, a full disk, a
kill between the two renames of a replace, a run too big for the memory this process may use
(host, address-space limit, cgroup). Crashes are injected at exact points (SCORESIM_FAULT),
never timed."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scoresim.cli import app
from scoresim.results.outputs import recover
from scoresim.scale.plan import cgroup_headroom

runner = CliRunner()
SMALL = ["--agents", "2000", "--days", "5", "--seed", "1", "-q"]
EXE = str(Path(sys.executable).with_name("scoresim"))


def agents_in(out: Path) -> int:
    return json.loads((out / "summary.json").read_text())["agents"]


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def scoresim(args: list[str], env: dict | None = None, limits=None) -> subprocess.CompletedProcess:
    """The console script in a child process (with extra environment and resource limits)."""
    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        for which, value in (limits or {}).items():
            resource.setrlimit(which, (value, value))

    return subprocess.run([EXE, *args], env={**os.environ, **(env or {})}, text=True,
                          capture_output=True, preexec_fn=setup, timeout=600)


@pytest.fixture
def no_compute(monkeypatch):
    """Any run that starts fails the test: checks must come first."""
    from scoresim.sim import Sim

    def refuse(*args, **kw):
        raise AssertionError("a run started before the output was checked")

    monkeypatch.setattr(Sim, "run", refuse)


@pytest.mark.parametrize("where", ["under a file", "proc", "long name"])
def test_a_bad_out_is_refused_before_anything_runs(tmp_path: Path, where: str,
                                                   no_compute) -> None:
    (tmp_path / "file").write_text("x")
    out = {"under a file": tmp_path / "file" / "out", "proc": Path("/proc/scoresim-out"),
           "long name": tmp_path / ("n" * 300)}[where]
    for cmd in (["run", *SMALL], ["compare", "default", "--seeds", "1", "--agents", "500",
                                  "--days", "3", "--executor", "serial", "-q"]):
        r = runner.invoke(app, [*cmd, "--out", str(out)])
        assert r.exit_code == 2, r.output
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
        assert str(out.name)[:20] in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_full_disk_leaves_the_previous_result(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", *SMALL, "--out", str(out)]).exit_code == 0
    before = (out / "summary.json").read_text()
    # a file-size limit makes every write past 16 KB fail, as a full disk does
    p = scoresim(["run", "--agents", "3000", "--days", "5", "-q", "--force", "--out",
                  str(out)], limits={resource.RLIMIT_FSIZE: 16_000})
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert "File too large" in p.stderr and "previous result, if any, is unchanged" in p.stderr
    assert (out / "summary.json").read_text() == before and leftovers(out) == []


def test_a_store_on_a_full_disk_names_the_real_error(tmp_path: Path) -> None:
    code = ("import sys, pandas as pd\n"
            "from scoresim.results.store import Store, StoreError\n"
            "store = Store(sys.argv[1])\n"
            "daily = pd.DataFrame({'day': range(200_000), 'series': 'x', 'value': 1.0})\n"
            "try:\n"
            "    store.save_run({'run_id': 'big', 'status': 'done'}, {'m': 1.0}, daily)\n"
            "except StoreError as e:\n"
            "    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")], text=True,
                       capture_output=True, timeout=600,
                       preexec_fn=lambda: (signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
                                           resource.setrlimit(resource.RLIMIT_FSIZE,
                                                              (300_000, 300_000))))
    assert p.returncode == 0, p.stderr
    assert "results.duckdb" in p.stdout and "File too large" in p.stdout
    assert "rollback" not in p.stdout.lower()


@pytest.mark.parametrize("fault", ["kill-between-renames", "kill-before-renames"])
def test_a_replace_killed_at_any_point_is_recovered(tmp_path: Path, fault: str) -> None:
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", *SMALL, "--out", str(out)]).exit_code == 0
    p = scoresim(["run", "--agents", "3000", "--days", "5", "-q", "--force", "--out",
                  str(out)], env={"SCORESIM_FAULT": fault})
    assert p.returncode == -signal.SIGKILL, p.stderr
    left = leftovers(out)
    if fault == "kill-between-renames":  # the window: NAME missing, both results beside it
        assert not out.exists() and [n.rsplit(".", 1)[1] for n in left] == ["old", "tmp"]
        assert "finished the replacement" in recover(out)
        assert agents_in(out) == 3000  # the new result was whole before the first rename
    else:
        assert agents_in(out) == 2000 and [n.rsplit(".", 1)[1] for n in left] == ["tmp"]
        assert "removed" in recover(out)
        assert agents_in(out) == 2000
    assert leftovers(out) == [] and recover(out) is None
    # the same again, recovered by the next `scoresim run` on the same --out
    p = scoresim(["run", *SMALL, "--force", "--out", str(out)], env={"SCORESIM_FAULT": fault})
    assert p.returncode == -signal.SIGKILL
    r = runner.invoke(app, ["run", "--agents", "2500", "--days", "5", "-q", "--force",
                            "--out", str(out)])
    assert r.exit_code == 0 and "interrupted run" in r.output
    assert agents_in(out) == 2500 and leftovers(out) == []


def test_memory_is_refused_up_front_by_every_command(tmp_path: Path, no_compute) -> None:
    huge = "1000000000000"
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"parameters: {{layers.kin.spillover: [0]}}\nagents: {huge}\n")
    for cmd in (["run", "--agents", huge],
                ["compare", "default", "--agents", huge, "--executor", "serial"],
                ["sweep", str(sweep)],
                ["calibrate", "national", "--targets", "national-spc", "--agents", huge]):
        out = tmp_path / "out"
        r = runner.invoke(app, [*cmd, "-q", "--out", str(out)])
        assert r.exit_code == 2, (cmd, r.output)
        assert "GiB" in r.output and len(r.output.strip().splitlines()) == 1
        assert not out.exists()
    # the partition count is checked before the memory
    r = runner.invoke(app, ["run", "--agents", "2000", "--partitions", "64", "-q", "--out",
                            str(tmp_path / "p")])
    assert r.exit_code == 2 and "too few for 64 partitions" in r.output


def test_an_address_space_limit_is_the_memory_available(tmp_path: Path) -> None:
    # 30 million agents need about 3.2 GiB: within the host's memory, not within 3 GiB of
    # address space (of which the interpreter and its libraries already use some)
    p = scoresim(["run", "--agents", "30000000", "--days", "1", "-q", "--out",
                  str(tmp_path / "o")], limits={resource.RLIMIT_AS: 3 * 2**30})
    assert p.returncode == 2, p.stderr
    assert "(the address space limit)" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


def _cgroup(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_cgroup_limits_v1_and_v2_with_their_ancestors(tmp_path: Path) -> None:
    mount = tmp_path / "sys"
    v2 = mount / "app" / "job"
    _cgroup(mount / "app", {"memory.max": str(8 * 2**30), "memory.current": str(2**30),
                            "memory.stat": "anon 1\ninactive_file 0\n"})
    _cgroup(v2, {"memory.max": "max", "memory.current": "5", "memory.stat": "anon 1\n"})
    membership = tmp_path / "cgroup"
    membership.write_text("0::/app/job\n")
    assert cgroup_headroom(membership, mount) == 7 * 2**30  # the parent's limit binds
    # v1: usage counts page cache that can be reclaimed (total_inactive_file)
    v1 = mount / "memory" / "docker" / "c1"
    _cgroup(v1, {"memory.limit_in_bytes": str(4 * 2**30),
                 "memory.usage_in_bytes": str(3 * 2**30),
                 "memory.stat": f"cache 5\ntotal_inactive_file {2**30}\n"})
    _cgroup(mount / "memory", {"memory.limit_in_bytes": "9223372036854771712",
                               "memory.usage_in_bytes": "1", "memory.stat": ""})
    membership.write_text("4:memory:/docker/c1\n1:cpu:/\n")
    assert cgroup_headroom(membership, mount) == 2 * 2**30
    membership.write_text("4:memory:/\n0::/\n")  # no limit anywhere
    assert cgroup_headroom(membership, mount) is None


def test_names_are_text_in_every_figure(tmp_path: Path) -> None:
    weird = "a$\\frac{1$"
    r = runner.invoke(app, ["run", *SMALL, "--out", str(tmp_path / "run"),
                            "--set", f"services.{weird}={{demand: 0.1}}",
                            "--set", f"sanctions.travel_ban.denies=[flight, '{weird}']"])
    assert r.exit_code == 0, r.output
    assert weird in (tmp_path / "run" / "report.html").read_text()
    r = runner.invoke(app, ["compare", f"{weird}=default", "b$x$=none", "--seeds", "1",
                            "--agents", "500", "--days", "5", "--executor", "serial", "-q",
                            "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cmp" / "report.html").exists()
