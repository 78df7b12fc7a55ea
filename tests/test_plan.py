"""scoresim plan: bytes per array scale exactly; runs that cannot fit are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scoresim import build_population, load_scenario
from scoresim.cli import app
from scoresim.scale.plan import check_fits, for_agents, quick_estimate

runner = CliRunner()


@pytest.mark.parametrize("n", [30_000, 90_000, 400_000])
def test_bytes_per_agent_predict_a_real_build(n):
    """From a 20,000-agent sample; at 400,000 most random ties are far (3 slots, not 1)."""
    sc = load_scenario("default")
    plan = quick_estimate(sc, n)
    pop = build_population(sc, n, 0)
    built = pop.nbytes() / n
    network_and_people = sum(b for a, _, b in plan.arrays if not a.startswith("state."))
    assert built == pytest.approx(network_and_people, rel=0.01)
    assert plan.bytes_per_agent > network_and_people  # the state comes on top
    assert plan.peak_bytes >= plan.steady_bytes


def test_a_run_that_cannot_fit_is_refused():
    sc = load_scenario("default")
    plan = for_agents(quick_estimate(sc, 1), 10**10)
    reason = check_fits(plan, memory=24 * 2**30)
    assert reason is not None and "GiB" in reason
    assert check_fits(for_agents(plan, 1000), memory=24 * 2**30) is None


def test_cli_refuses_before_allocating(tmp_path: Path):
    out = tmp_path / "huge"
    r = runner.invoke(app, ["run", "--agents", "5000000000", "--days", "1", "-q",
                            "--out", str(out)])
    assert r.exit_code == 2 and "GiB" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_plan_command_prints_memory_and_time(tmp_path: Path):
    j = tmp_path / "plan.json"
    r = runner.invoke(app, ["plan", "--agents", "1000000", "--partitions", "4",
                            "--json", str(j), "--set", "layers.friends.mean_degree=4",
                            "--set", "population.groups={everyone: {share: 1.0}}",
                            "--set", "layers.kin.assortativity={group: 0, region: 1}",
                            "--set", "layers.friends.assortativity={group: 0, region: 1}"])
    assert r.exit_code == 0, r.output
    assert "tie_indices" in r.output and "time per day" in r.output and "K = 4" in r.output
    assert "memory per actor" in r.output
    import json

    data = json.loads(j.read_text())
    assert data["agents"] == 1_000_000 and data["seconds_per_day"] > 0
    # friends at mean degree 4 and kin at 6: 10 ties an agent, 2 bytes each when near, 6 when
    # far; one group, ties within the region: 20% are random within it (east 400,000 agents,
    # west 600,000): of the w - 1 partners of an agent at x, min(x, N) + min(w - 1 - x, N)
    # are near (N = 32,767)
    def far_in(w, N=32767):
        x = np.arange(w)
        return 1 - np.mean(np.minimum(x, N) + np.minimum(w - 1 - x, N)) / (w - 1)

    far = 0.4 * far_in(400_000) + 0.6 * far_in(600_000)
    ties = next(a for a in data["arrays"] if a["array"] == "network.tie_indices")
    assert ties["bytes_per_agent"] == pytest.approx(10 * 2 * (1 + 2 * 0.2 * far), rel=0.01)
