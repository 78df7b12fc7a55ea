"""The scenario's institutions: its lists (who enters, for how long, how they leave) and the
services people ask for (and what they do when turned away). Part of the schema
(``scenario.schema``), kept apart to keep each file short."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .overseas import MAX_DAYS


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a scenario must not pass silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Publication(Strict):
    """Courts coming online: the share of new cases whose debtor is put on the list rises
    along a logistic curve, ``1 / (1 + exp(-(day - midpoint) / width))`` (a case not published
    never reaches the list)."""

    midpoint: float  # the day half the cases are published
    width: float = Field(gt=0)  # days; the share goes from 12% to 88% in 4 widths


class Extension(Strict):
    """Aggravated cases: a share of the listings that carry a term get a longer one, by a
    whole number of days drawn evenly from ``days`` (low, high)."""

    share: float = Field(ge=0, le=1)
    days: tuple[int, int]

    @model_validator(mode="after")
    def _days(self) -> Extension:
        if not 0 <= self.days[0] <= self.days[1] <= MAX_DAYS:
            raise ValueError(f"days must be [low, high] with 0 <= low <= high <= {MAX_DAYS}")
        return self


class ListSpec(Strict):
    """A named list. Agents enter it by a behaviour (``enter_on``) or, as owners of a group
    whose corporate rating fell below its threshold (``enter_on_rating``: a rated layer).
    What others see of a listing is a sanction on the list declared ``visible`` (a list
    published by name is a visible sanction that denies nothing).

    How long a listing lasts: until a repair behaviour (``leave_on``); a share
    ``term_share`` of listings also end after ``expire_days`` (some extended, ``extension``),
    the others last until repaired; every listed agent is removed without repair with the
    daily probability ``removal_rate`` (a court closing a case the debtor cannot pay; a
    removal campaign is a timeline change of it). A further case against an agent already
    listed renews a listing with a term (a repeat case). ``initial_share``: the share of
    people on the list on day 0 (names published at launch); ``publication``: courts coming
    online."""

    enter_on: str | None = None
    enter_on_rating: str | None = None
    grace_days: int = Field(default=0, ge=0, le=MAX_DAYS)
    leave_on: str | None = None
    expire_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    term_share: float = Field(default=1.0, ge=0, le=1)
    extension: Extension | None = None
    removal_rate: float = Field(default=0.0, ge=0, le=1)
    initial_share: float = Field(default=0.0, ge=0, le=1)
    publication: Publication | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> ListSpec:
        if (self.enter_on is None) == (self.enter_on_rating is None):
            raise ValueError("a list needs exactly one of: enter_on, enter_on_rating")
        if self.expire_days is None and (self.term_share < 1 or self.extension is not None):
            raise ValueError("term_share and extension need expire_days")
        return self


class Service(Strict):
    """A service agents ask for. ``demand``: the mean daily probability of a request (a trip,
    an application); ``propensity``: a trait that spreads it over people (a few fly often).
    After a denial: the request is tried again the same day with probability ``retry`` (each
    try is a request and a denial); a person turned away before, and still barred, does not
    ask at all with probability ``give_up`` (it knows); a denied or given-up request goes to
    ``switch_to`` (rail for a flight) with probability ``switch`` when that service is not
    denied to the person."""

    demand: float = Field(ge=0, le=1)
    propensity: str | None = None
    retry: float = Field(default=0.0, ge=0, le=0.999)
    give_up: float = Field(default=0.0, ge=0, le=1)
    switch_to: str | None = None
    switch: float = Field(default=0.0, ge=0, le=1)
