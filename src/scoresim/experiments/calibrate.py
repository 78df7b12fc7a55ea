"""Calibration: fit the scenario values a targets file names to its published aggregates.

Each Optuna trial proposes values inside the file's ranges, runs the scenario with them (one
seed, so every trial shares its random numbers with every other: a difference between trials
is the parameters', not noise) and scores the run by the weighted mean squared relative error
of its targets. The first trial is the scenario's own values, so a calibration never ends worse
than where it started. The best trial's scenario is the calibrated scenario.

The targets file declares its split: fitted targets make the loss, held-out ones are reported
beside them (and their errors apart), never fitted. A fit with as many free parameters as
fitted targets, or more, could be exact by construction (it says nothing of the model): it is
refused unless ``allow_exact``.

With ``seeds`` > 1 every trial runs that many seeds (the same ones in every trial) and compares
the mean of each metric over them with its target: slower, and less prone to fit one seed's
noise.

Samplers: CMA-ES (the default with two or more parameters) starts at the scenario's own values
with a step of ``step`` (a share of each range, on the log scale for log ranges) and refines
them; TPE (the default for one parameter) searches the whole ranges.

Pure functions: nothing here prints; the CLI shows progress and the fit.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.version import __version__
from ..results.outputs import write_folder
from ..scenario import Scenario, ScenarioError, load_scenario, scenario_to_yaml
from ..sim import Results, Sim, build_population
from .targets import (
    FitRow,
    TargetsError,
    TargetSet,
    fit_rows,
    load_targets,
    loss,
    metric_columns,
    split_errors,
)

__all__ = ["Calibration", "calibrate", "calibrated_yaml", "scenario_value", "write_calibration"]

# trial number, trials, this trial's loss, the best loss so far
Progress = Callable[[int, int, float, float], None]


@dataclass
class Calibration:
    """The outcome of a calibration: the calibrated scenario, its fit and every trial."""

    source: str  # the scenario calibrated (name or file)
    targets: TargetSet
    scenario: Scenario  # calibrated
    values: dict[str, float]  # fitted parameter -> value
    start: dict[str, float]  # parameter -> the scenario's own value
    applied: dict[str, float]  # every path set -> value (parameters and derived values)
    fit: list[FitRow]
    loss: float
    agents: int
    days: int
    seed: int
    seeds: int = 1  # seeds per trial: seed, seed + 1, ...
    trials: list[dict[str, Any]] = field(default_factory=list)
    sampler: str = ""  # "cmaes (step 0.05)" or "tpe"
    results: Results | None = field(default=None, repr=False)  # the best trial's run
    wall_seconds: float = 0.0


def _path_parts(path: str) -> list[str]:
    parts = path.split(".")
    if parts[:1] == ["timeline"] and len(parts) > 3 and parts[2] == "set":
        return [*parts[:3], ".".join(parts[3:])]  # a timeline change's key is a whole path
    return parts


def scenario_value(scenario: Scenario, path: str) -> Any:
    """The value at a dotted path (as for --set); KeyError naming the path if there is none."""
    node: Any = scenario.model_dump(mode="json")
    for part in _path_parts(path):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"{path}: the scenario has no value here ('{part}' not found)")
    return node


def _check(scenario: Scenario, ts: TargetSet, days: int) -> dict[str, float]:
    """Every path must hold a number already and every metric must read a known column;
    returns the scenario's own value of each parameter."""
    start = {}
    for name, p in ts.parameters.items():
        try:
            value = scenario_value(scenario, p.path)
        except KeyError as exc:
            raise TargetsError(f"parameters.{name}.path: {exc.args[0]}") from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TargetsError(f"parameters.{name}.path: {p.path} holds {value!r}, not a number")
        start[name] = float(value)
    for path in ts.derived:
        try:
            scenario_value(scenario, path)
        except KeyError as exc:
            raise TargetsError(f"derived: {exc.args[0]}") from None
    if ts.last_day() >= days:
        raise TargetsError(f"the targets read day {ts.last_day()}; run at least "
                           f"{ts.last_day() + 1} days")
    probe = Sim(scenario, agents=50, days=1, seed=0).run().daily.columns
    for name, t in ts.targets.items():
        missing = metric_columns(t.metric, ts.start_date) - set(probe)
        if missing:
            raise TargetsError(f"targets.{name}.metric: no daily column {sorted(missing)[0]!r} "
                               f"in this scenario")
    return start


