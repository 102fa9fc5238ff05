"""Outbound records: what the pipeline publishes to downstream systems and ClickHouse."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

from pydantic import Field

from models.base import Base64Bytes, Contract, UtcDatetime
from models.events import Source
from models.reps import Rep
from models.routing import ContentPack, Intensity, Priority, RunnerUp, Stage

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
    signals: dict[str, int] = {}  # lexicon phrase counts of a call transcript, found once at ingest


class ScoredLead(Contract):
    """A lead's intent right after one of its events (`leads.scored`): the score history the
    boards read; the latest row per lead is the lead's profile as scoring sees it."""

    score_id: str  # from the lead and the event: a reprocessed event gives the same id
    lead_id: str
    event_id: str
    source: Source
    score: float = Field(ge=0, le=100)
    stage: Stage
    intensity: Intensity
    industry: str | None = None
    product: str | None = None
    region: str | None = None
    priority: Priority = "p3"
    trigger: str | None = None  # set when this event routed the lead
    top_signals: list[str] = []  # filled when this event routed the lead (the explanation)
    ts: UtcDatetime  # the event's time
    scored_at: UtcDatetime


class RoutedLead(Contract):
    """A lead handed to a rep (or to an overflow queue), with the reasons an operator can read."""

    routing_id: str
    lead_id: str
    rep_id: str | None  # None when no rep qualified: see `queue` and `reasons`
    rep_name: str | None
    queue: str = "rep"  # "rep", or the overflow queue the lead waits in
    policy: str
    reasons: list[str]
    runners_up: list[RunnerUp] = []
    score: float = 0.0  # intent score 0-100
    stage: Stage | None = None
    intensity: Intensity | None = None
    industry: str | None = None
    product: str | None = None
    priority: Priority = "p3"
    trigger: str | None = None
    top_signals: list[str] = []
    match_score: float = 0.0
    content_pack: ContentPack | None = None
    attempt: int = Field(1, ge=1)  # 2+ after an SLA breach re-routed the lead
    sla_deadline: UtcDatetime | None = None
    trigger_event_id: str
    trigger_source: Source
    event_ts: UtcDatetime
    routed_at: UtcDatetime
    decision_latency_ms: float = Field(ge=0)


class SlaBreach(Contract):
    """A routed lead whose rep did not accept it in time (`leads.sla`)."""

    sla_id: str
    lead_id: str
    routing_id: str  # the routing whose deadline passed
    rep_id: str
    priority: Priority
    deadline: UtcDatetime
    detected_at: UtcDatetime
    attempt: int
    next_routing_id: str  # the re-routing it caused
    next_rep_id: str | None  # None when it went to an overflow queue


class RegionMetric(Contract):
    metric_id: str
    region: str
    metric: str
    window: str
    window_start: UtcDatetime
    value: float


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


class RosterUpdate(Contract):
    """A rep's current profile on the compacted `reps.roster` topic, keyed by rep id."""

    rep: Rep


class RulesDocument(Contract):
    """A whole alert-rules file on the compacted `config.rules` topic (one key: the set's name).
    Workers validate it on arrival and swap only a valid set in."""

    name: str
    text: str  # the YAML, as written by its authors
    pushed_at: UtcDatetime


class MetricIncrement(Contract):
    """Internal: what events add to the regional metrics, on their way to the aggregates. One
    moment's increments (`increments`, all at `ts`: the lead stage), or a batch of events' with
    their own times (`timed`: ingest); a message with neither is a tick of the clock at `ts`."""

    increments: list[tuple[str, str, float]] = []  # (region, metric, amount), at `ts`
    timed: list[tuple[str, str, UtcDatetime, float]] = []  # (region, metric, event time, amount)
    ts: UtcDatetime

    @property
    def is_tick(self) -> bool:
        return not self.increments and not self.timed

    def items(self) -> list[tuple[str, str, datetime, float]]:
        """Every increment as (region, metric, event time, amount)."""
        ts = self.ts
        return [*((region, metric, ts, amount) for region, metric, amount in self.increments), *self.timed]
