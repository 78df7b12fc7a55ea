"""Calibration targets: which scenario values to fit (with ranges), and the published aggregate
figures to fit them to, read from a YAML file (see scenario/targets/national-spc.yaml).

A target's ``metric`` is an expression over the run's daily table (``daily.parquet``):
``cum(COLUMN, DAY)`` sums a column over days 0..DAY, ``total(COLUMN, FIRST, LAST)`` over
FIRST..LAST, ``mean(COLUMN, FIRST, LAST)`` averages it and ``at(COLUMN, DAY)`` reads one day;
days are numbers or ISO dates ('2017-12-31', counted from the file's ``start_date``); results
combine with + - * / and numbers. A target's published figure is a ``count`` (people or events
in the real population of ``population`` people), a ``per_capita`` value, or a plain ``value``
(a ratio, compared as it is). Counts and per-capita figures are compared per capita, so any
number of agents fits them.

A file declares its split: every target is fitted (in the loss) unless ``held_out: true``
(reported beside the fitted ones, never fitted). A target may name its source's ``address``,
a ``series`` it belongs to (a published time series, plotted against the run's) and the
``tolerance`` (relative) or ``factor`` within which ``scoresim validation`` accepts it.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["FitRow", "Parameter", "SeriesSpec", "TargetSet", "TargetSpec", "TargetsError",
           "builtin_targets", "evaluate", "fit_rows", "load_targets", "loss", "metric_columns",
           "metric_days", "split_errors"]

FUNCTIONS = {"cum": 2, "total": 3, "mean": 3, "at": 2}
_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv}


class TargetsError(Exception):
    """A targets file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Parameter(_Strict):
    """A scenario value to fit: its dotted path (as for --set) and the range to search."""

    path: str
    range: tuple[float, float]
    log: bool = False
    integer: bool = False
    source: str = ""  # where the range comes from

    @model_validator(mode="after")
    def _range_ok(self) -> Parameter:
        lo, hi = self.range
        if not lo < hi:
            raise ValueError("range must be [low, high] with low < high")
        if self.log and lo <= 0:
            raise ValueError("a log range must be positive")
        return self


