"""The first routing policy: each newly hot lead goes to the next active rep in turn.

Leads are partitioned, so each partition keeps its own turn counter and takes
every P-th rep from its own starting point (P = number of partitions): together
the partitions cover the roster evenly instead of all starting at the first rep.
Pure: the caller keeps the counters (a Faust table in the worker) and the set of
leads already routed, so a lead is routed once however many events follow.
"""

from __future__ import annotations

from datetime import datetime

from models.base import stable_id
from models.events import CallTranscript, InboundEvent, WebEvent
from models.records import RoutedLead
from models.reps import Rep

POLICY = "round_robin"


def is_routing_trigger(event: InboundEvent) -> bool:
    """A lead is ready for a rep once it downloads content, submits a form or calls in."""
    if isinstance(event, WebEvent):
        return event.kind in ("content_download", "form_submit")
    return isinstance(event, CallTranscript)


def rep_index(counter: int, partition: int, partitions: int, team_size: int) -> int:
    return (partition + counter * partitions) % team_size


def route(lead_id: str, event: InboundEvent, reps: list[Rep], turn: tuple[int, int, int],
          now: datetime, latency_ms: float) -> RoutedLead:
    """Route on `turn` = (counter, partition, partitions)."""
    index = rep_index(*turn, len(reps))
    rep = reps[index]
    return RoutedLead(
        routing_id=stable_id("route", lead_id, event.event_id),
        lead_id=lead_id,
        rep_id=rep.id,
        rep_name=rep.name,
        policy=POLICY,
        reasons=[
            f"next in rotation (position {index + 1} of {len(reps)} active reps)",
            f"triggered by {_describe_trigger(event)}",
        ],
        trigger_event_id=event.event_id,
        trigger_source=event.source,
        event_ts=event.ts,
        routed_at=now,
        decision_latency_ms=latency_ms,
    )


def _describe_trigger(event: InboundEvent) -> str:
    return f"web {event.kind}" if isinstance(event, WebEvent) else f"{event.source} event"
