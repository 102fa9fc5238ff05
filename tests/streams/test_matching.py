from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from models.reps import Rep
from models.routing import Intent, RepOutcome
from models.routing_pack import PackSet
from streams.capability import RepStats
from streams.matching import Matcher, TeamState, load_content_packs, load_packs

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Wednesday: 11:00 Shanghai, 04:00 Berlin
PACKS = load_packs()
CONTENT = load_content_packs()


def rep(rep_id: str, **fields: Any) -> Rep:
    return Rep(id=rep_id, name=rep_id.title(), **{"languages": ["zh"], "stages": {"consideration": 0.5}, **fields})


def intent(**fields: Any) -> Intent:
    return Intent(**{"score": 85, "stage": "consideration", "intensity": "high", "industry": "manufacturing",
                     "product": "plc-controller", "language": "zh", "region": "East", **fields})


def matcher(*reps: Rep, packs: PackSet = PACKS) -> Matcher:
    return Matcher(list(reps), packs, CONTENT)


def outcomes(rep_id: str, won: int, lost: int, industry: str = "automotive", days_ago: float = 10) -> list[RepOutcome]:
    return [RepOutcome(outcome_id=f"{rep_id}-{k}", lead_id=f"l-{k}", rep_id=rep_id, kind="won" if k < won else "lost",
                       industry=industry, ts=NOW - timedelta(days=days_ago)) for k in range(won + lost)]


def state_with(m: Matcher, *history: list[RepOutcome]) -> TeamState:
    stats = RepStats.from_history([o for batch in history for o in batch])
    return m.new_state(stats.capability([r.id for r in m.reps], NOW))


def test_language_is_a_hard_constraint() -> None:
    m = matcher(rep("zh-only", stages={"consideration": 1.0}), rep("bilingual", languages=["zh", "ja"]))
    decision = m.decide("lead", intent(language="ja"), NOW, m.new_state())
    assert decision.rep.id == "bilingual"
    assert decision.runners_up[0].lost_because == ["does not speak ja"]
    nobody = matcher(rep("a"), rep("b")).decide("lead", intent(language="ja"), NOW, m.new_state())
    assert nobody.rep is None and nobody.overflow_reason.startswith("no rep speaks ja")


def test_territory_binds_unless_the_pack_lifts_it() -> None:
    m = matcher(rep("north", regions=["North"], stages={"consideration": 1.0}), rep("national"))
    assert m.decide("lead", intent(region="East"), NOW, m.new_state()).rep.id == "national"
    assert m.decide("lead", intent(region="North"), NOW, m.new_state()).rep.id == "north"
    automotive = intent(region="East", industry="automotive", product="hv-connector")
    assert m.decide("lead", automotive, NOW, m.new_state()).rep.id == "north"  # automotive: national accounts


def test_the_industry_pack_requires_its_certifications() -> None:
    m = matcher(rep("uncertified", stages={"purchase": 1.0}),
                rep("certified", certifications=["iso13485"], stages={"purchase": 0.2}))
    decision = m.decide("lead", intent(industry="medical", product="patient-monitor", stage="purchase"),
                        NOW, m.new_state())
    assert decision.rep.id == "certified"
    assert decision.runners_up[0].lost_because == ["lacks iso13485"]
    # Automotive asks for IATF 16949 only from technical validation on.
    early = intent(industry="automotive", product="hv-connector", stage="consideration")
    assert m.decide("lead", early, NOW, m.new_state()).rep is not None
    late = m.decide("lead", early.model_copy(update={"stage": "technical_validation"}), NOW, m.new_state())
    assert late.rep is None and "iatf16949" in late.overflow_reason


def test_working_hours_are_checked_in_each_reps_time_zone() -> None:
    berlin = rep("berlin", hours={"hours": "09:00-17:00", "tz": "Europe/Berlin"}, stages={"consideration": 1.0})
    shanghai = rep("shanghai", hours={"hours": "09:00-18:00", "tz": "Asia/Shanghai"})
    m = matcher(berlin, shanghai)
    assert m.decide("lead", intent(), NOW, m.new_state()).rep.id == "shanghai"  # 04:00 in Berlin
    evening_in_shanghai = NOW + timedelta(hours=7)  # 18:00 Shanghai, 11:00 Berlin
    assert m.decide("lead", intent(), evening_in_shanghai, m.new_state()).rep.id == "berlin"
    saturday = NOW + timedelta(days=3)
    decision = m.decide("lead", intent(), saturday, m.new_state())
    assert decision.rep is None and decision.overflow_reason.startswith("none of 2 qualified reps is working")
    assert {r.lost_because[0] for r in decision.runners_up} == {"off duty (09:00-17:00 Europe/Berlin)",
                                                                 "off duty (09:00-18:00 Asia/Shanghai)"}


