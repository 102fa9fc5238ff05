"""The whole path on real parts: kafka-python produces every source to a real broker,
`leadflow worker` runs as its own process, ClickHouse (the real server) receives the rows."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from kafka import KafkaProducer

from config.policy_files import load_roster
from config.settings import DEV_PII_KEY, POLICY_DIR
from models.events import EVENT_MODELS
from models.records import DeadLetter, RoutedLead, SlaBreach
from models.routing import RepOutcome
from sinks.backends import Backend
from sinks.personal_data import PersonalData
from streams.identity import resolve_lead
from streams.lead_router import LeadRouter
from tests.factories import call, encoded, pos, signal as ext_signal, web
from tests.integration.conftest import poll_until
from tests.integration.harness import (
    MAX_EVENT_BYTES, SOURCE_TOPIC, TEAM, edited_policies, leadflow, metric_values, produce, read_topic,
    running_worker, white_paper_reads, worker_environment,
)



@pytest.fixture
def worker_env(kafka_bootstrap: str, clickhouse_server_url: str, run_id: str, tmp_path: Path) -> dict[str, str]:
    return worker_environment(kafka_bootstrap, clickhouse_server_url, run_id, tmp_path / "worker-data")


def valid_events() -> list[tuple[str, dict[str, Any]]]:
    events = white_paper_reads("deep-reader", datetime.now(timezone.utc))
    events += [("web", web(visitor_id=f"v{i}", content_id=f"doc-{i}")) for i in range(8)]
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
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with running_worker(worker_env, tmp_path) as process:
        yield process


def produce_outcome(bootstrap: str, prefix: str, outcome: RepOutcome) -> None:
    """Outcomes are keyed by lead id: they must reach the partition that owns the lead."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(prefix + "reps.outcomes", key=outcome.lead_id.encode(), value=outcome.model_dump_json().encode())
    producer.flush(timeout=30)
    producer.close()


def leads_routed_in_process(events: list[Any]) -> set[str]:
    """The leads the shipped policies route, decided in process in per-person order."""
    router = LeadRouter.from_policies(POLICY_DIR, TEAM)
    aliases: dict[str, str] = {}
    profiles: dict[str, Any] = {}
    routed: set[str] = set()
    for event in events:
        lead_id, learned = resolve_lead(event, aliases)
        aliases.update(learned)
        if lead_id is None:
            continue
        profiles[lead_id], _intent, routing = router.on_event(lead_id, event, profiles.get(lead_id), event.ts)
        if routing is not None:
            routed.add(lead_id)
    return routed


def test_worker_ingests_routes_dead_letters_and_stores_everything(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], kafka_bootstrap: str,
    server_backend: Backend, run_id: str,
) -> None:
    prefix = f"{run_id}."
    valid = valid_events()
    produce(kafka_bootstrap, prefix, [(source, encoded(payload)) for source, payload in valid]
            + [(source, raw) for source, raw, _reason in MALFORMED])

    parsed = [EVENT_MODELS[source].model_validate(payload) for source, payload in valid]
    expected_leads = leads_routed_in_process(parsed)
    deep_reader = resolve_lead(parsed[0], {})[0]
    assert deep_reader in expected_leads and len(expected_leads) >= 3

    # Every lead the same policies route in process is on leads.routed once, to a roster rep.
    routed = [RoutedLead.model_validate_json(v)
              for v in read_topic(kafka_bootstrap, prefix + "leads.routed", len(expected_leads))]
    assert Counter(r.lead_id for r in routed) == Counter(expected_leads)
    roster = {rep.id for rep in load_roster(TEAM).reps}
    assert {r.rep_id for r in routed if r.rep_id} <= roster

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
        found["scored"] = {row[0] for row in server_backend.query(f"SELECT event_id FROM {db}.lead_scores FINAL")}
        return found

    expected = {source: {e.event_id for e in parsed if e.source == source} for source in tables}
    expected["routed"] = expected_leads
    expected["dead"] = {reason for _s, _r, reason in MALFORMED}
    expected["scored"] = {e.event_id for e in parsed if e.identities()}  # every event of a lead is scored
    poll_until(stored, lambda found: found == expected, 60, "every record in ClickHouse")
    # Each lead's latest assessment: the routed ones were routed once, by a hot score or a trigger.
    profiles = dict(server_backend.query(f"SELECT lead_id, routings FROM {db}.lead_profiles"))
    assert {lead for lead, routings in profiles.items() if routings} == expected_leads
    # Phone numbers are stored as keyed hashes, never as written.
    phones = {row[0] for row in server_backend.query(f"SELECT phone FROM {db}.events_web FINAL WHERE phone != ''")}
    assert phones == {PersonalData(DEV_PII_KEY.encode()).protect("phone", "+86 139 0000 0009")}

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
    assert sum(v for k, v in metrics.items() if k.startswith("leadflow_leads_routed_total")) == len(expected_leads)
    assert metrics['leadflow_sink_rows_total{table="events_web"}'] == len(expected["web"])
    assert metrics["leadflow_decision_latency_seconds_count"] == len(expected_leads)

    # A graceful stop: SIGTERM ends the worker cleanly.
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0


