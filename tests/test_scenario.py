"""Scenario loading: built-ins, overrides, error locations, timeline, hashing."""

from __future__ import annotations

import pickle
import textwrap

import pytest

from scoresim.scenario import (
    Scenario,
    ScenarioError,
    apply_changes,
    builtin_scenarios,
    load_scenario,
    scenario_hash,
    scenario_to_yaml,
)

SMALL = """\
name: small
population:
  regions:
    all: {share: 1.0}
channels:
  online: {observe: 0.3}
behaviours:
  talk:
    rate: 0.1
    channel: online
timeline:
  - day: 10
    set: {behaviours.talk.rate: 0.2}
"""


def write(tmp_path, text: str, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


# ---------------------------------------------------------------- built-ins
def test_default_loads():
    s = load_scenario("default")
    assert isinstance(s, Scenario)
    assert s.name == "default"
    assert set(s.behaviours) == {"minor_infraction", "debt_default", "debt_repayment",
                                 "online_criticism", "offline_criticism", "volunteering"}
    assert set(s.channels) == {"camera", "online", "records"}
    assert set(s.layers) == {"household", "work", "kin", "friends"}
    assert set(s.lists) == {"dishonest_debtors"}
    assert set(s.sanctions) == {"travel_ban", "loan_denial", "school_ban"}
    assert s.sanctions["school_ban"].reaches == "household"
    assert set(s.services) == {"flight", "rail", "loan", "private_school"}
    assert s.scoring.initial == 1000
    assert s.scoring.grades == {"AAA": 1050, "AA": 1030, "A": 960, "B": 850, "C": 600, "D": None}
    assert s.lists["dishonest_debtors"].grace_days == 60
    assert s.lists["dishonest_debtors"].expire_days == 730
    assert s.timeline[0].day == 180
    assert "scoring.rules.online_criticism" in s.timeline[0].set


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_loads(name):
    s = load_scenario(name)
    assert s.name == name
    assert builtin_scenarios()[name] == s.description and "\n" not in s.description


def test_default_household_sizes_match_2020_census():
    size = load_scenario("default").layers["household"].size
    assert abs(sum(size.values()) - 1) < 1e-9
    assert abs(sum(k * v for k, v in size.items()) - 2.62) <= 0.01
    assert abs(size[1] - 0.25) <= 0.01


def test_yaml_round_trip():
    s = load_scenario("default")
    assert load_scenario(Scenario.model_validate(s.model_dump())) == s
    import yaml

    assert Scenario.model_validate(yaml.safe_load(scenario_to_yaml(s))) == s


# ---------------------------------------------------------------- overrides
def test_overrides_parse_and_type_check():
    s = load_scenario("default", [
        "behaviours.online_criticism.rate=0.001",
        "safeguards.human_review=true",
        "sanctions.travel_ban.denies=[flight]",
        "scoring.rules.debt_repayment=10",        # new key in a named mapping
        "layers.kin.spillover=0",
        "scoring.initial=1e3",                   # YAML 1.1 reads this as a string
    ])
    assert s.behaviours["online_criticism"].rate == 0.001
    assert s.safeguards.human_review is True
    assert s.sanctions["travel_ban"].denies == ["flight"]
    assert s.scoring.rules["debt_repayment"] == 10
    assert s.layers["kin"].spillover == 0
    assert s.scoring.initial == 1000.0


def test_override_dict_and_new_entry():
    s = load_scenario("default", {
        "behaviours.petitioning": {"rate": 0.0001, "channel": "records", "expression": True},
        "safeguards.appeals.enabled": True,       # a default can be overridden too
        "safeguards.protected": ["online_criticism"],
    })
    assert s.behaviours["petitioning"].expression
    assert s.safeguards.appeals.enabled
    assert s.safeguards.protected == ["online_criticism"]


def test_override_leaves_source_scenario_unchanged():
    base = load_scenario("default")
    before = base.layers["household"].spillover
    assert before > 0
    changed = load_scenario(base, ["layers.household.spillover=0"])
    assert base.layers["household"].spillover == before
    assert changed.layers["household"].spillover == 0


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("behaviours.online_criticism.rat=0.1", "rat"),                   # unknown key
        ("behavours.online_criticism.rate=0.1", "behavours"),             # unknown key
        ("behaviours.online_criticism.rate=abc", "valid number"),         # wrong type
        ("behaviours.online_criticism.rate=2", "less than or equal to 1"),  # out of range
        ("safeguards.human_review=[1, 2]", "valid boolean"),
        ("behaviours.onlien_criticism.rate=0.1", "onlien_criticism"),     # no such entry
        ("behaviours.online_criticism.channel=tv", "unknown channel 'tv'"),
        ("population.regions.east.share=0.5", "shares sum to"),
    ],
)
def test_bad_override_names_the_key(override, needle):
    with pytest.raises(ScenarioError) as info:
        load_scenario("default", [override])
    text = str(info.value)
    assert text.startswith(f"--set {override}: ")
    assert needle in text
    assert info.value.line is None
    assert "\n" not in text


