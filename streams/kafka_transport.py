"""Faust's aiokafka transport, with the consumer's fetch long-poll bounded by a setting.

Faust builds the worker's aiokafka consumer with `fetch_max_wait_ms=1500`, fixed. aiokafka
keeps one fetch in flight per broker, and a partition whose fetched records are still
buffered is left out of the next fetch. So while the agents work through a batch of
`events.web`, the next fetch asks only for the idle partitions (tables, timers, acks), and
the broker holds it the full 1.5 s waiting for data that does not come; every busy
partition waits behind it. Measured at 2,000 events/s: one fetch a second taking
0.9-1.5 s, the event loop idle 20-50% with a backlog of 10,000+ events. A short
long-poll lets the busy partitions be fetched again within milliseconds.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when the consumer starts (it builds its fetcher then);
        # Faust offers no setting for it.
        consumer._fetch_max_wait_ms = self.app.fetch_max_wait_ms  # type: ignore[attr-defined]
        return consumer


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    Consumer = _Consumer


class App(faust.App):
    """faust.App whose worker consumer waits at most `fetch_max_wait_ms` for a fetch."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int = 500, **kwargs: Any) -> None:
        self.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)
