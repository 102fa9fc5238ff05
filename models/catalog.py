"""The topic catalogue: every topic leadflow owns, the contract it carries, how it is kept.

Downstream systems code against the JSON Schema of the public topics
(`leadflow schema export`); internal topics may change between releases.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from models.events import CallTranscript, ExternalSignal, PosRow, WebEvent
from models.alerts import Alert, AlertAck, Escalation, Silence
from models.records import (
    AcceptedEvent, DeadLetter, MetricIncrement, RegionMetric, RosterUpdate, RoutedLead, RulesDocument, ScoredLead,
    SlaBreach,
)
from models.routing import LeadTimer, RepOutcome


@dataclass(frozen=True)
class TopicSpec:
    name: str
    model: type[BaseModel]
    public: bool = True
    compacted: bool = False
    # Bytes the broker accepts per message; dead letters carry whole oversized payloads.
    max_message_bytes: int = 1_048_588
    # A fixed partition count (else the configured one): the regional stage is one partition,
    # so a rule may compare two regions and one worker owns the whole regional picture.
    partitions: int | None = None
    retention_days: int | None = None  # else the broker's default (7 days)


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("events.web", WebEvent),
    TopicSpec("events.calls", CallTranscript),
    TopicSpec("events.pos", PosRow),
    TopicSpec("events.signals", ExternalSignal),
    TopicSpec("events.by_lead", AcceptedEvent, public=False),
    TopicSpec("events.by_region", AcceptedEvent, public=False),
    TopicSpec("leads.scored", ScoredLead),
    TopicSpec("leads.routed", RoutedLead),
    TopicSpec("leads.sla", SlaBreach),
    TopicSpec("leads.timers", LeadTimer, public=False),
    TopicSpec("reps.roster", RosterUpdate, compacted=True),
    TopicSpec("reps.outcomes", RepOutcome),
    TopicSpec("region.metrics", RegionMetric),
    # Kept past the metric store's horizon: replayed into the store after a restart.
    TopicSpec("region.increments", MetricIncrement, public=False, partitions=1, retention_days=10),
    TopicSpec("alerts", Alert),
    TopicSpec("alerts.escalations", Escalation),
    TopicSpec("alerts.acks", AlertAck, partitions=1),
    TopicSpec("alerts.silences", Silence, compacted=True, partitions=1),
    TopicSpec("config.rules", RulesDocument, compacted=True),
    TopicSpec("deadletter", DeadLetter, max_message_bytes=8 * 1024 * 1024),
)

SOURCE_TOPICS: dict[str, str] = {
    "web": "events.web",
    "call": "events.calls",
    "pos": "events.pos",
    "signal": "events.signals",
}


def spec(name: str) -> TopicSpec:
    for topic in TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(name)
