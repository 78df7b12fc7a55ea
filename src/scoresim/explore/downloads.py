"""The files a visitor can take away from a result: the scenario as YAML, the daily tables
(Parquet and CSV, one row per seed and day), and the full report.html. Figures download from
the page itself (Plotly draws their SVG and PNG in the browser)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd

from .service import Result
from .settings import command

MEDIA = {".yaml": "application/yaml", ".csv": "text/csv",
         ".parquet": "application/vnd.apache.parquet", ".html": "text/html"}


def _yaml_names(result: Result) -> dict[str, str]:
    if result.comparison is not None:
        return {f"scenario-{label}.yaml": label for label in result.yaml}
    return {"scenario.yaml": next(iter(result.yaml))}


def files(result: Result) -> list[str]:
    """The names of the result's files, in the order the page lists them."""
    return [*_yaml_names(result), "daily.parquet", "daily.csv", "counterfactual.parquet",
            "counterfactual.csv", "report.html"]


def table(result: Result, counterfactual: bool) -> pd.DataFrame:
    """Every run's daily table (or its counterfactual's), with its seed (and, comparing, its
    system) in front: the columns after those are exactly ``scoresim run``'s."""
    frames = []
    for s in result.series:
        for seed, daily in zip(result.seeds, s.cf_daily if counterfactual else s.daily,
                               strict=True):
            front = {"scenario": s.label} if result.comparison is not None else {}
            frames.append(pd.concat([pd.DataFrame({**front, "seed": seed}, index=daily.index),
                                     daily], axis=1))
    return pd.concat(frames, ignore_index=True)


def report(result: Result) -> str:
    """report.html: of the first seed's run, or of the comparison."""
    from ..report import compare_report, run_report

    if result.comparison is not None:
        return compare_report(result.comparison, "scoresim explore (A against B)")[0]
    run = result.runs[0]
    summary = {**run["summary"], "command": command(result.settings, seed=result.seeds[0])}
    return run_report(summary, run["daily"], run["scenario"], run["cf_daily"])[0]


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def make(result: Result, name: str) -> tuple[bytes, str] | None:
    """The file's bytes and media type, or None if the result has no such file."""
    yamls = _yaml_names(result)
    makers: dict[str, Callable[[], bytes]] = {
        **{n: (lambda label=label: result.yaml[label].encode("utf-8"))
           for n, label in yamls.items()},
        "daily.parquet": lambda: _parquet(table(result, False)),
        "daily.csv": lambda: table(result, False).to_csv(index=False).encode("utf-8"),
        "counterfactual.parquet": lambda: _parquet(table(result, True)),
        "counterfactual.csv": lambda: table(result, True).to_csv(index=False).encode("utf-8"),
        "report.html": lambda: report(result).encode("utf-8"),
    }
    if name not in makers:
        return None
    suffix = name[name.rfind("."):]
    return makers[name](), MEDIA[suffix]
