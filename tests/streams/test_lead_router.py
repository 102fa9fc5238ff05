"""The lead router end to end in process: profile -> intent -> match -> SLA, on the shipped policies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from config.settings import POLICY_DIR
from models.events import CallTranscript, WebEvent
from models.routing import RepOutcome
from streams.capability import RepStats
from streams.lead_router import LeadRouter
from tests.factories import call, web

TEAM = Path(__file__).parents[1] / "fixtures" / "team.yaml"
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


def history() -> RepStats:
    """auto-star closes most automotive deals; auto-second few."""
    outcomes = [RepOutcome(outcome_id=f"{rep}-{i}", lead_id=f"old-{rep}-{i}", rep_id=rep, kind=kind,
                           industry="automotive", product="hv-connector", ts=T0 - timedelta(days=20 + i))
                for rep, wins in (("auto-star", 8), ("auto-second", 2))
                for i, kind in enumerate(["won"] * wins + ["lost"] * (10 - wins))]
    return RepStats.from_history(outcomes)


@pytest.fixture
def router() -> LeadRouter:
    return LeadRouter.from_policies(POLICY_DIR, TEAM, history())


def white_paper_reads(visitor: str = "tier1-buyer") -> list[WebEvent]:
    """The case from the issue: three reads of the HV-connector white paper, 232 s in all, then the PDF."""
    reads = [web(kind="page_view", visitor_id=visitor, content_id="wp-hv-connector",
                 url="https://example.test/whitepapers/hv-connector", dwell_seconds=dwell,
                 ts=(T0 + timedelta(minutes=i)).isoformat()) for i, dwell in enumerate((70, 80, 82))]
    download = web(kind="content_download", visitor_id=visitor, content_id="wp-hv-connector",
                   url="https://example.test/whitepapers/hv-connector.pdf", ts=(T0 + timedelta(minutes=4)).isoformat())
    return [WebEvent.model_validate(payload) for payload in (*reads, download)]


def run(router: LeadRouter, events: list[WebEvent], lead_id: str = "lead-1"):  # type: ignore[no-untyped-def]
    profile, routings = None, []
    for event in events:
        profile, _intent, routing = router.on_event(lead_id, event, profile, event.ts)
        routings.append(routing)
    return profile, routings


def test_the_white_paper_buyer_goes_to_the_automotive_expert_with_the_content_pack(router: LeadRouter) -> None:
    _profile, routings = run(router, white_paper_reads())
    assert routings[:3] == [None, None, None]  # reading alone is not yet the pattern
    routed = routings[3].routed
    assert (routed.rep_id, routed.queue, routed.trigger) == ("auto-star", "rep", "deep-technical-read")
    assert (routed.stage, routed.intensity, routed.industry, routed.product, routed.priority) == (
        "technical_validation", "high", "automotive", "hv-connector", "p1")
    assert routed.content_pack is not None and "hv-connector" in routed.content_pack.id
    assert routed.content_pack.competitor_matrix
    assert routed.reasons and routed.top_signals
    # Each runner-up says why it lost: the uncertified expert on the pack's certificate.
    lost = {r.rep_id: r.lost_because for r in routed.runners_up}
    assert "auto-second" in lost and lost["auto-second"]
    assert "lacks iatf16949" in lost["auto-uncertified"]
    assert routed.policy == "match:automotive"
    sla = routings[3].sla
    assert sla is not None and sla.deadline == routed.routed_at + timedelta(minutes=5)  # p1 in the pack
    assert routed.sla_deadline == sla.deadline


def test_later_events_do_not_route_the_lead_again(router: LeadRouter) -> None:
    profile, routings = run(router, white_paper_reads())
    more = WebEvent.model_validate(web(kind="form_submit", visitor_id="tier1-buyer",
                                       ts=(T0 + timedelta(minutes=6)).isoformat()))
    routing = router.on_event("lead-1", more, profile, more.ts).routing
    assert routing is None


def test_acceptance_by_the_assigned_rep_stops_the_timer(router: LeadRouter) -> None:
    _profile, routings = run(router, white_paper_reads())
    pending = routings[-1].sla

    def outcome(rep: str, kind: str = "accepted") -> RepOutcome:
        return RepOutcome(outcome_id=f"o-{rep}-{kind}", lead_id="lead-1", rep_id=rep, kind=kind, ts=T0)

    assert router.on_outcome(outcome("auto-second"), pending) is pending  # not the assigned rep
    assert router.on_outcome(outcome("auto-star"), pending) is None


def test_a_breached_sla_reroutes_to_the_runner_up_and_counts_against_the_rep(router: LeadRouter) -> None:
    profile, routings = run(router, white_paper_reads())
    first = routings[-1]
    assert router.on_sla_due("lead-1", first.sla, profile, first.sla.deadline - timedelta(seconds=1)) is None
    load_before = router.team.open_leads[router.team.index["auto-star"]]
    breach, second = router.on_sla_due("lead-1", first.sla, profile, first.sla.deadline + timedelta(seconds=1))
    assert (breach.rep_id, breach.routing_id, breach.next_rep_id) == ("auto-star", first.routed.routing_id, "auto-second")
    assert breach.next_routing_id == second.routed.routing_id != first.routed.routing_id
    assert (second.routed.rep_id, second.routed.attempt) == ("auto-second", 2)
    assert second.sla.tried == ("auto-star", "auto-second")
    assert router.team.open_leads[router.team.index["auto-star"]] == load_before - 1
    # A second breach leaves no certified automotive rep: the lead overflows, with the reason.
    _breach, third = router.on_sla_due("lead-1", second.sla, profile, second.sla.deadline + timedelta(seconds=1))
    assert (third.routed.rep_id, third.routed.queue, third.sla) == (None, "overflow.automotive", None)
    assert third.routed.reasons


def test_routing_ids_are_deterministic(router: LeadRouter) -> None:
    again = LeadRouter.from_policies(POLICY_DIR, TEAM, history())
    first = run(router, white_paper_reads())[1][-1].routed
    second = run(again, white_paper_reads())[1][-1].routed
    assert first.routing_id == second.routing_id and first.rep_id == second.rep_id


def test_a_lead_nobody_can_serve_goes_to_overflow_with_the_reason(router: LeadRouter) -> None:
    event = CallTranscript.model_validate(call(language="ja", text="見積もりと予算 quote budget contract trial"))
    routing = router.on_event("lead-ja", event, None, event.ts).routing
    if routing is None:  # the call alone may not reach the threshold; then nothing is routed at all
        pytest.fail("a call asking for quote, budget, contract and trial should trigger routing")
    assert routing.routed.rep_id is None and routing.routed.queue.startswith("overflow")
    assert routing.sla is None and "ja" in " ".join(routing.routed.reasons)


def test_a_lead_routed_by_a_pattern_at_a_low_score_is_not_routed_again_by_its_next_event(
        router: LeadRouter) -> None:
    first = CallTranscript.model_validate(call())  # asks for a quote and has a budget
    profile, _intent, routing = router.on_event("lead-call", first, None, first.ts)
    assert routing is not None and routing.routed.score < 40  # a pattern, not the threshold
    same_moment = WebEvent.model_validate(web(kind="form_submit", phone=call()["phone"], ts=call()["ts"]))
    again = router.on_event("lead-call", same_moment, profile, same_moment.ts).routing
    assert again is None
