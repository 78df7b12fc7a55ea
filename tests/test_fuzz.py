"""A seeded fuzz corpus (Hypothesis, derandomized) of scenario files, overrides and flags.

For every input the command line keeps its promise: exit 0 with its outputs, or exit 2 with
one line (``validate``: one line per error) and nothing written; never a traceback. A scenario
that ``validate`` accepts is one that ``run`` runs. Each test also bounds the memory the
process grew to (a YAML alias bomb grew past 8 GB before the loader refused it) and the CPU
time of each input (not the wall time: a busy machine does not fail it).
"""

from __future__ import annotations

import copy
import itertools
import resource
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scoresim.cli import app
from scoresim.scenario import load_scenario

runner = CliRunner()
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=15,
                suppress_health_check=list(HealthCheck))
TINY = ["--agents", "60", "--days", "2", "--seed", "1", "-q"]
RUN_FILES = ("summary.json", "daily.parquet", "scenario.yaml", "report.html")
MAX_GROWTH = 1.5 * 2**30  # bytes the process may grow to over a whole fuzz test
MAX_CPU = 30.0  # CPU seconds for one input (a tiny run takes about one)

HOSTILE_NUMBERS = [".nan", ".inf", "-.inf", "1e308", "-1e308", "1e30", "-1", "0", "0.5", "1",
                   "3", "10000", "100001", "1e-300", "12345678901234567890", "-0", "2",
                   "'7'", "true", "null", "[]", "{}", "x"]
NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=12) | st.sampled_from(["a\nb", "x\x00y", "\x1b[31m", "a$\\frac{1$"])


def _leaves(data: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaves(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _leaves(v, (*path, i))]
    return [path] if isinstance(data, int | float) and not isinstance(data, bool) else []


BASE = load_scenario("default").model_dump(mode="json")
NUMERIC = _leaves(BASE)  # every number of the default scenario, timeline changes included


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Guard:
    """Bounds on one fuzz test: CPU time per input, memory growth over all of them."""

    def __init__(self) -> None:
        self.start = _peak()

    def invoke(self, args: list[str]) -> Any:
        cpu = time.process_time()
        r = runner.invoke(app, args)
        assert time.process_time() - cpu < MAX_CPU, args
        assert _peak() - self.start < MAX_GROWTH, args
        return r


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long to ask about cannot exist
        return False


def _one_line_or_outputs(r: Any, out: Path | None, files: tuple[str, ...]) -> None:
    event(f"exit {r.exit_code}")  # --hypothesis-show-statistics: how often each happens
    assert r.exit_code in (0, 2), (r.exit_code, r.output, r.exception)
    assert "Traceback" not in r.output
    if r.exit_code == 2:
        assert len(r.output.strip().splitlines()) == 1 and r.output.startswith("error: ")
        assert out is None or not _exists(out)
    elif out is not None:
        assert all((out / f).is_file() for f in files), r.output


def _check_file(folder: Path, raw: bytes) -> None:
    """A scenario file of these bytes: validate, then run; both accept it, or both refuse it
    (run in one line)."""
    path, out, guard = folder / "s.yaml", folder / "out", Guard()
    path.write_bytes(raw)
    v = guard.invoke(["validate", str(path)])
    assert v.exit_code in (0, 2) and "Traceback" not in v.output, (v.output, v.exception)
    if v.exit_code == 2:
        lines = v.output.strip().splitlines()
        assert all(x.startswith("error: ") for x in lines[:-1] or lines)
    r = guard.invoke(["run", str(path), *TINY, "--out", str(out)])
    _one_line_or_outputs(r, out, RUN_FILES)
    assert (r.exit_code == 0) == (v.exit_code == 0), (v.output, r.output)


@st.composite
def mutated_scenarios(draw: Any) -> str:
    data = copy.deepcopy(BASE)
    for path in draw(st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=2)):
        node = data
        for part in path[:-1]:
            node = node[part]
        benign = st.floats(0, 1).map(repr)  # mostly within the bounds: some files run
        node[path[-1]] = yaml.safe_load(draw(st.sampled_from(HOSTILE_NUMBERS) | benign))
    if draw(st.booleans()):  # one more thing, named with any text (names reach figures)
        section = draw(st.sampled_from(["services", "lists", "behaviours", "channels"]))
        like = draw(st.sampled_from(sorted(data[section])))
        data[section][draw(NAMES)] = copy.deepcopy(data[section][like])
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@seed(20251129)
@settings(FUZZ, max_examples=10)
@given(text=mutated_scenarios())
def test_fuzz_scenario_values_and_names(tmp_path_factory: Any, text: str) -> None:
    _check_file(tmp_path_factory.mktemp("values"), text.encode("utf-8"))


def _bomb(levels: int, fan: int) -> str:
    names = [f"l{k}" for k in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['x'] * fan)}]"]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * fan)}]")
    return "name: bomb\n" + "\n".join(lines) + "\n"


