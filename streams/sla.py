"""Response SLAs of routed leads: the pending deadline per lead, and what a breach produces."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from models.base import stable_id
from models.records import RoutedLead, SlaBreach
from models.routing import Priority


@dataclass(frozen=True)
class PendingSla:
    """The one open SLA of a lead: who must accept by when, and which reps already had it."""

    routing_id: str
    rep_id: str
    priority: Priority
    deadline: datetime
    attempt: int
    tried: tuple[str, ...]
    trigger_event_id: str
    trigger_source: str
    event_ts: datetime

    def is_due(self, now: datetime) -> bool:
        return now >= self.deadline

    def to_json(self) -> str:
        fields = asdict(self)
        fields["deadline"] = self.deadline.isoformat()
        fields["event_ts"] = self.event_ts.isoformat()
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "PendingSla":
        fields = json.loads(text)
        fields["deadline"] = datetime.fromisoformat(fields["deadline"])
        fields["event_ts"] = datetime.fromisoformat(fields["event_ts"])
        fields["tried"] = tuple(fields["tried"])
        return cls(**fields)


def open_sla(routed: RoutedLead, tried: tuple[str, ...]) -> PendingSla | None:
    """The SLA a routing starts, or None when the lead went to an overflow queue."""
    if routed.rep_id is None or routed.sla_deadline is None:
        return None
    return PendingSla(
        routing_id=routed.routing_id,
        rep_id=routed.rep_id,
        priority=routed.priority,
        deadline=routed.sla_deadline,
        attempt=routed.attempt,
        tried=(*tried, routed.rep_id),
        trigger_event_id=routed.trigger_event_id,
        trigger_source=routed.trigger_source,
        event_ts=routed.event_ts,
    )


def routing_id(lead_id: str, trigger_event_id: str, attempt: int) -> str:
    # Attempt 1 keeps the plain form so first routings are identified by lead and trigger alone.
    if attempt == 1:
        return stable_id("route", lead_id, trigger_event_id)
    return stable_id("route", lead_id, trigger_event_id, attempt)


def breach_record(lead_id: str, pending: PendingSla, now: datetime, rerouted: RoutedLead) -> SlaBreach:
    return SlaBreach(
        sla_id=stable_id("sla", pending.routing_id),
        lead_id=lead_id,
        routing_id=pending.routing_id,
        rep_id=pending.rep_id,
        priority=pending.priority,
        deadline=pending.deadline,
        detected_at=now,
        attempt=pending.attempt,
        next_routing_id=rerouted.routing_id,
        next_rep_id=rerouted.rep_id,
    )
