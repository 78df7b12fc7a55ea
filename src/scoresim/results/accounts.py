"""Accounts: the agents' histories and the daily columns become the run's final metrics.

Every sanction is accounted by its but-for cause (docs/model.md): own (the agent's own acts
alone would have caused it), or others' acts (false match or association decisive); and for
expression (without penalties on speech it would not have happened). A *never-acted
sanctioned* agent was sanctioned at least once without ever committing a scored act of its own.
People and activations are counted apart: a person sanctioned three times is one person and
three activations.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from ..core.constants import CHUNK, FIXED
from ..engine.compile import Names
from ..engine.measure import CAUTION_UNIT, caution_units
from ..engine.state import (
    CAPTURED_ABROAD,
    COMMITTED,
    EVER_ASSOC,
    EVER_FALSE,
    EVER_FOR_EXPRESSION,
    EVER_FOR_OTHERS,
    EVER_OWN,
    EVER_SANCTIONED,
    FALSE_ATTRIBUTED,
    FROM_ABROAD,
    IDENTIFIED_ABROAD,
    ISOLATED,
    State,
)
from .columns import totals

# what the end of a run counts per group, in one pass over the agents (columns of _tally)
TALLY = ("agents", "ever", "never_acted", "committed", "ever_own", "ever_false", "ever_assoc",
         "for_others", "for_expression", "falsely_attributed", "sanctioned_now", "isolated",
         "isolated_never_sanctioned")


@nb.njit(parallel=True, cache=True)
def _tally(flags, eff_mask, group, n_groups, out):
    """out[c, g, k]: agents of group g in chunk c with property TALLY[k] (integer counts, so
    the same whatever the number of threads)."""
    n = flags.shape[0]
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        fl, em, gr = flags[lo:hi], eff_mask[lo:hi], group[lo:hi]
        for i in range(fl.shape[0]):
            f, g = fl[i], gr[i]
            ever = (f & EVER_SANCTIONED) != 0
            row = out[c, g]
            row[0] += 1
            row[1] += ever
            row[2] += ever and (f & COMMITTED) == 0
            row[3] += (f & COMMITTED) != 0
            row[4] += (f & EVER_OWN) != 0
            row[5] += (f & EVER_FALSE) != 0
            row[6] += (f & EVER_ASSOC) != 0
            row[7] += (f & EVER_FOR_OTHERS) != 0
            row[8] += (f & EVER_FOR_EXPRESSION) != 0
            row[9] += (f & FALSE_ATTRIBUTED) != 0
            row[10] += em[i] != 0
            isolated = (f & ISOLATED) != 0
            row[11] += isolated
            row[12] += isolated and not ever


def tally(s: State, group: np.ndarray, n_groups: int, lo: int, hi: int) -> np.ndarray:
    """int64[groups, len(TALLY)]: the end-of-run counts per group, of agents [lo, hi)."""
    out = np.zeros(((hi - lo + CHUNK - 1) // CHUNK, max(n_groups, 1), len(TALLY)), np.int64)
    _tally(s.flags[lo:hi], s.eff_mask[lo:hi], group[lo:hi], n_groups, out)
    return out.sum(axis=0)


def account(s: State, people, nm: Names, abroad: np.ndarray, enrolled: np.ndarray,
            lo: int, hi: int) -> dict[str, np.ndarray]:
    """The integer totals the final metrics are made of, over agents [lo, hi) (the whole
    population in one process, a partition's range across partitions): the totals of ranges
    add up to the whole population's (``final_metrics``)."""
    G = len(nm.groups)
    flags, region, group = s.flags[lo:hi], people.region[lo:hi], people.group[lo:hi]
    out = {
        "tally": tally(s, people.group, G, lo, hi),
        "score_sum": np.int64(np.sum(s.score[lo:hi], dtype=np.int64)),
        "caution_units": np.int64(caution_units(s.caution[lo:hi])),
        "listed_now": np.array([np.count_nonzero(s.list_state[k, lo:hi] > 0)
                                for k in range(len(nm.lists))], np.int64),
        "ever_listed": np.array([np.count_nonzero(s.ever_listed[lo:hi] & (1 << k))
                                 for k in range(len(nm.lists))], np.int64),
        "sanctioned_now": np.array([np.count_nonzero(s.eff_mask[lo:hi] & (1 << k))
                                    for k in range(len(nm.sanctions))], np.int64),
    }
    if abroad.any():
        away, mine = abroad[region], enrolled[group]
        home = (flags & FROM_ABROAD) != 0
        out["overseas"] = np.array([
            np.count_nonzero(away),
            np.count_nonzero(away & ~mine & ((flags & CAPTURED_ABROAD) != 0)),
            np.count_nonzero(away & mine & ((flags & IDENTIFIED_ABROAD) != 0)),
            np.count_nonzero(home & ~away),
            np.count_nonzero(home & ~away & ((flags & EVER_ASSOC) != 0)),
        ], np.int64)
        out["groups_abroad"] = np.bincount(group[away], minlength=G).astype(np.int64)
    return out


def combine(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The accounts of several ranges as one (integer sums)."""
    return {k: sum(p[k] for p in parts) for k in parts[0]}


def overseas_metrics(acc: dict[str, np.ndarray], enrolled: np.ndarray, nm: Names,
                     daily: list[dict]) -> dict[str, Any]:
    """The reach abroad: who the venue feeds capture and name, what crosses the border, and
    who at home is penalised or sanctioned because of acts abroad (``acc``: the accounts of
    every range)."""
    total = lambda col: int(sum(r.get(col, 0) for r in daily))  # noqa: E731
    identified, false = total("venue_identified"), total("venue_false_matches")
    residents, locals_captured, diaspora, home_penalised, home_sanctioned = (
        int(x) for x in acc["overseas"])
    present = np.flatnonzero(acc["groups_abroad"])
    return {
        "residents_abroad": residents,
        "groups_abroad": {nm.groups[g]: bool(enrolled[g]) for g in present},
        "records_home": total("venue_records_home"),
        "records_home_by_venue": {
            v: sum(total(f"records_home__{v}__{g}") for g in nm.groups) for v in nm.venues},
        "records_home_by_origin": {
            g: sum(total(f"records_home__{v}__{g}") for v in nm.venues) for g in nm.groups},
        "locals_captured_people": locals_captured,
        "locals_captured_records": sum(
            total(f"records_home__{v}__{g}") for v in nm.venues
            for k, g in enumerate(nm.groups) if not enrolled[k]),
        "diaspora_identified_people": diaspora,
        "identifications": identified + false,
        "false_matches_onto_enrolled": false,
        "false_match_share": false / (identified + false) if identified + false else None,
        "table_associations": total("venue_associations"),
        "acts_at_venues": total("acts_at_venues"),
        "acts_abroad_pinned_on_others": total("pinned_at_venues"),
        "relatives_home_penalised": home_penalised,
        "relatives_home_sanctioned": home_sanctioned,
    }


def _frac(x: float, n: int) -> float:
    return float(x) / n if n else 0.0


def final_metrics(acc: dict[str, np.ndarray], n: int, nm: Names,
                  daily: list[dict]) -> dict[str, Any]:
    """The run's final metrics (summary.json's ``final``) from the accounts of every range."""
    per_group = acc["tally"]
    t = dict(zip(TALLY, per_group.sum(axis=0).tolist(), strict=True))
    run_totals = totals(nm, daily)
    out: dict[str, Any] = {
        "mean_score": float(acc["score_sum"]) / FIXED / max(n, 1),
        "mean_caution": float(acc["caution_units"]) / CAUTION_UNIT / max(n, 1),
        "sanctioned_frac": _frac(t["sanctioned_now"], n),
        "ever_sanctioned_frac": _frac(t["ever"], n),
        "sanctioned_for_others_acts_frac": _frac(t["for_others"], n),
        "sanctioned_for_others_acts_by_cause": {
            "false_match": _frac(t["ever_false"], n),
            "association": _frac(t["ever_assoc"], n),
        },
        "sanctioned_for_expression_frac": _frac(t["for_expression"], n),
        "never_acted_sanctioned_frac": _frac(t["never_acted"], n),
        # avoidance: people who lost at least the lost share of their ties, and of them those
        # never sanctioned themselves (relatives and friends of the sanctioned)
        "isolated_frac": _frac(t["isolated"], n),
        "isolated_never_sanctioned_frac": _frac(t["isolated_never_sanctioned"], n),
        "committed_scored_act_frac": _frac(t["committed"], n),
        "ever_sanctioned_by_cause": {
            "own": _frac(t["ever_own"], n),
            "false_match": _frac(t["ever_false"], n),
            "association": _frac(t["ever_assoc"], n),
        },
        **run_totals,
        "falsely_attributed_frac": _frac(t["falsely_attributed"], n),
        "listed_now": {name: int(acc["listed_now"][k]) for k, name in enumerate(nm.lists)},
        "ever_listed": {name: int(acc["ever_listed"][k]) for k, name in enumerate(nm.lists)},
        "sanctioned_now": {name: int(acc["sanctioned_now"][k])
                           for k, name in enumerate(nm.sanctions)},
    }
    out["by_group"] = by_group(per_group, nm)
    return out


def by_group(per_group: np.ndarray, nm: Names) -> dict[str, dict[str, float]]:
    """Per group: shares of its members ever sanctioned (all, for others' acts, for
    expression, never having acted), falsely attributed, sanctioned at the end, isolated by
    avoidance (``per_group``: the rows of ``tally``)."""
    col = {k: per_group[:, i].astype(np.float64) for i, k in enumerate(TALLY)}
    size = np.maximum(col["agents"], 1)
    stats = {
        "agents": col["agents"],
        "ever_sanctioned_frac": col["ever"] / size,
        "sanctioned_for_others_acts_frac": col["for_others"] / size,
        "sanctioned_for_expression_frac": col["for_expression"] / size,
        "never_acted_sanctioned_frac": col["never_acted"] / size,
        "falsely_attributed_frac": col["falsely_attributed"] / size,
        "sanctioned_frac": col["sanctioned_now"] / size,
        "isolated_frac": col["isolated"] / size,
    }
    return {g: {k: float(v[i]) for k, v in stats.items()} for i, g in enumerate(nm.groups)}
