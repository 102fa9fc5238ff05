"""The schema and every record type, on the real server (Debian's old ClickHouse) and on chdb."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from models.events import EVENT_MODELS
from models.records import DeadLetter, RoutedLead
from sinks.backends import Backend, open_backend
from sinks.migrations import MIGRATIONS, migrate
from sinks.rows import ROW_DECODERS
from sinks.tables import ALL_TABLES
from streams.ingest import accept
from tests.factories import PAYLOADS

NOW = datetime(2026, 11, 27, 8, 0, 5, tzinfo=timezone.utc)


@pytest.fixture(params=["server", "chdb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "server":
        yield request.getfixturevalue("server_backend")
    else:
        chdb_backend = open_backend(f"chdb://{tmp_path / 'chdb'}?database=leadflow_test")
        yield chdb_backend
        chdb_backend.close()


def test_migrations_apply_once_and_a_second_run_is_a_no_op(backend: Backend) -> None:
    assert migrate(backend) == [m.version for m in MIGRATIONS]
    assert migrate(backend) == []
    tables = {row[0] for row in backend.query(
        f"SELECT name FROM system.tables WHERE database = '{backend.database}'")}
    assert {table.name for table in ALL_TABLES} | {"schema_migrations"} <= tables


def _messages() -> list[tuple[str, bytes]]:
    """One message of every kind the sink stores, as it travels on its topic."""
    messages = []
    for source, payload in PAYLOADS.items():
        event = EVENT_MODELS[source].model_validate(payload())
        topic, accepted = accept(event, NOW)
        messages.append((topic, accepted.model_dump_json().encode()))
    routed = RoutedLead(routing_id="r-1", lead_id="lead-1", rep_id="rep-001", rep_name="Li Wei",
                        policy="round_robin", reasons=["next in rotation", "报价"], trigger_event_id="e-1",
                        trigger_source="web", event_ts=NOW, routed_at=NOW, decision_latency_ms=0.042)
    messages.append(("leads.routed", routed.model_dump_json().encode()))
    letter = DeadLetter(dead_letter_id="d-1", source_topic="events.pos", partition=1, offset=99,
                        reason="malformed_json", detail="Expecting value", raw=b"\xff{oops", ts=NOW)
    messages.append(("deadletter", letter.model_dump_json().encode()))
    return messages


def test_every_record_type_round_trips_and_repeats_are_counted_once(backend: Backend) -> None:
    migrate(backend)
    rows = [ROW_DECODERS[topic](value) for topic, value in _messages()]
    for _attempt in range(2):  # a replay of the same offsets writes the same rows again
        for table, row in rows:
            backend.insert(table, next(t for t in ALL_TABLES if t.name == table).column_names, [row])
    db = backend.database
    for table in ALL_TABLES:
        (count,), = backend.query(f"SELECT count() FROM {db}.{table.name} FINAL")
        assert count == 1, table.name

    (ts, quantity, amount), = backend.query(f"SELECT toString(ts), quantity, amount FROM {db}.events_pos FINAL")
    assert (ts, quantity, amount) == ("2026-11-27 01:30:00", 3, 1299.5)
    (reasons, latency), = backend.query(f"SELECT reasons, decision_latency_ms FROM {db}.leads_routed FINAL")
    assert (list(reasons), latency) == (["next in rotation", "报价"], 0.042)
    (text,), = backend.query(f"SELECT text FROM {db}.events_calls FINAL")
    assert text == PAYLOADS["call"]()["text"]
    (raw,), = backend.query(f"SELECT raw_base64 FROM {db}.dead_letters FINAL")
    assert base64.b64decode(raw) == b"\xff{oops"