def test_bad_override_syntax():
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        load_scenario("default", ["behaviours.online_criticism.rate"])
    with pytest.raises(ScenarioError, match="dotted path"):
        load_scenario("default", ["behaviours..rate=1"])


# ---------------------------------------------------------------- file errors
def test_wrong_type_names_file_line_and_key(tmp_path):
    path = write(tmp_path, SMALL.replace("rate: 0.1", "rate: lots"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert (err.file, err.line, err.key) == (path, 9, "behaviours.talk.rate")
    assert str(err).startswith(f"{path}:9: behaviours.talk.rate: ")


def test_out_of_range_and_missing_keys_name_lines(tmp_path):
    path = write(tmp_path, SMALL.replace("observe: 0.3}", "observe: 0.3, recognition: 7}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert (info.value.line, info.value.key) == (6, "channels.online.recognition")
    path = write(tmp_path, SMALL.replace("    channel: online\n", ""))
    with pytest.raises(ScenarioError) as info:  # missing key: the line of its parent
        load_scenario(path)
    assert (info.value.line, info.value.key) == (8, "behaviours.talk.channel")


def test_yaml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, SMALL.replace("    all: {share: 1.0}", "    all: {share: 1.0"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.file == path and info.value.line in (4, 5)
    assert "YAML" in str(info.value) and f"{path}:{info.value.line}:" in str(info.value)


def test_duplicate_key_is_an_error(tmp_path):
    path = write(tmp_path, SMALL.replace("channels:\n", "name: again\nchannels:\n"))
    with pytest.raises(ScenarioError, match="duplicate key") as info:
        load_scenario(path)
    assert info.value.line == 5


def test_unknown_reference_names_key_and_line(tmp_path):
    path = write(tmp_path, SMALL.replace("channel: online", "channel: tv"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert (err.line, err.key) == (10, "behaviours.talk.channel")
    assert "unknown channel 'tv'" in str(err)


def test_unknown_builtin_or_missing_file_lists_builtins(tmp_path):
    for source in ("no_such_scenario", str(tmp_path / "missing.yaml")):
        with pytest.raises(ScenarioError, match="default"):
            load_scenario(source)


def test_file_override_fixes_and_names(tmp_path):
    path = write(tmp_path, SMALL)
    s = load_scenario(path, ["behaviours.talk.rate=0.5"])
    assert s.behaviours["talk"].rate == 0.5
    with pytest.raises(ScenarioError, match=r"^--set behaviours.talk.rate=-1: "):
        load_scenario(path, ["behaviours.talk.rate=-1"])


# ---------------------------------------------------------------- timeline
def test_bad_timeline_path_is_caught_at_load(tmp_path):
    path = write(tmp_path, SMALL.replace("{behaviours.talk.rate: 0.2}",
                                         "{behaviours.talk.rat: 0.2}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert (err.line, err.key) == (13, "timeline.0.set.behaviours.talk.rat")


def test_bad_timeline_value_is_caught_at_load(tmp_path):
    path = write(tmp_path, SMALL.replace("{behaviours.talk.rate: 0.2}",
                                         "{behaviours.talk.rate: 3}"))
    with pytest.raises(ScenarioError, match="less than or equal to 1") as info:
        load_scenario(path)
    assert info.value.key == "timeline.0.set.behaviours.talk.rate"
    with pytest.raises(ScenarioError, match="timeline.0.set.scoring.rules.nope"):
        load_scenario("default", {"timeline.0.set.scoring.rules.nope": -5})


def test_apply_changes_returns_new_scenario():
    base = load_scenario("default")
    before = scenario_hash(base)
    new = apply_changes(base, base.timeline[0].set)
    assert new is not base
    assert new.scoring.rules["online_criticism"] == -50
    assert base.scoring.rules["online_criticism"] == -20
    assert scenario_hash(base) == before
    with pytest.raises(ScenarioError, match="behaviours.online_criticism.rate"):
        apply_changes(base, {"behaviours.online_criticism.rate": 5})
    with pytest.raises(ScenarioError, match="nope"):
        apply_changes(base, {"behaviours.online_criticism.nope": 5})


# ---------------------------------------------------------------- hashing and errors
def test_scenario_hash_is_stable_and_sensitive():
    a, b = load_scenario("default"), load_scenario("default")
    assert scenario_hash(a) == scenario_hash(b)
    assert len(scenario_hash(a)) == 64
    c = load_scenario("default", ["layers.kin.spillover=0.11"])
    assert scenario_hash(c) != scenario_hash(a)


def test_error_pickles():
    err = ScenarioError("bad", file="x.yaml", line=3, key="a.b")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) == "x.yaml:3: a.b: bad"
