"""The scenario schema: the single description of the model's knobs.

Every name here is part of the public contract (DESIGN.md): scripts and ``--set`` overrides
address values by these paths. Kernels never see these objects; ``engine.compile`` turns a
validated ``Scenario`` into plain arrays and numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .overseas import City, CityGroup
from .responses import Responses

Probability = float  # validated as [0, 1] where used


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a scenario must not pass silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ---------------------------------------------------------------- population
class Region(Strict):
    share: float = Field(gt=0, le=1)
    camera_coverage: float = Field(default=0.0, ge=0, le=1)


class Group(Strict):
    share: float = Field(gt=0, le=1)
    watch_multiplier: float = Field(default=1.0, ge=0)
    false_match_multiplier: float = Field(default=1.0, ge=0)
    enrolled: bool = True  # in the home system's face gallery (everyone at home is)


class Trait(Strict):
    """A per-agent propensity. Exactly one of beta, constant, uniform."""

    beta: tuple[float, float] | None = None
    constant: float | None = None
    uniform: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_distribution(self) -> Trait:
        given = [k for k in ("beta", "constant", "uniform") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a trait needs exactly one of: beta, constant, uniform")
        if self.beta is not None and min(self.beta) <= 0:
            raise ValueError("beta parameters must be > 0")
        if self.constant is not None and self.constant < 0:
            raise ValueError("constant must be >= 0")
        if self.uniform is not None and not (0 <= self.uniform[0] <= self.uniform[1]):
            raise ValueError("uniform needs 0 <= low <= high")
        return self

    def highest(self) -> float:
        """The largest value the distribution can take (beta: 1)."""
        if self.beta is not None:
            return 1.0
        if self.uniform is not None:
            return float(self.uniform[1])
        return float(self.constant or 0.0)

    def mean(self) -> float:
        """The distribution's mean."""
        if self.beta is not None:
            a, b = self.beta
            return a / (a + b)
        if self.uniform is not None:
            return 0.5 * (self.uniform[0] + self.uniform[1])
        return float(self.constant)


class Population(Strict):
    regions: dict[str, Region] = Field(min_length=1)
    groups: dict[str, Group] = Field(default_factory=lambda: {"all": Group(share=1.0)})
    traits: dict[str, Trait] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Population:
        for what in ("regions", "groups"):
            total = sum(v.share for v in getattr(self, what).values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"{what} shares sum to {total:.6g}, not 1")
        if len(self.regions) > 255 or len(self.groups) > 255:
            raise ValueError("at most 255 regions and 255 groups")
        return self


# ---------------------------------------------------------------- layers
class ZipfSize(Strict):
    """Group sizes with P(size = s) proportional to s^-(1 + zipf), s in [min, max]."""

    zipf: float = Field(gt=0)
    max: int = Field(ge=1, le=100_000)
    min: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _range(self) -> ZipfSize:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Rating(Strict):
    """A corporate rating for each group of a group layer (a firm, for the work layer).

    It starts at the scoring's initial score; every penalty of a member lowers it by
    ``weight`` times the points (company scores follow the ratings of their personnel: EU
    Chamber, "The Digital Hand", 2019); it recovers like scores do. When it falls below
    ``threshold`` the group's owner (its first member, the legal representative) is put on
    every list whose ``enter_on_rating`` names this layer."""

    weight: float = Field(default=1.0, gt=0)
    threshold: float


class Assortativity(Strict):
    """How a tie layer's ties stay within a group and a region: Coleman's homophily index
    (docs/model.md). A tie an agent starts stays in its region with probability ``region``,
    else joins anyone at home; and within the chosen region joins its own group with
    probability ``group``, else anyone. A member of a group of share p then has a share
    ``group + (1 - group) * p`` of its ties in its group, at any population size."""

    group: float = Field(default=0.0, ge=0, le=1)
    region: float = Field(default=1.0, ge=0, le=1)


