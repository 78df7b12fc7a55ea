"""docs/scenarios.md stays true to the built-in scenario files: every value in its tables is the
file's value, and every value in a file has a row (a value, or a mapping that holds it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scenarios.md"
BUILTIN = ROOT / "src" / "scoresim" / "scenario" / "builtin"
ROW = re.compile(r"^\| `([^`]+)` \| `([^`]*)` \|", re.M)
NOT_VALUES = {"name", "description", "extends"}


def _sections() -> dict[str, str]:
    parts = re.split(r"^## ", DOC.read_text(), flags=re.M)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


def _setting(text: str):
    text = re.sub(r" \(\d{4}-\d\d-\d\d\)$", "", text)  # a timeline day shows its date
    value = yaml.safe_load(text)
    try:
        return float(value) if isinstance(value, str) else value  # YAML 1.1 reads 5e-06 as text
    except ValueError:
        return value


def _at(raw, path: str):
    node = raw
    for key in path.split("."):
        if isinstance(node, list):
            node = node[int(key)]
        elif key in node:
            node = node[key]
        else:
            node = node[int(key)]  # a size table keyed by numbers
    return node


def _leaves(node, prefix=""):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from _leaves(v, f"{prefix}{k}.")
    elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{prefix}{i}.")
    else:
        yield prefix[:-1]


SECTIONS = _sections()


def test_the_library_is_documented():
    assert set(SECTIONS) == {"none", "rongcheng", "national", "safeguarded", "credit-bureau",
                             "cardiff-2017", "met-2019", "chilling-shock"}


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_scenario_table_matches_its_file(name):
    raw = yaml.safe_load((BUILTIN / f"{name}.yaml").read_text())
    rows = ROW.findall(SECTIONS[name])
    assert len(rows) >= 5
    for path, setting in rows:
        assert _setting(setting) == _at(raw, path), f"{name}: {path} differs from {name}.yaml"
    documented = [p for p, _ in rows]
    for leaf in _leaves({k: v for k, v in raw.items() if k not in NOT_VALUES}):
        assert any(leaf == p or leaf.startswith(p + ".") for p in documented), (
            f"{name}.yaml: {leaf} has no row in docs/scenarios.md")
