"""The whole path on real parts: kafka-python produces every source to a real broker,
`leadflow worker` runs as its own process, ClickHouse (the real server) receives the rows."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from config.policy_files import load_roster
from config.settings import DEFAULT_ROSTER
from models.events import EVENT_MODELS
from models.records import DeadLetter, RoutedLead
from sinks.backends import Backend
from streams.identity import lead_id_of
from tests.factories import call, encoded, pos, signal as ext_signal, web
from tests.integration.conftest import poll_until, with_database

MAX_EVENT_BYTES = 4096
SOURCE_TOPIC = {"web": "events.web", "call": "events.calls", "pos": "events.pos", "signal": "events.signals"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def valid_events() -> list[tuple[str, dict[str, Any]]]:
    events = [("web", web(visitor_id=f"v{i}", content_id=f"doc-{i}")) for i in range(8)]  # 8 hot leads
    events += [("web", web(kind="page_view", visitor_id=f"p{i}", dwell_seconds=3.0)) for i in range(3)]  # browsing
    events += [("web", web(kind="form_submit", visitor_id=f"v{i}")) for i in range(2)]  # already routed
    events += [("call", call(call_id=f"c{i}", phone=f"+86 137 0000 000{i}")) for i in range(3)]  # 3 callers
    # One person on two channels: a web form with a phone, then a call from that phone.
    events += [("web", web(kind="form_submit", visitor_id="v8", phone="+86 139 0000 0009")),
               ("call", call(call_id="c9", phone="+86-139-0000-0009"))]
    events += [("pos", pos(store=f"s{i}", quantity=i + 1)) for i in range(4)]
    events += [("signal", ext_signal(value=float(i))) for i in range(2)]
    return events


MALFORMED: list[tuple[str, bytes, str]] = [
    ("web", b"{not json", "malformed_json"),
    ("web", b"\xff\xfe\x00", "malformed_json"),
    ("pos", encoded(pos(quantity="three")), "wrong_type"),
    ("call", encoded({k: v for k, v in call().items() if k != "ts"}), "missing_field"),
    ("call", encoded(call(phone=None)), "invalid_value"),
    ("signal", encoded(ext_signal(detail="x" * 10) | {"padding": "y" * MAX_EVENT_BYTES}), "oversized"),
]


@pytest.fixture
def worker_env(kafka_bootstrap: str, clickhouse_server_url: str, run_id: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LEADFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LEADFLOW_CLICKHOUSE_URL": with_database(clickhouse_server_url, run_id),
        "LEADFLOW_APP_ID": run_id,
        "LEADFLOW_TOPIC_PREFIX": f"{run_id}.",
        "LEADFLOW_DATA_DIR": str(tmp_path / "worker-data"),
        "LEADFLOW_METRICS_PORT": str(free_port()),
        "LEADFLOW_MAX_EVENT_BYTES": str(MAX_EVENT_BYTES),
        "LEADFLOW_SINK_BATCH_SECONDS": "0.5",
    }


def leadflow(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "streams.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"leadflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    leadflow(worker_env, "topics", "create")
    assert "created" not in leadflow(worker_env, "topics", "create")  # the second run changes nothing
    leadflow(worker_env, "migrate")
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=worker_env,
                               stdout=log, stderr=subprocess.STDOUT)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()


def produce(bootstrap: str, prefix: str, messages: list[tuple[str, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=1 << 20)
    for index, (source, value) in enumerate(messages):
        producer.send(prefix + SOURCE_TOPIC[source], key=f"k{index}".encode(), value=value)
    producer.flush(timeout=30)
    producer.close()


def read_topic(bootstrap: str, topic: str, until: int, timeout: float = 60) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    values: list[bytes] = []

    def probe() -> list[bytes]:
        for records in consumer.poll(timeout_ms=250).values():
            values.extend(record.value for record in records)
        return values

    try:
        return poll_until(probe, lambda seen: len(seen) >= until, timeout, f"{until} messages on {topic}")
    finally:
        consumer.close()


def metric_values(port: str) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        lines = response.read().decode().splitlines()
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines if line.startswith("leadflow_"))}


def test_worker_ingests_routes_dead_letters_and_stores_everything(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], kafka_bootstrap: str,
    server_backend: Backend, run_id: str,
) -> None:
    prefix = f"{run_id}."
    valid = valid_events()
    produce(kafka_bootstrap, prefix, [(source, encoded(payload)) for source, payload in valid]
            + [(source, raw) for source, raw, _reason in MALFORMED])

    parsed = [EVENT_MODELS[source].model_validate(payload) for source, payload in valid]
    hot = [("web", "content_download"), ("web", "form_submit"), ("call", None)]
    expected_leads = {lead_id_of(e) for e in parsed if (e.source, getattr(e, "kind", None)) in hot}
    assert len(expected_leads) == 12  # 8 downloads + 1 form with a phone + 3 new callers

    # Every routed lead is on leads.routed once, with a rep from the roster.
    routed = [RoutedLead.model_validate_json(v) for v in read_topic(kafka_bootstrap, prefix + "leads.routed", 12)]
    assert Counter(r.lead_id for r in routed) == Counter(expected_leads)
    roster = {rep.id for rep in load_roster(DEFAULT_ROSTER).reps}
    assert {r.rep_id for r in routed} <= roster
    assert len({r.rep_id for r in routed}) >= 4  # turns are spread over the team

    # Every malformed message is on the dead-letter topic, whole, with its reason.
    letters = [DeadLetter.model_validate_json(v)
               for v in read_topic(kafka_bootstrap, prefix + "deadletter", len(MALFORMED))]
    assert sorted((l.source_topic, l.raw, l.reason) for l in letters) == sorted(
        (prefix + SOURCE_TOPIC[source], raw, reason) for source, raw, reason in MALFORMED)
    assert all(l.detail for l in letters)

    # Every valid event, routed lead and dead letter is in ClickHouse, once.
    db = server_backend.database
    tables = {"web": "events_web", "call": "events_calls", "pos": "events_pos", "signal": "events_signals"}

    def stored() -> dict[str, set[str]]:
        found = {source: {row[0] for row in server_backend.query(f"SELECT event_id FROM {db}.{table} FINAL")}
                 for source, table in tables.items()}
        found["routed"] = {row[0] for row in server_backend.query(f"SELECT lead_id FROM {db}.leads_routed FINAL")}
        found["dead"] = {row[0] for row in server_backend.query(f"SELECT reason FROM {db}.dead_letters FINAL")}
        return found

    expected = {source: {e.event_id for e in parsed if e.source == source} for source in tables}
    expected["routed"] = expected_leads
    expected["dead"] = {reason for _s, _r, reason in MALFORMED}
    poll_until(stored, lambda found: found == expected, 60, "every record in ClickHouse")

    assert worker.poll() is None, "the worker died on its input"

    # The metrics endpoint counts what the worker did.
    sent = Counter(source for source, _ in valid) + Counter(source for source, _r, _reason in MALFORMED)
    metrics = poll_until(lambda: metric_values(worker_env["LEADFLOW_METRICS_PORT"]),
                         lambda m: m.get('leadflow_sink_rows_total{table="dead_letters"}') == len(MALFORMED),
                         30, "sink metrics")
    for source, count in sent.items():
        assert metrics[f'leadflow_events_in_total{{source="{source}"}}'] == count
    for reason, count in Counter(reason for _s, _r, reason in MALFORMED).items():
        assert sum(v for k, v in metrics.items()
                   if k.startswith("leadflow_dead_letters_total") and f'reason="{reason}"' in k) == count
    assert metrics['leadflow_leads_routed_total{policy="round_robin"}'] == 12
    assert metrics['leadflow_sink_rows_total{table="events_web"}'] == len(expected["web"])
    assert metrics["leadflow_decision_latency_seconds_count"] == 12

    # A graceful stop: SIGTERM ends the worker cleanly.
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
