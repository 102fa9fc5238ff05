from models.events import CallTranscript, PosRow, WebEvent
from models.identifiers import normalise
from streams.identity import alias_keys, resolve_lead
from tests.factories import call, pos, web


def test_formatting_does_not_split_a_person() -> None:
    assert normalise("email", "  Buyer@Example.TEST ") == "buyer@example.test"
    assert normalise("phone", "+86 (138) 0000-0001") == "+8613800000001"


def test_a_new_person_is_named_after_the_strongest_identifier() -> None:
    with_phone = WebEvent.model_validate(web(phone="+86 138 0000 0001", visitor_id="c-9"))
    same_phone_call = CallTranscript.model_validate(call(phone="+86-138-0000-0001"))
    assert resolve_lead(with_phone, {})[0] == resolve_lead(same_phone_call, {})[0]
    assert resolve_lead(WebEvent.model_validate(web(visitor_id="c-9")), {})[0] != resolve_lead(with_phone, {})[0]


def test_a_cookie_visit_a_form_with_email_and_a_call_stitch_into_one_lead() -> None:
    aliases: dict[str, str] = {}
    visit = WebEvent.model_validate(web(kind="page_view", visitor_id="c-1"))
    lead, learned = resolve_lead(visit, aliases)
    aliases.update(learned)
    form = WebEvent.model_validate(web(kind="form_submit", visitor_id="c-1", email="Buyer@Tier1.test"))
    form_lead, learned = resolve_lead(form, aliases)
    aliases.update(learned)
    call_lead, learned = resolve_lead(CallTranscript.model_validate(call(phone=None, email="buyer@tier1.test")), aliases)
    assert lead == form_lead == call_lead
    assert learned == {}  # nothing new to learn
    assert len(aliases) == 2


def test_aliases_hold_no_raw_identifier() -> None:
    form = WebEvent.model_validate(web(visitor_id="c-1", email="buyer@tier1.test"))
    _lead, learned = resolve_lead(form, {})
    assert not any("tier1" in key or "c-1" in key for key in learned)
    assert [kind for kind, _key in alias_keys(form)] == ["email", "cookie"]


def test_region_events_have_no_lead() -> None:
    assert resolve_lead(PosRow.model_validate(pos()), {}) == (None, {})
