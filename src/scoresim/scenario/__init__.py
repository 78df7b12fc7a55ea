"""Scenarios: the schema, loading from YAML or built-ins, overrides and timeline changes."""

from scoresim.scenario.load import (
    ScenarioError,
    apply_changes,
    builtin_scenarios,
    load_scenario,
    scenario_hash,
    scenario_to_yaml,
)
from scoresim.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "apply_changes",
    "builtin_scenarios",
    "load_scenario",
    "scenario_hash",
    "scenario_to_yaml",
]
