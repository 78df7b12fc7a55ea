"""One simulated day, declared once as data: the stages in the order that is part of the
model's contract, each with what it reads and writes of the state, the effects on other
agents it receives and emits, and when it runs (Starsim's ``Loop``; FLAME GPU 2's layers of
agent functions with typed messages).

    act -> observe -> score -> spill -> recover -> sanction -> services -> respond

``DAY`` refines the eight model stages into steps where effects cross between agents
(``visit`` and ``observe``, ``spill`` and ``rate_firms``, ``sanction`` and ``settle``). With the
scoring system switched off (a counterfactual), people still act and ask for services;
nothing is observed to any consequence, so the stages between and the responses are skipped.

A runner runs the stages on a ``Day`` (engine/context.py) and delivers the effects they emit
before the stages that receive them: ``run_day`` in one process (every agent is in the range:
records are handed on as they are); ``experiments/partitioned.py`` across ranges of agents
held by separate actors (``rounds`` splits the day where effects must cross).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.memo import once_per
from .context import Day, join
from .measure import measure_counts, measured
from .stages import act as act_stage
from .stages import (
    avoid,
    firms,
    listing,
    observe,
    paths,
    recover,
    respond,
    sanction,
    score,
    services,
    spill,
    venues,
)
from .state import State

ALWAYS = "always"
SCORING = "scoring"  # only when the scoring system is on


@dataclass(frozen=True)
class Stage:
    """One step of the day: a function of the ``Day``, what it reads and writes of the state,
    the effects delivered to it before it runs and those it emits, and when it runs."""

    name: str
    part_of: str  # the model's stage (DESIGN: act, observe, score, spill, recover, ...)
    run: Callable[[Day], None]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    receives: tuple[str, ...] = ()
    emits: tuple[str, ...] = ()
    when: str = ALWAYS
    needs: Callable[[Day], bool] | None = None  # a further condition, on the plan alone

    def active(self, d: Day) -> bool:
        """Whether the stage runs on this day."""
        if self.when == SCORING and not d.plan.scoring_enabled:
            return False
        return self.needs is None or self.needs(d)


# ------------------------------------------------------------------ the steps
def _retune(d: Day) -> None:
    """A timeline change: of visibility (recount the ties' counts), of the recovery per day
    (bring the but-for paths up to date at the old rate)."""
    if d.previous is None:
        return
    if d.previous.sanction.visible_bits != d.plan.sanction.visible_bits:
        d.emit("visibility", sanction.recount_visibility(d.span, d.plan.sanction, d.net.ties,
                                                         d.state.arrays))
    if d.previous.scoring.recovery != d.plan.scoring.recovery:
        paths.catch_up_range(d.span, d.state.paths, d.day, max(d.previous.scoring.recovery, 0))


def _act(d: Day) -> None:
    p, people = d.plan, d.people
    agent, beh, per_behaviour = act_stage.act(d.span, d.key, p.act, people.propensity,
                                              d.state.caution, d.state.list_state,
                                              d.state.salience_caution)
    k = agent.shape[0]
    d.work["acts"] = score.Acts(agent, beh, np.full(k, -1, np.int32), np.zeros(k, np.uint8))
    G = len(people.group_names)
    by_group = np.bincount(beh.astype(np.int64) * G + people.group[agent],
                           minlength=len(per_behaviour) * G).reshape(-1, G)
    expression = by_group[p.act.expression]
    d.record.add(acts=per_behaviour, expression_acts_by_group=expression,
                 expression_acts=expression.sum(axis=0))


def _visit(d: Day) -> None:
    d.emit("visits", venues.venue_visits(d.span, d.key, d.plan.venues, d.people.arrays))


def _add_searches(d: Day, c: observe.RecognitionCounts) -> None:
    d.record.add(faces_scanned=c.faces, alerts=c.alerts, true_alerts=c.true_alerts,
                 false_alerts=c.false_alerts, true_actions=c.true_actions,
                 false_actions=c.false_actions, falsely_named=c.named,
                 falsely_named_actions=c.named_actions)


def _observe(d: Day) -> None:
    acts, p = d.work.pop("acts"), d.plan
    target, status, searches = observe.observe(acts.agent, acts.beh, d.key, p.observe,
                                               d.people.arrays)
    _add_searches(d, searches)
    acts = acts._replace(target=target, status=status)
    visits = d.received("visits")
    if visits is not None:
        counts, victims = venues.venue_observe(visits, acts, d.span, d.key, p.venues,
                                               p.observe, d.people.arrays, d.state.flags)
        d.record.add(venue_visits=counts.visits, venue_identified=counts.identified,
                     venue_false_matches=counts.false_matches, venue_records=counts.records,
                     venue_acts=counts.acts, venue_associations=counts.associations)
        _add_searches(d, counts.searches)
        d.emit("victims", victims)
    d.emit("acts", acts)


def _score(d: Day) -> None:
    if (victims := d.received("victims")) is not None:
        venues.mark_victims(victims, d.state.flags)
    if d.day == 0:  # the lists' launch: names published at once
        d.record.add(listings=listing.launch(d.span, d.key, d.plan.lists, d.state.arrays))
    pen, c = score.score_and_list(d.received("acts"), d.key, d.span, d.plan.score,
                                  d.plan.lists, d.people.region, d.state.arrays)
    routes = np.zeros((c.delistings.shape[0], 4), np.int64)
    routes[:, listing.REPAID] = c.delistings
    d.record.add(observed=c.observed, false_attributions=c.attributions[0],
                 dismissed_by_review=c.attributions[1], listings=c.listings,
                 delistings=c.delistings, delistings_by_route=routes, repeat_cases=c.repeats)
    d.work["penalties"] = pen


def _firms_rated(d: Day) -> bool:
    return bool(d.plan.rating.weight.any()) and d.plan.spill.association


def _spill(d: Day) -> None:
    pen, p = d.work["penalties"], d.plan
    spilled, hits = spill.spill(pen, d.day, d.span, p.spill, d.net.groups, d.net.ties,
                                d.people.region, d.state.arrays)
    d.record.add(spill_penalties=spilled)
    d.emit("hits", hits)
    if _firms_rated(d) and d.state.firm_rating.shape[0]:
        d.emit("firm_penalties", firms.firm_penalties(pen, p.rating, d.net.groups))


def _rate_firms(d: Day) -> None:
    if (fp := d.received("firm_penalties")) is not None:
        d.record.add(listings=firms.rate_firms(fp, d.key, d.span, d.plan.rating, d.plan.lists,
                                               d.net.groups, d.state.arrays))


def _recover(d: Day) -> None:
    st = d.state.arrays
    if (hits := d.received("hits")) is not None:
        spill.apply_hits(hits, st, d.day, d.plan.spill)
    d.work["busy"], d.work["measured"] = recover.recover(d.span, d.plan.scoring,
                                                         d.plan.sanction, st, d.firms)


def _sanction(d: Day) -> None:
    own = sanction.sanction_own(d.key, d.plan.sanction, d.plan.lists, d.net.groups,
                                d.state.arrays, d.work.pop("busy"), len(d.people.group_names))
    routes = np.zeros((own.expiries.shape[0], 4), np.int64)
    routes[:, listing.EXPIRED] = own.expiries
    routes[:, listing.REMOVED] = own.removals
    routes[:, listing.APPEALED] = own.appealed
    d.record.add(appeals_won=own.appeals_won, listings=own.listings,
                 delistings=own.expiries + own.removals + own.appealed,
                 delistings_by_route=routes, listed_now=own.listed_now)
    d.work["measured"] = d.work["measured"] + own.measured
    d.work["changed"] = own.changed
    d.emit("reach", own.reach)


def _settle(d: Day) -> None:
    s = d.state
    reach = d.received("reach")
    if reach is None:
        reach = sanction.Reach(np.zeros(0, np.int32), np.zeros(0, np.uint8),
                               np.zeros(0, np.bool_))
    s.reached, c, vis = sanction.settle(d.day, d.span, d.plan.sanction, d.net.ties, s.arrays,
                                        s.reached, d.work.pop("changed"), reach,
                                        d.people.group)
    d.record.add(sanction_activations=c.activations, new_sanctioned_people=c.new_people,
                 activations_by_cause=c.by_cause, new_people_by_cause=c.new_by_cause)
    d.emit("visibility", vis)


def _services(d: Day) -> None:
    who = services.Asker(d.people.group, d.people.propensity, d.state.eff_mask,
                         d.state.blocked)
    c = services.use_services(d.span, d.key, d.plan.services, who, len(d.people.group_names))
    d.record.add(requests=c.requests, denied=c.denied, blocked=c.blocked, switched=c.switched)


def _avoiding(d: Day) -> bool:
    return d.plan.respond.avoiding


def _avoid(d: Day) -> None:
    """The visibly sanctioned agents' neighbours decide which ties to cut."""
    d.emit("cuts", avoid.decide(d.span, d.key, d.plan.respond.avoid,
                                d.plan.sanction.visible_bits, d.net.ties, d.state.arrays))


def _cut(d: Day) -> None:
    """The neighbours who cut mark their ends; the sanctioned ends are told."""
    if (cuts := d.received("cuts")) is None:
        return
    n_cut, backs = avoid.apply_cuts(cuts, d.plan.sanction.visible_bits,
                                    d.plan.respond.lost_share, d.net.ties, d.state.arrays)
    d.record.add(ties_cut=n_cut)
    d.emit("cut_backs", backs)


def _cut_back(d: Day) -> None:
    if (backs := d.received("cut_backs")) is not None:
        avoid.apply_backs(backs, d.plan.respond.lost_share, d.net.ties, d.state.arrays)


def _respond(d: Day) -> None:
    st = d.state.arrays
    if (vis := d.received("visibility")) is not None:
        sanction.apply_visibility(vis, st)
    k = d.plan.scoring.grade_bounds.shape[0]
    r = respond.respond(d.span, d.plan.respond, k, d.net.ties, st, d.people.arrays)
    d.work["measured"] = d.work["measured"] + r.row
    d.record.add(caution_by_group=r.by_group, salience_caution=r.salience)


def _measure(d: Day) -> None:
    """The day's measurements: taken where their data passed on a scored day (recover,
    sanction, respond), in one sweep otherwise."""
    p, s, (_, lo, hi) = d.plan, d.state, d.span
    k = p.scoring.grade_bounds.shape[0]
    row = d.work.pop("measured", None)
    if row is None:
        row = measure_counts(p.scoring.grade_bounds, len(d.people.group_names), s.score[lo:hi],
                             s.caution[lo:hi], s.eff_mask[lo:hi], d.people.group[lo:hi])
    m = measured(row, k)
    d.record.add(score_sum=m.score_sum, caution_units=m.caution_units,
                 grades=m.grades if k else m.grades[:0], sanctioned_by_group=m.sanctioned_group,
                 sanctioned=s.sanctioned_count)


def _venues_open(d: Day) -> bool:
    return d.plan.venues.region.shape[0] > 0


# ------------------------------------------------------------------ the day, as data
DAY: tuple[Stage, ...] = (
    Stage("retune", "timeline", _retune, ("eff_mask", "paths", "cut"),
          ("sanctioned_ties", "live", "paths"), emits=("visibility",)),
    Stage("act", "act", _act, ("caution", "salience_caution", "list_state"), ()),
    Stage("visit", "observe", _visit, (), (), emits=("visits",), when=SCORING,
          needs=_venues_open),
    Stage("observe", "observe", _observe, ("flags",), ("flags",), receives=("visits",),
          emits=("acts", "victims"), when=SCORING),
    Stage("score", "score", _score,
          ("score", "flags", "list_state", "list_cause"),
          ("score", "flags", "today", "live", "list_state", "list_cause", "ever_listed",
           "paths"), receives=("acts", "victims"), when=SCORING),
    Stage("spill", "spill", _spill, ("score", "flags", "paths", "cut"),
          ("score", "flags", "paths"),
          emits=("hits", "firm_penalties"), when=SCORING),
    Stage("rate_firms", "spill", _rate_firms, ("firm_rating", "list_state"),
          ("firm_rating", "list_state", "list_cause", "ever_listed"),
          receives=("firm_penalties",), when=SCORING, needs=_firms_rated),
    Stage("recover", "recover", _recover,
          ("score", "own_mask", "list_state", "appeal_day", "firm_rating"),
          ("score", "flags", "paths", "scratch", "firm_rating"), receives=("hits",),
          when=SCORING),
    Stage("sanction", "sanction", _sanction,
          ("score", "list_state", "list_cause", "own_mask", "since", "appeal_day", "paths",
           "scratch"),
          ("score", "list_state", "list_cause", "ever_listed", "own_mask", "scratch", "since",
           "appeal_day", "paths"), emits=("reach",), when=SCORING),
    Stage("settle", "sanction", _settle,
          ("own_mask", "reach_mask", "eff_mask", "list_cause", "flags", "paths", "ever_mask",
           "cut"),
          ("reach_mask", "eff_mask", "flags", "ever_mask", "scratch", "today", "live",
           "appeal_day", "sanctioned_ties", "sanctioned_count", "sanctioned_group"),
          receives=("reach",), emits=("visibility",), when=SCORING),
    Stage("services", "services", _services, ("eff_mask", "blocked"), ("blocked",)),
    Stage("avoid", "respond", _avoid, ("eff_mask", "cut"), (), emits=("cuts",), when=SCORING,
          needs=_avoiding),
    Stage("cut", "respond", _cut, ("eff_mask", "cut", "sanctioned_ties"),
          ("cut", "sanctioned_ties", "live", "flags"), receives=("cuts",),
          emits=("cut_backs",), when=SCORING, needs=_avoiding),
    Stage("cut_back", "respond", _cut_back, ("cut", "sanctioned_ties"),
          ("cut", "sanctioned_ties", "live", "flags"), receives=("cut_backs",), when=SCORING,
          needs=_avoiding),
    Stage("respond", "respond", _respond,
          ("caution", "own_risk", "today", "sanctioned_ties", "live", "cut", "sanctioned_group",
           "salience_caution"),
          ("caution", "own_risk", "today", "sanctioned_ties", "live", "salience_caution"),
          receives=("visibility",), when=SCORING),
    Stage("measure", "measure", _measure,
          ("score", "caution", "eff_mask", "sanctioned_count"), ()),
)
STAGE_NAMES = tuple(s.name for s in DAY)


def rounds(d: Day) -> list[list[Stage]]:
    """The day's active stages, split where an effect emitted in a round is received by a
    later stage: across partitions each round is one call on every range, and the effects
    cross between rounds."""
    out: list[list[Stage]] = [[]]
    emitted: set[str] = set()
    for stage in DAY:
        if not stage.active(d):
            continue
        if emitted & set(stage.receives):
            out.append([])
            emitted = set()
        out[-1].append(stage)
        emitted |= set(stage.emits)
    return out


def run_stages(d: Day, stages: list[Stage], clock: dict[str, float] | None = None) -> None:
    """Run stages on ``d`` in order, each after the effects it receives are delivered from
    ``d.outbox`` (effects from outside the range are put in ``d.inbox`` by the runner)."""
    for stage in stages:
        for kind in stage.receives:
            if kind in d.outbox:
                d.inbox[kind] = join(d.inbox.get(kind), d.outbox.pop(kind))
        t = time.perf_counter() if clock is not None else 0.0
        stage.run(d)
        if clock is not None:
            clock[stage.name] = clock.get(stage.name, 0.0) + time.perf_counter() - t


def run_day(d: Day, profile: bool = False) -> dict[str, float]:
    """Run one day of the whole population in one process (every effect lands in the range
    it was emitted in). Returns seconds per stage with ``profile``."""
    if d.state.sanctioned_group.shape[0] != len(d.people.group_names):
        raise ValueError(f"the state counts {d.state.sanctioned_group.shape[0]} groups, the "
                         f"people {len(d.people.group_names)}: init_state(..., n_groups=...)")
    clock: dict[str, float] | None = {} if profile else None
    run_stages(d, _active(d), clock)
    return clock or {}


def _active(d: Day) -> list[Stage]:
    """The stages that run on the day, found once per plan (when they run depends on the plan
    alone)."""
    return once_per(d.plan, "active stages", lambda _: [s for s in DAY if s.active(d)])


def stage_table(d: Day | None = None):
    """The day's stages as a DataFrame: order, name, model stage, reads, writes, receives,
    emits, when (and, given a ``Day``, whether each runs and in which exchange round)."""
    import pandas as pd

    round_of = {}
    if d is not None:
        for r, stages in enumerate(rounds(d)):
            for s in stages:
                round_of[s.name] = r + 1
    rows = []
    for k, s in enumerate(DAY):
        row = {"order": k + 1, "stage": s.name, "part_of": s.part_of,
               "reads": ", ".join(s.reads), "writes": ", ".join(s.writes),
               "receives": ", ".join(s.receives), "emits": ", ".join(s.emits),
               "when": s.when + (f" and {s.needs.__name__.strip('_').replace('_', ' ')}"
                                 if s.needs else "")}
        if d is not None:
            row["round"] = round_of.get(s.name, 0)
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["DAY", "STAGE_NAMES", "Day", "Stage", "State", "rounds", "run_day", "run_stages",
           "stage_table"]
