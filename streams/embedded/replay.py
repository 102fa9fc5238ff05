"""The worker's processors driven in-process, in event-time order (`leadflow replay`, `leadflow demo`).

The same pure drivers as the Faust agents (streams/app.py): identity stitching and call analysis
as in `ingest`, LeadRouter for the `leads` agent, RegionDesk for the `regions` agent. What the
worker does on the wall clock happens here on the event clock, from a timer queue:
- an SLA is checked at its deadline (the worker checks every few seconds);
- rules are evaluated once a minute of event time, as Prometheus does by default: the minute's
  metric increments go to the regional stage together, then the minute's tick runs (the worker
  evaluates per ingest batch and ticks every `alert_tick_seconds`; a worker catching up on a
  backlog also evaluates hundreds of events at once). A `for` duration therefore elapses, and a
  pending alert starts, on a minute boundary of event time, never between two;
- reps accept routed leads after the minutes given in `responses`, standing in for the
  `reps.outcomes` a live team would send (outcome lines in the file are applied as they come).
Idle lead profiles are not expired: a replay covers days, the idle period is weeks.

The stages run by turns, as the worker's run apart, joined by topics: ingest over a slice of
lines, then the lead stage over that slice; the regional stage over its queued minutes whenever
REGIONAL_CHUNK increments wait. Neither needs more from another than the worker's topics carry,
and a stage running over thousands of events keeps its data in the CPU caches: a replay runs
about a tenth faster than with every stage taking each event in turn.

A file may leave days out (a generated world holds one day of last week and today). The clock
runs on for `QUIET` after the last event, then jumps to the next one: ticking through a gap in
the file would judge day-over-day rules on days that were never recorded.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

from models.base import stable_id
from models.events import CallTranscript, InboundEvent
from models.alerts import Alert, Escalation
from models.records import RegionMetric, RoutedLead, ScoredLead, SlaBreach
from models.routing import RepOutcome
from streams.aggregates import LeadMetric, contributions, lead_contributions, lead_event_metrics
from streams.capability import RepStats
from streams.embedded.events_file import Line
from streams.identity import resolve_lead
from streams.intent import LeadProfile
from streams.lead_router import LeadRouter, Routing, scored_lead
from streams.region_desk import Increment, Outputs, RegionDesk
from streams.sla import PendingSla

TICK = timedelta(minutes=1)
QUIET = timedelta(hours=1)
INGEST_CHUNK = 4096  # lines ingested before the lead stage takes them
REGIONAL_CHUNK = 50_000  # increments queued for the regional stage before it runs them
Ingested = tuple[str | None, dict[str, int] | None, list[tuple[str, str, float]]]  # lead, call signals, increments


@dataclass(frozen=True)
class Policies:
    """What a replay decides with: policy files, the team, its history and how fast it answers."""

    policy_dir: Path
    roster_file: Path
    deals: tuple[RepOutcome, ...] = ()  # deal history: reps' measured capability
    responses: Mapping[str, float | None] = field(default_factory=dict)  # rep id -> minutes to accept


@dataclass
class Results:
    """Every record the worker would have published, in the order it would have."""

    events: list[tuple[InboundEvent, str | None]] = field(default_factory=list)  # with their lead
    scored: list[ScoredLead] = field(default_factory=list)
    routed: list[RoutedLead] = field(default_factory=list)
    breaches: list[SlaBreach] = field(default_factory=list)
    outcomes: list[RepOutcome] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    metrics: list[RegionMetric] = field(default_factory=list)


class Replay:
    def __init__(self, policies: Policies, lateness_seconds: float = 120.0) -> None:
        stats = RepStats.from_history(policies.deals)
        self.router = LeadRouter.from_policies(policies.policy_dir, policies.roster_file, stats)
        self.desk = RegionDesk.from_policies(policies.policy_dir, lateness_seconds, context_at_ticks=False)
        self.lateness = timedelta(seconds=lateness_seconds)
        self.responses = policies.responses
        self.results = Results()
        self._aliases: dict[str, str] = {}
        self._profiles: dict[str, LeadProfile] = {}
        self._slas: dict[str, PendingSla] = {}
        # (when, sequence, handler, argument): the sequence keeps same-moment timers in order.
        self._timers: list[tuple[datetime, int, Callable[[datetime, object], None], object]] = []
        self._sequence = itertools.count()
        self._next_tick = datetime.min.replace(tzinfo=timezone.utc)  # set by the first line
        # This minute's increments, not yet in the regional stage: per (region, metric), the latest
        # time, the sum and how many; max / min metrics keep each increment (a key of its own).
        self._sums: dict[tuple[str, ...], list] = {}
        self._extremes = {name for name, kind in self.desk.store.kinds().items() if kind in ("max", "min")}
        # The regional stage's input not run yet, in order: a minute's sums and their counts, or a tick.
        self._regional: list[tuple[list[Increment], list[int]] | datetime] = []
        self._queued = 0  # increments in it

    def run(self, lines: Sequence[Line], progress: Callable[[int], None] = lambda _done: None) -> Results:
        """Feed lines in event-time order; then let time run on until every timer has fired.
        `progress` is told how many lines are done, every INGEST_CHUNK lines and at the end."""
        if not lines:
            return self.results
        last = lines[0].record.ts
        self.router.measure_capability(last)  # reps' record as of the replayed time
        self._next_tick = _minute(last) + TICK
        for start in range(0, len(lines), INGEST_CHUNK):
            chunk = lines[start:start + INGEST_CHUNK]
            ingested = [self._ingest(line.record) for line in chunk]
            for line, found in zip(chunk, ingested):
                record = line.record
                ts = record.ts
                # Most lines come before the next tick and any timer: nothing is due, and no gap
                # is possible (a tick a minute at most after the last line).
                if ts >= self._next_tick or self._timers and self._timers[0][0] <= ts:
                    if ts - last > QUIET:
                        self._advance(last + QUIET)
                        self._next_tick = _minute(ts) + TICK  # a gap in the file: no ticks through it
                    self._advance(ts)
                if found is None:
                    self._on_outcome(record)  # type: ignore[arg-type]
                else:
                    lead_id, signals, increments = found
                    self._on_event(record, lead_id, signals, increments)  # type: ignore[arg-type]
                last = ts
            progress(start + len(chunk))
        self._advance(max([last + self.lateness + TICK, *(when for when, *_ in self._timers)]))
        self._flush()  # what the last timers counted
        self._run_regional()
        return self.results

    # ---- the clock -------------------------------------------------------------------------

    def _advance(self, to: datetime) -> None:
        """Fire every timer and minute tick due by `to`, in time order."""
        while True:
            timer_at = self._timers[0][0] if self._timers else None
            if timer_at is not None and timer_at <= to and timer_at < self._next_tick:
                when, _seq, handler, argument = heapq.heappop(self._timers)
                handler(when, argument)
            elif self._next_tick <= to:
                self._flush()
                self._regional.append(self._next_tick)
                self._next_tick += TICK
                if self._queued >= REGIONAL_CHUNK:
                    self._run_regional()
            else:
                return

    def _at(self, when: datetime, handler: Callable[[datetime, object], None], argument: object) -> None:
        heapq.heappush(self._timers, (when, next(self._sequence), handler, argument))

    # ---- ingest and the lead stage -----------------------------------------------------------

    def _ingest(self, record: InboundEvent | RepOutcome) -> Ingested | None:
        """What the worker's ingest stage does with an event (None for an outcome)."""
        if isinstance(record, RepOutcome):
            return None
        lead_id, learned = resolve_lead(record, self._aliases)
        if learned:
            self._aliases.update(learned)
        self.results.events.append((record, lead_id))
        signals = self.router.intent.signals_of(record) if isinstance(record, CallTranscript) else None
        return lead_id, signals, contributions(record, self.desk.catalog)

    def _on_event(self, event: InboundEvent, lead_id: str | None, signals: dict[str, int] | None,
                  increments: list[tuple[str, str, float]]) -> None:
        if increments:
            self._increments(event.ts, increments)
        if lead_id is not None:
            self._on_lead_event(lead_id, event, signals)

    def _on_lead_event(self, lead_id: str, event: InboundEvent, signals: dict[str, int] | None) -> None:
        stored = self._profiles.get(lead_id)
        profile, intent, routing = self.router.on_event(lead_id, event, stored, event.ts, signals)
        self._profiles[lead_id] = profile
        self.results.scored.append(scored_lead(lead_id, event, intent, event.ts))
        self._lead_increments(lead_event_metrics(stored is None, routing is not None), profile.region, event.ts)
        if routing is not None:
            self._publish(lead_id, routing)

    def _publish(self, lead_id: str, routing: Routing) -> None:
        routed = routing.routed
        self.results.routed.append(routed)
        if routing.sla is None:
            self._slas.pop(lead_id, None)
            return
        self._slas[lead_id] = routing.sla
        self._at(routing.sla.deadline, self._on_sla_due, (lead_id, routing.sla.routing_id))
        minutes = self.responses.get(routing.sla.rep_id)
        if minutes is not None:
            self._at(routed.routed_at + timedelta(minutes=minutes), self._on_response, routed)

    def _on_response(self, when: datetime, routed: object) -> None:
        assert isinstance(routed, RoutedLead) and routed.rep_id is not None
        self._on_outcome(RepOutcome(outcome_id=stable_id("outcome", routed.routing_id, "accepted"),
                                    routing_id=routed.routing_id, lead_id=routed.lead_id, rep_id=routed.rep_id,
                                    kind="accepted", industry=routed.industry, product=routed.product, ts=when))

    def _on_outcome(self, outcome: RepOutcome) -> None:
        self.results.outcomes.append(outcome)
        pending = self._slas.get(outcome.lead_id)
        after = self.router.on_outcome(outcome, pending)
        if after is None:
            self._slas.pop(outcome.lead_id, None)

    def _on_sla_due(self, when: datetime, due: object) -> None:
        lead_id, routing_id = due  # type: ignore[misc]
        pending, profile = self._slas.get(lead_id), self._profiles.get(lead_id)
        if pending is None or pending.routing_id != routing_id or profile is None:
            return  # accepted or re-routed meanwhile
        result = self.router.on_sla_due(lead_id, pending, profile, when)
        if result is None:
            return
        breach, routing = result
        self.results.breaches.append(breach)
        self._lead_increments(("sla_breaches",), profile.region, when)
        self._publish(lead_id, routing)

    # ---- the regional stage ------------------------------------------------------------------

    def _lead_increments(self, kinds: tuple[LeadMetric, ...], region: str | None, ts: datetime) -> None:
        if kinds:
            self._increments(ts, lead_contributions(kinds, region, self.desk.catalog))

    def _increments(self, ts: datetime, increments: list[tuple[str, str, float]]) -> None:
        """(region, metric, amount) increments at `ts` into this minute's sums."""
        sums, extremes = self._sums, self._extremes
        for region, metric, amount in increments:
            key = (region, metric) if metric not in extremes else (region, metric, len(sums))
            total = sums.get(key)
            if total is None:
                sums[key] = [ts, amount, 1]
            else:
                total[0] = ts
                total[1] += amount
                total[2] += 1

    def _flush(self) -> None:
        if self._sums:
            items = self._sums.items()
            self._regional.append(([(key[0], key[1], ts, amount) for key, (ts, amount, _n) in items],
                                   [n for _ts, _amount, n in self._sums.values()]))
            self._queued += len(self._sums)
            self._sums = {}

    def _run_regional(self) -> None:
        """The regional stage over its queued input (the stages run by turns: see the module doc)."""
        desk, publish = self.desk, self._publish_regional
        for item in self._regional:
            publish(desk.on_tick(item) if isinstance(item, datetime) else desk.on_increments(*item))
        self._regional, self._queued = [], 0

    def _publish_regional(self, out: Outputs) -> None:
        results = self.results
        if out.alerts:  # most calls publish nothing: skip the list updates
            results.alerts += out.alerts
        if out.escalations:
            results.escalations += out.escalations
        if out.metrics:
            results.metrics += out.metrics


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)
