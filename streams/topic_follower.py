"""Following a compacted topic on every worker: the latest value per key, kept current.

Config topics (`reps.roster`, and the alert rules later) are read whole by every worker,
so no consumer group: each follower assigns itself all partitions, reads from the
beginning and keeps polling. Runs in a thread; `on_change` gets a snapshot after each
poll that brought records (a None value is a deletion).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from kafka import KafkaConsumer, TopicPartition

from config.settings import Settings

log = logging.getLogger(__name__)
Snapshot = dict[bytes, bytes]


class TopicFollower(threading.Thread):
    def __init__(self, settings: Settings, topic: str, on_change: Callable[[Snapshot], None]) -> None:
        super().__init__(name=f"follow-{topic}", daemon=True)
        self._settings, self._topic, self._on_change = settings, topic, on_change
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **self._settings.kafka_python_options())
        try:
            partitions = self._wait_for_partitions(consumer)
            if partitions is None:
                return
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            latest: Snapshot = {}
            while not self._stop_event.is_set():
                polled = consumer.poll(timeout_ms=200)
                if not polled:
                    continue
                for records in polled.values():
                    for record in records:
                        if record.value is None:
                            latest.pop(record.key, None)
                        else:
                            latest[record.key] = record.value
                self._on_change(dict(latest))
        finally:
            consumer.close(autocommit=False)

    def _wait_for_partitions(self, consumer: KafkaConsumer) -> list[TopicPartition] | None:
        while not self._stop_event.is_set():
            numbers = consumer.partitions_for_topic(self._topic)
            if numbers:
                return [TopicPartition(self._topic, p) for p in sorted(numbers)]
            log.warning("topic %s does not exist yet (run `leadflow topics create`); waiting", self._topic)
            time.sleep(2)  # re-check for the topic; stop() ends the wait within one period
        return None
