import math
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from models.events import CallTranscript, ExternalSignal, PosRow, WebEvent
from streams.intent import IntentModel, LeadProfile, _leader
from tests.factories import call, pos, signal, web

MODEL = IntentModel.from_config()
T0 = datetime(2026, 11, 27, 1, 30, tzinfo=timezone.utc)
HALF_LIFE = timedelta(hours=MODEL.scoring.half_life_hours)
PAPER = {"content_id": "wp-hv-connector", "url": "https://example.test/hv-connector.pdf"}
NO_CONTENT = {"content_id": None, "url": "https://example.test/about"}


def view(at: timedelta, dwell: float = 0.0, **fields: object) -> WebEvent:
    return WebEvent.model_validate(web(**{"kind": "page_view", "dwell_seconds": dwell, "ts": T0 + at, **fields}))


def download(at: timedelta, **fields: object) -> WebEvent:
    return WebEvent.model_validate(web(**{"kind": "content_download", "dwell_seconds": 0, "ts": T0 + at, **fields}))


def feed(events: list, profile: LeadProfile | None = None) -> LeadProfile:
    for event in events:
        profile = MODEL.update(profile, event)
    assert profile is not None
    return profile


def raw_points(profile: LeadProfile, at: timedelta) -> float:
    """Undo the 0..100 scale: raw = -scale * ln(1 - score / 100)."""
    return -MODEL.scoring.scale * math.log(1 - MODEL.assess(profile, T0 + at).score / 100)


def deep_read(start: timedelta = timedelta()) -> list[WebEvent]:
    minute = timedelta(minutes=1)
    return [view(start, 70, **PAPER), view(start + 5 * minute, 80, **PAPER),
            view(start + 10 * minute, 82, **PAPER), download(start + 12 * minute, **PAPER)]


def test_points_halve_after_one_half_life() -> None:
    profile = feed([download(timedelta(), **PAPER)])
    assert math.isclose(raw_points(profile, HALF_LIFE), raw_points(profile, timedelta()) / 2, rel_tol=1e-9)
    assert math.isclose(raw_points(profile, 2 * HALF_LIFE), raw_points(profile, timedelta()) / 4, rel_tol=1e-9)


def test_a_repeat_view_of_the_same_content_counts_more_than_the_first() -> None:
    first = feed([view(timedelta(), **PAPER)])
    gain_first = raw_points(first, timedelta())
    second = feed([view(timedelta(), **PAPER)], first)
    gain_repeat = raw_points(second, timedelta()) - gain_first
    weights = MODEL.scoring.weights
    assert math.isclose(gain_repeat / gain_first, weights.repeat_view / weights.view)
    assert [(c.key, c.views) for c in second.contents] == [("wp-hv-connector", 2)]


def test_the_white_paper_read_three_times_and_downloaded_fires_deep_technical_read() -> None:
    profile = feed(deep_read()[:3])
    assert MODEL.assess(profile, T0 + timedelta(minutes=10)).trigger is None  # not downloaded yet
    intent = MODEL.assess(feed(deep_read()[3:], profile), T0 + timedelta(minutes=12))
    assert intent.trigger == "deep-technical-read"
    assert (intent.stage, intent.intensity, intent.industry, intent.product) == (
        "technical_validation", "high", "automotive", "hv-connector")
    assert intent.priority == "p1"  # the pattern lifts the priority
    assert intent.top_signals[0].startswith("viewed high-voltage connector white paper 3x, 232 s, downloaded (+")
    assert intent.language == "en"  # the white paper's language; no call yet


