"""A report's files in an output folder, for every command: ``report.html`` and ``figures/``
(each figure as SVG, 300 dpi PNG and CSV), given to the folder's writer as writers (name ->
function of a path), or rebuilt in place from a folder's files (``scoresim report DIR``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..experiments.compare import Comparison, load_comparison
from ..results.outputs import write_atomic
from ..scenario import ScenarioError, load_scenario
from .charts import Chart, unique_names, write_figures
from .html import compare_report, run_report

Writer = Callable[[Path], None]
REPORT = "report.html"
FIGURES = "figures"


class ReportError(Exception):
    """A folder whose report cannot be built (not a scoresim output folder...)."""


def report_files(page: str, found: list[Chart]) -> dict[str, Writer]:
    """The writers of report.html and figures/ for a page and its charts."""
    found = unique_names(found)
    return {REPORT: lambda p: p.write_text(page, encoding="utf-8"),
            FIGURES: lambda p: write_figures(p, found)}


def run_report_files(summary: dict[str, Any], daily: pd.DataFrame, scenario: Any = None,
                     cf_daily: pd.DataFrame | None = None) -> dict[str, Writer]:
    """report.html and figures/ of one run (see html.run_report)."""
    return report_files(*run_report(summary, daily, scenario, cf_daily))


def compare_report_files(comp: Comparison, command: str | None = None) -> dict[str, Writer]:
    """report.html and figures/ of a comparison (see html.compare_report)."""
    return report_files(*compare_report(comp, command))


def calibrate_report_files(cal: Any, command: str = "") -> dict[str, Writer]:
    """report.html and figures/ of a calibration (a Calibration with its best run)."""
    from ..experiments.calibrate import fit_json
    from .calibrate_report import calibrate_report

    if cal.results is None:
        return {}
    return report_files(*calibrate_report(fit_json(cal, command), cal.results.daily,
                                          cal.scenario))


def sweep_report_files(folder: str | Path) -> dict[str, Writer]:
    """report.html and figures/ of a sweep's results folder."""
    from .sweep_report import sweep_report

    return report_files(*sweep_report(folder))


# ---------------------------------------------------------------- in place
def _scenario(folder: Path) -> Any:
    path = folder / "scenario.yaml"
    if not path.exists():
        return None
    try:
        return load_scenario(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ScenarioError, yaml.YAMLError) as exc:
        raise ReportError(f"{path}: {exc}") from None


def folder_kind(folder: Path) -> str:
    """Which command wrote ``folder``: run, compare, sweep or calibrate."""
    if (folder / "compare.json").is_file():
        return "compare"
    if (folder / "results.duckdb").is_file():
        return "sweep"
    if (folder / "fit.json").is_file():
        return "calibrate"
    if (folder / "summary.json").is_file() and (folder / "daily.parquet").is_file():
        return "run"
    raise ReportError(f"{folder}: not a scoresim output folder (no summary.json and "
                      "daily.parquet, compare.json, fit.json or results.duckdb)")


def folder_report_files(folder: str | Path) -> dict[str, Writer]:
    """The report's writers for any scoresim output folder, from its files alone."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    kind = folder_kind(folder)
    if kind == "compare":
        comp = load_comparison(folder)
        return compare_report_files(comp, comp.meta.get("command"))
    if kind == "sweep":
        return sweep_report_files(folder)
    daily = pd.read_parquet(folder / "daily.parquet")
    if kind == "calibrate":
        from .calibrate_report import calibrate_report

        fit = json.loads((folder / "fit.json").read_text())
        return report_files(*calibrate_report(fit, daily, _scenario(folder)))
    summary = json.loads((folder / "summary.json").read_text())
    cf_path = folder / "counterfactual.parquet"
    cf = pd.read_parquet(cf_path) if cf_path.exists() else None
    return run_report_files(summary, daily, _scenario(folder), cf)


def replace_path(path: Path, write: Writer) -> None:
    """Write a file or a folder under a temporary name beside ``path``, then put it in
    ``path``'s place (a folder already there is removed only once the new one is in)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        write(tmp / path.name)
        old = None
        if path.is_dir():
            old = tmp / ".previous"
            os.replace(path, old)
        os.replace(tmp / path.name, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rebuild_report(folder: str | Path) -> list[Path]:
    """Rebuild report.html and figures/ of an output folder in place.

    Args:
        folder: a folder written by run, compare, sweep or calibrate.

    Returns:
        The paths written.

    Raises:
        ReportError: the folder is not a scoresim output folder.
    """
    folder = Path(folder)
    files = folder_report_files(folder)
    for name, write in files.items():
        if name == REPORT:
            write_atomic(folder / name, write)
        else:
            replace_path(folder / name, write)
    return [folder / name for name in files]
