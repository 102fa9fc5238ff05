"""The Faust application: topics, tables and agents. Each agent is a thin loop around
the pure processors; every event is handled inside a try so none is lost to a raise
(Faust acks an event even when its agent raises)."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from datetime import datetime
from typing import Any, Callable, TypeVar

import faust
from mode import Service

from config.policy_files import PolicyError, load_roster
from config.settings import Settings
from models.base import utc_now
from models.catalog import SOURCE_TOPICS, spec
from models.events import EVENT_MODELS, CallTranscript
from models.alerts import AlertAck, Silence
from models.records import AcceptedEvent, MetricIncrement, RosterUpdate, RulesDocument
from models.routing import LeadTimer, RepOutcome
from sinks.backends import open_backend
from sinks.history import recent_outcomes
from streams import metrics
from streams.aggregates import contributions, lead_contributions, lead_event_metrics
from streams.capability import RepStats
from streams.dead_letters import dead_letter
from streams.identity import resolve_lead
from streams.ingest import Rejection, accept, decode_event
from streams.kafka_transport import App
from streams.intent import LeadProfile
from streams.lead_router import LeadRouter, Routing, scored_lead
from streams.alert_lifecycle import AlertBook
from streams.increment_replay import replay_increments
from streams.region_desk import Outputs, RegionDesk
from streams.rules import RuleSet
from streams.rules.parser import parse_rules
from streams.sla import PendingSla
from streams.topic_follower import Snapshot, TopicFollower
from streams.sink_worker import SinkWorker

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def broker_credentials(settings: Settings) -> Any:
    """Faust's form of the Kafka security settings (None for PLAINTEXT)."""
    protocol = settings.kafka_security_protocol
    context = None
    if protocol.endswith("SSL"):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
        if settings.kafka_ssl_certfile:
            password = settings.kafka_ssl_key_password
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile,
                                    password.get_secret_value() if password else None)
    if protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context else None


def deal_history(settings: Settings) -> RepStats:
    """Reps' measured capability from the deal history in ClickHouse, when it answers at start-up.
    Routing never waits on ClickHouse: without it the worker starts from outcomes it sees live."""
    try:
        backend = open_backend(settings.clickhouse_url.get_secret_value())
        try:
            return RepStats.from_history(recent_outcomes(backend, days=180))
        finally:
            backend.close()
    except Exception as exc:  # unreachable server, missing table: start without history
        log.warning("starting without deal history (ClickHouse: %s)", exc)
        return RepStats()


STAGES = ("ingest", "decide")  # decide: the lead and regional stages


