"""Experiments: many runs of the model, compared honestly (counterfactuals, common random
numbers, intervals across seeds), on a swappable executor."""

from .compare import (
    Comparison,
    Spec,
    compare,
    load_comparison,
    parse_spec,
    resolve_specs,
    run_compare,
    run_with_counterfactual,
    write_comparison,
)
from .executors import Executor, ProcessExecutor, SerialExecutor, make_executor

__all__ = [
    "Comparison", "Executor", "ProcessExecutor", "SerialExecutor", "Spec", "compare",
    "load_comparison", "make_executor", "parse_spec", "resolve_specs", "run_compare",
    "run_with_counterfactual", "write_comparison",
]
