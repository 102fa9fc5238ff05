"""From a record to the table row it is stored as: from the model (the embedded replay), or
from a message on one of the sink's topics (the worker's sink)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from functools import partial
from typing import Any, Callable

from pydantic import BaseModel

from models.events import EVENT_MODELS, InboundEvent
from models.alerts import Alert, Escalation
from models.base import stable_id
from models.catalog import TOPICS
from models.records import AcceptedEvent, DeadLetter, RegionMetric, RoutedLead, ScoredLead, SlaBreach
from models.routing import RepOutcome
from sinks.personal_data import PersonalData
from sinks.tables import (
    ALERTS, DEAD_LETTERS, ESCALATIONS, EVENT_TABLES, LEAD_SCORES, LEADS_ROUTED, REGION_METRICS, REP_OUTCOMES,
    SLA_BREACHES, Table,
)

Row = tuple[str, tuple[Any, ...]]


def event_row(event: InboundEvent, lead_id: str | None, received_at: datetime, personal: PersonalData) -> Row:
    """A raw event, its personal identifiers protected, with the lead it was resolved to."""
    fields = {**event.model_dump(), "received_at": received_at}
    if lead_id is not None:
        fields["lead_id"] = lead_id
    for kind, field in (("phone", "phone"), ("email", "email"), ("messaging", "messaging_id")):
        if field in fields:
            fields[field] = personal.protect(kind, fields[field])
    table = EVENT_TABLES[event.source]
    return table.name, table.row(fields)


def routed_lead_row(routed: RoutedLead) -> Row:
    fields = {
        **routed.model_dump(),
        "runners_up_json": json.dumps([r.model_dump() for r in routed.runners_up], ensure_ascii=False),
        "content_pack_id": routed.content_pack.id if routed.content_pack else "",
    }
    return LEADS_ROUTED.name, LEADS_ROUTED.row(fields)


def alert_row(alert: Alert) -> Row:
    fields = {
        **alert.model_dump(),
        "record_id": stable_id("alert-record", alert.alert_id, alert.state),
        "values_json": json.dumps(alert.values, ensure_ascii=False),
        "baselines_json": json.dumps(alert.baselines, ensure_ascii=False),
        "context_json": json.dumps([move.model_dump() for move in alert.context], ensure_ascii=False),
    }
    return ALERTS.name, ALERTS.row(fields)


def dead_letter_row(letter: DeadLetter) -> Row:
    fields = {**letter.model_dump(), "raw_base64": base64.b64encode(letter.raw).decode("ascii")}
    return DEAD_LETTERS.name, DEAD_LETTERS.row(fields)


def _plain_row(table: Table) -> Callable[[BaseModel], Row]:
    """Rows of records whose fields map one to one onto the table's columns."""
    def row(record: BaseModel) -> Row:
        return table.name, table.row(record.model_dump())
    return row


# Record type -> its row; raw events need their lead and protection: event_row.
RECORD_ROWS: dict[type[BaseModel], Callable[[Any], Row]] = {
    ScoredLead: _plain_row(LEAD_SCORES),
    RoutedLead: routed_lead_row,
    SlaBreach: _plain_row(SLA_BREACHES),
    RepOutcome: _plain_row(REP_OUTCOMES),
    Alert: alert_row,
    Escalation: _plain_row(ESCALATIONS),
    RegionMetric: _plain_row(REGION_METRICS),
    DeadLetter: dead_letter_row,
}
# Topic -> its record type, for the catalogue's topics whose records have a table.
_TOPIC_RECORDS: dict[str, type[BaseModel]] = {spec.name: spec.model for spec in TOPICS if spec.model in RECORD_ROWS}


def record_row(record: BaseModel) -> Row:
    return RECORD_ROWS[type(record)](record)


def accepted_event_row(value: bytes, personal: PersonalData) -> Row:
    accepted = AcceptedEvent.model_validate_json(value)
    event = EVENT_MODELS[accepted.source].model_validate(accepted.event)
    return event_row(event, accepted.key if event.identities() else None, accepted.received_at, personal)


def _record_decoder(model: type[BaseModel]) -> Callable[[bytes], Row]:
    row = RECORD_ROWS[model]
    return lambda value: row(model.model_validate_json(value))


def row_decoders(personal: PersonalData) -> dict[str, Callable[[bytes], Row]]:
    """Catalogue topic name -> decoder, for the topics the sink stores."""
    events = partial(accepted_event_row, personal=personal)
    return {"events.by_lead": events, "events.by_region": events,
            **{topic: _record_decoder(model) for topic, model in _TOPIC_RECORDS.items()}}
