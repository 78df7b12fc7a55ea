"""Sweep files: a base scenario, the values to vary (a grid, or Latin hypercube or Sobol
samples from ranges), seeds, agents and days - and the plan of runs they make.

    scenario: default                 # a built-in name, or a file (beside the sweep file)
    set: [safeguards.human_review=false]      # overrides for every run, as --set
    sampler: grid                     # grid | lhs | sobol
    parameters:                       # paths as for --set
      scoring.rules.online_criticism: [-10, -20, -50]        # grid: the values
      behaviours.debt_default.rate: {range: [1.0e-5, 1.0e-4], log: true}   # lhs, sobol
    samples: 64                       # lhs: points; sobol: base sample N (a power of 2)
    seeds: 3                          # seed .. seed+2 (or a list of seeds)
    agents: 20000
    days: 180

Every (parameter set, seed) is a run whose id is a hash of the base scenario, the parameter
values, the seed, agents, days and whether the counterfactual runs: the same run in a later
or a changed sweep has the same id, so it is computed once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..scenario import Scenario, ScenarioError, load_scenario, scenario_hash
from ..scenario.errors import Source, did_you_mean
from ..scenario.paths import split_path, validation_errors
from ..scenario.reader import parse_yaml, read_text

__all__ = ["RangeSpec", "Sweep", "SweepSpec", "load_sweep", "run_id_of"]

SAMPLERS = ("grid", "lhs", "sobol")


MAX_RUNS = 1_000_000  # runs in one sweep: (parameter sets) x seeds
MAX_SEEDS = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RangeSpec(_Strict):
    """A parameter's range for the lhs and sobol samplers (``log``: sampled in log10)."""

    range: tuple[float, float]
    log: bool = False
    integer: bool = False

    def bounds(self) -> tuple[float, float]:
        """The bounds in the sampled space (log10 of the range with ``log``)."""
        lo, hi = self.range
        return (math.log10(lo), math.log10(hi)) if self.log else (lo, hi)

    def value(self, x: float) -> float | int:
        """A sampled coordinate as the parameter's value."""
        v = 10.0**x if self.log else x
        return int(round(v)) if self.integer else float(v)


class SweepSpec(_Strict):
    """A sweep file's contents: the base scenario and its overrides (``set``), the parameters
    and how they are sampled, the seeds, and every run's agents and days (docs/sweeps.md)."""

    description: str = ""
    scenario: str = "default"
    set: list[str] | dict[str, Any] = Field(default_factory=list)
    sampler: Literal["grid", "lhs", "sobol"] = "grid"
    parameters: dict[str, Any] = Field(min_length=1)
    samples: int | None = Field(default=None, ge=1, le=MAX_RUNS)
    second_order: bool = False  # sobol: also second-order indices (N * (2D + 2) runs)
    sampler_seed: int = Field(default=0, ge=0)
    seeds: Annotated[int, Field(ge=1, le=MAX_SEEDS)] | Annotated[
        list[Annotated[int, Field(ge=0, lt=2**62)]], Field(min_length=1, max_length=MAX_SEEDS)
    ] = 1
    seed: int = Field(default=0, ge=0, lt=2**62)
    agents: int = Field(default=100_000, ge=1, le=10**12)
    days: int = Field(default=365, ge=1, le=1_000_000)
    counterfactual: bool = True  # each run next to its counterfactual (chilling metrics)


