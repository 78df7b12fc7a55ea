"""The explorer without a browser: its address, its knobs as `--set` overrides, the population
it reuses between runs, and the command's refusals."""

from __future__ import annotations

import socket

import pandas as pd
import pytest
from typer.testing import CliRunner

from scoresim import Sim, build_population
from scoresim.cli import app
from scoresim.explore.app import is_loopback
from scoresim.explore.knobs import (
    CHOICE,
    SWITCH,
    Knob,
    format_value,
    knobs_for,
    override,
    split_overrides,
)
from scoresim.explore.settings import (
    CUSTOM,
    Settings,
    Side,
    builtin_names,
    from_query,
    load_side,
    to_query,
)
from scoresim.explore.worker import population_key
from scoresim.scenario import ScenarioError

YAML = "extends: default\nsafeguards:\n  human_review: true  # a comment, and unicode: é\n"


def moved(knob: Knob) -> object:
    """A value of the knob other than the scenario's own."""
    if knob.kind == SWITCH:
        return not knob.value
    if knob.kind == CHOICE:
        return [knob.options[0]] if knob.value != [knob.options[0]] else []
    return knob.high if knob.value != knob.high else knob.low


def test_the_address_round_trips() -> None:
    s = Settings(Side(CUSTOM, YAML, ("layers.kin.spillover=0.2", "safeguards.protected=[a,b]")),
                 agents=1234, days=50, seeds=3, seed=7, mode="compare",
                 pinned=Side("national", "", ("safeguards.human_review=true",)))
    assert from_query(to_query(s)) == s
    assert from_query("?" + to_query(Settings())) == Settings()
    assert from_query("") is None
    with pytest.raises(ValueError, match="agents"):
        from_query("agents=many")
    with pytest.raises(ValueError, match="damaged"):
        from_query("scenario=custom&yaml=not-zlib")


@pytest.mark.parametrize("name", builtin_names())
def test_every_knob_is_a_valid_override_and_reads_back(name: str) -> None:
    sc = load_side(Side(name))
    knobs = knobs_for(sc)
    # a scenario without layers (a crowd of faces, readers of one site) has no spillover
    assert {k.section for k in knobs} >= {"Cameras", "Safeguards"} | (
        {"Spillover to ties"} if sc.layers else set())
    for knob in knobs:
        assert override(knob, knob.value) is None  # untouched: nothing in the address
        text = override(knob, moved(knob))
        assert text is not None and text.startswith(knob.path + "=")
        load_side(Side(name, "", (text,)))  # scoresim run --set takes it
        values, rest = split_overrides(knobs, [text])
        assert rest == [] and override(knob, values[knob.path]) == text


def test_values_are_written_as_set_reads_them() -> None:
    assert format_value(0.1 + 0.2) == "0.3"
    assert format_value(-20.0) == "-20"
    assert format_value(True) == "true" and format_value([]) == "[]"
    sc = load_side(Side("overseas-venue", "", ("channels.venue_camera.fmr=" + format_value(2e-9),)))
    assert sc.channels["venue_camera"].fmr == 2e-9


def test_a_bad_scenario_names_its_line_and_key() -> None:
    with pytest.raises(ScenarioError) as err:
        load_side(Side(CUSTOM, "extends: default\nbehaviours:\n  online_criticism:\n"
                               "    rate: lots\n"))
    assert str(err.value).startswith("your-scenario.yaml:4: behaviours.online_criticism.rate")
    with pytest.raises(ScenarioError, match="--set layers.nowhere.spillover"):
        load_side(Side("default", "", ("layers.nowhere.spillover=0.1",)))


def test_a_cached_population_gives_the_same_run_as_a_fresh_build() -> None:
    base = load_side(Side("default"))
    pop = build_population(base, 3000, 1)
    reused = 0
    for knob in knobs_for(base):
        sc = load_side(Side("default", "", (override(knob, moved(knob)),)))
        if population_key(sc, 3000, 1) != population_key(base, 3000, 1):
            continue
        reused += 1
        fresh = Sim(sc, agents=3000, days=60, seed=1).run()
        again = Sim(sc, agents=3000, days=60, seed=1, population=pop).run()
        assert again.summary["final"] == fresh.summary["final"], knob.path
        pd.testing.assert_frame_equal(again.daily, fresh.daily)
    assert reused == len(knobs_for(base))  # no knob rebuilds the people
    for change in ("layers.kin.mean_degree=3", "population.traits.dissent.beta=[2,10]"):
        other = load_side(Side("default", "", (change,)))
        assert population_key(other, 3000, 1) != population_key(base, 3000, 1)
    assert population_key(base, 3001, 1) != population_key(base, 3000, 1)


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_explore_refuses_a_port_in_use_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["explore", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
