"""Reports a person can open and figures a person can publish: matplotlib figures with titles,
units and legends, each written as SVG, 300 dpi PNG and the CSV of its data, and embedded in
one self-contained HTML page per run, comparison, sweep or calibration."""

from .files import (
    ReportError,
    calibrate_report_files,
    compare_report_files,
    folder_report_files,
    rebuild_report,
    run_report_files,
    sweep_report_files,
)
from .html import compare_report, run_report
from .plots import overview

__all__ = ["ReportError", "calibrate_report_files", "compare_report", "compare_report_files",
           "folder_report_files", "overview", "rebuild_report", "run_report",
           "run_report_files", "sweep_report_files"]
