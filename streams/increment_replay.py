"""Rebuilding the regional metric store after a restart from `region.increments` itself.

The topic is the store's changelog: it already holds every increment, in order, in one
partition. Keeping it for the store's horizon and re-reading it at start-up costs no extra
write per event, where a Faust table of minute buckets would cost one.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Iterator

from kafka import KafkaConsumer, TopicPartition

from config.settings import Settings
from models.records import MetricIncrement

log = logging.getLogger(__name__)
Increment = tuple[str, str, datetime, float]


def replay_increments(settings: Settings, until_offset: int, since: datetime) -> Iterator[Increment]:
    """Increments of event time >= `since` written before `until_offset` (where the worker resumes)."""
    tp = TopicPartition(settings.topic("region.increments"), 0)
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **settings.kafka_python_options())
    try:
        consumer.assign([tp])
        # Increments are written in roughly event-time order; a day's margin catches the late ones.
        found = consumer.offsets_for_times({tp: int((since - timedelta(days=1)).timestamp() * 1000)})[tp]
        consumer.seek(tp, found.offset if found is not None else until_offset)
        started, count = time.monotonic(), 0
        while consumer.position(tp) < until_offset:
            for record in consumer.poll(timeout_ms=500).get(tp, []):
                if record.offset >= until_offset:
                    break
                for increment in MetricIncrement.model_validate_json(record.value).items():
                    if increment[2] >= since:
                        count += 1
                        yield increment
        log.info("regional store rebuilt from %d increments in %.1fs", count, time.monotonic() - started)
    finally:
        consumer.close(autocommit=False)
