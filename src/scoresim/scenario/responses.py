"""The scenario's ``responses`` section: how people answer to the system (docs/model.md, "How
people respond").

Each agent's caution moves toward its perceived risk with a half-life: the risk of its own
recent penalties and sanctions (which fades with a half-life of its own) and the share of its
ties visibly sanctioned now. The salience of the rules adds a perceived risk per behaviour,
felt by everyone, which a timeline change can raise on its day (anticipation: an announced rule
deters before anyone is penalised). A population trait can say how justified each agent finds
surveillance, scaling its response (Stoycheff 2016, docs/sources.md section 3.9). With
avoidance on, people cut ties to visibly sanctioned agents (Tirole 2021, section 3.2).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# the response's keys before caution became a level with a half-life, and what replaced them
_REPLACED = {
    "caution_from_penalty": "risk_from_penalty",
    "caution_from_sanction": "risk_from_sanction",
    "caution_from_sanctioned_ties": "risk_from_sanctioned_ties",
    "caution_decay": "caution_half_life_days and own_risk_half_life_days",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Avoidance(_Strict):
    """People cut ties to visibly sanctioned agents: each day, each tie to a visibly sanctioned
    agent is cut with ``daily_probability``. A cut tie stays cut: it no longer spills
    penalties either way and no longer counts for caution. ``lost_share``: the outputs count
    the people who lost at least this share of their ties."""

    enabled: bool = False
    daily_probability: float = Field(default=0.0, ge=0, le=1)
    lost_share: float = Field(default=0.5, gt=0, le=1)


class Responses(_Strict):
    """Perceived risk and caution (docs/model.md, "How people respond")."""

    risk_from_penalty: float = Field(default=0.0, ge=0, le=1)  # own risk a penalty adds
    risk_from_sanction: float = Field(default=0.0, ge=0, le=1)  # a new sanction
    # perceived risk when every tie is visibly sanctioned (times the share that is)
    risk_from_sanctioned_ties: float = Field(default=0.0, ge=0, le=1)
    own_risk_half_life_days: float = Field(default=60.0, gt=0)  # how long "recent" lasts
    caution_half_life_days: float = Field(default=14.0, gt=0)  # how fast caution follows risk
    # behaviour -> perceived risk from the salience of its rules (everyone feels it)
    salience: dict[str, float] = Field(default_factory=dict)
    # a population trait: how justified the agent finds surveillance (scales its response,
    # divided by the trait's mean; none: everyone 1)
    attitude: str | None = None
    avoidance: Avoidance = Field(default_factory=Avoidance)

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in _REPLACED.items():
                if old in data:
                    raise ValueError(f"responses.{old}: caution is now a level with a "
                                     f"half-life (docs/model.md); use {new}")
        return data

    @field_validator("salience")
    @classmethod
    def _salience_is_a_risk(cls, v: dict[str, float]) -> dict[str, float]:
        for b, x in v.items():
            if not 0 <= x <= 1:
                raise ValueError(f"responses.salience.{b}: a perceived risk in [0, 1], not {x}")
        return v

    def uses_own_risk(self) -> bool:
        """Whether an agent's own penalties or sanctions add to its perceived risk."""
        return self.risk_from_penalty > 0 or self.risk_from_sanction > 0
