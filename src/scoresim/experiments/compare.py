"""Compare systems honestly: every scenario runs for K seeds next to its counterfactual (the
same population and seed with the scoring system switched off), and every difference between
two scenarios is paired by seed.

Because every random draw is keyed by (seed, day, stage, agent, draw), all runs of one seed
share their random numbers: a scenario's run and its counterfactual see the same people doing
the same things until the system makes them behave differently, so the difference is the
system's effect and not noise. A scenario is named on the command line as
``[LABEL=]SCENARIO[@KEY=VALUE...]``, e.g.
``no-assoc=default@safeguards.association_penalties=false``.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.version import __version__
from ..results.outputs import write_folder
from ..scenario import Scenario, load_scenario, scenario_hash, scenario_to_yaml
from ..sim import Results, Sim, build_population
from .executors import Executor, OnDone, make_executor
from .metrics import (
    bounded_interval,
    chilling,
    chilling_by_group,
    chilling_ratios,
    describe,
    expression_behaviours,
    interval,
    reference_group,
    run_metrics,
)

ScenarioItem = str | Path | Scenario | tuple[Any, Sequence[str]]
Writer = Callable[[Path], None]

# the counterfactual's daily columns kept in compare_daily.parquet (as cf_COLUMN): what the
# chilling effect is measured against
CF_PREFIXES = ("acts_", "expression_acts")
CF = "cf_"


@dataclass(frozen=True)
class Spec:
    """One scenario of a comparison: its label, where it came from and the overrides on top."""

    label: str
    source: str
    overrides: tuple[str, ...]
    scenario: Scenario


def parse_spec(text: str) -> tuple[str | None, str, list[str]]:
    """``[LABEL=]SCENARIO[@KEY=VALUE...]`` -> (label or None, scenario, overrides)."""
    head, *overrides = text.split("@")
    label, sep, source = head.partition("=")
    if not sep:
        label, source = "", head
    return (label or None), source, [o for o in overrides if o]


def resolve_specs(items: Sequence[ScenarioItem] | Mapping[str, ScenarioItem],
                  overrides: Sequence[str] | None = None) -> list[Spec]:
    """Load every scenario (global ``overrides`` first, then its own); raises ScenarioError
    before anything runs. Labels are made unique, so a scenario may be compared with itself."""
    pairs = list(items.items()) if isinstance(items, Mapping) else [(None, x) for x in items]
    specs: list[Spec] = []
    seen: dict[str, int] = {}
    for label, item in pairs:
        own: list[str] = []
        if isinstance(item, tuple):
            source, own = item[0], list(item[1])
        elif isinstance(item, str):
            parsed, source, own = parse_spec(item)
            label = label or parsed or item
        else:
            source = item
        scenario = load_scenario(source, [*(overrides or []), *own])
        name = source.name if isinstance(source, Scenario) else str(source)
        label = label or "@".join([name, *own])
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        specs.append(Spec(label, name, tuple([*(overrides or []), *own]), scenario))
    return specs


def run_with_counterfactual(sim: Sim, progress: Callable[[int, int], None] | None = None
                            ) -> Results:
    """Run ``sim`` and its counterfactual (scoring off) on one built population; the result
    carries the counterfactual in ``.counterfactual`` and its acts and the chilling effect in
    ``summary["counterfactual"]``. The counterfactual runs first: it changes nothing shared."""
    pop = sim.population or build_population(sim.scenario, sim.agents, sim.seed)

    def part(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(offset + done, 2 * total)

    cf_sim, main_sim = copy.copy(sim), copy.copy(sim)
    cf_sim.scoring, cf_sim.profile, cf_sim.population = False, False, pop
    main_sim.population = pop
    cf = cf_sim.run(part(0))
    res = main_sim.run(part(sim.days))
    cf.state = None
    res.counterfactual = cf
    expression = expression_behaviours(sim.scenario)
    f, cf_f = res.summary["final"], cf.summary["final"]
    by_group = chilling_by_group(f["expression_acts_by_group"], cf_f["expression_acts_by_group"],
                                 expression)
    res.summary["counterfactual"] = {
        "scoring": False,
        "wall_seconds": cf.summary["wall_seconds"],
        "acts": cf_f["acts"],
        "expression_acts_by_group": cf_f["expression_acts_by_group"],
        "chilling": _finite(chilling(f["acts"], cf_f["acts"], expression)),
        "chilling_by_group": {b: _finite(row) for b, row in by_group.items()},
        "chilling_ratio_to_largest_group": {
            b: _finite(row) for b, row in
            chilling_ratios(by_group, reference_group(f["by_group"])).items()},
    }
    return res


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    """JSON has no NaN: a value with no base (no counterfactual acts) is None."""
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}


@dataclass(frozen=True)
class Task:
    """One run of a comparison for a worker: a scenario (``index``: its place in the
    comparison) at one seed and size."""

    index: int
    scenario: Scenario
    agents: int
    days: int
    seed: int


def run_task(task: Task) -> dict[str, Any]:
    """One scenario and seed with its counterfactual (module level: workers import it)."""
    sim = Sim(task.scenario, agents=task.agents, days=task.days, seed=task.seed)
    res = run_with_counterfactual(sim)
    assert res.counterfactual is not None
    return {"summary": res.summary, "daily": res.daily, "cf_daily": res.counterfactual.daily}


@dataclass
class Comparison:
    """Everything a comparison produced: per-seed metrics, their intervals, the daily series."""

    specs: list[Spec]
    seeds: list[int]
    agents: int
    days: int
    per_seed: pd.DataFrame  # scenario, seed, metric, value
    summary: pd.DataFrame  # scenario, metric, kind (value | difference), mean, lo, hi, n, ...
    daily: dict[str, list[pd.DataFrame]] = field(repr=False)  # label -> one frame per seed
    cf_daily: dict[str, list[pd.DataFrame]] = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """The scenarios' labels, the first one the baseline of every difference."""
        return [s.label for s in self.specs]

    def daily_long(self) -> pd.DataFrame:
        """Every seed's daily series, tidy (compare_daily.parquet): scenario, seed, day,
        column, value; the counterfactual's acts as ``cf_acts_...`` columns."""
        parts = []
        for spec in self.specs:
            for seed, d, cf in zip(self.seeds, self.daily[spec.label],
                                   self.cf_daily[spec.label], strict=True):
                keep = [c for c in cf.columns if c.startswith(CF_PREFIXES)]
                wide = pd.concat([d, cf[keep].add_prefix(CF)], axis=1)
                long = wide.melt(id_vars="day", var_name="column", value_name="value")
                long.insert(0, "seed", seed)
                long.insert(0, "scenario", spec.label)
                parts.append(long)
        if not parts:
            return pd.DataFrame(columns=["scenario", "seed", "day", "column", "value"])
        out = pd.concat(parts, ignore_index=True)
        out["day"] = out["day"].astype("int32")
        out["value"] = out["value"].astype("float64")
        return out[["scenario", "seed", "day", "column", "value"]]

    def to_json(self) -> dict[str, Any]:
        """compare.json: parameters, provenance, and every interval (NaN -> null)."""
        def clean(x: Any) -> Any:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        out: dict[str, Any] = {
            "version": __version__, "agents": self.agents, "days": self.days,
            "seeds": self.seeds, **self.meta,
            "scenarios": [{"label": s.label, "source": s.source, "overrides": list(s.overrides),
                           "name": s.scenario.name, "scenario_hash": scenario_hash(s.scenario),
                           "scenario_yaml": scenario_to_yaml(s.scenario)} for s in self.specs],
            "metrics": {}, "differences": {},
        }
        for row in self.summary.itertuples(index=False):
            key = "metrics" if row.kind == "value" else "differences"
            entry = {"mean": clean(row.mean), "lo": clean(row.lo), "hi": clean(row.hi),
                     "n": row.n, "interval": row.method}
            if row.kind != "value":
                entry["relative"] = {k: clean(getattr(row, f"relative_{k}"))
                                     for k in ("mean", "lo", "hi")}
            out[key].setdefault(row.scenario, {})[row.metric] = entry
        return out


