"""`leadflow produce FILE`: an events file onto the Kafka topics, as sources would send it, so a
Kafka run and a replay can be fed the same data."""

from __future__ import annotations

import time
from typing import Callable, Iterable

from kafka import KafkaProducer

from config.settings import Settings
from models.catalog import SOURCE_TOPICS
from models.events import InboundEvent
from models.routing import RepOutcome
from streams.embedded.events_file import Line
from streams.identity import alias_keys


def message_key(record: InboundEvent | RepOutcome) -> bytes:
    """Keyed by person, so one person's events stay in order on their topic: by the browser
    cookie, which every web event carries (an e-mail appears only on some), else by the strongest
    identifier (hashed); region events by region; outcomes by lead, as the worker expects."""
    if isinstance(record, RepOutcome):
        return record.lead_id.encode()
    keys = dict(alias_keys(record))
    key = keys.get("cookie") or next(iter(keys.values()), None)
    return (key or str(getattr(record, "region", ""))).encode()


def topic_of(settings: Settings, line: Line) -> str:
    return settings.topic("reps.outcomes" if line.source == "outcome" else SOURCE_TOPICS[line.source])


def produce(settings: Settings, lines: Iterable[Line], rate: float | None = None,
            progress: Callable[[int], None] = lambda _sent: None) -> int:
    """Send every line (at `rate` lines per second when given); returns how many were sent."""
    producer = KafkaProducer(linger_ms=5, **settings.kafka_python_options())
    started, sent = time.monotonic(), 0
    try:
        for line in lines:
            if rate:
                delay = started + sent / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing to the requested rate
            value = line.record.model_dump_json(exclude_none=True).encode()
            producer.send(topic_of(settings, line), key=message_key(line.record), value=value)
            sent += 1
            if sent % 1000 == 0:
                progress(sent)
        producer.flush(timeout=60)
    finally:
        producer.close()
    progress(sent)
    return sent
