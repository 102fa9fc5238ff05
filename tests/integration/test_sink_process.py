"""`leadflow worker --no-sink` beside `leadflow sink`: the sink in its own process stores what the
worker publishes, and stops gracefully, committing what it stored."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from sinks.backends import Backend
from tests.factories import encoded
from tests.integration.conftest import poll_until
from tests.integration.harness import (
    free_port, metric_values, produce, running_worker, white_paper_reads, worker_environment,
)


def test_the_sink_runs_in_its_own_process(kafka_bootstrap: str, clickhouse_server_url: str, run_id: str,
                                          server_backend: Backend, tmp_path: Path) -> None:
    env = worker_environment(kafka_bootstrap, clickhouse_server_url, run_id, tmp_path / "data")
    sink_env = env | {"LEADFLOW_METRICS_PORT": str(free_port())}
    reads = white_paper_reads("own-sink", datetime.now(timezone.utc))
    with running_worker(env, tmp_path, "--no-sink") as worker:
        log = (tmp_path / "sink.log").open("wb")
        sink = subprocess.Popen([sys.executable, "-m", "streams.cli", "sink"], env=sink_env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            produce(kafka_bootstrap, f"{run_id}.", [(source, encoded(payload)) for source, payload in reads])
            db = server_backend.database
            poll_until(lambda: server_backend.query(
                f"SELECT (SELECT count() FROM {db}.events_web FINAL), (SELECT count() FROM {db}.leads_routed FINAL)"),
                lambda rows: rows == [(len(reads), 1)], 60, "the events and the routing stored by the sink process")
            # The worker stores nothing itself: its own metrics count no sink rows.
            assert not any(k.startswith("leadflow_sink_rows_total") for k in metric_values(env["LEADFLOW_METRICS_PORT"]))
            assert metric_values(sink_env["LEADFLOW_METRICS_PORT"])['leadflow_sink_rows_total{table="events_web"}'] \
                == len(reads)
            assert worker.poll() is None
            sink.send_signal(signal.SIGTERM)
            assert sink.wait(timeout=60) == 0
        finally:
            if sink.poll() is None:
                sink.kill()
            log.close()
