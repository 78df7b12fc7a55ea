"""Record the golden outputs: summary.json (without machine-dependent fields) and daily.parquet
of every built-in scenario at two seeds, and of the peers workload.

    python tests/goldens/record.py            # rewrite every golden
    python tests/goldens/record.py default    # only these

A refactor must reproduce these bit for bit (tests/test_goldens.py); a model change
regenerates them on purpose and says in its note what moved and by how much
(``python tests/goldens/record.py --diff`` prints the moved metrics before writing).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORKLOAD = ROOT / "benchmarks" / "peers" / "workload.yaml"

AGENTS, DAYS = 20_000, 240
SEEDS = (1, 2)

# every path of the day taken: the city abroad spans partitions, false matches are common,
# list sanctions reach work teams, firms are rated, minimum durations, appeals and human review
# are on, visibility goes off and on, the points change mid-run, ties to the visibly sanctioned
# are cut (across partitions)
STRESS = {
    "overseas.vancouver.share": 0.3,
    "behaviours.debt_default.rate": 0.004,
    "behaviours.minor_infraction.rate": 0.02,
    "lists.dishonest_debtors.grace_days": 5,
    "sanctions.school_ban.reaches": "work",
    "sanctions.loan_denial.min_days": 20,
    "layers.work.rating": {"weight": 1.0, "threshold": 990},
    "lists.firm_list": {"enter_on_rating": "work", "grace_days": 0},
    "channels.camera.watch_list": 0.5,  # half the faces are not on the list: false alerts
    "layers.kin.spillover": 0.3,
    "safeguards.appeals": {"enabled": True, "success": 0.6, "delay_days": 10},
    "responses.avoidance": {"enabled": True, "daily_probability": 0.05},
    "timeline": [{"day": 60, "set": {"sanctions.travel_ban.visible": False}},
                 {"day": 90, "set": {"sanctions.travel_ban.visible": True}},
                 {"day": 120, "set": {"scoring.rules.minor_infraction": -40}}],
}
REVIEW = {**STRESS, "safeguards.human_review": True}
# summary fields that measure the machine, the schema's serialisation or the build, not the
# model's outputs
NOT_MODEL = ("wall_seconds", "build_seconds", "run_seconds", "agent_days_per_second",
             "bytes_per_agent", "version", "scenario_hash", "command", "partitions")


def cases() -> dict[str, tuple[str, dict[str, Any]]]:
    """Golden name -> (scenario: a built-in name or a file, overrides)."""
    from scoresim import builtin_scenarios

    out: dict[str, tuple[str, dict[str, Any]]] = {name: (name, {})
                                                  for name in builtin_scenarios()}
    out["peers"] = (str(WORKLOAD), {})
    # the peers workload where sanctions happen within the run (ties see them, caution moves)
    out["peers-busy"] = (str(WORKLOAD), {"behaviours.infraction.rate": 0.02})
    out["stress"] = ("overseas-venue", STRESS)
    out["stress-review"] = ("overseas-venue", REVIEW)
    return out


def model_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without the fields that are not model outputs."""
    return {k: v for k, v in summary.items() if k not in NOT_MODEL}


def folder(name: str, seed: int) -> Path:
    return HERE / f"{name}-seed{seed}"


def sim(name: str, seed: int):
    """The golden's simulation (not yet run)."""
    from scoresim import Sim

    scenario, overrides = cases()[name]
    return Sim(scenario, agents=AGENTS, days=DAYS, seed=seed, overrides=overrides)


def load(name: str, seed: int) -> tuple[dict[str, Any], pd.DataFrame]:
    d = folder(name, seed)
    return (json.loads((d / "summary.json").read_text()),
            pd.read_parquet(d / "daily.parquet"))


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines naming each summary value that moved, with its relative change."""
    a, b = _flat(old), _flat(new)
    lines = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if x == y:
            continue
        if isinstance(x, int | float) and isinstance(y, int | float) and x:
            lines.append(f"{k}: {x:.6g} -> {y:.6g} ({(y - x) / abs(x):+.1%})")
        elif isinstance(x, int | float) and isinstance(y, int | float):
            lines.append(f"{k}: {x!r} -> {y:.6g}")
        else:
            lines.append(f"{k}: {x!r} -> {y!r}" if not (isinstance(x, float) and math.isnan(x))
                         else f"{k}: nan -> {y!r}")
    return lines


def main(argv: list[str]) -> None:
    show_diff = "--diff" in argv
    names = [a for a in argv if not a.startswith("--")] or list(cases())
    for name in names:
        for seed in SEEDS:
            res = sim(name, seed).run()
            summary = model_summary(res.summary)
            d = folder(name, seed)
            if show_diff and (d / "summary.json").exists():
                old, _ = load(name, seed)
                moved = diff(old, summary)
                print(f"== {name} seed {seed}: {len(moved)} summary values moved")
                for line in moved:
                    print("  " + line)
            d.mkdir(exist_ok=True)
            (d / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
            res.daily.to_parquet(d / "daily.parquet", index=False)
            print(f"recorded {d.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