def test_routing_disarms_until_the_score_fades_below_the_rearm_threshold() -> None:
    profile = feed(deep_read())
    MODEL.mark_routed(profile, T0 + timedelta(minutes=12))
    profile = feed([view(timedelta(minutes=20), 200, **PAPER), download(timedelta(minutes=21), **PAPER)], profile)
    intent = MODEL.assess(profile, T0 + timedelta(minutes=21))
    assert intent.score >= MODEL.scoring.threshold and intent.trigger is None
    assert not profile.armed
    # A week later interest has faded below the re-arm threshold: the lead may be routed again,
    # but only on new behaviour, not on what it did before or while disarmed.
    later = timedelta(days=7)
    intent = MODEL.assess(profile, T0 + later)
    assert intent.score < MODEL.scoring.rearm_below and profile.armed and intent.trigger is None
    intent = MODEL.assess(feed(deep_read(later), profile), T0 + later + timedelta(minutes=12))
    assert intent.trigger == "deep-technical-read"


def test_the_threshold_fires_without_a_pattern_and_rearms_inside_update() -> None:
    page = {"content_id": "cs-smart-factory", "url": "https://example.test/cs"}
    events = [view(timedelta(minutes=i), 240, **page) for i in range(6)]
    profile = feed(events)
    intent = MODEL.assess(profile, T0 + timedelta(minutes=5))
    assert intent.trigger == "threshold" and intent.stage == "consideration" and intent.industry == "manufacturing"
    MODEL.mark_routed(profile, T0 + timedelta(minutes=5))
    later = timedelta(days=10)
    profile = feed([view(later + timedelta(minutes=i), 240, **page) for i in range(6)], profile)
    assert profile.armed  # re-armed by the first event after the fade, before its points were added
    assert MODEL.assess(profile, T0 + later + timedelta(minutes=5)).trigger == "threshold"


def test_pricing_page_and_a_form_fire_pricing_and_contact() -> None:
    pricing = {"content_id": None, "url": "https://example.test/pricing/servo-drive"}
    profile = feed([view(timedelta(), 30, **pricing),
                    WebEvent.model_validate(web(kind="form_submit", ts=T0 + timedelta(minutes=2), **pricing))])
    intent = MODEL.assess(profile, T0 + timedelta(minutes=2))
    assert (intent.trigger, intent.stage, intent.product) == ("pricing-and-contact", "purchase", "servo-drive")
    assert "submitted a form" in " ".join(intent.top_signals)


def test_a_call_sets_language_signals_and_industry_and_is_explained() -> None:
    text = "我们是整车厂，想要一个报价，预算已经批了"
    profile = feed([CallTranscript.model_validate(call(text=text, ts=T0, region="East"))])
    intent = MODEL.assess(profile, T0)
    assert (intent.language, intent.region, intent.industry, intent.stage) == ("zh", "East", "automotive", "purchase")
    assert intent.trigger == "budget-and-price-on-call"
    assert any(line.startswith("asked for a price or quote 1x on calls (+") for line in intent.top_signals)
    assert len(intent.top_signals) <= 5


def test_without_evidence_industry_product_and_language_are_unknown() -> None:
    profile = feed([view(timedelta(), 30, **NO_CONTENT),
                    ExternalSignal.model_validate(signal(ts=T0 + timedelta(minutes=1)))])
    intent = MODEL.assess(profile, T0, explain=True)
    assert (intent.industry, intent.product, intent.language, intent.trigger) == (None, None, None, None)
    assert intent.stage == "awareness"
    assert intent.top_signals == [f"viewed an uncatalogued page 1x, 30 s (+{intent.score:.0f})"]
    # Unasked, only a decision is explained: nothing fires here, so nothing is formatted.
    assert MODEL.assess(profile, T0).top_signals == []


def test_a_store_purchase_counts_only_for_a_known_customer() -> None:
    anonymous = feed([PosRow.model_validate(pos(ts=T0))])
    assert MODEL.assess(anonymous, T0).score == 0 and anonymous.region == "North"
    known = feed([PosRow.model_validate(pos(ts=T0, customer_id="c-1"))])
    assert MODEL.assess(known, T0).score > 0 and MODEL.assess(known, T0).stage == "purchase"