@dataclass
class Sweep:
    """A loaded sweep: its spec, the base scenario (``set`` applied) and the plan."""

    spec: SweepSpec
    file: str
    base: Scenario
    ranges: dict[str, RangeSpec]  # lhs and sobol only
    samples: list[dict[str, Any]]  # parameter values, in sample order
    seeds: list[int]

    @property
    def base_hash(self) -> str:
        """The hash of the base scenario, ``set`` applied."""
        return scenario_hash(self.base)

    @property
    def sweep_id(self) -> str:
        """A hash of everything that decides the sweep's runs and their order."""
        spec = self.spec.model_dump(mode="json", exclude={"description", "scenario", "set"})
        return _digest({"spec": spec, "base": self.base_hash})[:16]

    def plan(self) -> pd.DataFrame:
        """One row per run: sample, seed, run_id, params (JSON)."""
        rows = [{"sample": i, "seed": seed, "run_id": self.run_id(params, seed),
                 "params": json.dumps(params, sort_keys=True)}
                for i, params in enumerate(self.samples) for seed in self.seeds]
        return pd.DataFrame(rows, columns=["sample", "seed", "run_id", "params"])

    def run_id(self, params: dict[str, Any], seed: int) -> str:
        """The id of the run of these parameter values at this seed (``run_id_of``)."""
        return run_id_of(self.base_hash, params, seed, self.spec.agents, self.spec.days,
                         self.spec.counterfactual)

    def problem(self) -> dict[str, Any]:
        """SALib's problem: the parameters and their bounds in the sampled space."""
        names = list(self.ranges)
        return {"num_vars": len(names), "names": names,
                "bounds": [list(self.ranges[n].bounds()) for n in names]}


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_id_of(base_hash: str, params: dict[str, Any], seed: int, agents: int, days: int,
              counterfactual: bool) -> str:
    """The id of a run: the same inputs give the same id in any sweep, on any machine."""
    return _digest({"base": base_hash, "params": params, "seed": seed, "agents": agents,
                    "days": days, "counterfactual": counterfactual})[:20]


# ---------------------------------------------------------------- samplers
def grid_samples(values: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination, the first parameter varying slowest."""
    names = list(values)
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(values[n] for n in names))]


def _from_unit(points: np.ndarray, ranges: dict[str, RangeSpec]) -> list[dict[str, Any]]:
    out = []
    for row in points:
        out.append({name: spec.value(x) for (name, spec), x in zip(ranges.items(), row,
                                                                      strict=True)})
    return out


def lhs_samples(ranges: dict[str, RangeSpec], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` Latin hypercube points (scipy.stats.qmc), scaled to the ranges."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(ranges), rng=np.random.default_rng(seed)).random(n)
    lo = np.array([r.bounds()[0] for r in ranges.values()])
    hi = np.array([r.bounds()[1] for r in ranges.values()])
    return _from_unit(qmc.scale(unit, lo, hi), ranges)


def sobol_samples(ranges: dict[str, RangeSpec], n: int, second_order: bool, seed: int
                  ) -> list[dict[str, Any]]:
    """Saltelli's scheme (SALib's sobol sample): N x (D + 2) points, N x (2D + 2) with second
    order, in the order SALib's sobol analysis expects."""
    from SALib.sample import sobol

    names = list(ranges)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [list(ranges[n].bounds()) for n in names]}
    return _from_unit(sobol.sample(problem, n, calc_second_order=second_order, seed=seed),
                      ranges)


# ---------------------------------------------------------------- loading
def _walk(data: Any, path: tuple[str, ...]) -> str | None:
    """None if ``path`` names a value of the scenario data, else what is wrong."""
    node = data
    for depth, part in enumerate(path):
        if node is None:  # an optional section not given: the scenario checks the value
            return None
        if isinstance(node, list):
            if not (part.isdigit() and int(part) < len(node)):
                return f"no item {part} (the list has {len(node)})"
            node = node[int(part)]
        elif isinstance(node, dict):
            key = part if part in node else (int(part) if part.lstrip("-").isdigit()
                                             and int(part) in node else None)
            if key is None:
                where = ".".join(path[:depth]) or "the scenario"
                return f"no '{part}' in {where}" + did_you_mean(part, node)
            node = node[key]
        else:
            return f"'{'.'.join(path[:depth])}' is a value, not a mapping"
    return None


def _check_parameters(spec: SweepSpec, where: Source, base: Scenario
                      ) -> tuple[dict[str, list[Any]], dict[str, RangeSpec]]:
    data = base.model_dump(mode="json")
    values: dict[str, list[Any]] = {}
    ranges: dict[str, RangeSpec] = {}
    for name, given in spec.parameters.items():
        key = ("parameters", name)
        try:
            problem = _walk(data, split_path(name))
        except ValueError as exc:
            problem = str(exc)
        if problem:
            raise where.error(key, f"not a value of scenario '{base.name}': {problem}")
        if spec.sampler == "grid":
            if not isinstance(given, list) or not given:
                raise where.error(key, "the grid sampler takes a list of values, e.g. "
                                  "[-10, -20, -50]")
            values[name] = given
            continue
        if not isinstance(given, dict):
            raise where.error(key, f"the {spec.sampler} sampler takes a range, e.g. "
                              "{range: [0.001, 0.01]} (add log: true for a log scale)")
        try:
            r = RangeSpec.model_validate(given)
        except ValidationError as exc:
            sub, msg = validation_errors(exc, given)[0]
            raise where.error((*key, *sub), msg) from None
        lo, hi = r.range
        if not lo < hi or (r.log and lo <= 0):
            raise where.error((*key, "range"), "a range is [low, high] with low < high"
                              + (" and low > 0 on a log scale" if r.log else ""))
        ranges[name] = r
    return values, ranges


