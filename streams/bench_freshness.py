"""`leadflow bench freshness`: seconds from an event's time to its row being queryable in
ClickHouse, through a real worker, against the running Kafka and ClickHouse of the settings.

It starts its own worker (own topic prefix, consumer groups and database, dropped at the end),
produces web events at a fixed rate, follows a sample of them until ClickHouse returns them,
then measures the sink's bulk insert rate on its own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timezone

from kafka import KafkaProducer

from config.settings import Settings
from sinks.backends import open_backend, with_database
from sinks.migrations import migrate
from sinks.tables import EVENTS_WEB
from streams.topic_admin import create_topics

_TARGET_P95_S = 3.0
_TARGET_BULK_ROWS_PER_S = 200_000
_SAMPLE_EVERY = 20


def run(rate: int = 2000, seconds: int = 20, bulk_rows: int = 200_000, separate_sink: int = 1,
        workers: int = 1, split_stages: int = 1) -> dict[str, object]:
    base = Settings()
    run_id = f"bench{uuid.uuid4().hex[:8]}"
    url = with_database(base.clickhouse_url.get_secret_value(), run_id)
    settings = base.model_copy(update={"topic_prefix": f"{run_id}.", "app_id": run_id})
    create_topics(settings)
    backend = open_backend(url)
    migrate(backend)
    env = {**os.environ, "LEADFLOW_TOPIC_PREFIX": settings.topic_prefix, "LEADFLOW_APP_ID": run_id,
           "LEADFLOW_CLICKHOUSE_URL": url}
    # By default as deployed for throughput: ingest, the decide stages and the sink each in a
    # process of its own (one GIL each); options run them together for comparison.
    worker = ["worker", "--loglevel", "warning", *(["--no-sink"] if separate_sink else [])]
    parts = [[*worker, "--stage", stage] for stage in ("ingest", "decide")] if split_stages else [worker]
    commands = parts * workers + ([["sink"]] if separate_sink else [])
    ports = [_free_port() for _command in commands]
    processes = [subprocess.Popen([sys.executable, "-m", "streams.cli", *command],
                                  env={**env, "LEADFLOW_METRICS_PORT": str(port), "LEADFLOW_DATA_DIR": f"/tmp/{run_id}-{i}"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for i, (command, port) in enumerate(zip(commands, ports))]
    try:
        _wait_for(lambda: all(_metrics(port) is not None for port in ports), 60)
        latencies, produced_s = _drive(settings, backend, run_id, rate, seconds)
        rows_live = _metrics(ports[-1]) or {}
        stored = sum(v for k, v in rows_live.items() if k.startswith("leadflow_sink_rows_total"))
        _stop(processes)
        # With the worker stopped: while it still works through a backlog of its lead and
        # regional stages it takes a core, and the figure swung 100-260k rows/s with it.
        bulk = _bulk_insert_rate(backend, run_id, bulk_rows)
    finally:
        _stop(processes)
        backend.execute(f"DROP DATABASE IF EXISTS {run_id}")
        backend.close()
    latencies.sort()
    return {
        "rate_per_s": rate,
        "workers": workers,
        "stages": "ingest and decide in two processes" if split_stages else "one process",
        "sink": "own process" if separate_sink else "thread of the worker",
        "events": rate * seconds,
        "produce_seconds": round(produced_s, 2),
        "sampled": len(latencies),
        "p50_s": round(latencies[len(latencies) // 2], 3),
        "p95_s": round(latencies[int(len(latencies) * 0.95)], 3),
        "max_s": round(latencies[-1], 3),
        "target_p95_s": _TARGET_P95_S,
        "sink_rows_stored": int(stored),
        "bulk_insert_rows_per_s": bulk,
        "target_bulk_rows_per_s": _TARGET_BULK_ROWS_PER_S,
    }


def _drive(settings: Settings, backend: object, db: str, rate: int, seconds: int) -> tuple[list[float], float]:
    """Produce at `rate`; a follower thread records when each sampled event becomes queryable."""
    producer = KafkaProducer(linger_ms=5, **settings.kafka_python_options())
    topic = settings.topic("events.web")
    _warm_up(producer, topic, backend, db)
    pending: dict[str, float] = {}  # event id -> event time (epoch seconds)
    latencies: list[float] = []
    lock = threading.Lock()
    done = threading.Event()

    def follow() -> None:
        while not (done.is_set() and not pending):
            with lock:
                ids = list(pending)
            if ids:
                found = backend.query(  # type: ignore[attr-defined]
                    f"SELECT event_id FROM {db}.events_web WHERE event_id IN ({', '.join(repr(i) for i in ids)})")
                now = time.time()
                with lock:
                    for (event_id,) in found:
                        if event_id in pending:  # a row a rebalance wrote twice is returned twice
                            latencies.append(now - pending.pop(event_id))
            time.sleep(0.1)  # the follower's sampling period

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    started = time.monotonic()
    for i in range(rate * seconds):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # pacing to the target rate
        now = time.time()
        event_id = f"fresh-{i}"
        payload = {"event_id": event_id, "kind": "page_view", "visitor_id": f"v{i % 5000}",
                   "url": "https://example.test/products", "ts": datetime.fromtimestamp(now, timezone.utc).isoformat()}
        producer.send(topic, key=payload["visitor_id"].encode(), value=json.dumps(payload).encode())
        if i % _SAMPLE_EVERY == 0:
            with lock:
                pending[event_id] = now
    producer.flush()
    produced_s = time.monotonic() - started
    done.set()
    follower.join(timeout=120)
    producer.close()
    return latencies, produced_s


def _warm_up(producer: KafkaProducer, topic: str, backend: object, db: str) -> None:
    """One event end to end before timing: consumer groups joined, sink batch flowing."""
    payload = {"event_id": "warm-up", "kind": "page_view", "visitor_id": "warm", "url": "https://example.test/",
               "ts": datetime.now(timezone.utc).isoformat()}
    producer.send(topic, key=b"warm", value=json.dumps(payload).encode())
    producer.flush()
    _wait_for(lambda: backend.query(  # type: ignore[attr-defined]
        f"SELECT count() FROM {db}.events_web WHERE event_id = 'warm-up'")[0][0] > 0, 120)


def _bulk_insert_rate(backend: object, db: str, rows: int) -> int:
    """Rows per second of one bulk insert of already built rows (the sink's write path)."""
    now = datetime.now(timezone.utc)
    batch = [EVENTS_WEB.row({"event_id": f"bulk-{i}", "ts": now, "received_at": now, "lead_id": f"l{i % 9973}",
                             "kind": "page_view", "visitor_id": f"v{i}", "url": "https://example.test/p"})
             for i in range(rows)]
    started = time.perf_counter()
    backend.insert(EVENTS_WEB.name, EVENTS_WEB.column_names, batch)  # type: ignore[attr-defined]
    return int(rows / (time.perf_counter() - started))


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.wait(timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _metrics(port: int) -> dict[str, float] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            lines = response.read().decode().splitlines()
    except OSError:
        return None
    return {k: float(v) for k, v in (line.rsplit(" ", 1) for line in lines if line.startswith("leadflow_"))}


def _wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark's worker did not get ready")
        time.sleep(0.2)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
