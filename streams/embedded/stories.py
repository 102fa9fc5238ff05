"""Whether a replay caught the stories planted in a generated world, with the evidence."""

from __future__ import annotations

from dataclasses import dataclass

from models.records import RoutedLead
from streams.embedded.replay import Results
from streams.embedded.world import CompetitorPush, LazyRep, Stories, WhitePaperBuyer


@dataclass(frozen=True)
class Verdict:
    story: str
    description: str
    caught: bool
    evidence: str


def judge(stories: Stories, results: Results) -> list[Verdict]:
    return [_white_paper(stories.white_paper_buyer, results), _push(stories.competitor_push, results),
            _lazy(stories.lazy_rep, results)]


def _lead_of(results: Results, visitor_id: str) -> str | None:
    return next((lead for event, lead in results.events if getattr(event, "visitor_id", None) == visitor_id), None)


def _routings(results: Results, lead_id: str | None) -> list[RoutedLead]:
    return [r for r in results.routed if r.lead_id == lead_id]


def _white_paper(story: WhitePaperBuyer, results: Results) -> Verdict:
    routings = _routings(results, _lead_of(results, story.visitor_id))
    if not routings:
        return Verdict(story.name, story.description, False, "the buyer was never routed")
    first = routings[0]
    caught = (first.trigger == story.trigger and first.rep_id in story.expected_reps
              and first.routed_at == story.download_at)
    delay = (first.routed_at - story.download_at).total_seconds()
    evidence = (f"{first.trigger or 'threshold'} -> {first.rep_name} ({first.rep_id}) {delay:.0f} s after the "
                f"download, decided in {first.decision_latency_ms:.3f} ms: {'; '.join(first.reasons[:2])}")
    return Verdict(story.name, story.description, caught, evidence)


def _push(story: CompetitorPush, results: Results) -> Verdict:
    fired = [a for a in results.alerts if a.rule in story.rules and a.state == "firing"]
    inside = [a for a in fired if a.region == story.region and a.fired_at is not None
              and story.starts <= a.fired_at <= story.ends]
    caught = {a.rule for a in inside} == set(story.rules) and len(inside) == len(fired)
    if not inside:
        return Verdict(story.name, story.description, False, f"{len(fired)} firing alert(s), none in the push")
    first = min(inside, key=lambda a: a.fired_at)  # type: ignore[arg-type, return-value]
    evidence = (f"{first.severity} alert in {first.region} fired {first.fired_at:%H:%M} UTC: {first.message}"
                + ("" if len(inside) == len(fired) else f"; {len(fired) - len(inside)} outside the push"))
    return Verdict(story.name, story.description, caught, evidence)


def _lazy(story: LazyRep, results: Results) -> Verdict:
    lead = _lead_of(results, story.visitor_id)
    routings = _routings(results, lead)
    breaches = [b for b in results.breaches if b.lead_id == lead and b.rep_id == story.rep_id]
    if not routings or not breaches:
        return Verdict(story.name, story.description, False,
                       f"{len(routings)} routing(s) and {len(breaches)} breach(es) of the lazy rep")
    first, breach = routings[0], breaches[0]
    rerouted = next((r for r in routings if r.routing_id == breach.next_routing_id), None)
    caught = first.rep_id == story.rep_id and rerouted is not None and rerouted.rep_id != story.rep_id
    evidence = (f"routed to {first.rep_name} ({first.rep_id}); SLA ran out at {breach.deadline:%H:%M} UTC; "
                f"re-routed to {rerouted.rep_name if rerouted else 'nobody'}")
    return Verdict(story.name, story.description, caught, evidence)
