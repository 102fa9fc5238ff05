"""ClickHouse stopped for 30 seconds mid-stream: routing goes on, the sink waits with Kafka as its
backlog, and after the restart every row is in the analysts' view exactly once."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from models.events import WebEvent
from models.records import RoutedLead
from sinks.backends import open_backend
from tests.factories import encoded
from tests.integration.conftest import poll_until
from tests.integration.harness import (
    OwnClickHouse, metric_values, produce, read_topic, running_worker, white_paper_reads, worker_environment,
)

OUTAGE_SECONDS = 30


def hot_visitors(first: int, count: int) -> list[tuple[str, bytes]]:
    """Deep readers of the white paper: each is routed once, on the download."""
    now = datetime.now(timezone.utc)
    return [(source, encoded(payload)) for i in range(first, first + count)
            for source, payload in white_paper_reads(f"visitor-{i}", now)]


@pytest.fixture
def own_clickhouse(tmp_path: Path) -> Iterator[OwnClickHouse]:
    server = OwnClickHouse(tmp_path / "clickhouse")
    server.start()
    yield server
    server.stop()


def test_a_clickhouse_outage_loses_and_doubles_nothing_while_routing_goes_on(
    own_clickhouse: OwnClickHouse, kafka_bootstrap: str, clickhouse_server_url: str, run_id: str, tmp_path: Path,
) -> None:
    env = worker_environment(kafka_bootstrap, clickhouse_server_url, run_id, tmp_path / "data") | {
        "LEADFLOW_CLICKHOUSE_URL": own_clickhouse.url(run_id),
        "LEADFLOW_SINK_RETRY_MAX_SECONDS": "2",
    }
    prefix, port = f"{run_id}.", env["LEADFLOW_METRICS_PORT"]
    leads = 10
    before, during = hot_visitors(0, leads), hot_visitors(leads, leads)
    with running_worker(env, tmp_path):
        backend = open_backend(own_clickhouse.url(run_id))

        def stored_events() -> int:
            try:
                return backend.query(f"SELECT count() FROM {run_id}.events_web FINAL")[0][0]
            except Exception:  # the server is down or the connection was dropped: not yet
                backend.close()
                return -1

        produce(kafka_bootstrap, prefix, before)
        poll_until(stored_events, lambda n: n == len(before), 60, "the first events in ClickHouse")
        read_topic(kafka_bootstrap, prefix + "leads.routed", leads)

        own_clickhouse.stop()
        stopped = time.monotonic()
        produce(kafka_bootstrap, prefix, during)
        # Routing does not wait on ClickHouse: every lead of the outage is routed during it.
        routed = [RoutedLead.model_validate_json(v)
                  for v in read_topic(kafka_bootstrap, prefix + "leads.routed", 2 * leads)]
        assert time.monotonic() - stopped < OUTAGE_SECONDS
        # The sink keeps failing and backing off, its backlog visible, for the whole outage.
        poll_until(lambda: (time.monotonic() - stopped, metric_values(port)),
                   lambda seen: seen[0] >= OUTAGE_SECONDS and seen[1].get("leadflow_sink_errors_total", 0) > 0
                   and seen[1].get("leadflow_sink_backlog_messages", 0) > 0,
                   OUTAGE_SECONDS + 30, "a 30-second outage with a visible sink backlog")
        own_clickhouse.start()

        every = len(before) + len(during)
        poll_until(stored_events, lambda n: n == every, 90, "every event stored after the restart")
        (raw,), = backend.query(f"SELECT count() FROM {run_id}.events_web")
        assert raw >= every  # retried batches may have written twice; FINAL shows each once
        event_ids = {WebEvent.model_validate_json(raw_event).event_id for _source, raw_event in before + during}
        assert {row[0] for row in backend.query(f"SELECT event_id FROM {run_id}.events_web FINAL")} == event_ids
        # Routed leads reach the sink after their events, so they may land a batch later.
        routed_ids = {r.routing_id for r in routed}
        stored_routed = poll_until(
            lambda: [row[0] for row in backend.query(f"SELECT routing_id FROM {run_id}.leads_routed FINAL")],
            lambda ids: set(ids) >= routed_ids, 30, "every routed lead stored after the restart")
        assert len(stored_routed) == len(set(stored_routed))
        backend.close()
