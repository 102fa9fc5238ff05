import json
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from models import TOPICS, DeadLetter, RoutedLead, stable_id
from models.records import RegionMetric, ScoredLead
from models.routing import Intent
from models.base import stable_ids, unchecked

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
    assert stable_ids("alert", "销量", "North", at)(3) == stable_id("alert", "销量", "North", at, 3)
    assert stable_ids("alert")("销量") == stable_id("alert", "销量")


def test_unchecked_records_are_the_validated_ones() -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    cases = [
        (RegionMetric, {"metric_id": "m", "region": "North", "metric": "sales", "window": "1m",
                        "window_start": at, "value": 2.5}),
        (ScoredLead, {"score_id": "s", "lead_id": "l", "event_id": "e", "source": "web", "score": 71.5,
                      "stage": "consideration", "intensity": "high", "industry": None, "product": "plc",
                      "region": "North", "priority": "p2", "trigger": None, "top_signals": ["read wp"],
                      "ts": at, "scored_at": at}),
        (Intent, {"score": 71.5, "stage": "purchase", "intensity": "low", "region": "East", "top_signals": []}),
    ]
    cases.append((RegionMetric, {"schema_version": 1, **cases[0][1]}))  # every field, in order: used as given
    for model, values in cases:
        made, validated = unchecked(model)(dict(values)), model.model_validate(values)
        assert made == validated and made.model_dump_json() == validated.model_dump_json(), model.__name__
        assert made.model_fields_set == validated.model_fields_set
    with pytest.raises(ValidationError):  # frozen as the validated ones
        unchecked(RegionMetric)(dict(cases[0][1])).value = 3.0  # type: ignore[misc]
