"""Accounts: the day's counts become named columns; the agents' histories become final metrics.

Every sanction is accounted by cause. An *innocent sanctioned* agent was sanctioned at least
once without ever having committed a scored act.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.compile import FIXED, Names
from ..engine.day import DayCounts
from ..engine.state import (
    CAPTURED_ABROAD,
    COMMITTED,
    EVER_ASSOC,
    EVER_FALSE,
    EVER_OWN,
    EVER_SANCTIONED,
    FALSE_ATTRIBUTED,
    FROM_ABROAD,
    IDENTIFIED_ABROAD,
    State,
)

CAUSES = ("own", "false_match", "association")


def daily_row(day: int, c: DayCounts, nm: Names) -> dict[str, float | int]:
    """One row of daily.parquet; column names are part of the public contract."""
    row: dict[str, float | int] = {"day": day}
    for k, b in enumerate(nm.behaviours):
        row[f"acts_{b}"] = int(c.acts[k])
    for k, b in enumerate(nm.behaviours):
        row[f"observed_{b}"] = int(c.observed[k])
    row["false_attributions"] = c.false_attributions
    row["dismissed_by_review"] = c.dismissed_by_review
    row["spill_penalties"] = c.spill_penalties
    for k, name in enumerate(nm.lists):
        row[f"listed_{name}"] = int(c.listed_now[k])
        row[f"listings_{name}"] = int(c.listings[k])
        row[f"delistings_{name}"] = int(c.delistings[k])
    for k, name in enumerate(nm.sanctions):
        row[f"sanctioned_{name}"] = int(c.sanctioned[k])
    row["sanctioned_any"] = int(c.sanctioned[len(nm.sanctions)])
    for k, cause in enumerate(CAUSES):
        row[f"newly_sanctioned_{cause}"] = int(c.newly_sanctioned[k])
    row["appeals_won"] = c.appeals_won
    for k, v in enumerate(nm.services):
        row[f"requests_{v}"] = int(c.requests[k].sum())
        row[f"denied_{v}"] = int(c.denied[k].sum())
    for k, v in enumerate(nm.services):
        for g, gname in enumerate(nm.groups):
            row[f"denied_{v}__{gname}"] = int(c.denied[k, g])
    for k, grade in enumerate(nm.grades if len(c.grades) else []):
        row[f"grade_{grade}"] = int(c.grades[k])
    for g, gname in enumerate(nm.groups):
        row[f"sanctioned_any__{gname}"] = int(c.sanctioned_by_group[g])
        row[f"expression_acts__{gname}"] = int(c.expression_by_group[g])
    row["mean_score"] = c.mean_score
    row["mean_caution"] = c.mean_caution
    if nm.venues:
        row.update(abroad_row(c.abroad, nm))
    return row


ABROAD_TOTALS = ("visits", "identified", "false_matches")
ABROAD_COUNTS = ("associations", "acts_at_venues", "observed_at_venues", "pinned_at_venues")


def abroad_row(a: dict, nm: Names) -> dict[str, int]:
    """The venues' daily columns; zeros on a day without observation (scoring off)."""
    K, G = len(nm.venues), len(nm.groups)
    rec = a.get("records", np.zeros((K, G), np.int64))
    row: dict[str, int] = {"venue_records_home": int(rec.sum())}
    for name in ABROAD_TOTALS:
        row[f"venue_{name}"] = int(np.sum(a.get(name, 0)))
    for name in ABROAD_COUNTS:
        row[name if name.endswith("venues") else f"venue_{name}"] = int(a.get(name, 0))
    for k, v in enumerate(nm.venues):
        for g, gname in enumerate(nm.groups):
            row[f"records_home__{v}__{gname}"] = int(rec[k, g])
    return row


