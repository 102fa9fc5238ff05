import json
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from models import TOPICS, DeadLetter, RoutedLead, stable_id
from models.base import stable_ids

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)


def test_dead_letter_keeps_any_bytes_as_standard_base64() -> None:
    raw = b"\xff\x00{not json"
    letter = DeadLetter(dead_letter_id="d1", source_topic="events.web", partition=2, offset=7,
                        reason="malformed_json", detail="bad", raw=raw, ts=NOW)
    text = letter.model_dump_json()
    assert json.loads(text)["raw"] == "/wB7bm90IGpzb24="
    assert DeadLetter.model_validate_json(text).raw == raw


def test_dead_letter_reason_is_a_closed_set() -> None:
    with pytest.raises(ValidationError):
        DeadLetter(dead_letter_id="d1", source_topic="t", partition=0, offset=0, reason="bored",
                   detail="", raw=b"", ts=NOW)


def test_routed_lead_round_trips_and_refuses_negative_latency() -> None:
    fields = dict(routing_id="r", lead_id="l", rep_id="rep-001", rep_name="Li Wei", policy="round_robin",
                  reasons=["next in rotation"], trigger_event_id="e", trigger_source="web", event_ts=NOW,
                  routed_at=NOW, decision_latency_ms=0.02)
    lead = RoutedLead(**fields)
    assert RoutedLead.model_validate_json(lead.model_dump_json()) == lead
    with pytest.raises(ValidationError):
        RoutedLead(**{**fields, "decision_latency_ms": -1})


def test_every_record_model_carries_a_schema_version() -> None:
    for topic in TOPICS:
        assert "schema_version" in topic.model.model_fields, topic.name


def test_stable_ids_never_change() -> None:
    # Stored rows are deduplicated on these ids: a new spelling of the hash must give the same bytes.
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    assert stable_id("alert", "销量", "North", at, 3) == "4663ebf34f181c5588ac175d6fb5a365"
    # ids sharing leading parts hash them once, to the same ids
    assert stable_ids("alert", "销量")("North", at, 3) == stable_id("alert", "销量", "North", at, 3)
    assert stable_ids("alert")("销量", "North", at, 3) == stable_id("alert", "销量", "North", at, 3)