def create_app(settings: Settings, with_sink: bool = True, stages: tuple[str, ...] = STAGES) -> faust.App:
    """The worker; `stages` picks a part of it, so each part can run in a process of its own (its
    own GIL). A part is its own Faust app (own consumer groups and tables): a deployment runs
    either whole workers or parts, not both."""
    app = App(
        settings.app_id if set(stages) == set(STAGES) else f"{settings.app_id}-{'-'.join(stages)}",
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        broker=[f"kafka://{server}" for server in settings.kafka_servers],
        broker_credentials=broker_credentials(settings),
        store=settings.store,
        datadir=str(settings.data_dir),
        autodiscover=False,
        web_enabled=False,  # metrics are served by prometheus-client on the loopback port
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        producer_max_request_size=spec("deadletter").max_message_bytes,
        consumer_auto_offset_reset="earliest",
        # Messages produced within this many seconds go in one produce request: aiokafka
        # sends at most one request at a time per broker, and without lingering that is a
        # request (and a socket write) per message or two at 2,000 events/s.
        producer_linger=settings.producer_linger_ms / 1000,
    )
    router = LeadRouter.from_policies(settings.policy_dir, settings.roster_file, deal_history(settings))
    desk = RegionDesk.from_policies(settings.policy_dir, settings.alert_lateness_seconds)

    def raw_topic(name: str, *more: str) -> faust.TopicT:
        names = [settings.topic(n) for n in (name, *more)]
        return app.topic(*names, key_serializer="raw", value_serializer="raw",
                         partitions=settings.topic_partitions)

    sources = raw_topic(*SOURCE_TOPICS.values())
    source_of = {settings.topic(topic): source for source, topic in SOURCE_TOPICS.items()}
    outputs = {name: raw_topic(name) for name in
               ("events.by_lead", "events.by_region", "leads.scored", "leads.routed", "leads.sla", "leads.timers",
                "deadletter", "region.metrics", "alerts", "alerts.escalations")}
    increments = app.topic(settings.topic("region.increments"), key_serializer="raw", value_serializer="raw",
                           partitions=1)
    # The regional stage is one partition: increments, acknowledgements and silences in order.
    region_inputs = app.topic(*(settings.topic(n) for n in ("region.increments", "alerts.acks", "alerts.silences")),
                              key_serializer="raw", value_serializer="raw", partitions=1)
    # Everything keyed by lead, co-partitioned: behaviour, outcomes (keyed by lead id), SLA timers.
    lead_inputs = raw_topic("events.by_lead", "reps.outcomes", "leads.timers")

    def stage(name: str, register: Callable[[F], Any]) -> Callable[[F], Any]:
        """Register an agent or timer only in a worker that runs its stage."""
        return register if name in stages else (lambda function: function)

    ingesting, deciding = "ingest" in stages, "decide" in stages
    # Hashed identifier -> lead id; global so ingest on any partition resolves any alias.
    # Written by ingest in batches, outside a current event: its changelog is partitioned by key.
    aliases: Any = (app.GlobalTable("aliases", partitions=settings.topic_partitions, use_partitioner=True)
                    if ingesting else None)
    # Lead -> compact profile (UTF-8 JSON text, <= 2 KB), written once per lead event.
    profiles: Any = app.Table("profiles", partitions=settings.topic_partitions) if deciding else None
    # Lead -> its open SLA (JSON text), written only when routed, accepted or breached.
    slas: Any = app.Table("slas", partitions=settings.topic_partitions) if deciding else None

    @stage("ingest", app.agent(sources, name="ingest"))
    async def ingest(stream: faust.StreamT) -> None:
        # In batches: the batch's metric increments go to the regional stage as one message,
        # not one per event (a produce, a consume and a rule evaluation less per event).
        async for batch in stream.take_events(settings.ingest_batch_events, settings.ingest_batch_seconds):
            timed: list[tuple[str, str, datetime, float]] = []
            for event in batch:
                await ingest_one(event.message, timed)
            if timed:
                message = MetricIncrement(timed=timed, ts=max(ts for _region, _metric, ts, _amount in timed))
                await increments.send(key=b"regions", value=message.model_dump_json().encode())

    async def ingest_one(message: Any, timed: list[tuple[str, str, datetime, float]]) -> None:
        """Validate, stitch, pass on to the lead or region stage; the event's increments join `timed`."""
        source = source_of[message.topic]
        metrics.EVENTS_IN.labels(source).inc()
        try:
            result = decode_event(source, message.value, settings.max_event_bytes)
            if isinstance(result, Rejection):
                await _send_dead_letter(message, source, result.reason, result.detail)
                return
            lead_id, learned = resolve_lead(result, aliases)
            for alias, lead in learned.items():
                aliases[alias] = lead
            # Transcripts are scanned here, in parallel over source partitions, so the
            # keyed lead stage only folds counts into the profile.
            signals = router.intent.signals_of(result) if isinstance(result, CallTranscript) else None
            topic, accepted = accept(result, lead_id, utc_now(), signals)
            await outputs[topic].send(key=accepted.key.encode(), value=accepted.model_dump_json().encode())
            timed.extend((region, metric, result.ts, amount)
                         for region, metric, amount in contributions(result, desk.catalog))
        except Exception as exc:
            log.exception("ingest failed on %s[%d]@%d", message.topic, message.partition, message.offset)
            await _send_dead_letter(message, source, "internal_error", repr(exc))

    def load_profile(stored: str | None) -> LeadProfile | None:
        return LeadProfile.from_bytes(stored.encode()) if stored else None

    def open_sla_of(lead_id: str) -> PendingSla | None:
        stored = slas.get(lead_id)
        return PendingSla.from_json(stored) if stored else None

    def store_sla(lead_id: str, pending: PendingSla | None) -> None:
        if pending is not None:
            slas[lead_id] = pending.to_json()
        elif lead_id in slas:
            del slas[lead_id]  # a tombstone in the changelog

    async def publish(routing: Routing, lead_id: str) -> None:
        routed = routing.routed
        # Publish before recording: after a crash the lead is routed again with the
        # same routing id (deduplicated downstream) rather than never.
        await outputs["leads.routed"].send(key=lead_id.encode(), value=routed.model_dump_json().encode())
        store_sla(lead_id, routing.sla)
        metrics.LEADS_ROUTED.labels(routed.queue).inc()
        metrics.DECISION_LATENCY.observe(routed.decision_latency_ms / 1000)

    async def on_lead_event(value: bytes) -> None:
        accepted = AcceptedEvent.model_validate_json(value)
        inbound = EVENT_MODELS[accepted.source].model_validate(accepted.event)
        stored, now = profiles.get(accepted.key), utc_now()
        profile, intent, routing = router.on_event(accepted.key, inbound, load_profile(stored), now,
                                                   accepted.signals if accepted.source == "call" else None)
        profiles[accepted.key] = profile.to_bytes().decode()
        scored = scored_lead(accepted.key, inbound, intent, now)
        await outputs["leads.scored"].send(key=accepted.key.encode(), value=scored.model_dump_json().encode())
        kinds = lead_event_metrics(stored is None, routing is not None)
        if kinds:
            await send_increments(lead_contributions(kinds, profile.region, desk.catalog), inbound.ts)
        if routing is not None:
            await publish(routing, accepted.key)

    async def on_outcome(value: bytes) -> None:
        outcome = RepOutcome.model_validate_json(value)
        pending = open_sla_of(outcome.lead_id)
        after = router.on_outcome(outcome, pending)
        if after is not pending:
            store_sla(outcome.lead_id, after)
            metrics.SLA_ACCEPTED.inc()

    async def on_timer(value: bytes) -> None:
        timer = LeadTimer.model_validate_json(value)
        if timer.kind == "expire":
            await on_expiry(timer)
        else:
            await on_sla_due(timer)

    async def on_expiry(timer: LeadTimer) -> None:
        stored = profiles.get(timer.lead_id)
        if stored and router.intent.is_expired(load_profile(stored), utc_now()) and not slas.get(timer.lead_id):
            del profiles[timer.lead_id]  # a tombstone: the changelog forgets the lead too
            metrics.PROFILES_EXPIRED.inc()

    async def on_sla_due(due: LeadTimer) -> None:
        pending, profile = open_sla_of(due.lead_id), profiles.get(due.lead_id)
        if pending is None or pending.routing_id != due.routing_id or profile is None:
            return  # accepted or re-routed meanwhile
        lead = load_profile(profile)
        result = router.on_sla_due(due.lead_id, pending, lead, utc_now())
        if result is None:
            return
        breach, routing = result
        await send_increments(lead_contributions(("sla_breaches",), lead.region if lead else None, desk.catalog),
                              breach.detected_at)
        await outputs["leads.sla"].send(key=due.lead_id.encode(), value=breach.model_dump_json().encode())
        metrics.SLA_BREACHES.labels(breach.priority).inc()
        await publish(routing, due.lead_id)

    handlers = {
        settings.topic("events.by_lead"): on_lead_event,
        settings.topic("reps.outcomes"): on_outcome,
        settings.topic("leads.timers"): on_timer,
    }

    @stage("decide", app.agent(lead_inputs, name="leads"))
    async def leads(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            try:
                await handlers[message.topic](message.value)
            except Exception as exc:
                log.exception("lead processing failed on %s[%d]@%d", message.topic, message.partition, message.offset)
                await _send_dead_letter(message, "leads", "internal_error", repr(exc))

    signalled: dict[str, float] = {}  # routing id -> when its SLA was last signalled

    @stage("decide", app.timer(interval=settings.sla_check_seconds))
    async def check_slas() -> None:
        """Signal each passed SLA to the lead's partition, where the owner re-routes it."""
        now, clock = utc_now(), time.monotonic()
        for lead_id, stored in list(slas.items()):
            pending = PendingSla.from_json(stored)
            if pending.is_due(now) and clock - signalled.get(pending.routing_id, -1e9) > 10:
                signalled[pending.routing_id] = clock
                await send_timer(LeadTimer(lead_id=lead_id, kind="sla", routing_id=pending.routing_id))
        for routing in [r for r, at in signalled.items() if clock - at > 60]:
            del signalled[routing]

    @stage("decide", app.timer(interval=settings.profile_sweep_seconds))
    async def sweep_profiles() -> None:
        """Ask the owner of each idle lead to forget it: state stays bounded by the active leads."""
        now = utc_now()
        for lead_id, stored in list(profiles.items()):
            if router.intent.is_expired(load_profile(stored), now):
                await send_timer(LeadTimer(lead_id=lead_id, kind="expire"))

    async def send_timer(timer: LeadTimer) -> None:
        await outputs["leads.timers"].send(key=timer.lead_id.encode(), value=timer.model_dump_json().encode())

    async def send_increments(items: list[tuple[str, str, float]], ts: datetime) -> None:
        """Increments of one moment of event time to the regional stage (none: a tick)."""
        message = MetricIncrement(increments=items, ts=ts)
        await increments.send(key=b"regions", value=message.model_dump_json().encode())

    async def publish_regional(out: Outputs) -> None:
        await save_book(out)
        for alert in out.alerts:
            await outputs["alerts"].send(key=alert.alert_id.encode(), value=alert.model_dump_json().encode())
            metrics.ALERTS.labels(alert.severity, alert.state).inc()
        for escalation in out.escalations:
            await outputs["alerts.escalations"].send(key=escalation.alert_id.encode(),
                                                     value=escalation.model_dump_json().encode())
            metrics.ESCALATIONS.inc()
        for metric in out.metrics:
            await outputs["region.metrics"].send(key=metric.region.encode(), value=metric.model_dump_json().encode())

    async def on_increment(value: bytes) -> None:
        message = MetricIncrement.model_validate_json(value)
        if message.is_tick:  # time passes without events
            await publish_regional(desk.on_tick(message.ts))
            return
        items = message.items()
        metrics.REGION_INCREMENTS.inc(len(items))
        dropped = desk.late_dropped
        await publish_regional(desk.on_increments(items))
        metrics.LATE_EVENTS.inc(desk.late_dropped - dropped)

    async def on_ack(value: bytes) -> None:
        await publish_regional(Outputs(alerts=desk.on_ack(AlertAck.model_validate_json(value))))

    async def on_silence(value: bytes) -> None:
        await publish_regional(Outputs(alerts=desk.on_silence(Silence.model_validate_json(value), utc_now())))

    regional_handlers = {
        settings.topic("region.increments"): on_increment,
        settings.topic("alerts.acks"): on_ack,
        settings.topic("alerts.silences"): on_silence,
    }

    # "book" -> the alert book as JSON, saved after every change: alert episodes survive restarts.
    region_state: Any = app.Table("region_state", partitions=1) if deciding else None

    async def restore_regional(resume_at: int) -> None:
        saved = region_state.get("book")
        book = AlertBook.from_json(desk.book.policy, saved) if saved else None
        since = utc_now() - desk.horizon
        increments = await asyncio.get_running_loop().run_in_executor(
            None, lambda: list(replay_increments(settings, resume_at, since)))
        desk.restore(increments, book)

    async def save_book(out: Outputs) -> None:
        if out.alerts or out.escalations:
            region_state["book"] = desk.book.to_json()

    @stage("decide", app.agent(region_inputs, name="regions"))
    async def regions(stream: faust.StreamT) -> None:
        restored = False
        async for event in stream.events():
            message = event.message
            if not restored and message.topic == settings.topic("region.increments"):
                await restore_regional(message.offset)  # everything before this offset was applied once
                restored = True
            try:
                await regional_handlers[message.topic](message.value)
            except Exception as exc:
                log.exception("regional processing failed on %s[%d]@%d", message.topic, message.partition,
                              message.offset)
                await _send_dead_letter(message, "regions", "internal_error", repr(exc))

    @stage("decide", app.timer(interval=settings.alert_tick_seconds, on_leader=True))
    async def tick_regions() -> None:
        await send_increments([], utc_now())

    async def _send_dead_letter(message: Any, source: str, reason: Any, detail: str) -> None:
        letter = dead_letter(message.topic, message.partition, message.offset, message.value, reason, detail, utc_now())
        metrics.DEAD_LETTERS.labels(source, reason).inc()
        await outputs["deadletter"].send(key=message.key, value=letter.model_dump_json().encode())

    metrics.ROSTER_REPS.set(len(router.rep_ids))
    metrics.RULES_ACTIVE.set(len(desk.engine.rules))
    if deciding:
        app.service(RosterService(settings, router))
        app.service(RulesService(settings, desk))
    if with_sink:
        app.service(ThreadService(SinkWorker(settings)))
    return app


class ThreadService(Service):
    """Runs a stoppable thread (the sink, a topic follower) for as long as the worker runs."""

    def __init__(self, thread: SinkWorker | TopicFollower, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._thread = thread

    async def on_start(self) -> None:
        self._thread.start()

    async def on_stop(self) -> None:
        self._thread.stop()  # the sink stores and commits what it read before it returns
        await self.loop.run_in_executor(None, self._thread.join, 30.0)


class FollowerService(ThreadService):
    """Follows a compacted config topic; subclasses apply each snapshot (`_on_change`, called
    in the follower's thread)."""

    def __init__(self, settings: Settings, topic: str, **kwargs: Any) -> None:
        super().__init__(TopicFollower(settings, settings.topic(topic), self._on_change), **kwargs)

    def _on_change(self, snapshot: Snapshot) -> None:
        raise NotImplementedError


class RosterService(FollowerService):
    """Applies `reps.roster` to the router: the file's reps, overridden by the topic's, by rep id."""

    def __init__(self, settings: Settings, router: LeadRouter, **kwargs: Any) -> None:
        super().__init__(settings, "reps.roster", **kwargs)
        self._router = router
        self._base = {rep.id: rep for rep in load_roster(settings.roster_file).reps}

    def _on_change(self, snapshot: Snapshot) -> None:
        # In the follower's thread: parse here, swap on the event loop between two decisions.
        reps = dict(self._base)
        for key, value in snapshot.items():
            try:
                rep = RosterUpdate.model_validate_json(value).rep
            except ValueError as exc:
                log.error("ignoring invalid roster entry %r: %s", key, exc)
                continue
            reps[rep.id] = rep
        active = [rep for rep in reps.values() if rep.active]
        self.loop.call_soon_threadsafe(self._router.replace_roster, active)
        metrics.ROSTER_REPS.set(len(active))
        log.info("roster updated from %s: %d active reps", "reps.roster", len(active))


class RulesService(FollowerService):
    """Applies pushed rule sets (`config.rules`): validated here, swapped in atomically on the
    event loop; an invalid set is refused and the running one stays."""

    def __init__(self, settings: Settings, desk: RegionDesk, **kwargs: Any) -> None:
        super().__init__(settings, "config.rules", **kwargs)
        self._desk = desk
        self._applied: dict[bytes, bytes] = {}

    def _on_change(self, snapshot: Snapshot) -> None:
        for key, value in snapshot.items():
            if self._applied.get(key) == value:
                continue
            self._applied[key] = value
            try:
                document = RulesDocument.model_validate_json(value)
                rules = parse_rules(document.text, self._desk.catalog, f"config.rules[{document.name}]")
            except (ValueError, PolicyError) as exc:
                metrics.RULES_REJECTED.inc()
                log.error("refused rule set %r; the running rules stay: %s", key, exc)
                continue
            self.loop.call_soon_threadsafe(self._swap, rules)

    def _swap(self, rules: RuleSet) -> None:
        self._desk.swap_rules(rules)
        metrics.RULES_ACTIVE.set(len(rules))
        log.info("switched to %d alert rules", len(rules))