def test_late_events_decay_by_their_age_and_order_does_not_matter() -> None:
    events = [download(timedelta(hours=5), **PAPER), view(timedelta(), 100, **PAPER),
              CallTranscript.model_validate(call(ts=T0 + timedelta(hours=1)))]
    shuffled = feed(events)
    ordered = feed(sorted(events, key=lambda e: e.ts))
    assert shuffled.last == ordered.last == (T0 + timedelta(hours=5)).timestamp()
    assert math.isclose(raw_points(shuffled, timedelta(hours=6)), raw_points(ordered, timedelta(hours=6)))
    # Asking about a moment before the newest event never inflates the score.
    assert MODEL.assess(shuffled, T0).score == MODEL.assess(shuffled, T0 + timedelta(hours=5)).score


def test_the_profile_stays_small_after_a_thousand_distinct_contents() -> None:
    profile = feed([view(timedelta(seconds=i), 30, content_id=f"page-{i}", url=f"https://example.test/p/{i}")
                    for i in range(1_000)] + deep_read(timedelta(hours=1)))
    assert len(profile.contents) == MODEL.scoring.max_contents
    assert len(profile.to_bytes()) <= 2048
    assert profile.spill > 0  # forgotten pages still count
    assert "earlier activity" in " ".join(MODEL.assess(profile, T0 + timedelta(hours=1), explain=True).top_signals)


def test_the_profile_survives_serialisation() -> None:
    profile = feed(deep_read() + [CallTranscript.model_validate(call(ts=T0 + timedelta(hours=1)))])
    MODEL.mark_routed(profile, T0 + timedelta(hours=1))
    again = LeadProfile.from_bytes(profile.to_bytes())
    assert again.to_bytes() == profile.to_bytes()
    now = T0 + timedelta(hours=2)
    assert MODEL.assess(again, now, explain=True).top_signals == MODEL.assess(profile, now, explain=True).top_signals
    assert math.isclose(MODEL.assess(again, now).score, MODEL.assess(profile, now).score, abs_tol=0.01)


def test_an_idle_lead_expires() -> None:
    profile = feed([view(timedelta(), 30, **PAPER)])
    idle = timedelta(days=MODEL.scoring.idle_expiry_days)
    assert not MODEL.is_expired(profile, T0 + idle)
    assert MODEL.is_expired(profile, T0 + idle + timedelta(seconds=1))


_contents = st.sampled_from([PAPER, NO_CONTENT, {"content_id": "pricing-lms-platform", "url": "https://x.test/a"}]) \
    | st.builds(lambda n: {"content_id": f"c{n}", "url": f"https://x.test/{n}"}, st.integers(0, 10**6))
_offset = st.integers(-3_600, 90 * 86_400).map(lambda s: timedelta(seconds=s))
_web = st.builds(lambda kind, at, dwell, content, region: WebEvent.model_validate(web(
    kind=kind, ts=T0 + at, dwell_seconds=dwell, region=region, **content)),
    st.sampled_from(["page_view", "content_download", "form_submit"]), _offset,
    st.floats(0, 1e6), _contents, st.none() | st.text(min_size=1, max_size=64))
_call = st.builds(lambda at, text, seconds, language: CallTranscript.model_validate(call(
    ts=T0 + at, text=text, duration_seconds=seconds, language=language)),
    _offset, st.text(max_size=300) | st.sampled_from(["报价 price budget 预算 OEM 医院 Voltix trial 合同"] * 1),
    st.floats(0, 1e6), st.sampled_from(["zh", "en", "und", "x" * 16]))
_pos = st.builds(lambda at, customer: PosRow.model_validate(pos(ts=T0 + at, customer_id=customer)),
                 _offset, st.none() | st.just("c-1"))


@settings(max_examples=150, deadline=None)
@given(st.lists(_web | _call | _pos, max_size=60), st.booleans())
def test_any_sequence_keeps_the_score_in_range_and_the_profile_small(events: list, routed: bool) -> None:
    profile = None
    for event in events:
        profile = MODEL.update(profile, event)
        intent = MODEL.assess(profile, event.ts)
        assert 0 <= intent.score <= 100
        assert len(intent.top_signals) <= 5
        assert len(profile.to_bytes()) <= 2048
        assert math.isclose(profile.raw(), profile.recount(), rel_tol=1e-9, abs_tol=1e-9)  # running total
        if routed and intent.trigger:
            MODEL.mark_routed(profile, event.ts)


