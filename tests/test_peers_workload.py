"""The peers reference workload (benchmarks/peers/workload.yaml) is the model the issue states.

Fast, and needs neither Starsim nor Mesa: the scenario compiles to the stated numbers, and a
tiny run's first day loses exactly the points its observed infractions and spilled penalties
say, with about the expected number of infractions. SYNTHETIC agents only.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scoresim import Sim, load_scenario
from scoresim.engine.compile import compile_plan

WORKLOAD = Path(__file__).resolve().parent.parent / "benchmarks" / "peers" / "workload.yaml"
Z = 5.0


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(WORKLOAD)


def test_compiles_to_the_stated_model(scenario):
    p = compile_plan(scenario, np.zeros(0, np.float32))
    assert p.act.rate.tolist() == [0.002] and p.act.deterrability.tolist() == [1.0]
    assert p.act.bound.tolist() == [0.002]  # candidates at the zero-caution rate
    assert p.observe.observe.tolist() == [0.6] and not p.observe.fpir.any()
    assert p.score.points.tolist() == [[-3000]]  # -30 points, fixed point x100
    # the spill stage's amount: round(points x spillover) in fixed point = exactly -5 points
    assert np.int32(round(-3000 * p.spill.tie_layers[0])) == -500
    assert p.spill.group_layers.shape == (0,)  # no group layers
    assert p.scoring.initial == 100_000 and p.scoring.recovery == 50
    assert p.sanction.threshold.tolist() == [90_000]  # sanctioned while score < 900
    assert p.sanction.visible_bits == 1  # neighbours see the sanction
    # caution closes 1 - 2**(-1/14) of the gap to the share of sanctioned neighbours a day
    assert (p.respond.from_ties, p.respond.follow) == (1.0, 1 - 2 ** (-1 / 14))
    assert (p.respond.from_penalty, p.respond.from_sanction) == (0.0, 0.0)
    assert scenario.layers["peers"].local_share == 0.0  # a plain random network


def test_day_one_loses_what_its_events_say(scenario):
    n = 20_000
    res = Sim(scenario, agents=n, days=1, seed=3,
              overrides=["scoring.recovery_per_day=0"]).run()
    d = res.daily.iloc[0]
    k, spilled = int(d["observed_infraction"]), int(d["spill_penalties"])
    # exactly: every observed infraction costs 30 points, every spilled penalty 5
    assert res.state.score.sum() == n * 100_000 - 3000 * k - 500 * spilled
    assert d["mean_score"] == pytest.approx(1000 - (30 * k + 5 * spilled) / n, abs=1e-9)
    # about 0.002 x 0.6 x n observed infractions, each reaching ~20 neighbours
    mean = 0.0012 * n
    assert abs(k - mean) <= Z * math.sqrt(mean)
    assert abs(spilled - 20 * k) <= Z * math.sqrt(20 * k) + 20
    assert abs(int(d["acts_infraction"]) - 0.002 * n) <= Z * math.sqrt(0.002 * n)


def test_a_short_run_behaves(scenario):
    n = 20_000
    res = Sim(scenario, agents=n, days=20, seed=4).run()
    f = res.summary["final"]
    assert res.summary["network"]["peers"]["mean_degree"] == pytest.approx(20, abs=0.5)
    # points flow out at 0.0012 x (30 + 20 x 5) = 0.156 a day per agent and come back at most
    # 0.5 a day: the mean falls below 1,000 and by less than 20 days x 0.156
    assert 1000 - 20 * 0.156 < f["mean_score"] < 1000
    assert res.daily["mean_score"].iloc[-1] < res.daily["mean_score"].iloc[0] <= 1000
    assert f["sanctioned_frac"] < 1e-3  # 100 points down in 20 days is rare
    assert (res.state.score <= 100_000).all()  # recovery never passes 1,000