def _summarise(labels: list[str], per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval per scenario and metric (percentile bootstrap over seeds: it
    stays inside a share's or a rate's range), and of each scenario's paired difference
    against the first scenario (t-interval), with the difference relative to the first
    scenario's mean (its interval divided by that mean)."""
    rows = []

    def wide(label: str) -> pd.DataFrame:
        return per_seed[per_seed["scenario"] == label].pivot(
            index="seed", columns="metric", values="value")

    first = wide(labels[0])
    for label in labels:
        mine = wide(label)
        metrics = dict.fromkeys(per_seed.loc[per_seed["scenario"] == label, "metric"])
        for metric in metrics:
            rows.append({"scenario": label, "metric": metric, "kind": "value",
                         **bounded_interval(mine[metric]), "method": "bootstrap"})
            if label != labels[0] and metric in first:
                diff = mine[metric] - first[metric].reindex(mine.index)
                iv = interval(diff)
                base = float(first[metric].mean())
                rel = {f"relative_{k}": (iv[k] / abs(base) if base and math.isfinite(base)
                                         else math.nan) for k in ("mean", "lo", "hi")}
                rows.append({"scenario": label, "metric": metric, "kind": "difference",
                             **iv, "method": "t", **rel})
    out = pd.DataFrame(rows, columns=["scenario", "metric", "kind", "mean", "lo", "hi", "n",
                                      "method", "relative_mean", "relative_lo",
                                      "relative_hi"])
    words = [describe(m) for m in out["metric"]]
    out["description"] = [w[0] for w in words]
    out["unit"] = [w[1] for w in words]
    return out


def run_compare(
    scenarios: Sequence[ScenarioItem] | Mapping[str, ScenarioItem],
    seeds: int = 3,
    agents: int = 100_000,
    days: int = 365,
    seed: int = 0,
    overrides: Sequence[str] | None = None,
    executor: Executor | str = "process",
    workers: int | None = None,
    on_done: OnDone | None = None,
    threads: int | None = None,
) -> Comparison:
    """Run every scenario for seeds ``seed .. seed+seeds-1``, each with its counterfactual."""
    if seeds < 1:
        raise ValueError("--seeds must be at least 1")
    if agents < 1:
        raise ValueError("--agents must be at least 1")
    if days < 1:
        raise ValueError("--days must be at least 1")
    if not scenarios:
        raise ValueError("name at least one scenario")
    specs = resolve_specs(scenarios, overrides)
    for spec in specs:  # timeline problems surface here, before anything runs
        Sim(spec.scenario, agents=agents, days=days, seed=seed)
    ex = make_executor(executor, workers, threads) if isinstance(executor, str) else executor
    seed_list = [seed + k for k in range(seeds)]
    tasks = [Task(i, s.scenario, agents, days, sd)
             for sd in seed_list for i, s in enumerate(specs)]
    t0 = time.perf_counter()
    outs = ex.map(run_task, tasks, on_done)
    wall = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    daily: dict[str, list[pd.DataFrame]] = {s.label: [] for s in specs}
    cf_daily: dict[str, list[pd.DataFrame]] = {s.label: [] for s in specs}
    run_seconds = 0.0
    for task, out in sorted(zip(tasks, outs, strict=True), key=lambda p: (p[0].index, p[0].seed)):
        spec = specs[task.index]
        metrics = run_metrics(out["summary"], out["daily"], out["summary"]["counterfactual"],
                              expression_behaviours(spec.scenario))
        rows += [{"scenario": spec.label, "seed": task.seed, "metric": k, "value": float(v)}
                 for k, v in metrics.items()]
        daily[spec.label].append(out["daily"])
        cf_daily[spec.label].append(out["cf_daily"])
        run_seconds += out["summary"]["wall_seconds"] + out["summary"]["counterfactual"][
            "wall_seconds"] + out["summary"]["build_seconds"]
    per_seed = pd.DataFrame(rows, columns=["scenario", "seed", "metric", "value"])
    labels = [s.label for s in specs]
    first_groups = tasks and outs[0]["summary"]["final"]["by_group"]
    meta = {
        "wall_seconds": round(wall, 3),
        "task_seconds": round(run_seconds, 3),
        "executor": ex.name, "workers": ex.workers,
        "groups": {g: v["agents"] / agents for g, v in (first_groups or {}).items()},
    }
    return Comparison(specs, seed_list, agents, days, per_seed, _summarise(labels, per_seed),
                      daily, cf_daily, meta)


def compare(
    scenarios: Sequence[ScenarioItem] | Mapping[str, ScenarioItem],
    seeds: int = 3,
    agents: int = 100_000,
    days: int = 365,
    **options: Any,
) -> pd.DataFrame:
    """Compare scenarios over ``seeds`` seeds; one row per scenario x metric x kind
    ('value', or 'difference' against the first scenario, paired by seed) with the mean, the
    95% t-interval (lo, hi; NaN with one seed) and the number of seeds. ``options`` are
    run_compare's: seed (the first), overrides (for every scenario), executor ('process',
    'serial' or an Executor), workers, threads.

    The default executor is a 'spawn' process pool, so a script that calls this must guard
    its entry point with ``if __name__ == "__main__":`` (notebooks need nothing).

        >>> scoresim.compare(["default", "default@safeguards.association_penalties=false"],
        ...                  seeds=3, agents=20_000, days=180)  # doctest: +SKIP
    """
    return run_compare(scenarios, seeds, agents, days, **options).summary


def write_comparison(out: Path, comparison: Comparison,
                     report: Mapping[str, Writer] | None = None,
                     extra: Mapping[str, Any] | None = None) -> list[Path]:
    """Write a comparison's folder all at once (see results.outputs.write_folder).

    Args:
        out: the output folder.
        comparison: what run_compare returned.
        report: the report's files (name -> writer: report.html, figures).
        extra: more keys for compare.json (the command line...).

    Returns:
        The paths written: compare.json, compare.parquet (one row per scenario x seed x
        metric), compare_daily.parquet (every seed's daily series, tidy) and the report's.
    """
    data = {**comparison.to_json(), **(extra or {})}
    daily = comparison.daily_long()
    return write_folder(out, {
        "compare.json": lambda p: p.write_text(json.dumps(data, indent=2) + "\n"),
        "compare.parquet": lambda p: comparison.per_seed.to_parquet(p, index=False),
        "compare_daily.parquet": lambda p: daily.to_parquet(p, index=False),
        **(report or {}),
    })


def load_comparison(folder: str | Path) -> Comparison:
    """A comparison read back from its folder (compare.json, compare.parquet and, if there,
    compare_daily.parquet), with its summary recomputed exactly as run_compare computed it.

    Args:
        folder: a folder ``scoresim compare`` wrote.

    Returns:
        The Comparison; ``meta`` holds compare.json's other keys (command, wall time...).
    """
    import yaml

    folder = Path(folder)
    data = json.loads((folder / "compare.json").read_text())
    specs = [Spec(s["label"], s["source"], tuple(s["overrides"]),
                  load_scenario(yaml.safe_load(s["scenario_yaml"])))
             for s in data["scenarios"]]
    per_seed = pd.read_parquet(folder / "compare.parquet")
    daily: dict[str, list[pd.DataFrame]] = {s.label: [] for s in specs}
    cf_daily: dict[str, list[pd.DataFrame]] = {s.label: [] for s in specs}
    path = folder / "compare_daily.parquet"
    if path.exists():
        long = pd.read_parquet(path)
        for (label, _seed), part in long.groupby(["scenario", "seed"], sort=False):
            wide = part.pivot(index="day", columns="column", values="value")
            cf_cols = [c for c in wide.columns if c.startswith(CF)]
            main = wide.drop(columns=cf_cols).reset_index()
            cf = wide[cf_cols].rename(columns=lambda c: c[len(CF):]).reset_index()
            daily[label].append(main)
            cf_daily[label].append(cf)
    skip = {"version", "agents", "days", "seeds", "scenarios", "metrics", "differences"}
    meta = {k: v for k, v in data.items() if k not in skip}
    labels = [s.label for s in specs]
    return Comparison(specs, list(data["seeds"]), int(data["agents"]), int(data["days"]),
                      per_seed, _summarise(labels, per_seed), daily, cf_daily, meta)
