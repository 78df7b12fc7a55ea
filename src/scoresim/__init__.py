"""scoresim: simulate surveillance-driven social scoring systems on synthetic populations.

Examples:
    >>> import scoresim
    >>> res = scoresim.Sim("default", agents=10_000, days=30, seed=1).run()
    >>> res.summary["final"]["ever_sanctioned_frac"]  # doctest: +SKIP
    >>> scoresim.compare(["default", "default@safeguards.association_penalties=false"],
    ...                  seeds=3, agents=20_000, days=180)  # doctest: +SKIP
"""

import os as _os  # noqa: E402

from .core.version import __version__  # noqa: E402

# Numba's OpenMP threads spin at every barrier by default; when the machine has other work,
# a spinning thread steals the core its partner needs and a day's ~10 parallel loops each
# wait a scheduler slice (measured here: 10x slower on a busy 2-core machine). Passive
# waiting costs little when the machine is idle. Set before Numba starts its threads; a
# user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .experiments import compare  # noqa: E402
from .results.store import open_results  # noqa: E402
from .scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario  # noqa: E402
from .sim import Population, Results, Sim, build_population  # noqa: E402


def _plot(results: Results, path=None):
    """``Results.plot``: the report's overview figure of a run (matplotlib, imported lazily)."""
    from .report.plots import overview

    fig = overview(results.summary, results.daily,
                   None if results.counterfactual is None else results.counterfactual.daily,
                   results.scenario)
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


Results.plotter = _plot

__all__ = [
    "Population", "Results", "Scenario", "ScenarioError", "Sim", "build_population",
    "builtin_scenarios", "compare", "load_scenario", "open_results", "__version__",
]
