"""Outbound records: what the pipeline publishes to downstream systems and ClickHouse."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from pydantic import Field

from models.base import Base64Bytes, Contract, UtcDatetime
from models.events import Source

Severity: TypeAlias = Literal["red", "orange", "yellow", "blue"]
AlertState: TypeAlias = Literal["pending", "firing", "resolved"]
DeadLetterReason: TypeAlias = Literal[
    "oversized", "malformed_json", "missing_field", "wrong_type", "invalid_value", "internal_error"
]


class AcceptedEvent(Contract):
    """A validated inbound event on its way to the keyed processors and the sink.

    `key` is the lead id for lead events and the region for region events; the
    topic it travels on is partitioned by it.
    """

    source: Source
    key: str
    event: dict[str, Any]
    received_at: UtcDatetime


class ScoredLead(Contract):
    score_id: str
    lead_id: str
    score: float = Field(ge=0, le=100)
    stage: str
    top_signals: list[str] = []
    ts: UtcDatetime


class RoutedLead(Contract):
    """A lead handed to a rep, with the reasons an operator can read."""

    routing_id: str
    lead_id: str
    rep_id: str
    rep_name: str
    policy: str
    reasons: list[str]
    trigger_event_id: str
    trigger_source: Source
    event_ts: UtcDatetime
    routed_at: UtcDatetime
    decision_latency_ms: float = Field(ge=0)


class RegionMetric(Contract):
    metric_id: str
    region: str
    metric: str
    window: str
    window_start: UtcDatetime
    value: float


class Alert(Contract):
    alert_id: str
    rule: str
    region: str
    severity: Severity
    state: AlertState
    value: float
    baseline: float | None = None
    message: str
    starts_at: UtcDatetime
    updated_at: UtcDatetime


class DeadLetter(Contract):
    """An inbound message that could not be processed, kept whole with the reason."""

    dead_letter_id: str
    source_topic: str
    partition: int
    offset: int
    reason: DeadLetterReason
    detail: str
    raw: Base64Bytes  # the whole payload, even invalid UTF-8
    ts: UtcDatetime
