"""The schema and every record type, on the real server (Debian's old ClickHouse) and on chdb."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from models.events import EVENT_MODELS
from models.alerts import Alert, Escalation, MetricMove
from models.records import DeadLetter, RegionMetric, RoutedLead, ScoredLead, SlaBreach
from models.routing import ContentPack, RepOutcome, RunnerUp
from sinks.backends import Backend, open_backend
from sinks.migrations import MIGRATIONS, migrate
from sinks.personal_data import PersonalData
from sinks.rows import row_decoders
from sinks.tables import ALL_TABLES, LEADS_ROUTED, REGION_METRICS
from streams.identity import resolve_lead
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
        topic, accepted = accept(event, resolve_lead(event, {})[0], NOW)
        messages.append((topic, accepted.model_dump_json().encode()))
    routed = RoutedLead(routing_id="r-1", lead_id="lead-1", rep_id="rep-001", rep_name="Li Wei",
                        policy="match", reasons=["win rate automotive 42%", "报价"], trigger_event_id="e-1",
                        runners_up=[RunnerUp(rep_id="rep-002", rep_name="Wang Fang", score=0.5,
                                             lost_because=["load 7/8"])],
                        content_pack=ContentPack(id="automotive-tv", talk_track="..."), stage="purchase",
                        trigger_source="web", event_ts=NOW, routed_at=NOW, decision_latency_ms=0.042)
    messages.append(("leads.routed", routed.model_dump_json().encode()))
    scored = ScoredLead(score_id="sc-1", lead_id="lead-1", event_id="e-1", source="web", score=71.5, stage="purchase",
                        intensity="high", industry="automotive", region="North", trigger="threshold",
                        top_signals=["downloaded wp-hv-connector (+18)"], ts=NOW, scored_at=NOW)
    messages.append(("leads.scored", scored.model_dump_json().encode()))
    breach = SlaBreach(sla_id="s-1", lead_id="lead-1", routing_id="r-1", rep_id="rep-001", priority="p1",
                       deadline=NOW, detected_at=NOW, attempt=1, next_routing_id="r-2", next_rep_id=None)
    messages.append(("leads.sla", breach.model_dump_json().encode()))
    outcome = RepOutcome(outcome_id="o-1", routing_id="r-1", lead_id="lead-1", rep_id="rep-001", kind="won",
                         industry="automotive", product="hv-connector", amount=125000.0, ts=NOW)
    messages.append(("reps.outcomes", outcome.model_dump_json().encode()))
    alert = Alert(alert_id="a-1", rule="north-sales-drop", group="north-sales-drop", region="North",
                  severity="orange", state="firing", starts_at=NOW, fired_at=NOW, updated_at=NOW,
                  values={"sales@North": 90.0}, baselines={"sales@North": 120.0},
                  context=[MetricMove(metric="orders", value=3, baseline=9, change_pct=-66.7)],
                  message="orange: sales in North -25% week over week", silenced=False, notify=True)
    messages.append(("alerts", alert.model_dump_json().encode()))
    escalation = Escalation(escalation_id="e-1", alert_id="a-1", rule="north-sales-drop", group="north-sales-drop",
                            region="North", severity="orange", respond_by=NOW, escalated_at=NOW, message="late")
    messages.append(("alerts.escalations", escalation.model_dump_json().encode()))
    metric = RegionMetric(metric_id="m-1", region="North", metric="sales", window="1m", window_start=NOW, value=9.5)
    messages.append(("region.metrics", metric.model_dump_json().encode()))
    letter = DeadLetter(dead_letter_id="d-1", source_topic="events.pos", partition=1, offset=99,
                        reason="malformed_json", detail="Expecting value", raw=b"\xff{oops", ts=NOW)
    messages.append(("deadletter", letter.model_dump_json().encode()))
    return messages


def test_every_record_type_round_trips_and_repeats_are_counted_once(backend: Backend) -> None:
    migrate(backend)
    decoders = row_decoders(PersonalData(b"test-key"))
    rows = [decoders[topic](value) for topic, value in _messages()]
    for _attempt in range(2):  # a replay of the same offsets writes the same rows again
        for table, row in rows:
            backend.insert(table, next(t for t in ALL_TABLES if t.name == table).column_names, [row])
    db = backend.database
    for table in ALL_TABLES:
        (count,), = backend.query(f"SELECT count() FROM {db}.{table.name} FINAL")
        assert count == 1, table.name

    (ts, quantity, amount), = backend.query(f"SELECT toString(ts), quantity, amount FROM {db}.events_pos FINAL")
    assert (ts, quantity, amount) == ("2026-11-27 01:30:00", 3, 1299.5)
    (reasons, latency, runners, pack, stage), = backend.query(
        f"SELECT reasons, decision_latency_ms, runners_up_json, content_pack_id, stage FROM {db}.leads_routed FINAL")
    assert (list(reasons), latency, pack, stage) == (["win rate automotive 42%", "报价"], 0.042, "automotive-tv", "purchase")
    assert json.loads(runners)[0]["lost_because"] == ["load 7/8"]
    (next_rep, kind, amount), = backend.query(
        f"SELECT s.next_rep_id, o.kind, o.amount FROM {db}.sla_breaches AS s FINAL "
        f"ANY INNER JOIN (SELECT lead_id, kind, amount FROM {db}.rep_outcomes FINAL) AS o USING lead_id")
    assert (next_rep, kind, amount) == ("", "won", 125000.0)
    (text, phone), = backend.query(f"SELECT text, phone FROM {db}.events_calls FINAL")
    assert text == PAYLOADS["call"]()["text"]
    assert phone == PersonalData(b"test-key").protect("phone", PAYLOADS["call"]()["phone"]) != PAYLOADS["call"]()["phone"]
    (state, notify, context, escalated), = backend.query(
        f"SELECT a.state, a.notify, a.context_json, e.escalation_id FROM {db}.alerts AS a FINAL "
        f"ANY INNER JOIN (SELECT alert_id, escalation_id FROM {db}.alert_escalations FINAL) AS e USING alert_id")
    assert (state, notify, json.loads(context)[0]["metric"], escalated) == ("firing", 1, "orders", "e-1")
    (raw,), = backend.query(f"SELECT raw_base64 FROM {db}.dead_letters FINAL")
    assert base64.b64decode(raw) == b"\xff{oops"
    assert backend.query(f"SELECT lead_id, score, stage, region, events, routings FROM {db}.lead_profiles") == [
        ("lead-1", 71.5, "purchase", "North", 1, 1)]
    assert backend.query(f"SELECT rep_id, industry, won, lost, win_rate, won_amount FROM {db}.rep_stats") == [
        ("rep-001", "automotive", 1, 0, 1.0, 125000.0)]


def test_a_column_added_to_a_table_description_is_added_by_migrate(backend: Backend) -> None:
    migrate(backend)
    backend.execute(f"ALTER TABLE {backend.database}.events_web DROP COLUMN email")  # as an older schema had it
    assert migrate(backend) == []
    columns = {row[0] for row in backend.query(
        f"SELECT name FROM system.columns WHERE database = '{backend.database}' AND table = 'events_web'")}
    assert "email" in columns


def test_board_rollups_count_a_replayed_insert_once(backend: Backend) -> None:
    migrate(backend)
    db = backend.database
    routed = [LEADS_ROUTED.row({"routing_id": f"r-{i}", "rep_id": "rep-1", "queue": "rep", "routed_at": NOW,
                                "decision_latency_ms": 0.1 * i}) for i in range(3)]
    metrics = [REGION_METRICS.row({"metric_id": f"m-{minute}", "region": "North", "metric": "sales", "window": "1m",
                                   "window_start": NOW.replace(minute=minute, second=0), "value": 10.0})
               for minute in (0, 1)]
    for _replay in range(2):  # a worker restart re-sends what it had sent
        backend.insert(LEADS_ROUTED.name, LEADS_ROUTED.column_names, routed)
        backend.insert(REGION_METRICS.name, REGION_METRICS.column_names, metrics)
    for grain in ("hourly", "daily"):
        (leads, slowest), = backend.query(f"SELECT leads, slowest_ms FROM {db}.routing_{grain}")
        assert (leads, round(slowest, 3)) == (3, 0.2)
        (sales,), = backend.query(f"SELECT value FROM {db}.region_metrics_{grain} WHERE metric = 'sales'")
        assert sales == 20.0
