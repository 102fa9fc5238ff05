"""The ClickHouse sink: its own Kafka consumer group, in a thread beside the Faust agents.

Why not a Faust agent: a Faust app delivers every fetched message through one
conductor, so an agent stalled on a ClickHouse outage would, once its buffer
fills, stall routing too. A separate consumer group with manual commits keeps
routing at full speed, makes Kafka the sink's backlog, and commits an offset
only after its rows are stored.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from kafka import KafkaConsumer
from kafka.errors import CommitFailedError, KafkaError

from config.settings import Settings
from sinks.backends import open_backend
from sinks.batch import Batch
from sinks.personal_data import PersonalData
from sinks.rows import row_decoders
from sinks.writer import ClickHouseWriter
from streams import metrics

log = logging.getLogger(__name__)


class SinkWorker(threading.Thread):
    def __init__(self, settings: Settings) -> None:
        super().__init__(name="clickhouse-sink", daemon=True)
        self.settings = settings
        self._stop_event = threading.Event()
        self._decoders: dict[str, Callable[[bytes], Any]] = {
            settings.topic(name): decode
            for name, decode in row_decoders(PersonalData(settings.pii_hash_key())).items()
        }
        url = settings.clickhouse_url.get_secret_value()
        self._writer = ClickHouseWriter(lambda: open_backend(url), settings.sink_retry_max_seconds,
                                        on_error=lambda _exc: metrics.SINK_ERRORS.inc())

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        consumer = KafkaConsumer(
            group_id=f"{self.settings.app_id}-clickhouse-sink",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.sink_batch_rows,
            # Few, full fetches: with the default (answer as soon as one byte is there) the
            # broker answered a fetch per handful of messages, and kafka-python's IO thread
            # woke this one for each, taking the GIL from the worker's event loop 300+ times
            # a second (14% of the GIL at 2,000 events/s; under 1% with fetches of 256 KiB or 200 ms).
            fetch_min_bytes=self.settings.sink_fetch_min_bytes,
            fetch_max_wait_ms=self.settings.sink_fetch_max_wait_ms,
            **self.settings.kafka_python_options(),
        )
        # Join the group only once every topic's partitions are known: kafka-python (3.0)
        # can otherwise keep the empty assignment it computed without metadata, for good.
        missing = [topic for topic in self._decoders if not consumer.partitions_for_topic(topic)]
        if missing:
            log.error("sink topics missing (run `leadflow topics create`): %s", ", ".join(missing))
        consumer.subscribe(list(self._decoders))
        batch = Batch(self.settings.sink_batch_rows, self.settings.sink_batch_seconds)
        try:
            while not self._stop_event.is_set():
                self._poll_into(consumer, batch)
                if batch.due(time.monotonic()) and not self._store(consumer, batch):
                    break
            if batch.size:  # graceful stop: store what was read, then commit it
                self._store(consumer, batch)
        finally:
            self._writer.close()
            consumer.close(autocommit=False)

    def _poll_into(self, consumer: KafkaConsumer, batch: Batch) -> None:
        polled = consumer.poll(timeout_ms=100, max_records=max(batch.room, 1))
        now = time.monotonic()
        for tp, messages in polled.items():
            decode = self._decoders[tp.topic]
            for message in messages:
                try:
                    table, row = decode(message.value)
                except Exception as exc:  # a foreign message on our topic: count, log, skip
                    metrics.SINK_UNREADABLE.labels(tp.topic).inc()
                    log.error("unreadable message %s[%d]@%d: %s", tp.topic, tp.partition, message.offset, exc)
                    continue
                batch.add(table, row, now)

    def _store(self, consumer: KafkaConsumer, batch: Batch) -> bool:
        """Write the batch, then commit the consumer's positions (all of them are in the batch)."""
        started = time.perf_counter()
        paused = False

        def wait(delay: float) -> None:
            # Keep group membership during an outage: pause fetching and keep polling.
            nonlocal paused
            if not paused:
                consumer.pause(*consumer.assignment())
                paused = True
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self._stop_event.is_set():
                consumer.poll(timeout_ms=100)
            self._update_backlog(consumer, unstored=batch.size)

        stored = self._writer.write(batch.rows, self._stop_event.is_set, wait)
        if paused:
            consumer.resume(*consumer.assignment())
        if not stored:
            return False
        for table, rows in batch.rows.items():
            metrics.SINK_ROWS.labels(table).inc(len(rows))
        metrics.SINK_BATCH_ROWS.observe(batch.size)
        metrics.SINK_BATCH_SECONDS.observe(time.perf_counter() - started)
        batch.clear()
        try:
            consumer.commit()
        except (CommitFailedError, KafkaError) as exc:
            # A rebalance took partitions away; their new owner re-reads and the
            # deduplicated tables absorb the repeat.
            log.warning("offset commit failed after a stored batch: %s", exc)
        self._update_backlog(consumer, unstored=0)
        return True

    def _update_backlog(self, consumer: KafkaConsumer, unstored: int) -> None:
        """Messages not stored yet: read into the pending batch, or not read at all."""
        assigned = list(consumer.assignment())
        if not assigned:
            return
        try:
            ends = consumer.end_offsets(assigned)
        except KafkaError:
            return
        metrics.SINK_BACKLOG.set(unstored + sum(max(ends[tp] - consumer.position(tp), 0) for tp in assigned))
