"""Validation of raw inbound payloads: an event, or a rejection with a reason. Never raises."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from models.events import EVENT_MODELS, ExternalSignal, InboundEvent, PosRow
from models.records import AcceptedEvent, DeadLetterReason


@dataclass(frozen=True)
class Rejection:
    reason: DeadLetterReason
    detail: str


def decode_event(source: str, raw: bytes | None, max_bytes: int) -> InboundEvent | Rejection:
    """Parse one payload of `source` ("web", "call", "pos", "signal")."""
    if raw is None:
        return Rejection("malformed_json", "empty message (tombstone)")
    if len(raw) > max_bytes:
        return Rejection("oversized", f"{len(raw)} bytes exceeds the limit of {max_bytes}")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Rejection("malformed_json", str(exc))
    return validate_event(source, data)


def validate_event(source: str, data: object) -> InboundEvent | Rejection:
    """Validate one parsed payload of `source`."""
    if not isinstance(data, dict):
        return Rejection("wrong_type", f"expected a JSON object, got {type(data).__name__}")
    try:
        return EVENT_MODELS[source].model_validate(data)
    except ValidationError as exc:
        return Rejection(_reason(exc), _describe(exc))


def accept(event: InboundEvent, lead_id: str | None, received_at: datetime,
           signals: dict[str, int] | None = None) -> tuple[str, AcceptedEvent]:
    """Where a valid event goes next: ("events.by_lead", ...) keyed by its lead, or
    ("events.by_region", ...) keyed by its region when no person is behind it."""
    if lead_id is not None:
        topic, key = "events.by_lead", lead_id
    elif isinstance(event, (PosRow, ExternalSignal)):
        topic, key = "events.by_region", event.region
    else:  # every other source names a person, so this is a programming error
        raise TypeError(f"{type(event).__name__} has neither a lead nor a region")
    return topic, AcceptedEvent(source=event.source, key=key, event=event.model_dump(mode="json"),
                                received_at=received_at, signals=signals or {})


def _reason(exc: ValidationError) -> DeadLetterReason:
    kinds = {error["type"] for error in exc.errors()}
    if "missing" in kinds:
        return "missing_field"
    if any(kind.endswith(("_type", "_parsing")) or kind.startswith("literal") for kind in kinds):
        return "wrong_type"
    return "invalid_value"


def _describe(exc: ValidationError) -> str:
    # Field names and messages only: the input values may hold personal data.
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or '(event)'}: {error['msg']}" for error in exc.errors()
    )
