from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from models import EVENT_MODELS, CallTranscript, PosRow, WebEvent
from tests.factories import PAYLOADS, call, encoded, pos, web


@pytest.mark.parametrize("source", sorted(PAYLOADS))
def test_every_source_round_trips_through_json(source: str) -> None:
    model = EVENT_MODELS[source]
    event = model.model_validate_json(encoded(PAYLOADS[source]()))
    again = model.model_validate_json(event.model_dump_json())
    assert again == event
    assert event.schema_version == 1
    assert event.source == source


def test_event_id_is_derived_deterministically_from_content() -> None:
    first = WebEvent.model_validate(web())
    second = WebEvent.model_validate(web())
    other = WebEvent.model_validate(web(dwell_seconds=1.0))
    assert first.event_id == second.event_id
    assert first.event_id != other.event_id
    assert len(first.event_id) == 32


def test_a_producer_supplied_event_id_is_kept() -> None:
    assert WebEvent.model_validate(web(event_id="abc-1")).event_id == "abc-1"


def test_time_is_normalised_to_utc_and_accepts_epoch_and_naive_text() -> None:
    assert WebEvent.model_validate(web()).ts == datetime(2026, 11, 27, 1, 30, tzinfo=timezone.utc)
    assert WebEvent.model_validate(web(ts="2026-11-27T01:30:00")).ts.tzinfo == timezone.utc
    assert WebEvent.model_validate(web(ts=1_700_000_000)).ts == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def test_wrong_types_are_rejected_not_coerced() -> None:
    with pytest.raises(ValidationError) as error:
        PosRow.model_validate(pos(quantity="3"))
    assert error.value.errors()[0]["loc"] == ("quantity",)


def test_missing_fields_and_unknown_kinds_are_rejected() -> None:
    payload = web()
    del payload["visitor_id"]
    with pytest.raises(ValidationError):
        WebEvent.model_validate(payload)
    with pytest.raises(ValidationError):
        WebEvent.model_validate(web(kind="mouse_wiggle"))
    with pytest.raises(ValidationError):
        PosRow.model_validate(pos(region=""))


def test_a_call_without_any_caller_identifier_is_rejected() -> None:
    with pytest.raises(ValidationError, match="caller identifier"):
        CallTranscript.model_validate(call(phone=None))


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    assert WebEvent.model_validate(web(campaign="spring")).visitor_id == "cookie-1"


def test_identities_name_the_person_behind_lead_events_only() -> None:
    assert WebEvent.model_validate(web(email="a@b.test")).identities() == {"email": "a@b.test", "cookie": "cookie-1"}
    assert WebEvent.model_validate(web(email="", phone="+86 1")).identities() == {"phone": "+86 1", "cookie": "cookie-1"}
    assert PosRow.model_validate(pos()).identities() == {}
