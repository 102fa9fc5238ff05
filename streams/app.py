"""The Faust application: topics, tables and agents. Each agent is a thin loop around
the pure processors; every event is handled inside a try so none is lost to a raise
(Faust acks an event even when its agent raises)."""

from __future__ import annotations

import logging
import ssl
import time
from typing import Any

import faust
from mode import Service

from config.policy_files import load_roster
from config.settings import Settings
from models.base import utc_now
from models.catalog import SOURCE_TOPICS, spec
from models.events import EVENT_MODELS
from models.records import AcceptedEvent
from streams import metrics
from streams.dead_letters import dead_letter
from streams.ingest import Rejection, accept, decode_event
from streams.round_robin import POLICY, is_routing_trigger, route
from streams.sink_worker import SinkWorker

log = logging.getLogger(__name__)


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


def create_app(settings: Settings, with_sink: bool = True) -> faust.App:
    app = faust.App(
        settings.app_id,
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
    )
    roster = load_roster(settings.roster_file).active()

    def raw_topic(name: str, *more: str) -> faust.TopicT:
        names = [settings.topic(n) for n in (name, *more)]
        return app.topic(*names, key_serializer="raw", value_serializer="raw",
                         partitions=settings.topic_partitions)

    sources = raw_topic(*SOURCE_TOPICS.values())
    source_of = {settings.topic(topic): source for source, topic in SOURCE_TOPICS.items()}
    outputs = {name: raw_topic(name) for name in ("events.by_lead", "events.by_region", "leads.routed", "deadletter")}

    # Lead -> rep it was routed to: a lead is routed once, however many events follow.
    routes = app.Table("lead_routes", default=str, partitions=settings.topic_partitions)
    # Partition -> routed-lead count: the round-robin position of that partition.
    rotation = app.Table("rotation", default=int, partitions=settings.topic_partitions)

    @app.agent(sources, name="ingest")
    async def ingest(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            source = source_of[message.topic]
            metrics.EVENTS_IN.labels(source).inc()
            try:
                result = decode_event(source, message.value, settings.max_event_bytes)
                if isinstance(result, Rejection):
                    await _send_dead_letter(message, source, result.reason, result.detail)
                    continue
                topic, accepted = accept(result, utc_now())
                await outputs[topic].send(key=accepted.key.encode(), value=accepted.model_dump_json().encode())
            except Exception as exc:
                log.exception("ingest failed on %s[%d]@%d", message.topic, message.partition, message.offset)
                await _send_dead_letter(message, source, "internal_error", repr(exc))

    @app.agent(outputs["events.by_lead"], name="route")
    async def route_leads(stream: faust.StreamT) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            try:
                accepted = AcceptedEvent.model_validate_json(event.value)
                inbound = EVENT_MODELS[accepted.source].model_validate(accepted.event)
                if routes[accepted.key] or not is_routing_trigger(inbound):
                    continue
                partition = event.message.partition
                counter = rotation[str(partition)]
                turn = (counter, partition, settings.topic_partitions)
                latency = time.perf_counter() - started
                routed = route(accepted.key, inbound, roster, turn, utc_now(), latency * 1000)
                # Publish before recording: after a crash the lead is routed again with
                # the same routing id (deduplicated downstream) rather than never.
                await outputs["leads.routed"].send(key=accepted.key.encode(), value=routed.model_dump_json().encode())
                routes[accepted.key] = routed.rep_id
                rotation[str(partition)] = counter + 1
                metrics.LEADS_ROUTED.labels(POLICY).inc()
                metrics.DECISION_LATENCY.observe(latency)
            except Exception as exc:
                message = event.message
                log.exception("routing failed on %s[%d]@%d", message.topic, message.partition, message.offset)
                await _send_dead_letter(message, "route", "internal_error", repr(exc))

    async def _send_dead_letter(message: Any, source: str, reason: Any, detail: str) -> None:
        letter = dead_letter(message.topic, message.partition, message.offset, message.value, reason, detail, utc_now())
        metrics.DEAD_LETTERS.labels(source, reason).inc()
        await outputs["deadletter"].send(key=message.key, value=letter.model_dump_json().encode())

    if with_sink:
        app.service(SinkService(settings))
    return app


class SinkService(Service):
    """Runs the ClickHouse sink thread for as long as the worker runs."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._thread: SinkWorker | None = None

    async def on_start(self) -> None:
        self._thread = SinkWorker(self._settings)
        self._thread.start()

    async def on_stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            await self.loop.run_in_executor(None, self._thread.join, 30.0)