class Layer(Strict):
    """A layer of the multiplex network.

    kind ``group``: agents are partitioned into groups (households, work teams) with the given
    size distribution; no edges are stored. kind ``ties``: a random tie network within each
    region with the given mean degree, stored as CSR.
    """

    kind: Literal["group", "ties"]
    size: dict[int, float] | ZipfSize | None = None
    mean_degree: float | None = Field(default=None, ge=0, le=1000)
    spillover: float = Field(default=0.0, ge=0, le=1)
    coverage: float = Field(default=1.0, ge=0, le=1)  # share of agents in the layer (workforce)
    # ties: of the ties an agent starts within its own group and region, the share drawn among
    # the nearest agents (a neighbourhood of local_window agents); the rest anywhere in that
    # group and region. Most daily contacts are within 1 km of home (SOURCES 5.3).
    local_share: float = Field(default=0.8, ge=0, le=1)
    local_window: int = Field(default=2000, ge=2)
    assortativity: Assortativity = Field(default_factory=lambda: Assortativity())
    rating: Rating | None = None  # group layers only

    @model_validator(mode="after")
    def _kind_fields(self) -> Layer:
        if self.kind == "group":
            if self.size is None:
                raise ValueError("a group layer needs 'size'")
            if self.mean_degree is not None:
                raise ValueError("'mean_degree' is for ties layers; a group layer has 'size'")
            if isinstance(self.size, dict):
                if not self.size or min(self.size) < 1:
                    raise ValueError("size keys are group sizes >= 1")
                total = sum(self.size.values())
                if min(self.size.values()) < 0 or abs(total - 1.0) > 1e-3:
                    raise ValueError(
                        f"size shares must be >= 0 and sum to 1 (they sum to {total:.6g})"
                    )
        else:
            if self.mean_degree is None:
                raise ValueError("a ties layer needs 'mean_degree'")
            if self.size is not None:
                raise ValueError("'size' is for group layers; a ties layer has 'mean_degree'")
        return self


# ---------------------------------------------------------------- observation
class Channel(Strict):
    """How acts are seen. ``observe: coverage`` means the region's camera coverage
    (times the agent's group watch multiplier), then ``recognition``."""

    observe: float | Literal["coverage"] = 1.0
    recognition: float = Field(default=1.0, ge=0, le=1)
    false_match: float = Field(default=0.0, ge=0, le=1)
    # false matches from a per-comparison rate and the gallery searched: 1 - (1 - fmr)^gallery
    # (about gallery x fmr: false alerts grow with the watch list, SOURCES 1.11); overrides
    # false_match when both are given
    fmr: float | None = Field(default=None, ge=0, le=1)
    gallery: int | None = Field(default=None, ge=1)

    def false_match_probability(self) -> float:
        if self.fmr is not None and self.gallery is not None:
            return 1.0 - (1.0 - self.fmr) ** self.gallery
        return self.false_match

    @field_validator("observe")
    @classmethod
    def _prob(cls, v: Any) -> Any:
        if isinstance(v, float) and not 0 <= v <= 1:
            raise ValueError("observe must be a probability in [0, 1] or 'coverage'")
        return v


class Requires(Strict):
    on_list: str


class Behaviour(Strict):
    rate: float = Field(ge=0, le=1)
    channel: str
    propensity: str | None = None
    deterrability: float = Field(default=0.0, ge=-10, le=1)
    expression: bool = False
    requires: Requires | None = None


