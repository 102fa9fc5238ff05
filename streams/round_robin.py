"""The first routing policy: each newly hot lead goes to the next active rep in roster order.

Pure: the caller keeps the counter (a Faust table in the worker) and the set of
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


def pick_rep(reps: list[Rep], counter: int) -> Rep:
    return reps[counter % len(reps)]


def route(
    lead_id: str, event: InboundEvent, reps: list[Rep], counter: int, now: datetime, latency_ms: float
) -> RoutedLead:
    rep = pick_rep(reps, counter)
    return RoutedLead(
        routing_id=stable_id("route", lead_id, event.event_id),
        lead_id=lead_id,
        rep_id=rep.id,
        rep_name=rep.name,
        policy=POLICY,
        reasons=[
            f"next in rotation ({counter % len(reps) + 1} of {len(reps)} active reps)",
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
