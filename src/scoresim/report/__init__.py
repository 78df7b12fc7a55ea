"""Reports a person can open: matplotlib figures with titles, units and legends, embedded in
one self-contained HTML file per run or comparison."""

from .html import compare_report, run_report
from .plots import overview

__all__ = ["compare_report", "overview", "run_report"]