# ---------------------------------------------------------------- scoring and lists
class Scoring(Strict):
    initial: float = 1000.0
    recovery_per_day: float = Field(default=0.0, ge=0)
    rules: dict[str, float] = Field(default_factory=dict)
    # a region's own rules, over the national ones (a regional pilot system); a timeline change
    # that empties this mapping merges the pilots into one national system
    regional_rules: dict[str, dict[str, float]] = Field(default_factory=dict)
    grades: dict[str, float | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _grades_ordered(self) -> Scoring:
        bounds = list(self.grades.values())
        if bounds:
            if bounds[-1] is not None or any(b is None for b in bounds[:-1]):
                raise ValueError("grades go from highest to lowest; only the last has null")
            numbers = bounds[:-1]
            if any(a <= b for a, b in zip(numbers, numbers[1:], strict=False)):
                raise ValueError("grade lower bounds must fall strictly from first to last")
        return self


class ListSpec(Strict):
    """A named list. Agents enter it by a behaviour (``enter_on``) or, as owners of a group
    whose corporate rating fell below its threshold (``enter_on_rating``: a rated layer).
    What others see of a listing is a sanction on the list declared ``visible`` (a list
    published by name is a visible sanction that denies nothing)."""

    enter_on: str | None = None
    enter_on_rating: str | None = None
    grace_days: int = Field(default=0, ge=0)
    leave_on: str | None = None
    expire_days: int | None = Field(default=None, ge=1)


    @model_validator(mode="after")
    def _one_way_in(self) -> ListSpec:
        if (self.enter_on is None) == (self.enter_on_rating is None):
            raise ValueError("a list needs exactly one of: enter_on, enter_on_rating")
        return self


class When(Strict):
    on_list: str | None = None
    grade_at_most: str | None = None

    @model_validator(mode="after")
    def _one(self) -> When:
        if (self.on_list is None) == (self.grade_at_most is None):
            raise ValueError("'when' needs exactly one of: on_list, grade_at_most")
        return self


class Sanction(Strict):
    when: When
    denies: list[str] = Field(default_factory=list)
    reaches: str | None = None  # a group layer whose other members are sanctioned too
    visible: bool = False
    min_days: int = Field(default=0, ge=0)


class Service(Strict):
    demand: float = Field(ge=0, le=1)


class Appeals(Strict):
    enabled: bool = False
    success: float = Field(default=0.5, ge=0, le=1)
    delay_days: int = Field(default=30, ge=0)


class Safeguards(Strict):
    protected: list[str] = Field(default_factory=list)
    association_penalties: bool = True
    human_review: bool = False
    appeals: Appeals = Field(default_factory=Appeals)


class Change(Strict):
    day: int = Field(ge=0)
    set: dict[str, Any] = Field(min_length=1)


# ---------------------------------------------------------------- the scenario
class Scenario(Strict):
    name: str
    description: str = ""
    scoring_enabled: bool = True  # False: people act, nothing is observed to any consequence
    population: Population
    layers: dict[str, Layer] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=dict)
    behaviours: dict[str, Behaviour] = Field(min_length=1)
    scoring: Scoring = Field(default_factory=Scoring)
    lists: dict[str, ListSpec] = Field(default_factory=dict)
    sanctions: dict[str, Sanction] = Field(default_factory=dict)
    services: dict[str, Service] = Field(default_factory=dict)
    responses: Responses = Field(default_factory=Responses)
    safeguards: Safeguards = Field(default_factory=Safeguards)
    timeline: list[Change] = Field(default_factory=list)
    # the calendar date of day 0, if the scenario models real dates (reports show dates)
    start_date: date | None = None
    overseas: dict[str, City] = Field(default_factory=dict)

    def region_names(self) -> list[str]:
        """Home regions, then cities abroad (each a region of its own)."""
        return [*self.population.regions, *self.overseas]

    def group_names(self) -> list[str]:
        """Groups at home, then the groups of cities abroad."""
        out = list(self.population.groups)
        for city in self.overseas.values():
            out += [g for g in city.groups if g not in out]
        return out

    def group(self, name: str) -> Group | CityGroup:
        if name in self.population.groups:
            return self.population.groups[name]
        return next(c.groups[name] for c in self.overseas.values() if name in c.groups)

    @model_validator(mode="after")
    def _overseas_resolve(self) -> Scenario:
        for name, city in self.overseas.items():
            if name in self.population.regions:
                raise ValueError(f"overseas.{name}: a city abroad cannot share a region's name")
            for g in city.groups:
                if g in self.population.groups:
                    raise ValueError(f"overseas.{name}.groups.{g}: a city's groups need names "
                                     "of their own (not a group at home)")
            if city.channel not in self.channels:
                raise ValueError(f"overseas.{name}.channel: unknown channel '{city.channel}'")
            if city.kin_home > 0:
                la = self.layers.get(city.kin_layer)
                if la is None or la.kind != "ties":
                    raise ValueError(f"overseas.{name}.kin_layer: '{city.kin_layer}' is not a "
                                     "ties layer")
            for v, venue in city.venues.items():
                for g in venue.visit:
                    if g not in city.groups:
                        raise ValueError(f"overseas.{name}.venues.{v}.visit.{g}: not a group "
                                         "of this city")
        if sum(c.share for c in self.overseas.values()) >= 1:
            raise ValueError("overseas: cities' shares must leave people at home")
        return self

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        """Every name a value refers to must exist; errors name the referring key."""
        traits, lists = set(self.population.traits), set(self.lists)
        for name, b in self.behaviours.items():
            if b.channel not in self.channels:
                raise ValueError(f"behaviours.{name}.channel: unknown channel '{b.channel}'")
            if b.propensity is not None and b.propensity not in traits:
                raise ValueError(f"behaviours.{name}.propensity: unknown trait '{b.propensity}'")
            if b.propensity is not None and self.population.traits[b.propensity].mean() <= 0:
                raise ValueError(  # propensities are normalised by their mean
                    f"behaviours.{name}.propensity: trait '{b.propensity}' has mean 0"
                )
            if b.requires is not None and b.requires.on_list not in lists:
                raise ValueError(
                    f"behaviours.{name}.requires.on_list: unknown list '{b.requires.on_list}'"
                )
        for b in self.scoring.rules:
            if b not in self.behaviours:
                raise ValueError(f"scoring.rules.{b}: unknown behaviour '{b}'")
        for r, rules in self.scoring.regional_rules.items():
            if r not in self.population.regions:
                raise ValueError(f"scoring.regional_rules.{r}: unknown region '{r}'")
            for b in rules:
                if b not in self.behaviours:
                    raise ValueError(f"scoring.regional_rules.{r}.{b}: unknown behaviour '{b}'")
        for name, spec in self.lists.items():
            for key in ("enter_on", "leave_on"):
                b = getattr(spec, key)
                if b is not None and b not in self.behaviours:
                    raise ValueError(f"lists.{name}.{key}: unknown behaviour '{b}'")
        for name, spec in self.lists.items():
            la = self.layers.get(spec.enter_on_rating) if spec.enter_on_rating else None
            if spec.enter_on_rating is not None and (la is None or la.rating is None):
                raise ValueError(f"lists.{name}.enter_on_rating: '{spec.enter_on_rating}' is "
                                 "not a group layer with a rating")
        for name, la in self.layers.items():
            if la.rating is not None and la.kind != "group":
                raise ValueError(f"layers.{name}.rating: only group layers have ratings")
        group_layers = {n for n, la in self.layers.items() if la.kind == "group"}
        for name, s in self.sanctions.items():
            if s.when.on_list is not None and s.when.on_list not in lists:
                raise ValueError(f"sanctions.{name}.when.on_list: unknown list '{s.when.on_list}'")
            if s.when.grade_at_most is not None and s.when.grade_at_most not in self.scoring.grades:
                raise ValueError(
                    f"sanctions.{name}.when.grade_at_most: unknown grade '{s.when.grade_at_most}'"
                )
            for svc in s.denies:
                if svc not in self.services:
                    raise ValueError(f"sanctions.{name}.denies: unknown service '{svc}'")
            if s.reaches is not None and s.reaches not in group_layers:
                raise ValueError(
                    f"sanctions.{name}.reaches: '{s.reaches}' is not a group layer"
                )
        for b in self.responses.salience:
            if b not in self.behaviours:
                raise ValueError(f"responses.salience.{b}: unknown behaviour '{b}'")
        attitude = self.responses.attitude
        if attitude is not None and attitude not in traits:
            raise ValueError(f"responses.attitude: unknown trait '{attitude}'")
        if attitude is not None and self.population.traits[attitude].mean() <= 0:
            raise ValueError(f"responses.attitude: trait '{attitude}' has mean 0")
        for b in self.safeguards.protected:
            if b not in self.behaviours:
                raise ValueError(f"safeguards.protected: unknown behaviour '{b}'")
        if len(self.behaviours) > 255:
            raise ValueError("at most 255 behaviours")
        if len(self.sanctions) > 8:
            raise ValueError("at most 8 sanctions")
        if len(self.lists) > 8:
            raise ValueError("at most 8 lists")
        # the random streams' keys keep these apart below 256 each (core/rng.py)
        if sum(len(c.venues) for c in self.overseas.values()) > 255:
            raise ValueError("at most 255 kinds of venue abroad, over all cities")
        if sum(v.kind == "ties" for v in self.layers.values()) > 255:
            raise ValueError("at most 255 tie layers")
        if len(self.region_names()) > 255 or len(self.group_names()) > 255:
            raise ValueError("at most 255 regions and 255 groups, cities abroad included")
        return self