def test_update_with_pre_extracted_signals_gives_the_same_profile_as_without() -> None:
    texts = ["我们是整车厂，想要一个报价，预算已经批了", "free trial next month? Voltix quoted a price, 医院 OEM",
             "nothing to see here", "报价 price budget 预算 OEM 医院 Voltix trial 合同 本季度 school 工厂"]
    events = deep_read() + [CallTranscript.model_validate(call(text=text, ts=T0 + timedelta(minutes=20 + i)))
                            for i, text in enumerate(texts * 3)]
    inline = pre = None
    for event in events:
        inline = MODEL.update(inline, event)
        signals = MODEL.signals_of(event) if isinstance(event, CallTranscript) else None
        pre = MODEL.update(pre, event, signals)
        assert pre.to_bytes() == inline.to_bytes() and pre == inline
        assert MODEL.assess(pre, event.ts) == MODEL.assess(inline, event.ts)
    assert inline is not None and len(inline.signals) == MODEL.scoring.max_signals  # some were forgotten
    assert MODEL.signals_of(CallTranscript.model_validate(call(text=texts[0], ts=T0))) == {
        "industry-automotive": 1, "price": 1, "budget": 1}
    # Names the lexicon does not know (reloaded since the analysis) are ignored.
    unknown = MODEL.update(None, CallTranscript.model_validate(call(text="", ts=T0)), {"no-such-signal": 2})
    assert unknown.signals == {}


def test_decay_is_lazy_and_a_long_lived_profile_rebases_without_changing_its_values() -> None:
    # 400 days are ~133 half-lives: the stored scale passes its bound and is reset on the way.
    days = [view(timedelta(days=d), 60, **PAPER) for d in range(0, 400, 5)]
    profile = feed(days)
    assert 1.0 <= profile.unit <= 2.0 ** 32
    assert math.isclose(profile.raw(), profile.recount(), rel_tol=1e-9)
    again = LeadProfile.from_bytes(profile.to_bytes())  # written as of `last`, read with unit 1
    assert again.unit == 1.0 and again.to_bytes() == profile.to_bytes()
    at = timedelta(days=395)
    assert math.isclose(raw_points(again, at), raw_points(profile, at), rel_tol=1e-3)
    # Decaying by a factor scales every value as of `last`, whatever the scale they are stored in.
    before = [profile.raw(), profile.recent, *(c.points / profile.unit for c in profile.contents)]
    profile.decay(0.25, 0.5)
    after = [profile.raw(), profile.recent, *(c.points / profile.unit for c in profile.contents)]
    expected = [before[0] * 0.25, before[1] * 0.5, *(value * 0.25 for value in before[2:])]
    assert all(math.isclose(a, e, rel_tol=1e-12) for a, e in zip(after, expected))
    profile.rebase()
    assert profile.unit == 1.0 and math.isclose(profile.raw(), expected[0], rel_tol=1e-12)


def test_the_intent_is_a_validated_intent() -> None:
    from models.routing import Intent
    intent = MODEL.assess(feed(deep_read()), T0 + timedelta(minutes=12))
    assert type(intent) is Intent and intent == Intent.model_validate(intent.model_dump())


@given(st.dictionaries(st.sampled_from("abcde"), st.sampled_from([0.0, 0.5, 1.0, 2.0]), max_size=5))
def test_the_leader_is_the_first_key_with_the_most_points_and_only_with_points(evidence: dict) -> None:
    first_most = max(evidence, key=evidence.__getitem__) if evidence else None
    assert _leader(evidence) == (first_most if first_most is not None and evidence[first_most] > 0 else None)
