"""Venues abroad: feeds, false matches onto the enrolled, reach home through kin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from conftest import assert_near, run_sim
from scoresim import load_scenario

N, T = 60_000, 60


def city(feed: bool = True, capture: float | None = None, **venue) -> dict:
    spec = {"count": 2, "tables": 30, "cameras": 60, "feed_home": feed, "act_share": 1.0,
            "visit": {"local": 0.05, "diaspora": 0.05}, **venue}
    if capture is not None:
        spec["capture"] = capture
    return {"share": 0.1, "channel": "venue_camera", "kin_home": 4,
            "groups": {"local": {"share": 0.5, "enrolled": False},
                       "diaspora": {"share": 0.5}},
            "venues": {"restaurant": spec}}


def scenario(**city_kw) -> dict:
    """The default system with online monitoring and debt records off, so that only venue
    cameras see what people abroad do."""
    return {
        "channels.online.observe": 0.0,
        "behaviours.debt_default.rate": 0.0,
        "channels.venue_camera": {"observe": 1.0, "recognition": 0.9, "false_match": 0.2},
        "overseas.vancouver": city(**city_kw),
    }


def test_with_feeds_off_nothing_crosses_the_border():
    res = run_sim(load_scenario("default", scenario(feed=False)), N, T, seed=4)
    o = res.summary["overseas"]
    assert o["records_home"] == 0 and o["identifications"] == 0
    assert o["locals_captured_people"] == 0 and o["diaspora_identified_people"] == 0
    assert o["relatives_home_penalised"] == 0 and o["relatives_home_sanctioned"] == 0
    assert o["acts_at_venues"] > 0  # people still act there; no one at home sees it
    on = run_sim(load_scenario("default", scenario(feed=True)), N, T, seed=4)
    assert on.summary["overseas"]["records_home"] > 0
    assert on.summary["overseas"]["relatives_home_penalised"] > 0


def test_records_count_every_captured_visit_by_origin():
    res = run_sim(load_scenario("default", scenario(capture=1.0)), N, T, seed=5)
    o, d = res.summary["overseas"], res.daily
    assert o["records_home"] == d["venue_visits"].sum()  # capture 1: every visit is a record
    abroad = o["residents_abroad"]
    visits = abroad * 0.05 * T  # both origins visit with 0.05 a day
    assert_near(o["records_home"], visits, np.sqrt(visits), "records")
    by = o["records_home_by_origin"]
    assert by["majority"] == 0 and by["minority"] == 0  # no one at home visits
    assert_near(by["local"], visits / 2, np.sqrt(visits), "local records")


def test_identifications_grow_with_camera_coverage():
    """Common random numbers: a patron captured at 0.3 is captured at 0.9 too."""
    low = run_sim(load_scenario("default", scenario(capture=0.3)), N, T, seed=6)
    high = run_sim(load_scenario("default", scenario(capture=0.9)), N, T, seed=6)
    lo, hi = low.summary["overseas"], high.summary["overseas"]
    assert hi["identifications"] > lo["identifications"] * 2
    assert hi["locals_captured_people"] > lo["locals_captured_people"]
    assert hi["records_home"] > 2.5 * lo["records_home"]


def test_false_matches_fall_in_proportion_to_share_times_multiplier():
    """Locals of two origins: one is misrecognised 4 times as often. False matches of
    locals onto the enrolled follow share x multiplier (1:4 here with equal shares)."""
    sc = scenario(capture=1.0)
    sc["channels.venue_camera"]["false_match"] = 0.05
    sc["overseas.vancouver"]["groups"] = {
        "local_a": {"share": 0.3, "enrolled": False},
        "local_b": {"share": 0.3, "enrolled": False, "false_match_multiplier": 4},
        "diaspora": {"share": 0.4}}
    sc["overseas.vancouver"]["venues"]["restaurant"]["visit"] = {
        "local_a": 0.05, "local_b": 0.05, "diaspora": 0.05}
    res = run_sim(load_scenario("default", sc), N, T, seed=7)
    # faces of each origin in the feed, and the false matches they produce
    rec = res.summary["overseas"]["records_home_by_origin"]
    fm = res.summary["overseas"]["false_matches_onto_enrolled"]
    expected = 0.05 * (rec["local_a"] + 4 * rec["local_b"])
    assert_near(fm, expected, np.sqrt(expected), "false matches")
    assert rec["local_b"] * 4 > 3 * rec["local_a"]  # equal shares: equal exposure


def test_acts_at_venues_reach_relatives_at_home_through_kin():
    res = run_sim(load_scenario("default", scenario(capture=1.0)), N, T, seed=8)
    o = res.summary["overseas"]
    assert o["acts_at_venues"] > 0 and o["relatives_home_penalised"] > 0
    assert res.summary["network"]["kin"]["mean_degree"] > 6.0  # ties home were added


def test_overseas_venue_identical_across_thread_counts(tmp_path):
    code = textwrap.dedent("""
        import json, sys
        from scoresim import Sim
        r = Sim("overseas-venue", agents=30_000, days=40, seed=9).run()
        r.daily.to_parquet(sys.argv[1])
        json.dump({"o": r.summary["overseas"], "f": r.summary["final"]}, open(sys.argv[2], "w"))
    """)
    out = {}
    for t in (1, 2):
        env = {**os.environ, "NUMBA_NUM_THREADS": str(t)}
        p, j = tmp_path / f"d{t}.parquet", tmp_path / f"s{t}.json"
        subprocess.run([sys.executable, "-c", code, str(p), str(j)], check=True, env=env)
        out[t] = (p.read_bytes(), json.loads(j.read_text()))
    import pandas as pd

    a = pd.read_parquet(tmp_path / "d1.parquet")
    b = pd.read_parquet(tmp_path / "d2.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert out[1][1] == out[2][1]
    assert out[1][1]["o"]["records_home"] > 0
