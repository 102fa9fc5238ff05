"""Whatever the roster, leads and order of decisions: no routed lead breaks a hard constraint and
no rep ever holds more open leads than its capacity."""

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from models.reps import CERTIFICATIONS, INDUSTRIES, LANGUAGES, PRODUCTS, REGIONS, STAGES, Rep
from models.routing import Intent
from streams.matching import Matcher, load_content_packs, load_packs

PACKS, CONTENT = load_packs(), load_content_packs()
MONDAY = datetime(2026, 11, 23, tzinfo=timezone.utc)
ZONES = ["Asia/Shanghai", "Asia/Tokyo", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]


def subset(names: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(names), unique=True, max_size=len(names))


hours = st.none() | st.builds(
    dict, hours=st.sampled_from(["09:00-18:00", "08:30-17:30", "22:00-06:00", "00:00-24:00"]),
    days=st.lists(st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]), unique=True, min_size=1),
    tz=st.sampled_from(ZONES))
reps = st.lists(st.builds(
    dict, languages=subset(LANGUAGES), regions=subset(REGIONS), certifications=subset(CERTIFICATIONS),
    industries=subset(INDUSTRIES), products=subset(PRODUCTS),
    stages=st.dictionaries(st.sampled_from(STAGES), st.floats(0, 1)),
    capacity=st.integers(1, 3), available=st.booleans(), hours=hours), min_size=1, max_size=8)
intents = st.builds(
    Intent, score=st.just(80.0), stage=st.sampled_from(STAGES), intensity=st.just("high"),
    industry=st.none() | st.sampled_from([*INDUSTRIES, "aerospace"]), product=st.none() | st.sampled_from(PRODUCTS),
    language=st.none() | st.sampled_from([*LANGUAGES, "fr"]), region=st.none() | st.sampled_from(REGIONS))
leads = st.lists(st.tuples(intents, st.integers(0, 7 * 24 * 60 - 1), st.lists(st.integers(0, 7), max_size=2)),
                 min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(reps, leads)
def test_routed_leads_respect_every_hard_constraint(profiles: list[dict], lead_stream: list) -> None:
    team = [Rep(id=f"rep-{i}", name=f"Rep {i}", **profile) for i, profile in enumerate(profiles)]
    matcher = Matcher(team, PACKS, CONTENT)
    state = matcher.new_state()
    for n, (intent, minute, tried) in enumerate(lead_stream):
        now = MONDAY + timedelta(minutes=minute)
        exclude = [f"rep-{i}" for i in tried]
        decision = matcher.decide(f"lead-{n}", intent, now, state, exclude)
        if decision.rep is None:
            assert decision.overflow_reason
            continue
        rep, pack = decision.rep, matcher.pack(decision.pack)
        assert rep.active and rep.available and rep.id not in exclude
        assert intent.language is None or intent.language in rep.languages
        assert intent.region is None or not pack.enforce_territory or not rep.regions or intent.region in rep.regions
        assert set(pack.certifications_for(intent.stage)) <= set(rep.certifications)
        assert rep.hours is None or rep.hours.covers(now)
        assert state.open_leads[decision.rep_index] < rep.capacity
        state.assign(decision.rep_index)
        assert all(state.open_leads[i] <= r.capacity for i, r in enumerate(team))
