"""The scenario schema: the single description of the model's knobs.

Every name here is part of the public contract (DESIGN.md): scripts and ``--set`` overrides
address values by these paths. Kernels never see these objects; ``engine.compile`` turns a
validated ``Scenario`` into plain arrays and numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .channels import Channel, Review
from .institution import ListSpec, Service
from .overseas import MAX_DAYS, MAX_FACTOR, City, CityGroup, Multiplier, check_multiplier
from .references import check_overseas, check_references
from .responses import Responses

Probability = float  # validated as [0, 1] where used

# Bounds where a value's meaning has them. Scores and points are int32 fixed point (x 100) in
# the engine: a score scale within a million points, single rules within ten thousand, leave
# room for the sum of many penalties.
MAX_SCORE = 1e6
MAX_POINTS = 1e4
MAX_GROUP_SIZE = 100_000
Points = Annotated[float, Field(ge=-MAX_POINTS, le=MAX_POINTS)]
ScoreLevel = Annotated[float, Field(ge=-MAX_SCORE, le=MAX_SCORE)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a scenario must not pass silently. Numbers are
    finite: NaN and infinities are refused wherever the schema takes a number."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


# ---------------------------------------------------------------- population
class Region(Strict):
    """A home region: its share of the population and its camera coverage (the share of acts
    a channel observed by ``coverage`` captures there)."""

    share: float = Field(gt=0, le=1)
    camera_coverage: float = Field(default=0.0, ge=0, le=1)


class Group(Strict):
    """People of one origin at home. ``watch_multiplier``: how much more often their acts are
    captured, one number for the camera channels (``observe: coverage``) or a mapping
    ``{channel: multiplier}`` (channels not named: 1); ``false_match_multiplier``: how much
    higher the per-comparison false-match rate of their faces is (NISTIR 8280)."""

    share: float = Field(gt=0, le=1)
    watch_multiplier: Multiplier = 1.0
    false_match_multiplier: float = Field(default=1.0, ge=0, le=MAX_FACTOR)
    enrolled: bool = True  # in the home system's face gallery (everyone at home is)

    @field_validator("watch_multiplier")
    @classmethod
    def _multiplier(cls, v: Any) -> Any:
        return check_multiplier(v)


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
        if self.beta is not None and not 0 < min(self.beta) <= max(self.beta) <= MAX_FACTOR:
            raise ValueError(f"beta parameters must be > 0 and at most {MAX_FACTOR:g}")
        if self.constant is not None and not 0 <= self.constant <= MAX_FACTOR:
            raise ValueError(f"constant must be >= 0 and at most {MAX_FACTOR:g}")
        if self.uniform is not None and not (
                0 <= self.uniform[0] <= self.uniform[1] <= MAX_FACTOR):
            raise ValueError(f"uniform needs 0 <= low <= high <= {MAX_FACTOR:g}")
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
    """The synthetic people: regions and groups (each set's shares sum to 1) and the
    per-agent traits that behaviours and responses draw on."""

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

    zipf: float = Field(gt=0, le=100)
    max: int = Field(ge=1, le=MAX_GROUP_SIZE)
    min: int = Field(default=1, ge=1, le=MAX_GROUP_SIZE)

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

    weight: float = Field(default=1.0, gt=0, le=MAX_FACTOR)
    threshold: ScoreLevel


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
    local_window: int = Field(default=2000, ge=2, le=2**31 - 1)
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
                if not self.size or not 1 <= min(self.size) <= max(self.size) <= MAX_GROUP_SIZE:
                    raise ValueError(f"size keys are group sizes from 1 to {MAX_GROUP_SIZE:,}")
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
class Requires(Strict):
    """A behaviour only agents on the list ``on_list`` can commit (a debtor repays while
    listed)."""

    on_list: str


class Behaviour(Strict):
    """Something agents do: each day with probability ``rate`` (times the agent's
    ``propensity`` trait, if named), seen by ``channel``. ``deterrability`` is how much caution
    deters it (negative: caution makes it more likely); ``expression`` marks speech, whose
    chilling and sanctions are counted apart."""

    rate: float = Field(ge=0, le=1)
    channel: str
    propensity: str | None = None
    deterrability: float = Field(default=0.0, ge=-10, le=1)
    expression: bool = False
    requires: Requires | None = None


# ---------------------------------------------------------------- scoring and lists
class Scoring(Strict):
    """The score: every agent starts at ``initial`` points; ``rules`` give the points an
    observed behaviour adds (negative: a penalty), ``regional_rules`` a region's own; scores
    recover ``recovery_per_day`` toward the initial score; ``grades`` maps each grade, highest
    first, to its lower bound (the last: null)."""

    initial: ScoreLevel = 1000.0
    recovery_per_day: float = Field(default=0.0, ge=0, le=MAX_POINTS)
    rules: dict[str, Points] = Field(default_factory=dict)
    # a region's own rules, over the national ones (a regional pilot system); a timeline change
    # that empties this mapping merges the pilots into one national system
    regional_rules: dict[str, dict[str, Points]] = Field(default_factory=dict)
    grades: dict[str, ScoreLevel | None] = Field(default_factory=dict)

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


class When(Strict):
    """When a sanction is active: while the agent is on a list, or while its grade is at most
    the one named."""

    on_list: str | None = None
    grade_at_most: str | None = None

    @model_validator(mode="after")
    def _one(self) -> When:
        if (self.on_list is None) == (self.grade_at_most is None):
            raise ValueError("'when' needs exactly one of: on_list, grade_at_most")
        return self


class Sanction(Strict):
    """A sanction: active while ``when`` holds (and at least ``min_days`` once it starts), it
    denies the services in ``denies``, also falls on the other members of the agent's group in
    the group layer ``reaches`` (if named), and when ``visible`` is seen by the agent's ties."""

    when: When
    denies: list[str] = Field(default_factory=list)
    reaches: str | None = None  # a group layer whose other members are sanctioned too
    visible: bool = False
    min_days: int = Field(default=0, ge=0, le=MAX_DAYS)




class Appeals(Strict):
    """Appeals against sanctions that rest on false matches: when ``enabled``, an appeal is
    decided after ``delay_days`` and succeeds with probability ``success``."""

    enabled: bool = False
    success: float = Field(default=0.5, ge=0, le=1)
    delay_days: int = Field(default=30, ge=0, le=MAX_DAYS)


class Safeguards(Strict):
    """Limits on the system: behaviours never scored (``protected``), whether penalties spill
    onto neighbours and corporate ratings (``association_penalties``), human review of
    matches and appeals."""

    protected: list[str] = Field(default_factory=list)
    association_penalties: bool = True
    human_review: bool = False
    review: Review = Field(default_factory=Review)  # used when human_review is true
    appeals: Appeals = Field(default_factory=Appeals)


class Change(Strict):
    """A timeline change: from ``day`` on, the values at the dotted paths of ``set`` (as for
    ``--set``) are replaced."""

    day: int = Field(ge=0, le=10**7)
    set: dict[str, Any] = Field(min_length=1)


# ---------------------------------------------------------------- the scenario
class Scenario(Strict):
    """A whole scenario: the people and their network layers, what is watched (channels) and
    done (behaviours), how it is scored, listed and sanctioned, the services sanctions deny,
    how people respond, the safeguards, cities abroad and changes over time."""

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
        """The group called ``name``, at home or else in a city abroad."""
        if name in self.population.groups:
            return self.population.groups[name]
        return next(c.groups[name] for c in self.overseas.values() if name in c.groups)

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        """Every name a value refers to must exist; errors name the referring key."""
        check_overseas(self)
        check_references(self)
        return self