def overseas_metrics(s: State, region: np.ndarray, group: np.ndarray, r_abroad: np.ndarray,
                     g_enrolled: np.ndarray, nm: Names, daily: list[dict]) -> dict[str, Any]:
    """The reach abroad: who the venue feeds capture and name, what crosses the border, and
    who at home is penalised or sanctioned because of acts abroad."""
    f = s.flags
    abroad, enrolled = r_abroad[region], g_enrolled[group]
    total = lambda col: int(sum(r.get(col, 0) for r in daily))  # noqa: E731
    identified, false = total("venue_identified"), total("venue_false_matches")
    from_abroad = (f & FROM_ABROAD) != 0
    present = np.unique(group[abroad])
    return {
        "residents_abroad": int(np.count_nonzero(abroad)),
        "groups_abroad": {nm.groups[g]: bool(g_enrolled[g]) for g in present},
        "records_home": total("venue_records_home"),
        "records_home_by_venue": {
            v: sum(total(f"records_home__{v}__{g}") for g in nm.groups) for v in nm.venues},
        "records_home_by_origin": {
            g: sum(total(f"records_home__{v}__{g}") for v in nm.venues) for g in nm.groups},
        "locals_captured_people": int(np.count_nonzero(
            abroad & ~enrolled & ((f & CAPTURED_ABROAD) != 0))),
        "locals_captured_records": sum(
            total(f"records_home__{v}__{g}") for v in nm.venues
            for k, g in enumerate(nm.groups) if not g_enrolled[k]),
        "diaspora_identified_people": int(np.count_nonzero(
            abroad & enrolled & ((f & IDENTIFIED_ABROAD) != 0))),
        "identifications": identified + false,
        "false_matches_onto_enrolled": false,
        "false_match_share": false / (identified + false) if identified + false else None,
        "table_associations": total("venue_associations"),
        "acts_at_venues": total("acts_at_venues"),
        "acts_abroad_pinned_on_others": total("pinned_at_venues"),
        "relatives_home_penalised": int(np.count_nonzero(from_abroad & ~abroad)),
        "relatives_home_sanctioned": int(np.count_nonzero(
            from_abroad & ~abroad & ((f & EVER_ASSOC) != 0))),
    }


def _frac(x: float, n: int) -> float:
    return float(x) / n if n else 0.0


def final_metrics(s: State, group: np.ndarray, nm: Names, daily: list[dict]) -> dict[str, Any]:
    """The run's final metrics (summary.json's ``final``)."""
    n = s.score.shape[0]
    f = s.flags
    ever = (f & EVER_SANCTIONED) != 0
    innocent = ever & ((f & COMMITTED) == 0)
    total = lambda col: int(sum(r[col] for r in daily))  # noqa: E731
    out: dict[str, Any] = {
        "mean_score": float(np.sum(s.score, dtype=np.int64)) / FIXED / max(n, 1),
        "mean_caution": float(np.sum(s.caution, dtype=np.float64)) / max(n, 1),
        "sanctioned_frac": _frac(np.count_nonzero(s.eff_mask), n),
        "ever_sanctioned_frac": _frac(np.count_nonzero(ever), n),
        "innocent_sanctioned_frac": _frac(np.count_nonzero(innocent), n),
        "committed_scored_act_frac": _frac(np.count_nonzero(f & COMMITTED), n),
        "ever_sanctioned_by_cause": {
            "own": _frac(np.count_nonzero(f & EVER_OWN), n),
            "false_match": _frac(np.count_nonzero(f & EVER_FALSE), n),
            "association": _frac(np.count_nonzero(f & EVER_ASSOC), n),
        },
        "acts": {b: total(f"acts_{b}") for b in nm.behaviours},
        "observed": {b: total(f"observed_{b}") for b in nm.behaviours},
        "false_attributions": total("false_attributions"),
        "falsely_attributed_frac": _frac(np.count_nonzero(f & FALSE_ATTRIBUTED), n),
        "dismissed_by_review": total("dismissed_by_review"),
        "spill_penalties": total("spill_penalties"),
        "appeals_won": total("appeals_won"),
        "requests": {v: total(f"requests_{v}") for v in nm.services},
        "denied": {v: total(f"denied_{v}") for v in nm.services},
        "listed_now": {
            name: int(np.count_nonzero(s.list_state[k] > 0)) for k, name in enumerate(nm.lists)
        },
        "ever_listed": {
            name: int(np.count_nonzero(s.ever_listed & (1 << k)))
            for k, name in enumerate(nm.lists)
        },
        "sanctioned_now": {
            name: int(np.count_nonzero(s.eff_mask & (1 << k)))
            for k, name in enumerate(nm.sanctions)
        },
    }
    out["by_group"] = by_group(s, group, nm)
    return out


def by_group(s: State, group: np.ndarray, nm: Names) -> dict[str, dict[str, float]]:
    """Per group: shares of its members ever sanctioned, innocent sanctioned, falsely attributed."""
    G = len(nm.groups)
    size = np.bincount(group, minlength=G)
    f = s.flags

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=mask.astype(np.float64), minlength=G)

    ever = (f & EVER_SANCTIONED) != 0
    stats = {
        "agents": size.astype(np.float64),
        "ever_sanctioned_frac": count(ever) / np.maximum(size, 1),
        "innocent_sanctioned_frac": count(ever & ((f & COMMITTED) == 0)) / np.maximum(size, 1),
        "falsely_attributed_frac": count((f & FALSE_ATTRIBUTED) != 0) / np.maximum(size, 1),
        "sanctioned_frac": count(s.eff_mask != 0) / np.maximum(size, 1),
    }
    return {g: {k: float(v[i]) for k, v in stats.items()} for i, g in enumerate(nm.groups)}
