"""From a message on one of the sink's topics to the table row(s) it is stored as."""

from __future__ import annotations

import base64
import json
from functools import partial
from typing import Any, Callable

from pydantic import BaseModel

from models.events import EVENT_MODELS
from models.alerts import Alert, Escalation
from models.base import stable_id
from models.records import AcceptedEvent, DeadLetter, RegionMetric, RoutedLead, ScoredLead, SlaBreach
from models.routing import RepOutcome
from sinks.personal_data import PersonalData
from sinks.tables import (
    ALERTS, DEAD_LETTERS, ESCALATIONS, EVENT_TABLES, LEAD_SCORES, LEADS_ROUTED, REGION_METRICS, REP_OUTCOMES,
    SLA_BREACHES, Table,
)

Row = tuple[str, tuple[Any, ...]]


def accepted_event_row(value: bytes, personal: PersonalData) -> Row:
    accepted = AcceptedEvent.model_validate_json(value)
    event = EVENT_MODELS[accepted.source].model_validate(accepted.event)
    fields = {**event.model_dump(), "received_at": accepted.received_at}
    if event.identities():
        fields["lead_id"] = accepted.key
    for kind, field in (("phone", "phone"), ("email", "email"), ("messaging", "messaging_id")):
        if field in fields:
            fields[field] = personal.protect(kind, fields[field])
    table = EVENT_TABLES[accepted.source]
    return table.name, table.row(fields)


def routed_lead_row(value: bytes) -> Row:
    routed = RoutedLead.model_validate_json(value)
    fields = {
        **routed.model_dump(),
        "runners_up_json": json.dumps([r.model_dump() for r in routed.runners_up], ensure_ascii=False),
        "content_pack_id": routed.content_pack.id if routed.content_pack else "",
    }
    return LEADS_ROUTED.name, LEADS_ROUTED.row(fields)


def alert_row(value: bytes) -> Row:
    alert = Alert.model_validate_json(value)
    fields = {
        **alert.model_dump(),
        "record_id": stable_id("alert-record", alert.alert_id, alert.state),
        "values_json": json.dumps(alert.values, ensure_ascii=False),
        "baselines_json": json.dumps(alert.baselines, ensure_ascii=False),
        "context_json": json.dumps([move.model_dump() for move in alert.context], ensure_ascii=False),
    }
    return ALERTS.name, ALERTS.row(fields)


def model_row(table: Table, model: type[BaseModel]) -> Callable[[bytes], Row]:
    """Decoder for records whose fields map one to one onto the table's columns."""
    def decode(value: bytes) -> Row:
        return table.name, table.row(model.model_validate_json(value).model_dump())
    return decode


def dead_letter_row(value: bytes) -> Row:
    letter = DeadLetter.model_validate_json(value)
    fields = {**letter.model_dump(), "raw_base64": base64.b64encode(letter.raw).decode("ascii")}
    return DEAD_LETTERS.name, DEAD_LETTERS.row(fields)


def row_decoders(personal: PersonalData) -> dict[str, Callable[[bytes], Row]]:
    """Catalogue topic name -> decoder, for the topics the sink stores."""
    events = partial(accepted_event_row, personal=personal)
    return {"events.by_lead": events, "events.by_region": events, **_RECORD_DECODERS}


_RECORD_DECODERS: dict[str, Callable[[bytes], Row]] = {
    "leads.scored": model_row(LEAD_SCORES, ScoredLead),
    "leads.routed": routed_lead_row,
    "leads.sla": model_row(SLA_BREACHES, SlaBreach),
    "reps.outcomes": model_row(REP_OUTCOMES, RepOutcome),
    "alerts": alert_row,
    "alerts.escalations": model_row(ESCALATIONS, Escalation),
    "region.metrics": model_row(REGION_METRICS, RegionMetric),
    "deadletter": dead_letter_row,
}
