"""War-room alert contracts: the alert and its lifecycle, escalations, acknowledgements, silences,
and the response policy (`config/alert_policy.yaml`).

The lifecycle itself (pending -> firing -> resolved, inhibition, silences, escalation) lives in
streams/alert_lifecycle.py; these models only carry and validate what it reads and publishes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from models.base import Contract, UtcDatetime

Severity: TypeAlias = Literal["red", "orange", "yellow", "blue"]
AlertState: TypeAlias = Literal["pending", "firing", "resolved"]

# Most severe first: inhibition and the policy's ordering check rely on it.
SEVERITIES: tuple[Severity, ...] = ("red", "orange", "yellow", "blue")


class _Part(BaseModel):
    """A nested value: validated like a contract but without its own schema_version."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class MetricMove(_Part):
    """Another metric of the alert's region that moved in the same window: context for the reader."""

    metric: str
    value: float
    baseline: float | None = None
    change_pct: float | None = None  # None when there is no baseline (or it is 0)


class Alert(Contract):
    """One episode of a rule holding in a region (topic `alerts`).

    The same alert id is published for every change of the episode; the latest record is its
    state. `notify` says whether this record is one to send to people (chat, pager): the first
    firing record that is neither silenced nor inhibited, and the resolution of an alert that
    was announced. Every other record (pending, marks, acknowledgement) is for boards only.
    """

    alert_id: str  # stable_id("alert", rule, region, starts_at)
    rule: str
    group: str
    region: str
    severity: Severity
    state: AlertState
    starts_at: UtcDatetime  # the condition began to hold
    fired_at: UtcDatetime | None = None  # None while pending, and for a pending alert that was dropped
    resolved_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    values: dict[str, float] = {}
    baselines: dict[str, float | None] = {}
    comparison: str = ""  # what the baselines are, e.g. "week over week" (message only)
    context: list[MetricMove] = []
    message: str
    acknowledged_by: str | None = None
    acknowledged_at: UtcDatetime | None = None
    ack_note: str | None = None
    silenced: bool = False
    silenced_by: str | None = None  # the silence id, when silenced
    inhibited_by: str | None = None  # the firing red alert id of the same group and region
    respond_by: UtcDatetime | None = None  # set when the alert is announced: announcement + response SLA
    notify: bool = False


class Escalation(Contract):
    """A firing, announced alert nobody acknowledged within its response SLA; one per alert."""

    escalation_id: str  # stable_id("escalation", alert_id)
    alert_id: str
    rule: str
    group: str
    region: str
    severity: Severity
    respond_by: UtcDatetime
    escalated_at: UtcDatetime
    message: str


class AlertAck(Contract):
    """Someone took an alert in hand. `region` is only the partition key for the worker (the
    regional book owns the alert); the book finds the alert by its id."""

    alert_id: str = Field(min_length=1)
    by: str = Field(min_length=1)
    note: str = ""
    at: UtcDatetime
    region: str | None = None


class SilenceMatchers(_Part):
    """Each field set must equal the alert's; unset fields match anything. At least one is set."""

    rule: str | None = None
    group: str | None = None
    region: str | None = None
    severity: Severity | None = None

    @model_validator(mode="after")
    def _not_everything(self) -> Self:
        if self.rule is None and self.group is None and self.region is None and self.severity is None:
            raise ValueError("a silence must match on at least one of rule, group, region, severity")
        return self

    def match(self, alert: Alert) -> bool:
        return all(want is None or want == have for want, have in (
            (self.rule, alert.rule), (self.group, alert.group),
            (self.region, alert.region), (self.severity, alert.severity)))


class Silence(Contract):
    """Mutes matching alerts from `starts_at` until `ends_at`; a silence id sent again replaces it
    (send `ends_at` = now to lift it early)."""

    silence_id: str = Field(min_length=1)
    matchers: SilenceMatchers
    created_by: str = Field(min_length=1)
    comment: str = Field(min_length=1)  # why: the next person on duty must be able to judge it
    starts_at: UtcDatetime
    ends_at: UtcDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def active_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class Description(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class ResponseSla(BaseModel):
    """What must happen, and by when, once an alert of one severity is announced."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    respond_within_minutes: float = Field(gt=0, le=7 * 24 * 60)
    requires_note: bool = False  # an acknowledgement must carry a note (e.g. the root cause)
    description: Description


class AlertPolicy(Contract):
    """Response SLA per severity. Every severity must be present, and a more severe alert never
    gets more time than a less severe one (catches a 150 typed for 15)."""

    model_config = ConfigDict(extra="forbid")

    red: ResponseSla
    orange: ResponseSla
    yellow: ResponseSla
    blue: ResponseSla

    @field_validator("orange", "yellow", "blue")
    @classmethod
    def _no_faster_than_more_severe(cls, sla: ResponseSla, info: ValidationInfo) -> ResponseSla:
        # Fields validate in declaration order, so the more severe ones are already in info.data.
        previous = SEVERITIES[SEVERITIES.index(info.field_name) - 1]  # type: ignore[arg-type]
        before = info.data.get(previous)
        if before is not None and sla.respond_within_minutes < before.respond_within_minutes:
            raise ValueError(f"respond_within_minutes must not be shorter than {previous}'s "
                             f"({before.respond_within_minutes:g})")
        return sla

    def sla(self, severity: Severity) -> ResponseSla:
        return getattr(self, severity)

    def respond_by(self, severity: Severity, announced_at: datetime) -> datetime:
        return announced_at + timedelta(minutes=self.sla(severity).respond_within_minutes)
