"""Everything that happens to one lead, without Faust: its profile grows with each event,
its intent is assessed, a hot lead is matched to a rep, the SLA timer is opened, cancelled
by an `accepted` outcome, or breached and the lead re-routed.

The Faust agent (streams/app.py) and the embedded replay call these methods with the
lead's stored state and persist what comes back; the decisions are the same in both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

from config.policy_files import load_roster

from models.events import InboundEvent
from models.base import SCHEMA_VERSION, stable_id, unchecked
from models.records import RoutedLead, ScoredLead, SlaBreach
from models.routing import Intent, RepOutcome
from models.reps import Rep
from models.routing_pack import ContentLibrary, PackSet
from streams.capability import RepStats
from streams.intent import IntentModel, LeadProfile
from streams.matching import Decision, Matcher, TeamState, load_content_packs, load_packs
from streams.sla import PendingSla, breach_record, open_sla, routing_id

POLICY = "match"


@dataclass(frozen=True)
class Routing:
    routed: RoutedLead
    sla: PendingSla | None  # None when the lead went to an overflow queue


class LeadUpdate(NamedTuple):
    """What one event did to its lead: the profile to store, the intent assessed right after
    the event, and the routing when the event made the lead hot."""

    profile: LeadProfile
    intent: Intent
    routing: Routing | None


@dataclass(frozen=True)
class Trigger:
    """The event a routing answers (re-routings keep the first one)."""

    event_id: str
    source: str
    ts: datetime


class LeadRouter:
    def __init__(self, intent: IntentModel, packs: PackSet, content: ContentLibrary, reps: Sequence[Rep],
                 stats: RepStats) -> None:
        self.intent, self.packs, self.content, self.stats = intent, packs, content, stats
        self._set_team(reps)

    @classmethod
    def from_policies(cls, policy_dir: Path, roster_file: Path, stats: RepStats | None = None) -> LeadRouter:
        """Load scoring, content catalogue, lexicon, routing packs, content packs and roster."""
        return cls(IntentModel.from_config(policy_dir), load_packs(policy_dir / "packs"),
                   load_content_packs(policy_dir / "content_packs.yaml"), load_roster(roster_file).active(),
                   stats or RepStats())

    def replace_roster(self, reps: Sequence[Rep]) -> None:
        """Swap in a new roster (from `reps.roster`); open leads and fairness carry over by rep id."""
        previous = self.team
        self._set_team(reps)
        self.team.carry_over(previous)

    def _set_team(self, reps: Sequence[Rep]) -> None:
        self.matcher = Matcher(reps, self.packs, self.content)
        self.rep_ids = [rep.id for rep in self.matcher.reps]
        self.team: TeamState = self.matcher.new_state(self.stats.capability(self.rep_ids, datetime.now(timezone.utc)))

    def measure_capability(self, now: datetime) -> None:
        """Reps' measured capability as of `now` (a replay measures at its own time, not today)."""
        self.team.capability = self.stats.capability(self.rep_ids, now)

    def on_event(self, lead_id: str, event: InboundEvent, profile: LeadProfile | None, now: datetime,
                 signals: Mapping[str, int] | None = None) -> LeadUpdate:
        """Update the profile; route when the intent says so (threshold or trigger, with hysteresis).
        `signals`: a call's phrase counts when already found (at ingest); else found here."""
        started = time.perf_counter()
        profile = self.intent.update(profile, event, signals)
        intent = self.intent.assess(profile, event.ts)
        if intent.trigger is None:
            return LeadUpdate(profile, intent, None)
        self.intent.mark_routed(profile, event.ts)
        trigger = Trigger(event.event_id, event.source, event.ts)
        return LeadUpdate(profile, intent, self._route(lead_id, intent, trigger, 1, (), now, started))

    def on_outcome(self, outcome: RepOutcome, pending: PendingSla | None) -> PendingSla | None:
        """The lead's SLA after the outcome: `accepted` by the assigned rep stops the timer."""
        if outcome.kind in ("won", "lost"):
            self.stats.record(outcome)
            self.team.capability = self.stats.capability(self.rep_ids, outcome.ts)
            self.team.release_id(outcome.rep_id)
        if pending is not None and outcome.kind != "lost" and outcome.rep_id == pending.rep_id:
            return None
        return pending

    def on_sla_due(self, lead_id: str, pending: PendingSla, profile: LeadProfile,
                   now: datetime) -> tuple[SlaBreach, Routing] | None:
        """Re-route a lead whose rep let the SLA pass; the breach counts against that rep."""
        if not pending.is_due(now):
            return None
        started = time.perf_counter()
        self.team.release_id(pending.rep_id)
        self.team.penalise_id(pending.rep_id)
        intent = self.intent.assess(profile, now, explain=True)
        trigger = Trigger(pending.trigger_event_id, pending.trigger_source, pending.event_ts)
        routing = self._route(lead_id, intent, trigger, pending.attempt + 1, pending.tried, now, started)
        return breach_record(lead_id, pending, now, routing.routed), routing

    def _route(self, lead_id: str, intent: Intent, trigger: Trigger, attempt: int, tried: tuple[str, ...],
               now: datetime, started: float) -> Routing:
        decision = self.matcher.decide(lead_id, intent, now, self.team, exclude=tried)
        pack = self.packs.for_industry(intent.industry)
        if decision.rep is not None:
            self.team.assign(decision.rep_index)
        deadline = now + timedelta(minutes=getattr(pack.sla_minutes, intent.priority)) if decision.rep else None
        routed = _record(lead_id, intent, decision, pack.overflow, trigger, attempt, now, deadline,
                         (time.perf_counter() - started) * 1000)
        return Routing(routed, open_sla(routed, tried))


