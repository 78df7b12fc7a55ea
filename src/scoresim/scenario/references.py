"""Cross-references inside a scenario: every name a value refers to (a channel, a trait, a
list, a grade, a service, a layer, a region, a city's group) must exist. Errors name the
referring key ("behaviours.x.channel: unknown channel 'tv' (did you mean 'tv2'?)"), which the
loader turns into the file's line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import did_you_mean

if TYPE_CHECKING:
    from .schema import Scenario


def unknown(kind: str, name: str, known: Iterable[Any]) -> str:
    """"unknown <kind> '<name>'", with the closest known name or the known names."""
    return f"unknown {kind} '{name}'" + did_you_mean(name, known)


def check_overseas(scenario: Scenario) -> None:
    """Cities abroad: their names, groups, channel, kin layer and venues."""
    for name, city in scenario.overseas.items():
        if name in scenario.population.regions:
            raise ValueError(f"overseas.{name}: a city abroad cannot share a region's name")
        for g in city.groups:
            if g in scenario.population.groups:
                raise ValueError(f"overseas.{name}.groups.{g}: a city's groups need names "
                                 "of their own (not a group at home)")
        if city.channel not in scenario.channels:
            raise ValueError(f"overseas.{name}.channel: "
                             + unknown("channel", city.channel, scenario.channels))
        if city.kin_home > 0:
            la = scenario.layers.get(city.kin_layer)
            if la is None or la.kind != "ties":
                raise ValueError(f"overseas.{name}.kin_layer: '{city.kin_layer}' is not a "
                                 "ties layer")
        for v, venue in city.venues.items():
            for g in venue.visit:
                if g not in city.groups:
                    raise ValueError(f"overseas.{name}.venues.{v}.visit.{g}: not a group "
                                     "of this city")
    if sum(c.share for c in scenario.overseas.values()) >= 1:
        raise ValueError("overseas: cities' shares must leave people at home")


def check_references(scenario: Scenario) -> None:
    """Every name a value refers to exists (see the module docstring)."""
    traits, lists = list(scenario.population.traits), list(scenario.lists)
    for name, b in scenario.behaviours.items():
        if b.channel not in scenario.channels:
            raise ValueError(f"behaviours.{name}.channel: "
                             + unknown("channel", b.channel, scenario.channels))
        if b.propensity is not None and b.propensity not in traits:
            raise ValueError(f"behaviours.{name}.propensity: "
                             + unknown("trait", b.propensity, traits))
        if b.propensity is not None and scenario.population.traits[b.propensity].mean() <= 0:
            raise ValueError(  # propensities are normalised by their mean
                f"behaviours.{name}.propensity: trait '{b.propensity}' has mean 0"
            )
        if b.requires is not None and b.requires.on_list not in lists:
            raise ValueError(
                f"behaviours.{name}.requires.on_list: "
                + unknown("list", b.requires.on_list, lists)
            )
    for b in scenario.scoring.rules:
        if b not in scenario.behaviours:
            raise ValueError(f"scoring.rules.{b}: " + unknown("behaviour", b, scenario.behaviours))
    for r, rules in scenario.scoring.regional_rules.items():
        if r not in scenario.population.regions:
            raise ValueError(f"scoring.regional_rules.{r}: "
                             + unknown("region", r, scenario.population.regions))
        for b in rules:
            if b not in scenario.behaviours:
                raise ValueError(f"scoring.regional_rules.{r}.{b}: "
                                 + unknown("behaviour", b, scenario.behaviours))
    for name, spec in scenario.lists.items():
        for key in ("enter_on", "leave_on"):
            b = getattr(spec, key)
            if b is not None and b not in scenario.behaviours:
                raise ValueError(f"lists.{name}.{key}: "
                                 + unknown("behaviour", b, scenario.behaviours))
    for name, spec in scenario.lists.items():
        la = scenario.layers.get(spec.enter_on_rating) if spec.enter_on_rating else None
        if spec.enter_on_rating is not None and (la is None or la.rating is None):
            raise ValueError(f"lists.{name}.enter_on_rating: '{spec.enter_on_rating}' is "
                             "not a group layer with a rating")
    for name, la in scenario.layers.items():
        if la.rating is not None and la.kind != "group":
            raise ValueError(f"layers.{name}.rating: only group layers have ratings")
    group_layers = {n for n, la in scenario.layers.items() if la.kind == "group"}
    for name, s in scenario.sanctions.items():
        if s.when.on_list is not None and s.when.on_list not in lists:
            raise ValueError(f"sanctions.{name}.when.on_list: "
                             + unknown("list", s.when.on_list, lists))
        if s.when.grade_at_most is not None and s.when.grade_at_most not in scenario.scoring.grades:
            raise ValueError(
                f"sanctions.{name}.when.grade_at_most: "
                + unknown("grade", s.when.grade_at_most, scenario.scoring.grades)
            )
        for svc in s.denies:
            if svc not in scenario.services:
                raise ValueError(f"sanctions.{name}.denies: "
                                 + unknown("service", svc, scenario.services))
        if s.reaches is not None and s.reaches not in group_layers:
            raise ValueError(
                f"sanctions.{name}.reaches: '{s.reaches}' is not a group layer"
            )
    for name, svc in scenario.services.items():
        if svc.propensity is not None and svc.propensity not in traits:
            raise ValueError(f"services.{name}.propensity: "
                             + unknown("trait", svc.propensity, traits))
        if svc.propensity is not None and scenario.population.traits[svc.propensity].mean() <= 0:
            raise ValueError(f"services.{name}.propensity: trait '{svc.propensity}' has mean 0")
        if svc.switch_to is not None and svc.switch_to not in scenario.services:
            raise ValueError(f"services.{name}.switch_to: "
                             + unknown("service", svc.switch_to, scenario.services))
        if svc.switch_to == name:
            raise ValueError(f"services.{name}.switch_to: a service cannot switch to itself")
    for b in scenario.responses.salience:
        if b not in scenario.behaviours:
            raise ValueError(f"responses.salience.{b}: "
                             + unknown("behaviour", b, scenario.behaviours))
    attitude = scenario.responses.attitude
    if attitude is not None and attitude not in traits:
        raise ValueError("responses.attitude: " + unknown("trait", attitude, traits))
    if attitude is not None and scenario.population.traits[attitude].mean() <= 0:
        raise ValueError(f"responses.attitude: trait '{attitude}' has mean 0")
    for b in scenario.safeguards.protected:
        if b not in scenario.behaviours:
            raise ValueError("safeguards.protected: "
                             + unknown("behaviour", b, scenario.behaviours))
    for gname in scenario.group_names():
        mult = scenario.group(gname).watch_multiplier
        for c in mult if isinstance(mult, dict) else ():
            if c not in scenario.channels:
                where = ("population.groups" if gname in scenario.population.groups
                         else "overseas.<city>.groups")
                raise ValueError(f"{where}.{gname}.watch_multiplier.{c}: "
                                 + unknown("channel", c, scenario.channels))
    if len(scenario.behaviours) > 255:
        raise ValueError("at most 255 behaviours")
    if len(scenario.sanctions) > 8:
        raise ValueError("at most 8 sanctions")
    if len(scenario.lists) > 8:
        raise ValueError("at most 8 lists")
    if len(scenario.services) > 8:  # the people turned away from each: a bit per service
        raise ValueError("at most 8 services")
    # the random streams' keys keep these apart below 256 each (core/rng.py)
    if sum(len(c.venues) for c in scenario.overseas.values()) > 255:
        raise ValueError("at most 255 kinds of venue abroad, over all cities")
    if sum(v.kind == "ties" for v in scenario.layers.values()) > 255:
        raise ValueError("at most 255 tie layers")
    if len(scenario.region_names()) > 255 or len(scenario.group_names()) > 255:
        raise ValueError("at most 255 regions and 255 groups, cities abroad included")
