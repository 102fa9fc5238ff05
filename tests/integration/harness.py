"""Driving a real `leadflow worker` process in tests: its environment, the CLI, producing to
and reading from the real broker, its metrics endpoint, edited copies of the policies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from config.settings import POLICY_DIR
from tests.factories import web
from sinks.backends import with_database
from tests.integration.conftest import poll_until

MAX_EVENT_BYTES = 4096
TEAM = Path(__file__).parents[1] / "fixtures" / "team.yaml"
SOURCE_TOPIC = {"web": "events.web", "call": "events.calls", "pos": "events.pos", "signal": "events.signals"}


def white_paper_reads(visitor: str, end: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The case from the issue: three reads of the HV-connector white paper, 232 s in all, then the
    PDF, the download at `end`."""
    start = end - timedelta(seconds=70)
    reads = [("web", web(kind="page_view", visitor_id=visitor, content_id="wp-hv-connector",
                         url="https://example.test/whitepapers/hv-connector", dwell_seconds=dwell,
                         ts=(start + timedelta(seconds=20 * i)).isoformat())) for i, dwell in enumerate((70, 80, 82))]
    return [*reads, ("web", web(kind="content_download", visitor_id=visitor, content_id="wp-hv-connector",
                                url="https://example.test/whitepapers/hv-connector.pdf",
                                ts=(start + timedelta(seconds=70)).isoformat()))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_environment(kafka_bootstrap: str, clickhouse_server_url: str, run_id: str,
                       data_dir: Path) -> dict[str, str]:
    """Settings of a worker of its own: topics, consumer groups and database named after the run."""
    return {
        **os.environ,
        "LEADFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LEADFLOW_CLICKHOUSE_URL": with_database(clickhouse_server_url, run_id),
        "LEADFLOW_APP_ID": run_id,
        "LEADFLOW_TOPIC_PREFIX": f"{run_id}.",
        "LEADFLOW_DATA_DIR": str(data_dir),
        "LEADFLOW_METRICS_PORT": str(free_port()),
        "LEADFLOW_MAX_EVENT_BYTES": str(MAX_EVENT_BYTES),
        "LEADFLOW_SINK_BATCH_SECONDS": "0.5",
        "LEADFLOW_ROSTER_FILE": str(TEAM),
        "LEADFLOW_SLA_CHECK_SECONDS": "0.5",
    }


def leadflow(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "streams.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"leadflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def running_worker(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    leadflow(env, "topics", "create")
    assert "created" not in leadflow(env, "topics", "create")  # the second run changes nothing
    leadflow(env, "migrate")
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def person_key(value: bytes) -> bytes:
    """Producers key by person, so one person's events stay in order on their topic."""
    try:
        payload = json.loads(value)
        return str(payload.get("visitor_id") or payload.get("phone") or payload.get("store") or "none").encode()
    except (ValueError, AttributeError):
        return b"malformed"


def produce(bootstrap: str, prefix: str, messages: list[tuple[str, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=1 << 20)
    for source, value in messages:
        topic = source if source.startswith(prefix) else prefix + SOURCE_TOPIC[source]
        producer.send(topic, key=person_key(value), value=value)
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


def read_all(bootstrap: str, topic: str, timeout: float = 30) -> list[bytes]:
    """Every message on the topic now: read up to the end offsets it had when asked."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    values: list[bytes] = []

    def probe() -> bool:
        for records in consumer.poll(timeout_ms=100).values():
            values.extend(record.value for record in records)
        return all(consumer.position(tp) >= ends[tp] for tp in partitions)

    try:
        poll_until(probe, bool, timeout, f"the end of {topic}")
        return values
    finally:
        consumer.close()


def metric_values(port: str) -> dict[str, float]:
    """The worker's leadflow_* metrics; empty while its endpoint is not up yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            lines = response.read().decode().splitlines()
    except OSError:
        return {}
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines if line.startswith("leadflow_"))}


def edited_policies(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the shipped policies with one edit."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = policies / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return policies




class OwnClickHouse:
    """A ClickHouse server of the test's own (deploy/local/clickhouse.sh, other ports and data
    folder), so the test may stop and restart it without touching the shared one."""

    SCRIPT = Path(__file__).parents[2] / "deploy" / "local" / "clickhouse.sh"

    def __init__(self, folder: Path) -> None:
        self.tcp_port = free_port()
        self._env = {**os.environ, "LEADFLOW_CACHE": str(folder), "LEADFLOW_CLICKHOUSE_TCP_PORT": str(self.tcp_port),
                     "LEADFLOW_CLICKHOUSE_HTTP_PORT": str(free_port()),
                     "LEADFLOW_CLICKHOUSE_INTERSERVER_PORT": str(free_port())}

    def url(self, database: str) -> str:
        return f"clickhouse://default:@127.0.0.1:{self.tcp_port}/{database}"

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")

    def _run(self, action: str) -> None:
        done = subprocess.run(["bash", str(self.SCRIPT), action], env=self._env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"clickhouse.sh {action} failed:\n{done.stderr}"
