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


# ---------------------------------------------------------------- hostile files
LAUGHS = "".join(f"{k}: &{k} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
                 for p, k in zip([None, *"abcdefgh"], "abcdefghi", strict=True))
ALIAS_TOWER = "".join(f"a{k}: &a{k} [{f'*a{k - 1}' if k else '0'}]\n" for k in range(40))
HOSTILE = {  # text, the line named, what the message says
    "billion laughs": (LAUGHS.encode(), 5, "more than 100,000 values"),
    "recursive anchor": (b"name: x\na: &a [1, *a]\n", 2, "recursive anchor"),
    "deep nesting": (b"name: x\na: " + b"[" * 200 + b"]" * 200 + b"\n", 2,
                     "nested more than 32 levels"),
    "deep through aliases": (ALIAS_TOWER.encode(), None, "nested more than 32 levels"),
    "NUL": (b"name: x\ndescription: a\x00b\n", 2, "control character '\\x00'"),
    "escape character": (b"name: x\n\n\x1b[31m: 1\n", 3, "control character '\\x1b'"),
    "not UTF-8": (b"name: x\n# caf\xe9\n", 2, "not UTF-8 text (byte 0xe9)"),
    "lone surrogate": (b'name: "a\\ud800"\n', 1, "lone surrogate"),
    "line break in a name": (b'behaviours: {"a\\nb": {rate: 0.1}}\n', 1,
                             "control character '\\n'"),
    "too big": (b"name: x\n" + b"#" * (9 * 2**20) + b"\n", None, "too big"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_get_one_line_with_file_and_line(tmp_path, case):
    import tracemalloc

    text, line, needle = HOSTILE[case]
    path = tmp_path / "s.yaml"
    path.write_bytes(text)
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as info:
            load_scenario(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = info.value
    assert err.file == str(path) and needle in str(err) and "\n" not in str(err)
    if line is not None:
        assert err.line == line and str(err).startswith(f"{path}:{line}: ")
    assert peak < 64 * 2**20 + len(text) * 4  # refused before anything is expanded


def test_extends_cycles_and_missing_parents_name_the_extends_line(tmp_path):
    write(tmp_path, "name: me\nextends: me.yaml\n", "me.yaml")
    with pytest.raises(ScenarioError, match=r"me.yaml:2: extends: a cycle of extends: "
                                            r"me.yaml -> me.yaml$"):
        load_scenario(str(tmp_path / "me.yaml"))
    write(tmp_path, "extends: b.yaml\n", "a.yaml")
    write(tmp_path, "description: b\nextends: a.yaml\n", "b.yaml")
    with pytest.raises(ScenarioError, match=r"b.yaml:2: extends: a cycle of extends: "
                                            r"a.yaml -> b.yaml -> a.yaml$"):
        load_scenario(str(tmp_path / "a.yaml"))
    write(tmp_path, "name: x\nextends: nope.yaml\n", "x.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(tmp_path / "x.yaml"))
    assert (info.value.line, info.value.key) == (2, "extends") and "'nope.yaml'" in str(
        info.value)
    write(tmp_path, "extends: nationl\n", "y.yaml")
    with pytest.raises(ScenarioError, match="did you mean 'national'"):
        load_scenario(str(tmp_path / "y.yaml"))
    write(tmp_path, "extends: default\ndescription: parent\n", "parent.yaml")
    write(tmp_path, "extends: parent.yaml\nscoring: {initial: 900}\n", "child.yaml")
    child = load_scenario(str(tmp_path / "child.yaml"))
    assert (child.description, child.scoring.initial) == ("parent", 900)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e308", "-1e308"])
@pytest.mark.parametrize("path", [
    "population.traits.dissent.beta=[{v}, 12]", "scoring.initial={v}",
    "layers.household.size.1={v}", "scoring.rules.online_criticism={v}",
    "timeline.0.set.scoring.rules.online_criticism={v}", "channels.camera.gallery={v}",
    "lists.dishonest_debtors.expire_days={v}",
])
def test_numbers_are_finite_and_bounded(value, path):
    override = path.format(v=value)
    with pytest.raises(ScenarioError) as info:
        load_scenario("default", [override])
    assert str(info.value).startswith(f"--set {override}: ")


# ---------------------------------------------------------------- validate == run
def test_timeline_changes_are_checked_as_a_run_checks_them(tmp_path):
    from scoresim import Sim

    path = write(tmp_path, SMALL.replace("{behaviours.talk.rate: 0.2}",
                                         "{scoring_enabled: false}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert (info.value.line, info.value.key) == (13, "timeline.0.set.scoring_enabled")
    assert "cannot change during a run" in str(info.value)
    with pytest.raises(ScenarioError) as again:  # a run refuses it with the same line
        Sim(path, agents=100, days=1)
    assert str(again.value) == str(info.value)
    path = write(tmp_path, "extends: default\ntimeline:\n  - day: 10\n    set:\n"
                 "      sanctions.new_ban: {when: {on_list: dishonest_debtors}}\n", "e.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert (info.value.line, info.value.key) == (5, "timeline.0.set.sanctions.new_ban")
    assert "adds new_ban" in str(info.value)
    with pytest.raises(ScenarioError, match=r"^--set timeline.0.set.layers.kin.mean_degree=3: "
                       r"the change on day 180: cannot change during a run \(only spillover\)"):
        load_scenario("default", ["timeline.0.set.layers.kin.mean_degree=3"])


def test_every_error_is_kept_and_messages_stay_on_one_line(tmp_path):
    path = write(tmp_path, SMALL.replace("rate: 0.1", "rate: -1\n    deterability: 2")
                 .replace("observe: 0.3}", "observe: 0.3, recogniton: 1}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    found = [(e.line, e.key, e.message) for e in info.value.all_errors()]
    assert (9, "behaviours.talk.rate", "Input should be greater than or equal to 0") in found
    assert (10, "behaviours.talk.deterability",
            "unknown key (did you mean 'deterrability'?)") in found
    assert (6, "channels.online.recogniton", "unknown key (did you mean 'recognition'?)") in found
    assert str(info.value).endswith("(and 2 more errors: `scoresim validate` lists them all)")
    with pytest.raises(ScenarioError) as info:
        load_scenario("default", ['name="two\nlines"', "layers.kin.spilover=1",
                                  "behaviours.online_critcism.rate=1"])
    assert "\n" not in str(info.value) and "\\n" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        load_scenario("default", ["layers.kin.spilover=1", "behaviours.online_critcism.rate=1"])
    assert [e.override for e in info.value.all_errors()] == [
        "layers.kin.spilover=1", "behaviours.online_critcism.rate=1"]
    assert "did you mean 'spillover'" in str(info.value)
    assert "did you mean 'online_criticism'" in info.value.more[0].message
