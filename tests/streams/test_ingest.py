import json
from datetime import datetime, timezone

import pytest

from models.events import InboundEvent, WebEvent
from streams.ingest import Rejection, accept, decode_event
from tests.factories import PAYLOADS, encoded, pos, signal, web

LIMIT = 64 * 1024
NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)


@pytest.mark.parametrize("source", sorted(PAYLOADS))
def test_valid_payloads_decode_to_their_model(source: str) -> None:
    event = decode_event(source, encoded(PAYLOADS[source]()), LIMIT)
    assert isinstance(event, InboundEvent) and event.source == source


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe\x00", "malformed_json"),
        (None, "malformed_json"),
        (b"[1, 2]", "wrong_type"),
        (encoded(web(dwell_seconds="long")), "wrong_type"),
        (encoded({k: v for k, v in web().items() if k != "ts"}), "missing_field"),
        (encoded(web(dwell_seconds=-5)), "invalid_value"),
        (encoded(web(url="x" * 3000)), "invalid_value"),
        (b" " * (LIMIT + 1), "oversized"),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason(raw: bytes | None, reason: str) -> None:
    result = decode_event("web", raw, LIMIT)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert result.detail


def test_rejection_detail_names_fields_but_never_echoes_values() -> None:
    result = decode_event("web", encoded(web(email=["secret@x.test"])), LIMIT)
    assert isinstance(result, Rejection)
    assert "email" in result.detail and "secret@x.test" not in result.detail


def test_lead_events_go_by_lead_and_region_events_by_region() -> None:
    topic, accepted = accept(WebEvent.model_validate(web()), "lead-1", NOW)
    assert (topic, accepted.key) == ("events.by_lead", "lead-1")
    assert accepted.event["visitor_id"] == "cookie-1"
    topic, accepted = accept(decode_event("pos", encoded(pos()), LIMIT), None, NOW)  # type: ignore[arg-type]
    assert (topic, accepted.key) == ("events.by_region", "North")
    assert json.loads(accepted.model_dump_json())["source"] == "pos"
    event = decode_event("signal", encoded(signal()), LIMIT)
    assert accept(event, None, NOW)[1].key == "East"  # type: ignore[arg-type]