@pytest.fixture
def short_sla_policies(tmp_path: Path) -> Path:
    """The automotive pack's p1 SLA cut to 3 seconds."""
    return edited_policies(tmp_path, "packs/automotive.yaml", "p1: 5,", "p1: 0.05,")


def test_white_paper_lead_routes_to_the_expert_and_an_unaccepted_sla_reroutes(
    short_sla_policies: Path, worker_env: dict[str, str], kafka_bootstrap: str, run_id: str, tmp_path: Path,
) -> None:
    worker_env["LEADFLOW_POLICY_DIR"] = str(short_sla_policies)
    prefix = f"{run_id}."
    with running_worker(worker_env, tmp_path) as worker:
        # Lead A reads the white paper; its rep accepts at once. Lead B reads it later; nobody accepts.
        now = datetime.now(timezone.utc)
        produce(kafka_bootstrap, prefix, [(s, encoded(p)) for s, p in white_paper_reads("buyer-a", now)])
        first = poll_until(lambda: read_topic(kafka_bootstrap, prefix + "leads.routed", 1), bool, 60, "lead A routed")
        lead_a = RoutedLead.model_validate_json(first[0])
        assert (lead_a.rep_id, lead_a.trigger, lead_a.stage, lead_a.industry) == (
            "auto-star", "deep-technical-read", "technical_validation", "automotive")
        assert lead_a.content_pack is not None and lead_a.content_pack.competitor_matrix
        assert lead_a.reasons and lead_a.runners_up and lead_a.decision_latency_ms < 50
        accepted = RepOutcome(outcome_id="acc-a", routing_id=lead_a.routing_id, lead_id=lead_a.lead_id,
                              rep_id="auto-star", kind="accepted", ts=datetime.now(timezone.utc))
        produce_outcome(kafka_bootstrap, prefix, accepted)
        poll_until(lambda: metric_values(worker_env["LEADFLOW_METRICS_PORT"]).get("leadflow_sla_accepted_total"),
                   lambda accepted_count: accepted_count == 1, 30, "the acceptance to stop lead A's timer")

        produce(kafka_bootstrap, prefix,
                [(s, encoded(p)) for s, p in white_paper_reads("buyer-b", datetime.now(timezone.utc))])
        routed = [RoutedLead.model_validate_json(v) for v in read_topic(kafka_bootstrap, prefix + "leads.routed", 3)]
        lead_b = [r for r in routed if r.lead_id != lead_a.lead_id]
        assert [(r.rep_id, r.attempt) for r in lead_b] == [("auto-star", 1), ("auto-second", 2)]
        breaches = [SlaBreach.model_validate_json(v) for v in read_topic(kafka_bootstrap, prefix + "leads.sla", 1)]
        assert [(b.lead_id, b.rep_id, b.next_rep_id, b.routing_id) for b in breaches] == [
            (lead_b[0].lead_id, "auto-star", "auto-second", lead_b[0].routing_id)]
        assert lead_b[1].routing_id == breaches[0].next_routing_id
        # Lead A's deadline passed before lead B's: its accepted SLA never breached.
        assert worker.poll() is None