def _record(lead_id: str, intent: Intent, decision: Decision, overflow: str, trigger: Trigger, attempt: int,
            now: datetime, deadline: datetime | None, latency_ms: float) -> RoutedLead:
    rep = decision.rep
    reasons = decision.reasons if rep is not None else [decision.overflow_reason or "no rep qualified"]
    return RoutedLead(
        routing_id=routing_id(lead_id, trigger.event_id, attempt),
        lead_id=lead_id,
        rep_id=rep.id if rep else None,
        rep_name=rep.name if rep else None,
        queue="rep" if rep else overflow,
        policy=f"{POLICY}:{decision.pack}",
        reasons=reasons,
        runners_up=decision.runners_up,
        score=intent.score,
        stage=intent.stage,
        intensity=intent.intensity,
        industry=intent.industry,
        product=intent.product,
        priority=intent.priority,
        trigger=intent.trigger,
        top_signals=intent.top_signals,
        match_score=decision.score,
        content_pack=decision.content_pack,
        attempt=attempt,
        sla_deadline=deadline,
        trigger_event_id=trigger.event_id,
        trigger_source=trigger.source,
        event_ts=trigger.ts,
        routed_at=now,
        decision_latency_ms=latency_ms,
    )


def scored_lead(lead_id: str, event: InboundEvent, intent: Intent, now: datetime) -> ScoredLead:
    """The `leads.scored` record of an event's assessment (runs once per lead event)."""
    return _new_scored({
        "schema_version": SCHEMA_VERSION,
        "score_id": stable_id("score", lead_id, event.event_id),
        "lead_id": lead_id,
        "event_id": event.event_id,
        "source": event.source,
        "score": intent.score,
        "stage": intent.stage,
        "intensity": intent.intensity,
        "industry": intent.industry,
        "product": intent.product,
        "region": intent.region,
        "priority": intent.priority,
        "trigger": intent.trigger,
        "top_signals": intent.top_signals,
        "ts": event.ts,
        "scored_at": now,
    })


_new_scored = unchecked(ScoredLead)  # built from a validated event and the intent model's values