def _overrides(ts: TargetSet, values: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, p in ts.parameters.items():
        out[p.path] = int(round(values[name])) if p.integer else float(values[name])
    out.update(ts.derived_values(values))
    return out


def calibrate(scenario: str | Path | Scenario, targets: str | Path | TargetSet, trials: int,
              agents: int | None = None, days: int | None = None, seed: int | None = None,
              overrides: list[str] | None = None, seeds: int = 1, sampler: str = "auto",
              step: float | None = None, progress: Progress | None = None,
              allow_exact: bool = False) -> Calibration:
    """Fit ``targets``' parameters of ``scenario`` with ``trials`` Optuna trials (TPE, seeded).

    ``agents``, ``days`` and ``seed`` default to the targets file's values (else 100,000
    agents, the last day a target reads, seed 0). ``sampler``: "cmaes", "tpe" or "auto"
    (CMA-ES for two or more parameters); ``seeds``: runs per trial (seed, seed + 1, ...), each
    metric's mean over them is compared with its target; ``step``: CMA-ES's initial step as a
    share of each range (default: the file's ``step``, else 1/6). Raises ScenarioError or
    TargetsError before anything runs if the scenario, a path or a metric is wrong, or if the
    free parameters are as many as the fitted targets or more (unless ``allow_exact``).
    """
    import optuna

    t0 = time.perf_counter()
    ts = targets if isinstance(targets, TargetSet) else load_targets(targets)
    if trials < 1 or seeds < 1:
        raise ValueError("trials and seeds must be at least 1")
    if sampler not in ("auto", "cmaes", "tpe"):
        raise ValueError(f"sampler must be auto, cmaes or tpe (got {sampler!r})")
    agents = int(agents or ts.agents or 100_000)
    days = int(days or ts.days or ts.last_day() + 1)
    seed = int(seed if seed is not None else ts.seed or 0)
    base = load_scenario(scenario, overrides or [])
    start = _check(base, ts, days)
    check_degrees_of_freedom(ts, allow_exact)
    for name, p in ts.parameters.items():
        lo, hi = p.range
        if not lo <= start[name] <= hi:
            raise TargetsError(f"parameters.{name}: the scenario's value {start[name]:g} is "
                               f"outside the range [{lo:g}, {hi:g}]")
    fixed_people = not any(p.path.startswith(("population.", "layers."))
                           for p in ts.parameters.values())
    run_seeds = [seed + k for k in range(seeds)]
    populations = {s: build_population(base, agents, s) if fixed_people else None
                   for s in run_seeds}

    best: dict[str, Any] = {"loss": math.inf}
    history: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        values = {}
        for name, p in ts.parameters.items():
            lo, hi = p.range
            values[name] = (trial.suggest_int(name, int(lo), int(hi), log=p.log) if p.integer
                            else trial.suggest_float(name, lo, hi, log=p.log))
        applied = _overrides(ts, values)
        runs = []
        for s in run_seeds:
            try:
                sim = Sim(base, agents=agents, days=days, seed=s, overrides=applied,
                          population=populations[s])
            except ScenarioError as exc:  # a proposed value the schema refuses
                raise TargetsError(f"trial {trial.number}: {exc}") from None
            runs.append(sim.run())
        rows = _mean_rows([fit_rows(ts, r.daily, agents) for r in runs])
        res = runs[0]
        value = loss(rows)
        history.append({"trial": trial.number, "loss": value, "values": values})
        if value < best["loss"]:
            best.update(loss=value, values=values, applied=applied, rows=rows, results=res,
                        scenario=sim.scenario)
        if progress is not None:
            progress(trial.number + 1, trials, value, best["loss"])
        return value

    first = {k: (int(v) if ts.parameters[k].integer else v) for k, v in start.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)  # x0 and sigma0: deprecated in 4.9, kept <6
        if sampler == "cmaes" or (sampler == "auto" and len(ts.parameters) > 1):
            step = step or ts.step or 1 / 6
            chosen: optuna.samplers.BaseSampler = optuna.samplers.CmaEsSampler(
                x0=first, sigma0=step, seed=seed, n_startup_trials=0,
                warn_independent_sampling=False)
            sampler = f"cmaes (step {step:g})"
        else:
            sampler = "tpe"
            chosen = optuna.samplers.TPESampler(
                seed=seed, multivariate=len(ts.parameters) > 1,
                n_startup_trials=max(1, min(10, trials // 3)))
        study = optuna.create_study(direction="minimize", sampler=chosen)
        study.enqueue_trial(first)
        study.optimize(objective, n_trials=trials)
    return Calibration(
        source=str(scenario if not isinstance(scenario, Scenario) else scenario.name),
        targets=ts, scenario=best["scenario"], values=best["values"], start=start,
        applied=best["applied"], fit=best["rows"], loss=best["loss"], agents=agents,
        days=days, seed=seed, seeds=seeds, trials=history, sampler=sampler,
        results=best["results"],
        wall_seconds=time.perf_counter() - t0)


def check_degrees_of_freedom(ts: TargetSet, allow_exact: bool = False) -> None:
    """Refuse a fit whose free parameters are as many as its fitted targets or more: it could
    match them exactly whatever the model (``allow_exact`` lets it run)."""
    k, m = len(ts.parameters), len(ts.fitted())
    if k >= m and not allow_exact:
        raise TargetsError(
            f"{ts.file or 'targets'}: {k} free parameters for {m} fitted targets: the fit could "
            "be exact by construction; fit more targets or fewer parameters, or pass "
            "--allow-exact")


def _mean_rows(per_seed: list[list[FitRow]]) -> list[FitRow]:
    """Each target's simulated value averaged over the seeds, and its error recomputed."""
    out = []
    for rows in zip(*per_seed, strict=True):
        sim = sum(r.simulated for r in rows) / len(rows)
        r = rows[0]
        out.append(r.model_copy(update={"simulated": sim,
                                        "rel_error": (sim - r.target) / r.target}))
    return out


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def calibrated_yaml(cal: Calibration, command: str = "") -> str:
    """The calibrated scenario as YAML, with a header that says how it was fitted."""
    ts = cal.targets
    lines = [
        f"# scenario '{cal.scenario.name}' calibrated by scoresim {__version__}",
        f"# command: {command}" if command else "# (from Python)",
        f"# targets: {ts.file} ({ts.description})" if ts.description else f"# targets: {ts.file}",
        f"# {cal.agents:,} agents x {cal.days} days, seed {_seeds(cal)}, {len(cal.trials)} trials"
        f" ({cal.sampler}); loss (weighted mean squared relative error) {cal.loss:.4g}",
        "# fitted values (was -> now, searched range):",
    ]
    for name, p in ts.parameters.items():
        lines.append(f"#   {p.path}: {_fmt(cal.start[name])} -> {_fmt(cal.values[name])} "
                     f"[{_fmt(p.range[0])}, {_fmt(p.range[1])}]")
    for path, expr in ts.derived.items():
        lines.append(f"#   {path} = {expr} = {_fmt(cal.applied[path])}")
    errors = split_errors(cal.fit)
    for part, label in (("fitted", "fitted"), ("held_out", "held out (never fitted)")):
        e = errors[part]
        if not e["targets"]:
            continue
        rms = "undefined" if e["rms"] is None else f"{e['rms']:.1%}"
        lines.append(f"# {label}: {e['targets']} targets, root mean square error {rms} "
                     "(target, simulated, relative error):")
        for r in cal.fit:
            if r.held_out == (part == "held_out"):
                lines.append(f"#   {r.name}: {_fmt(r.target)} {_fmt(r.simulated)} "
                             f"{r.rel_error:+.1%}")
    return "\n".join(lines) + "\n" + scenario_to_yaml(cal.scenario)


def fit_json(cal: Calibration, command: str = "") -> dict[str, Any]:
    """fit.json: the calibration's settings, fitted values, fit and every trial."""
    ts = cal.targets

    def clean(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return {
        "scenario": cal.source, "targets": ts.file, "version": __version__, "command": command,
        "agents": cal.agents, "days": cal.days, "seed": cal.seed, "seeds": cal.seeds,
        "trials": len(cal.trials),
        "sampler": cal.sampler,
        "wall_seconds": round(cal.wall_seconds, 2), "loss": clean(cal.loss),
        "population": ts.population,
        "start_date": (ts.start_date or cal.scenario.start_date or None) and str(
            ts.start_date or cal.scenario.start_date),
        "parameters": {
            name: {"path": p.path, "value": cal.values[name], "start": cal.start[name],
                   "range": list(p.range), "log": p.log, "source": p.source}
            for name, p in ts.parameters.items()},
        "derived": {path: {"expression": expr, "value": cal.applied[path]}
                    for path, expr in ts.derived.items()},
        "fit": [{**r.model_dump(), "rel_error": clean(r.rel_error),
                 "simulated": clean(r.simulated)} for r in cal.fit],
        "errors": split_errors(cal.fit),
        "history": [{**h, "loss": clean(h["loss"])} for h in cal.trials],
    }


def _seeds(cal: Calibration) -> str:
    return str(cal.seed) if cal.seeds == 1 else f"{cal.seed}-{cal.seed + cal.seeds - 1} (mean)"


def write_calibration(out: Path, cal: Calibration, command: str = "",
                      report: Mapping[str, Callable[[Path], None]] | None = None) -> list[Path]:
    """Write the calibrated scenario (scenario.yaml), the fit (fit.json), the best trial's
    run (summary.json, daily.parquet; its first seed's) and the ``report``'s files (name ->
    writer) into ``out``, all at once."""
    fit = fit_json(cal, command)
    files: dict[str, Callable[[Path], None]] = {
        "scenario.yaml": lambda p: p.write_text(calibrated_yaml(cal, command)),
        "fit.json": lambda p: p.write_text(json.dumps(fit, indent=2) + "\n"),
    }
    if cal.results is not None:
        res = cal.results
        summary = {**res.summary, "command": command,
                   "calibration": {k: fit[k] for k in ("targets", "trials", "loss")}}
        files["summary.json"] = lambda p: p.write_text(json.dumps(summary, indent=2) + "\n")
        files["daily.parquet"] = lambda p: res.daily.to_parquet(p, index=False)
    files.update(report or {})
    return write_folder(out, files)