def _count_runs(spec: SweepSpec, where: Source, values: dict[str, list[Any]],
                n_seeds: int) -> None:
    """Refuse a sweep of more than MAX_RUNS runs before its samples are drawn."""
    if spec.sampler == "grid":
        sets = math.prod(len(v) for v in values.values())
    else:
        d = len(spec.parameters)
        sets = (spec.samples or 1) * ((2 * d + 2 if spec.second_order else d + 2)
                                      if spec.sampler == "sobol" else 1)
    if sets * n_seeds > MAX_RUNS:
        raise where.error(("parameters",), f"{sets:,} parameter sets x {n_seeds:,} seeds is "
                          f"more than {MAX_RUNS:,} runs")


def _samples(spec: SweepSpec, where: Source, values: dict[str, list[Any]],
             ranges: dict[str, RangeSpec]) -> list[dict[str, Any]]:
    if spec.sampler == "grid":
        if spec.samples is not None:
            raise where.error(("samples",), "the grid sampler takes no 'samples' (the grid "
                              "is every combination of the values)")
        return grid_samples(values)
    if spec.samples is None:
        raise where.error(("sampler",), f"the {spec.sampler} sampler needs 'samples'")
    if spec.sampler == "lhs":
        return lhs_samples(ranges, spec.samples, spec.sampler_seed)
    n = spec.samples
    if n & (n - 1):
        raise where.error(("samples",), f"Sobol samples must be a power of 2 (got {n})")
    return sobol_samples(ranges, n, spec.second_order, spec.sampler_seed)


def _base_scenario(spec: SweepSpec, where: Source, folder: Path) -> Scenario:
    source: str | Path = spec.scenario
    if (folder / spec.scenario).is_file():
        source = folder / spec.scenario
    try:
        return load_scenario(source, spec.set)
    except ScenarioError as exc:
        key: tuple[str, ...] = ("scenario",)
        if exc.override is not None:  # name the line of the override in 'set'
            key = ("set",)
            if isinstance(spec.set, list) and exc.override in spec.set:
                key = ("set", str(spec.set.index(exc.override)))
            elif isinstance(spec.set, dict) and exc.override.split("=", 1)[0] in spec.set:
                key = ("set", exc.override.split("=", 1)[0])
        raise where.error(key, str(exc)) from None


def load_sweep(file: str | Path) -> Sweep:
    """A sweep file, checked: the base scenario loads, every parameter names a value of it,
    every sampler setting fits. Raises ScenarioError naming the file, the line and the key.
    A parameter VALUE the scenario rejects is not an error here: that run fails alone."""
    path = Path(file)
    name = str(file)
    if not path.is_file():
        raise ScenarioError("no such sweep file", file=name)
    data, where = parse_yaml(read_text(path, name), name, what="a sweep file")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        errors = [where.error(p, m) for p, m in validation_errors(exc, data, SweepSpec)]
        errors.sort(key=lambda e: e.line is None)  # an error with a line first
        errors[0].more = errors[1:]
        raise errors[0] from None
    seeds = list(range(spec.seed, spec.seed + spec.seeds)) if isinstance(spec.seeds, int) \
        else list(spec.seeds)
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise where.error(("seeds",), "seeds is a count >= 1 or a list of distinct seeds >= 0")
    base = _base_scenario(spec, where, path.parent)
    values, ranges = _check_parameters(spec, where, base)
    _count_runs(spec, where, values, len(seeds))
    return Sweep(spec, name, base, ranges, _samples(spec, where, values, ranges), seeds)