def test_summer_time_moves_a_reps_hours_in_utc() -> None:
    m = matcher(rep("berlin", hours={"hours": "09:00-17:00", "tz": "Europe/Berlin"}))
    summer = datetime(2026, 7, 1, 7, 30, tzinfo=timezone.utc)  # 09:30 CEST
    winter = datetime(2026, 12, 2, 7, 30, tzinfo=timezone.utc)  # 08:30 CET
    assert m.decide("lead", intent(), summer, m.new_state()).rep is not None
    assert m.decide("lead", intent(), winter, m.new_state()).rep is None


def test_who_is_on_duty_is_each_reps_hours_at_the_start_of_the_quarter_hour_across_a_dst_week() -> None:
    reps = [rep("berlin", hours={"hours": "09:00-17:00", "tz": "Europe/Berlin"}),
            rep("night", hours={"hours": "22:30-06:00", "days": ["Sat", "Sun"], "tz": "America/New_York"}),
            rep("shanghai", hours={"hours": "09:00-18:00", "tz": "Asia/Shanghai"})]
    m, week = matcher(*reps), datetime(2026, 3, 23, tzinfo=timezone.utc)  # Berlin's clocks move on the 29th
    for quarter in range(2 * 7 * 24 * 4):  # two weeks: the slots of the first are forgotten
        start = week + quarter * timedelta(minutes=15)
        expected = [r.hours.covers(start) for r in reps]
        assert m.eligible(intent(), start + timedelta(minutes=14), m.new_state()).tolist() == expected, start


def test_capacity_and_availability_and_tried_reps_are_hard_constraints() -> None:
    m = matcher(rep("small", capacity=1, stages={"consideration": 1.0}), rep("large", capacity=2),
                rep("away", available=False, stages={"consideration": 1.0}))
    state = m.new_state()
    first = m.decide("lead-1", intent(), NOW, state)
    assert first.rep.id == "small"
    state.assign(first.rep_index)
    second = m.decide("lead-2", intent(), NOW, state)
    assert second.rep.id == "large"
    assert "at capacity 1/1" in [r.lost_because[0] for r in second.runners_up]
    assert m.decide("lead-2", intent(), NOW, m.new_state(), exclude=["small", "large"]).overflow_reason == \
        "all 2 qualified reps already tried"
    state.assign(second.rep_index)
    state.assign(second.rep_index)
    full = m.decide("lead-3", intent(), NOW, state)
    assert full.rep is None and full.overflow_reason == "all 2 eligible reps at capacity"
    state.release(first.rep_index)
    assert m.decide("lead-4", intent(), NOW, state).rep.id == "small"


def test_the_best_measured_rep_wins_and_the_reasons_say_why() -> None:
    m = matcher(*(rep(f"rep-{k}", industries=["automotive"]) for k in range(3)))
    state = state_with(m, outcomes("rep-0", 2, 8), outcomes("rep-1", 8, 2), outcomes("rep-2", 4, 6))
    decision = m.decide("lead", intent(industry="automotive", product=None), NOW, state)
    assert decision.rep.id == "rep-1"
    # Team prior (14+1)/(30+2) = 47%; rep-1 smoothed (8 + 5 * 0.47) / 15 = 69%.
    assert decision.reasons == ["win rate automotive 69% (team 47%)"]
    assert [r.rep_id for r in decision.runners_up] == ["rep-2", "rep-0"]
    assert decision.runners_up[0].lost_because == ["win rate automotive 42% (team 47%) vs 69%"]
    assert decision.score > decision.runners_up[0].score > decision.runners_up[1].score
    assert decision.pack == "automotive" and decision.overflow_reason is None


