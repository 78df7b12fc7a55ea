"""The scenario's ``overseas`` section: cities abroad, their people and their venues.

A city abroad is a region of its own with local residents (not enrolled in the home system's
gallery) and diaspora citizens (enrolled), optional kin ties from the diaspora back home, and
venues whose cameras may feed the home system: the reported case of a restaurant in Vancouver
with more than 60 cameras over 30 tables, one of a 935-restaurant chain (SOURCES 2.1; the
company denied sending video home). Cameras and recognition exist only as probabilities.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_DAYS = 100_000  # durations in days (grace, expiry, appeals): 270 years
MAX_FACTOR = 1e6  # multipliers, trait values and weights


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


Multiplier = float | dict[str, float]  # one value for cameras, or a value per named channel


def check_multiplier(v: Any) -> Any:
    """A watch multiplier is >= 0, given once (for the camera channels) or per channel."""
    values = v.values() if isinstance(v, dict) else [v]
    if any(not 0 <= x <= MAX_FACTOR for x in values):
        raise ValueError(f"watch multipliers must be >= 0 and at most {MAX_FACTOR:g}")
    return v


class CityGroup(_Strict):
    """People of one origin in the city. ``enrolled``: in the home system's face gallery;
    the multipliers as a home group's (scenario/schema.py ``Group``)."""

    share: float = Field(gt=0, le=1)
    enrolled: bool = True
    watch_multiplier: Multiplier = 1.0
    false_match_multiplier: float = Field(default=1.0, ge=0, le=MAX_FACTOR)

    @field_validator("watch_multiplier")
    @classmethod
    def _multiplier(cls, v: Any) -> Any:
        return check_multiplier(v)


class Venue(_Strict):
    """``count`` venues of one kind (a chain's restaurants in the city), each with ``tables``.

    Each day each resident visits one of them with the probability ``visit`` gives for the
    resident's group (if it is open: ``open_share`` of days), and sits at a table drawn
    uniformly. A patron is captured by the cameras with ``capture`` (by default
    cameras / tables / 2, at most 1: two cameras a table see every seat). A captured act or
    face crosses the border only when ``feed_home`` is true."""

    count: int = Field(default=1, ge=1, le=10**6)
    tables: int = Field(ge=1, le=10**6)
    cameras: int = Field(default=0, ge=0, le=10**7)
    capture: float | None = Field(default=None, ge=0, le=1)
    open_share: float = Field(default=1.0, ge=0, le=1)
    feed_home: bool = True
    visit: dict[str, float] = Field(default_factory=dict)
    act_share: float = Field(default=0.5, ge=0, le=1)  # share of a visit day's acts done there

    def capture_probability(self) -> float:
        """The probability that the cameras capture a patron: ``capture`` if given, else
        cameras / tables / 2, at most 1."""
        if self.capture is not None:
            return self.capture
        return min(1.0, self.cameras / self.tables / 2.0)

    @model_validator(mode="after")
    def _rates(self) -> Venue:
        for g, r in self.visit.items():
            if not 0 <= r <= 1:
                raise ValueError(f"visit.{g} must be a daily probability in [0, 1]")
        return self


class City(_Strict):
    """A city abroad, a region of its own: its share of all agents, its groups (residents and
    diaspora), kin ties from each enrolled resident back home, and venues whose cameras
    (``channel``: recognition and false matches) may feed the home system."""

    share: float = Field(gt=0, lt=1)  # of all agents
    groups: dict[str, CityGroup] = Field(min_length=1)
    kin_home: float = Field(default=0.0, ge=0, le=100)  # kin ties of each enrolled resident
    kin_layer: str = "kin"  # the ties layer those kin ties belong to
    channel: str  # the channel of venue cameras (recognition, false matches)
    venues: dict[str, Venue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares(self) -> City:
        total = sum(g.share for g in self.groups.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"groups shares sum to {total:.6g}, not 1")
        return self
