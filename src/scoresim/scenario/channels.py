"""The scenario's channels: how acts are seen and, for cameras, how faces are searched; and
human review of what the searches find.

Recognition follows NIST FRVT/FRTE 1:N identification (SOURCES 1.11): the faces of people on
a watch list are missed with the false negative identification rate, faces of people not on
it raise false alerts with the false positive identification rate, which grows with the
gallery searched. Cameras and recognition exist only as probabilities.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    # as schema.Strict (which imports this module): unknown keys and non-finite numbers refused
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Channel(_Strict):
    """How acts are seen and, for a channel that recognises faces, how each face it captures
    is searched (NIST FRVT/FRTE 1:N identification, SOURCES 1.11).

    ``observe``: probability an act is captured (``coverage``: the region's camera coverage,
    times the group's watch multiplier for the channel). A channel recognises faces when it
    is a camera channel (``observe: coverage``) or declares any recognition value below.
    Each captured face is searched against the channel's watch list (a share ``watch_list`` of
    the enrolled, drawn once per run): the face of someone on it is returned with probability
    ``recognition`` (1 - FNIR); a face of someone not on it, or whose mate was missed, raises
    a false alert with the false positive identification rate FPIR = 1 - (1 - fmr m)^gallery
    (``gallery``: the number of people the search is compared with; m: the face's group's
    ``false_match_multiplier``), or min(1, ``false_match`` m) when FPIR is given directly. A
    false alert names a wrong person on the list. An alert is acted on (a penalty, a stop, a
    record) with probability ``action``, after human review where the safeguards ask for it."""

    observe: float | Literal["coverage"] = 1.0
    recognition: float = Field(default=1.0, ge=0, le=1)  # 1 - FNIR, for faces on the list
    false_match: float = Field(default=0.0, ge=0, le=1)  # FPIR, for faces not on the list
    # the per-comparison false match rate and the gallery size: FPIR = 1 - (1 - fmr)^gallery,
    # about gallery x fmr (false alerts grow with the gallery, SOURCES 1.11)
    fmr: float | None = Field(default=None, ge=0, le=1)
    gallery: float | None = Field(default=None, ge=1, le=1e10)  # people searched
    watch_list: float = Field(default=1.0, gt=0, le=1)  # share of the enrolled on the list
    action: float = Field(default=1.0, ge=0, le=1)  # an alert becomes an action

    def recognises_faces(self) -> bool:
        """The channel searches the faces it captures (cameras, or any recognition value)."""
        return (self.observe == "coverage" or self.recognition < 1 or self.false_match > 0
                or self.fmr is not None or self.watch_list < 1 or self.action < 1)

    def false_alert_rate(self, multiplier: float = 1.0) -> float:
        """FPIR of a face whose group's false-match multiplier is ``multiplier``."""
        if self.fmr is not None and self.gallery is not None:
            return 1.0 - (1.0 - min(1.0, self.fmr * multiplier)) ** self.gallery
        return min(1.0, self.false_match * multiplier)

    @field_validator("observe")
    @classmethod
    def _prob(cls, v: Any) -> Any:
        if isinstance(v, float) and not 0 <= v <= 1:
            raise ValueError("observe must be a probability in [0, 1] or 'coverage'")
        return v

    @model_validator(mode="after")
    def _one_false_alert_rate(self) -> Channel:
        if (self.fmr is None) != (self.gallery is None):
            raise ValueError("fmr and gallery go together (FPIR = 1 - (1 - fmr)^gallery)")
        if self.fmr is not None and self.false_match > 0:
            raise ValueError("give false_match (FPIR) or fmr with gallery, not both")
        return self


class Review(_Strict):
    """Human review of the alerts of face-recognising channels, at home and at venues abroad:
    each reviewer looks at the same match, confirms a true one with probability
    ``sensitivity`` and rejects a false one with probability ``specificity``; an alert is
    acted on only if all ``reviewers`` confirm it (independently). Defaults: passport
    officers matching a photo to a person rejected 6% of genuine matches and accepted 14% of
    false ones (White et al. 2014, PLoS ONE 9(8): e103510; docs/sources.md 4.5)."""

    sensitivity: float = Field(default=0.94, ge=0, le=1)
    specificity: float = Field(default=0.86, ge=0, le=1)
    reviewers: int = Field(default=1, ge=1, le=10)

    def confirms(self, true_match: bool) -> float:
        """The probability an alert survives review (every reviewer confirms it)."""
        one = self.sensitivity if true_match else 1.0 - self.specificity
        return one ** self.reviewers
