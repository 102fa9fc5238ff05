"""Value types shared by scoring, matching and routing: what a lead needs and why a rep got it."""

from __future__ import annotations

from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from models.base import Contract, UtcDatetime

Stage: TypeAlias = Literal["awareness", "consideration", "technical_validation", "purchase"]
Intensity: TypeAlias = Literal["low", "medium", "high"]
Priority: TypeAlias = Literal["p1", "p2", "p3"]
OutcomeKind: TypeAlias = Literal["accepted", "won", "lost"]


class Intent(BaseModel):
    """A lead's assessed buying intent at one moment (output of scoring, input of matching)."""

    model_config = ConfigDict(frozen=True)

    score: float = Field(ge=0, le=100)
    stage: Stage
    intensity: Intensity
    industry: str | None = None
    product: str | None = None
    language: str | None = None
    region: str | None = None
    priority: Priority = "p3"
    top_signals: list[str] = []  # readable, strongest first, e.g. "downloaded wp-hv-connector (+18)"
    trigger: str | None = None  # why routing fires now: "threshold" or a trigger pattern's name


class RunnerUp(BaseModel):
    model_config = ConfigDict(frozen=True)

    rep_id: str
    rep_name: str
    score: float
    lost_because: list[str]


class ContentPack(BaseModel):
    """What the rep gets with the lead: talk track and competitor comparison for its industry and stage."""

    model_config = ConfigDict(frozen=True)

    id: str
    talk_track: str
    competitor_matrix: list[str] = []
    documents: list[str] = []


class RepOutcome(Contract):
    """A rep's outcome on a routed lead (`reps.outcomes`): accepted stops the SLA timer;
    won / lost feed the rep's measured capability."""

    outcome_id: str
    routing_id: str = ""
    lead_id: str
    rep_id: str
    kind: OutcomeKind
    industry: str | None = None
    product: str | None = None
    amount: float = 0.0
    ts: UtcDatetime


class LeadTimer(Contract):
    """Internal timer message to the partition that owns a lead, which checks and acts:
    "sla": the SLA of `routing_id` may have passed; "expire": the lead may have been idle too long."""

    lead_id: str
    kind: Literal["sla", "expire"]
    routing_id: str = ""