@st.composite
def hostile_yaml(draw: Any) -> bytes:
    kind = draw(st.sampled_from(["bomb", "deep", "recursive", "bytes", "extends", "chars"]))
    if kind == "bomb":
        return _bomb(draw(st.integers(2, 12)), draw(st.integers(2, 12))).encode()
    if kind == "deep":
        n = draw(st.integers(1, 3000))
        return ("name: deep\nbehaviours: " + "[" * n + "]" * n + "\n").encode()
    if kind == "recursive":
        return draw(st.sampled_from([b"a: &a [*a]\n", b"a: &a {b: *a}\n",
                                     b"name: r\nx: &x [1, [2, *x]]\n"]))
    if kind == "extends":
        return draw(st.sampled_from([b"extends: s.yaml\n", b"extends: [default]\n",
                                     b"extends: ../s.yaml\n", b"extends: defualt\n",
                                     b"extends: ''\n"]))
    base = yaml.safe_dump(BASE, sort_keys=False).encode()
    at = draw(st.integers(0, len(base)))
    if kind == "bytes":
        noise = draw(st.binary(min_size=1, max_size=8))
    else:
        noise = draw(st.sampled_from(["\x00", "\x07", "\x1b", "\u2028", "\ud800", "$",
                                      "\\frac{", "\r", "\t", "&a", "*a", "!!python/object"]))
        noise = noise.encode("utf-8", "surrogatepass")
    return base[:at] + noise + base[at:]


@seed(20251129)
@settings(FUZZ, max_examples=25)
@given(raw=hostile_yaml())
def test_fuzz_hostile_yaml(tmp_path_factory: Any, raw: bytes) -> None:
    _check_file(tmp_path_factory.mktemp("yaml"), raw)


OVERRIDE_PATHS = ["behaviours.online_criticism.rate", "scoring.initial", "scoring.rules.x",
                  "layers.household.size.1", "population.traits.dissent.beta",
                  "timeline.0.set.scoring.rules.online_criticism", "timeline.0.day",
                  "timeline.0.set.scoring_enabled", "sanctions.travel_ban.denies",
                  "services", "name", "description", "layers.kin.spilover", "x", "",
                  "behaviours..rate", "overseas", "channels.camera.gallery"]
OVERRIDE_VALUES = [*HOSTILE_NUMBERS, "[.nan, 12]", "&a [*a, *a]", "[" * 500, "'a\nb'",
                   "{new: {demand: 0.1}}", "[flight, 'a$\\frac{1$']", "\"\\ud800\"", ""]


@seed(20251129)
@FUZZ
@given(sets=st.lists(st.tuples(st.sampled_from(OVERRIDE_PATHS),
                               st.sampled_from(OVERRIDE_VALUES) | NAMES),
                     min_size=1, max_size=3))
def test_fuzz_overrides(tmp_path_factory: Any, sets: list[tuple[str, str]]) -> None:
    out = tmp_path_factory.mktemp("over") / "out"
    args = [a for path, value in sets for a in ("--set", f"{path}={value}")]
    guard = Guard()
    v = guard.invoke(["validate", "default", *args])
    assert v.exit_code in (0, 2) and "Traceback" not in v.output, (v.output, v.exception)
    r = guard.invoke(["run", *TINY, *args, "--out", str(out)])
    _one_line_or_outputs(r, out, RUN_FILES)
    assert (r.exit_code == 0) == (v.exit_code == 0), (v.output, r.output)


FLAG_VALUES = {
    "--agents": ["-1", "0", "1", "40", "abc", "1e3", "99999999999999"],
    "--days": ["-1", "0", "1", "2", "x"],
    "--seed": ["-1", "0", "9223372036854775807", "9223372036854775808", "1" * 30],
    "--threads": ["0", "1", "999"],
    "--partitions": ["0", "64"],
    "--seeds": ["0", "1", "2", "-3"],
    "--executor": ["serial", "nope"],
    "--format": ["table", "csv", "json", "yaml"],
    "--set": ["x=1", "name=a$b", "scoring.initial=.nan"],
}
COMMANDS = {"run": ["--agents", "--days", "--seed", "--threads", "--partitions", "--set"],
            "compare": ["--agents", "--days", "--seed", "--seeds", "--executor", "--format",
                        "--set"]}


@st.composite
def command_lines(draw: Any) -> tuple[str, list[str], str]:
    command = draw(st.sampled_from(["run", "run", "run", "compare"]))
    args = [command]
    if command == "compare":
        args.append(draw(st.sampled_from(["default", "a$=none", "x=nope", "=default@"])))
    else:
        args.append(draw(st.sampled_from(["none", "nope", "", "../../etc/passwd"])))
    flags = draw(st.lists(st.sampled_from(COMMANDS[command]), unique=True, max_size=4))
    for flag in flags:
        args += [flag, draw(st.sampled_from(FLAG_VALUES[flag]))]
    defaults = {"--agents": "40", "--days": "2", "--seeds": "1", "--executor": "serial"}
    for flag, value in defaults.items():
        if flag in COMMANDS[command] and flag not in flags:
            args += [flag, value]
    out = draw(st.sampled_from(["out", "file/out", "/proc/scoresim", "n" * 300]))
    return command, args, out


@seed(20251129)
@settings(FUZZ, max_examples=10)
@given(line=command_lines())
def test_fuzz_flags(tmp_path_factory: Any, line: tuple[str, list[str], str]) -> None:
    command, args, where = line
    folder = tmp_path_factory.mktemp("flags")
    (folder / "file").write_text("a file, not a folder")
    out = folder / where if not where.startswith("/") else Path(where)
    r = Guard().invoke([*args, "-q", "--out", str(out)])
    files = RUN_FILES if command == "run" else ("compare.json", "compare.parquet",
                                                "report.html")
    _one_line_or_outputs(r, out if _exists(out.parent) else None, files)
