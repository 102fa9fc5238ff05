from models.events import CallTranscript, PosRow, WebEvent
from streams.identity import lead_id_of, normalise
from tests.factories import call, pos, web


def test_formatting_does_not_split_a_person() -> None:
    assert normalise("email", "  Buyer@Example.TEST ") == "buyer@example.test"
    assert normalise("phone", "+86 (138) 0000-0001") == "+8613800000001"


def test_the_strongest_identifier_decides_the_lead() -> None:
    by_phone_on_web = WebEvent.model_validate(web(phone="+86 138 0000 0001", visitor_id="c-9"))
    by_phone_on_call = CallTranscript.model_validate(call(phone="+86-138-0000-0001"))
    assert lead_id_of(by_phone_on_web) == lead_id_of(by_phone_on_call)
    assert lead_id_of(WebEvent.model_validate(web(visitor_id="c-9"))) != lead_id_of(by_phone_on_web)


def test_region_events_have_no_lead() -> None:
    assert lead_id_of(PosRow.model_validate(pos())) is None