def test_one_lucky_deal_does_not_beat_a_long_good_record() -> None:
    m = matcher(*(rep(rep_id, industries=["automotive"]) for rep_id in ("lucky", "steady", "average")))
    state = state_with(m, outcomes("lucky", 1, 0), outcomes("steady", 16, 4), outcomes("average", 10, 20))
    # Raw: lucky 100%, steady 80%. Smoothed towards the team's 53%: lucky 61%, steady 75%.
    decision = m.decide("lead", intent(industry="automotive"), NOW, state)
    assert decision.rep.id == "steady"
    assert decision.runners_up[0].lost_because == ["win rate automotive 61% (team 53%) vs 75%"]


def test_load_and_fairness_spread_leads_between_equal_reps() -> None:
    m = matcher(rep("a"), rep("b"))
    state = m.new_state()
    chosen = []
    for n in range(4):
        decision = m.decide(f"lead-{n}", intent(), NOW, state)
        state.assign(decision.rep_index)
        chosen.append(decision.rep.id)
    assert chosen == ["a", "b", "a", "b"]
    state.penalise_id("a")  # an SLA breach counts against a's fairness credit
    assert m.decide("lead-5", intent(), NOW, state).rep.id == "b"
    state.release_id("b")
    state.release_id("b")
    state.release_id("someone-who-left")  # outcomes of reps no longer on the roster are ignored
    assert state.open_leads.tolist() == [2, 0]


def test_the_pack_weights_decide_between_a_closer_and_a_specialist() -> None:
    closer = rep("closer", certifications=["iso13485"], stages={"technical_validation": 0.3})
    specialist = rep("specialist", certifications=["iso13485"], stages={"technical_validation": 1.0})
    by_name = PACKS.by_name()
    lead = intent(industry="retail", product=None, stage="technical_validation")
    picks = {}
    for name in ("manufacturing", "medical"):
        packs = PackSet(packs=(by_name["default"].model_copy(update={"industries": ()}),
                               by_name[name].model_copy(update={"industries": ("retail",)})))
        m = matcher(closer, specialist, packs=packs)
        state = state_with(m, outcomes("closer", 8, 2, "retail"), outcomes("specialist", 3, 7, "retail"))
        decision = m.decide("lead", lead, NOW, state)
        assert decision.pack == name
        picks[name] = decision.rep.id
    assert picks == {"manufacturing": "closer", "medical": "specialist"}


def test_overflow_names_the_queue_and_the_constraint() -> None:
    m = matcher(rep("a", regions=["North"]), rep("b", regions=["South"]))
    decision = m.decide("lead", intent(industry="medical", product="lab-analyzer", region="East"), NOW, m.new_state())
    assert decision.rep is None and decision.rep_index == -1
    assert decision.overflow_reason == "no rep covers region East (of 2 remaining)"
    assert m.pack(decision.pack).overflow == "overflow.medical"
    assert [r.lost_because for r in decision.runners_up] == [
        ["territory North, lead in East", "lacks iso13485"], ["territory South, lead in East", "lacks iso13485"]]


def test_a_lone_eligible_rep_is_explained_and_the_runners_up_say_what_they_failed() -> None:
    m = matcher(rep("a"), rep("b", languages=["en"]), rep("c", available=False))
    decision = m.decide("lead", intent(), NOW, m.new_state())
    assert decision.rep.id == "a" and decision.reasons[0] == "the only eligible rep"
    assert [r.lost_because for r in decision.runners_up] == [["does not speak zh"], ["unavailable"]]


def test_automotive_technical_validation_comes_with_the_hv_connector_pack() -> None:
    m = matcher(rep("a", certifications=["iatf16949"]))
    decision = m.decide("lead", intent(industry="automotive", product="hv-connector", stage="technical_validation"),
                        NOW, m.new_state())
    pack = decision.content_pack
    assert pack.id == "auto-tv-hv-connector" and "hv-connector" in pack.talk_track
    assert any(ref.startswith("cm-auto-hv-connector") for ref in pack.competitor_matrix)
    retail = m.decide("lead", intent(industry="retail", stage="purchase"), NOW, m.new_state())
    assert retail.content_pack.id == "default-purchase"


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        matcher(rep("a")).decide("lead", intent(), datetime(2026, 11, 25, 3), matcher(rep("a")).new_state())
