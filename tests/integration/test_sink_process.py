"""The worker deployed as three processes — `worker --stage ingest`, `worker --stage decide`
(both `--no-sink`) and `sink` — routes, dead-letters and stores like one worker, and each part
stops gracefully."""

from __future__ import annotations

import signal
import subprocess
import sys
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from models.records import DeadLetter, RoutedLead
from sinks.backends import Backend
from tests.factories import encoded
from tests.integration.conftest import poll_until
from tests.integration.harness import (
    free_port, leadflow, metric_values, produce, read_topic, white_paper_reads, worker_environment,
)


def start(env: dict[str, str], log: Path, *command: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own handle
        return subprocess.Popen([sys.executable, "-m", "streams.cli", *command], env=env,
                                stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()


def test_ingest_decide_and_sink_run_as_processes_of_their_own(
        kafka_bootstrap: str, clickhouse_server_url: str, run_id: str, server_backend: Backend,
        tmp_path: Path) -> None:
    env = worker_environment(kafka_bootstrap, clickhouse_server_url, run_id, tmp_path / "data")
    leadflow(env, "topics", "create")
    leadflow(env, "migrate")
    parts = {
        "ingest": (["worker", "--stage", "ingest", "--no-sink"], env | {"LEADFLOW_DATA_DIR": str(tmp_path / "i")}),
        "decide": (["worker", "--stage", "decide", "--no-sink"], env | {"LEADFLOW_DATA_DIR": str(tmp_path / "d"),
                                                                      "LEADFLOW_METRICS_PORT": str(free_port())}),
        "sink": (["sink"], env | {"LEADFLOW_METRICS_PORT": str(free_port())}),
    }
    reads = white_paper_reads("three-processes", datetime.now(timezone.utc))
    prefix, db = f"{run_id}.", server_backend.database
    with ExitStack() as running:
        processes = {}
        for name, (command, part_env) in parts.items():
            processes[name] = start(part_env, tmp_path / f"{name}.log", *command)
            running.callback(stop, processes[name])
        produce(kafka_bootstrap, prefix, [(source, encoded(payload)) for source, payload in reads]
                + [("web", b"{not json")])

        (routed,) = [RoutedLead.model_validate_json(v) for v in read_topic(kafka_bootstrap, prefix + "leads.routed", 1)]
        assert routed.trigger == "deep-technical-read"
        (letter,) = [DeadLetter.model_validate_json(v) for v in read_topic(kafka_bootstrap, prefix + "deadletter", 1)]
        assert letter.reason == "malformed_json"
        poll_until(lambda: server_backend.query(
            f"SELECT (SELECT count() FROM {db}.events_web FINAL), (SELECT count() FROM {db}.leads_routed FINAL), "
            f"(SELECT count() FROM {db}.lead_scores FINAL)"),
            lambda rows: rows == [(len(reads), 1, len(reads))], 60, "the records stored by the sink process")
        # Only the sink process stores: the decide part counts no sink rows.
        decide_port, sink_port = (parts[name][1]["LEADFLOW_METRICS_PORT"] for name in ("decide", "sink"))
        assert not any(k.startswith("leadflow_sink_rows_total") for k in metric_values(decide_port))
        assert metric_values(sink_port)['leadflow_sink_rows_total{table="events_web"}'] == len(reads)
        assert all(process.poll() is None for process in processes.values())
        assert [stop(processes[name]) for name in ("ingest", "decide", "sink")] == [0, 0, 0]