def test_a_pushed_roster_reaches_the_running_worker_and_deals_feed_reps_profile(
    worker_env: dict[str, str], kafka_bootstrap: str, run_id: str, tmp_path: Path, server_backend: Backend,
) -> None:
    prefix = f"{run_id}."
    broken = tmp_path / "broken.yaml"
    broken.write_text("reps:\n  - id: x\n    name: X\n    capacity: -1\n", encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "streams.cli", "reps", "push", str(broken)], env=worker_env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and f"{broken}:4:15" in refused.stderr

    with running_worker(worker_env, tmp_path) as worker:
        port = worker_env["LEADFLOW_METRICS_PORT"]
        poll_until(lambda: metric_values(port).get("leadflow_roster_active_reps"), lambda n: n == 4, 30, "4 reps")
        # The star goes on leave: the pushed roster marks her inactive.
        on_leave = tmp_path / "team.yaml"
        on_leave.write_text(TEAM.read_text(encoding="utf-8").replace(
            "    name: Zhou Min\n", "    name: Zhou Min\n    active: false\n"), encoding="utf-8")
        leadflow(worker_env, "reps", "push", str(on_leave))
        poll_until(lambda: metric_values(port).get("leadflow_roster_active_reps"), lambda n: n == 3, 30, "3 reps")

        produce(kafka_bootstrap, prefix,
                [(s, encoded(p)) for s, p in white_paper_reads("buyer-c", datetime.now(timezone.utc))])
        routed = RoutedLead.model_validate_json(read_topic(kafka_bootstrap, prefix + "leads.routed", 1)[0])
        assert routed.rep_id == "auto-second"

        # Deals reach ClickHouse through the sink; `reps profile` measures reps on them.
        for i, kind in enumerate(["won", "won", "won", "lost"]):
            produce_outcome(kafka_bootstrap, prefix, RepOutcome(
                outcome_id=f"deal-{i}", lead_id=f"old-{i}", rep_id="auto-second", kind=kind,
                industry="automotive", product="hv-connector", amount=1000.0, ts=datetime.now(timezone.utc)))
        poll_until(lambda: server_backend.query(f"SELECT count() FROM {server_backend.database}.rep_outcomes FINAL"),
                   lambda rows: rows == [(4,)], 30, "4 outcomes in ClickHouse")
        profile = json.loads(leadflow(worker_env, "reps", "profile", "--json"))
        assert [(row["rep_id"], row["deals"], row["best_industry"]) for row in profile] == [
            ("auto-second", 4, "automotive")]
        assert worker.poll() is None


def test_an_idle_lead_is_forgotten_and_routed_afresh_when_it_returns(
    worker_env: dict[str, str], kafka_bootstrap: str, run_id: str, tmp_path: Path,
) -> None:
    policies = edited_policies(tmp_path, "scoring.yaml", "idle_expiry_days: 30", "idle_expiry_days: 0.00005")
    worker_env |= {"LEADFLOW_POLICY_DIR": str(policies), "LEADFLOW_PROFILE_SWEEP_SECONDS": "0.5"}
    prefix = f"{run_id}."
    with running_worker(worker_env, tmp_path) as worker:
        produce(kafka_bootstrap, prefix,
                [(s, encoded(p)) for s, p in white_paper_reads("returning", datetime.now(timezone.utc))])
        first = RoutedLead.model_validate_json(read_topic(kafka_bootstrap, prefix + "leads.routed", 1)[0])
        produce_outcome(kafka_bootstrap, prefix, RepOutcome(
            outcome_id="acc", routing_id=first.routing_id, lead_id=first.lead_id, rep_id=first.rep_id or "",
            kind="accepted", ts=datetime.now(timezone.utc)))
        # Idle for the (4-second) idle period: the worker forgets the profile ...
        poll_until(lambda: metric_values(worker_env["LEADFLOW_METRICS_PORT"]).get("leadflow_profiles_expired_total"),
                   lambda expired: expired == 1, 30, "the idle profile to be forgotten")
        # ... so a new deep read is a new story, routed again despite the earlier hysteresis.
        produce(kafka_bootstrap, prefix,
                [(s, encoded(p)) for s, p in white_paper_reads("returning", datetime.now(timezone.utc))])
        routed = [RoutedLead.model_validate_json(v) for v in read_topic(kafka_bootstrap, prefix + "leads.routed", 2)]
        assert [r.lead_id for r in routed] == [first.lead_id] * 2
        assert routed[1].routing_id != first.routing_id and routed[1].attempt == 1
        assert worker.poll() is None