class TargetSpec(_Strict):
    """A published figure: the metric that simulates it, the figure (a ``count``, a
    ``per_capita`` value or a plain ``value``), its weight in the loss, whether it is fitted or
    held out, its source, and what the validation accepts."""

    metric: str
    count: float | None = None
    per_capita: float | None = None
    value: float | None = None
    weight: float = Field(default=1.0, gt=0)  # its share of the loss, when fitted
    held_out: bool = False  # reported beside the fitted targets, never fitted
    source: str = ""
    address: str = ""  # the source's web address
    series: str | None = None  # the published time series it is a point of
    tolerance: float | None = Field(default=None, gt=0)  # accepted relative error
    factor: float | None = Field(default=None, gt=1)  # accepted within this factor
    note: str = ""  # a caveat, shown beside it

    @model_validator(mode="after")
    def _one_figure(self) -> TargetSpec:
        given = [k for k in ("count", "per_capita", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a target needs exactly one of: count, per_capita, value")
        if getattr(self, given[0]) == 0:
            raise ValueError("a target figure must not be 0 (errors are relative)")
        if self.tolerance is not None and self.factor is not None:
            raise ValueError("give a tolerance or a factor, not both")
        return self

    @property
    def fitted(self) -> bool:
        """Whether the target is in the loss."""
        return not self.held_out


class SeriesSpec(_Strict):
    """A published time series: its targets are points of it, plotted against the run's
    ``column`` (its running total, its daily value, or its yearly totals)."""

    title: str
    column: str
    kind: Literal["cumulative", "level", "yearly"] = "cumulative"


class TargetSet(_Strict):
    """A targets file: the published figures to fit, the scenario parameters varied (and the
    values derived from them), and the runs' settings (the real population the counts refer
    to, the date of day 0, agents, days, seed, the optimiser's first step)."""

    description: str = ""
    scenario: str | None = None  # the scenario these targets are for (a default)
    population: float | None = Field(default=None, gt=0)  # real people the counts refer to
    start_date: date | None = None  # the calendar date of day 0
    agents: int | None = Field(default=None, ge=1)
    days: int | None = Field(default=None, ge=1)
    seed: int | None = Field(default=None, ge=0)
    step: float | None = Field(default=None, gt=0, le=1)  # CMA-ES initial step (share of range)
    parameters: dict[str, Parameter] = Field(min_length=1)
    derived: dict[str, str] = Field(default_factory=dict)  # path -> expression in parameters
    targets: dict[str, TargetSpec] = Field(min_length=1)
    series: dict[str, SeriesSpec] = Field(default_factory=dict)
    file: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> TargetSet:
        for name, t in self.targets.items():
            if t.count is not None and self.population is None:
                raise ValueError(f"targets.{name}.count: the file needs 'population'")
            _check(t.metric, f"targets.{name}.metric", self.start_date, metric=True)
            if t.series is not None and t.series not in self.series:
                raise ValueError(f"targets.{name}.series: unknown series '{t.series}' "
                                 f"(known: {', '.join(self.series) or 'none'})")
        for path, expr in self.derived.items():
            _check(expr, f"derived.{path}", None, metric=False, names=set(self.parameters))
        if not any(t.fitted for t in self.targets.values()):
            raise ValueError("targets: at least one target must be fitted (not held_out)")
        return self

    def fitted(self) -> list[str]:
        """The names of the fitted targets."""
        return [name for name, t in self.targets.items() if t.fitted]

    def per_capita_target(self, name: str) -> float:
        """The figure a target is compared with: per capita, or the plain value."""
        t = self.targets[name]
        if t.count is not None:
            return t.count / float(self.population or 1)
        return float(t.per_capita if t.per_capita is not None else t.value)

    def last_day(self) -> int:
        """The last day any metric reads."""
        return max(max(metric_days(t.metric, self.start_date)) for t in self.targets.values())

    def derived_values(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each derived path's value, its expression evaluated at the parameter ``values``."""
        return {path: evaluate(expr, names=values) for path, expr in self.derived.items()}


# ---------------------------------------------------------------- the expression language
def _day(node: ast.expr, start: date | None, where: str) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) \
            and not isinstance(node.value, bool):
        return int(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if start is None:
            raise TargetsError(f"{where}: a date needs 'start_date' in the file")
        try:
            return (date.fromisoformat(node.value) - start).days
        except ValueError:
            raise TargetsError(f"{where}: '{node.value}' is not a date like 2017-12-31") from None
    raise TargetsError(f"{where}: a day is a whole number or a date like '2017-12-31'")


def _walk(node: ast.AST, call: Callable[[str, list[ast.expr]], float],
          name: Callable[[str], float], where: str) -> float:
    if isinstance(node, ast.Expression):
        return _walk(node.body, call, name, where)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _walk(node.left, call, name, where), _walk(node.right, call, name, where)
        try:
            return _OPS[type(node.op)](a, b)
        except ZeroDivisionError:
            return math.nan
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _walk(node.operand, call, name, where)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Name):
        return name(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return call(node.func.id, list(node.args))
    raise TargetsError(f"{where}: cannot use '{ast.unparse(node)}' here")


def _parse(expr: str, where: str) -> ast.Expression:
    try:
        return ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise TargetsError(f"{where}: cannot read '{expr}': {exc.msg}") from None


def _refs(expr: str, start: date | None, where: str) -> list[tuple[str, str, list[int]]]:
    """(function, column, days) of every call in a metric."""
    found: list[tuple[str, str, list[int]]] = []

    def call(fn: str, args: list[ast.expr]) -> float:
        if fn not in FUNCTIONS:
            raise TargetsError(f"{where}: unknown function '{fn}' (known: {', '.join(FUNCTIONS)})")
        if len(args) != FUNCTIONS[fn] or not isinstance(args[0], ast.Name):
            raise TargetsError(f"{where}: {fn} takes a column name and "
                               f"{FUNCTIONS[fn] - 1} day(s)")
        days = [_day(a, start, where) for a in args[1:]]
        if min(days) < 0 or (len(days) == 2 and days[0] > days[1]):
            raise TargetsError(f"{where}: days must be >= 0 and in order")
        found.append((fn, args[0].id, days))
        return 1.0

    def name(n: str) -> float:
        raise TargetsError(f"{where}: '{n}' must be inside a function, e.g. cum({n}, DAY)")

    _walk(_parse(expr, where), call, name, where)
    return found


def _check(expr: str, where: str, start: date | None, metric: bool,
           names: set[str] | None = None) -> None:
    if metric:
        if not _refs(expr, start, where):
            raise TargetsError(f"{where}: a metric reads the daily table, e.g. cum(COLUMN, DAY)")
        return
    known = names or set()

    def name(n: str) -> float:
        if n not in known:
            raise TargetsError(f"{where}: unknown parameter '{n}' (known: {', '.join(known)})")
        return 1.0

    def call(fn: str, args: list[ast.expr]) -> float:
        raise TargetsError(f"{where}: an expression of parameters has no functions")

    _walk(_parse(expr, where), call, name, where)


def metric_columns(expr: str, start: date | None = None) -> set[str]:
    """The daily table's columns a metric reads."""
    return {col for _, col, _ in _refs(expr, start, expr)}


def metric_days(expr: str, start: date | None = None) -> list[int]:
    """The days a metric reads (a date counted from ``start``, day 0)."""
    return [d for _, _, days in _refs(expr, start, expr) for d in days]


def evaluate(expr: str, daily: pd.DataFrame | None = None, start: date | None = None,
             names: Mapping[str, float] | None = None) -> float:
    """The value of a metric over a daily table, or of an expression of named numbers."""
    where = expr

    def call(fn: str, args: list[ast.expr]) -> float:
        if daily is None or fn not in FUNCTIONS or not isinstance(args[0], ast.Name):
            raise TargetsError(f"{where}: '{fn}' needs a daily table")
        col = args[0].id
        if col not in daily.columns:
            raise TargetsError(f"{where}: no column '{col}' in the daily table")
        days = [_day(a, start, where) for a in args[1:]]
        if max(days) >= len(daily):
            raise TargetsError(f"{where}: day {max(days)} is past the run's last day "
                               f"({len(daily) - 1}); run more --days")
        series = daily[col].to_numpy(dtype=float)
        if fn == "at":
            return float(series[days[0]])
        lo, hi = (0, days[0]) if fn == "cum" else (days[0], days[1])
        part = series[lo : hi + 1]
        return float(part.sum() if fn != "mean" else part.mean())

    def name(n: str) -> float:
        if names is None or n not in names:
            raise TargetsError(f"{where}: unknown name '{n}'")
        return float(names[n])

    return _walk(_parse(expr, where), call, name, where)


# ---------------------------------------------------------------- fit
class FitRow(_Strict):
    """A target against a run: its figure and the simulated value."""

    name: str
    metric: str
    target: float  # per capita, or the plain value
    simulated: float
    rel_error: float  # (simulated - target) / target; nan if the metric is undefined
    weight: float  # 0: held out (never in the loss)
    per_capita: bool
    published: float | None = None  # the published count, if the target is one
    source: str = ""
    held_out: bool = False


def fit_rows(ts: TargetSet, daily: pd.DataFrame, agents: int) -> list[FitRow]:
    """Every target of ``ts`` against a run's daily table (of ``agents`` agents)."""
    rows = []
    for name, t in ts.targets.items():
        raw = evaluate(t.metric, daily, ts.start_date)
        per_capita = t.value is None
        sim = raw / agents if per_capita else raw
        target = ts.per_capita_target(name)
        rows.append(FitRow(name=name, metric=t.metric, target=target, simulated=sim,
                           rel_error=(sim - target) / target,
                           weight=0.0 if t.held_out else t.weight, per_capita=per_capita,
                           published=t.count, source=t.source, held_out=t.held_out))
    return rows


def loss(rows: list[FitRow]) -> float:
    """Weighted mean squared relative error over the fitted targets (1e6 if undefined)."""
    fitted = [r for r in rows if not r.held_out]
    total = sum(r.weight for r in fitted)
    err = sum(r.weight * r.rel_error**2 for r in fitted) / total
    return err if math.isfinite(err) else 1e6


def split_errors(rows: list[FitRow]) -> dict[str, dict[str, float | int | None]]:
    """The fitted and the held-out targets' errors, apart: how many, the root mean square
    and the largest absolute relative error of each (None when a part is empty or undefined)."""
    out: dict[str, dict[str, float | int | None]] = {}
    for part, rows_ in (("fitted", [r for r in rows if not r.held_out]),
                        ("held_out", [r for r in rows if r.held_out])):
        errs = [abs(r.rel_error) for r in rows_]
        ok = bool(errs) and all(math.isfinite(e) for e in errs)
        out[part] = {"targets": len(errs),
                     "rms": math.sqrt(sum(e * e for e in errs) / len(errs)) if ok else None,
                     "largest": max(errs) if ok else None}
    return out


# ---------------------------------------------------------------- files
def _targets_dir() -> Any:
    return resources.files("scoresim.scenario").joinpath("targets")


def builtin_targets() -> dict[str, str]:
    """Name -> description of every targets file shipped with the package."""
    out = {}
    for entry in sorted(_targets_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            out[entry.name[:-5]] = " ".join(str(data.get("description", "")).split())
    return out


def load_targets(source: str | Path) -> TargetSet:
    """A targets file by path, or by the name of a shipped one (e.g. ``national-spc``)."""
    entry: Any = Path(source)
    if not entry.is_file():
        shipped = _targets_dir().joinpath(f"{source}.yaml")
        if not shipped.is_file():
            names = ", ".join(builtin_targets()) or "none"
            raise TargetsError(f"{source}: no such file or built-in targets (built-in: {names})")
        entry = shipped
    file = str(source)
    try:
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TargetsError(f"{file}: YAML syntax error: {exc}") from None
    if not isinstance(data, dict):
        raise TargetsError(f"{file}: a targets file is a mapping of keys to values")
    try:
        return TargetSet.model_validate({**data, "file": file})
    except TargetsError as exc:
        raise TargetsError(f"{file}: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise TargetsError(f"{file}: {key + ': ' if key else ''}{msg}") from None
