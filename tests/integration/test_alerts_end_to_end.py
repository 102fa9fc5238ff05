"""Regional alerts on real parts: POS rows and competitor signals through the broker into the
worker's metric store, rules written in English and Chinese, alerts back on the `alerts` topic."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from models.alerts import Alert, AlertAck
from models.events import EVENT_MODELS
from models.records import RulesDocument
from sinks.backends import Backend
from streams.aggregates import contributions
from streams.rules import load_metrics
from tests.factories import encoded, pos, signal
from tests.integration.conftest import poll_until
from tests.integration.harness import (
    edited_policies, leadflow, metric_values, produce, read_all, running_worker, worker_environment,
)

RULES = """rules:
  - name: north-drop-east-push
    rule: "when sales in North drop more than 20% week over week and competitor activity in East rises more than 30% week over week for 10m then orange"
  - name: sales-drop-anywhere
    rule: "当 任一区域 销量 周环比 下降 超过 20% 持续 10分钟 时 触发 黄色预警"
"""
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


def minute_of_business(minute: int, north_rows: int, push: float) -> list[tuple[str, dict[str, Any]]]:
    """One minute at NOW + `minute`: POS rows in North and South, a competitor signal in East."""
    ts = (NOW + timedelta(minutes=minute)).isoformat()
    rows = [("pos", pos(store="BJ-001", region="North", amount=100.0, ts=ts)) for _ in range(north_rows)]
    rows += [("pos", pos(store="GZ-001", region="South", amount=100.0, ts=ts)) for _ in range(2)]
    return rows + [("signal", signal(kind="competitor_activity", region="East", value=push, ts=ts))]


def period(first: int, last: int, drop_from: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Minutes first..last-1; from `drop_from` on, North sells half and the competitor pushes twice as hard."""
    events: list[tuple[str, dict[str, Any]]] = []
    for minute in range(first, last):
        dropping = drop_from is not None and minute >= drop_from
        events += minute_of_business(minute, 1 if dropping else 2, 20.0 if dropping else 10.0)
    return events


def increments_of(events: list[tuple[str, dict[str, Any]]]) -> int:
    catalog = load_metrics()
    return sum(len(contributions(EVENT_MODELS[source].model_validate(p), catalog)) for source, p in events)


@pytest.fixture
def env(kafka_bootstrap: str, clickhouse_server_url: str, run_id: str, tmp_path: Path) -> dict[str, str]:
    policies = edited_policies(tmp_path, "alert_rules.yaml", "rules:", "unused:")
    (policies / "alert_rules.yaml").write_text(RULES, encoding="utf-8")
    return worker_environment(kafka_bootstrap, clickhouse_server_url, run_id, tmp_path / "data") | {
        "LEADFLOW_POLICY_DIR": str(policies),
        "LEADFLOW_ALERT_LATENESS_SECONDS": "86400",  # the test sends a week of history in a few seconds
        "LEADFLOW_ALERT_TICK_SECONDS": "0.5",
    }


def test_a_sales_drop_during_a_competitor_push_alerts_that_region_and_rules_change_live(
    env: dict[str, str], kafka_bootstrap: str, run_id: str, tmp_path: Path, server_backend: Backend,
) -> None:
    prefix, port = f"{run_id}.", env["LEADFLOW_METRICS_PORT"]

    applied = 0

    def feed(events: list[tuple[str, dict[str, Any]]], minutes_per_batch: int = 5) -> None:
        """Produce a few minutes of business at a time and wait until the regional stage applied
        them. Sources travel on different topics and partitions; sent all at once, hours of
        event time would arrive skewed by hours, which live traffic never is."""
        nonlocal applied
        per_minute = len(events) // len({p["ts"] for _s, p in events})
        for start in range(0, len(events), per_minute * minutes_per_batch):
            batch = events[start:start + per_minute * minutes_per_batch]
            produce(kafka_bootstrap, prefix, [(source, encoded(p)) for source, p in batch])
            applied += increments_of(batch)
            poll_until(lambda: metric_values(port).get("leadflow_region_increments_total", 0.0),
                       lambda count: count >= applied, 60, f"{applied} metric increments applied")

    week_ago = period(-7 * 1440 - 240, -7 * 1440 + 60)  # same hours as today: equal windows from the start
    today = period(-240, 0, drop_from=-60)
    recovery = period(0, 60)
    with running_worker(env, tmp_path):
        feed(week_ago, minutes_per_batch=60)  # no rule can hold without a baseline a week before
    # A restart in between: the new worker rebuilds last week's metrics from region.increments.
    applied = 0
    with running_worker(env, tmp_path) as worker:
        feed(today)

        def alerts() -> list[Alert]:
            return [Alert.model_validate_json(v) for v in read_all(kafka_bootstrap, prefix + "alerts")]

        firing = poll_until(lambda: [a for a in alerts() if a.state == "firing"], lambda found: len(found) >= 2,
                            60, "the orange and the yellow alert")
        orange = next(a for a in firing if a.rule == "north-drop-east-push")
        assert (orange.severity, orange.region, orange.notify) == ("orange", "North", True)
        assert orange.values["sales@North"] < 0.8 * orange.baselines["sales@North"]
        assert orange.values["competitor_activity@East"] > 1.3 * orange.baselines["competitor_activity@East"]
        assert {move.metric for move in orange.context} & {"orders", "units"}  # what else moved in North
        # Fired in event time at the end of the `for` duration, not minutes later.
        assert timedelta(minutes=10) <= orange.fired_at - orange.starts_at <= timedelta(minutes=11)
        # The manager acknowledges on the acks topic; the alert says who and when, and ClickHouse has it.
        ack = AlertAck(alert_id=orange.alert_id, by="north-manager", note="calling key accounts",
                       at=datetime.now(timezone.utc), region="North")
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
        producer.send(prefix + "alerts.acks", key=orange.alert_id.encode(), value=ack.model_dump_json().encode())
        producer.flush(timeout=30)
        poll_until(lambda: [a for a in alerts() if a.alert_id == orange.alert_id and a.acknowledged_by], bool, 30,
                   "the acknowledgement on the alert")
        db = server_backend.database
        poll_until(lambda: server_backend.query(
            f"SELECT severity, state FROM {db}.alerts FINAL WHERE alert_id = '{orange.alert_id}' ORDER BY state"),
            lambda rows: ("orange", "firing") in rows, 30, "the orange alert in ClickHouse")
        # The "any region" rule fires for North only: South kept selling. (A South window seen
        # before all its rows arrived may go pending for a moment; the `for` duration absorbs it.)
        assert {a.region for a in alerts() if a.rule == "sales-drop-anywhere" and a.state == "firing"} == {"North"}

        feed(recovery)
        poll_until(lambda: [a for a in alerts() if a.rule == "north-drop-east-push" and a.state == "resolved"],
                   bool, 60, "the orange alert to resolve after recovery")

        # A broken rule set is refused by `rules push`, and by the worker if it arrives anyway.
        broken = tmp_path / "broken.yaml"
        broken.write_text("rules:\n  - name: x\n    rule: \"when slaes in North above 1 then blue\"\n", encoding="utf-8")
        refused = subprocess.run([sys.executable, "-m", "streams.cli", "rules", "push", str(broken)], env=env,
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and "did you mean 'sales'" in refused.stderr
        producer.send(prefix + "config.rules", key=b"default", value=RulesDocument(
            name="default", text=broken.read_text(encoding="utf-8"), pushed_at=NOW).model_dump_json().encode())
        producer.flush(timeout=30)
        producer.close()
        poll_until(lambda: metric_values(port), lambda m: m.get("leadflow_rules_rejected_total") == 1, 30,
                   "the worker to refuse the broken set")
        assert metric_values(port)["leadflow_rules_active"] == 2

        # A valid set takes effect without a restart.
        live = tmp_path / "live.yaml"
        live.write_text("rules:\n  - name: south-orders\n    rule: \"when orders in South above 3 then blue\"\n",
                        encoding="utf-8")
        leadflow(env, "rules", "push", str(live))
        poll_until(lambda: metric_values(port).get("leadflow_rules_active"), lambda n: n == 1, 30, "the new rule set")
        feed(period(60, 62))
        poll_until(lambda: [a for a in alerts() if a.rule == "south-orders" and a.state == "firing"], bool, 30,
                   "the pushed rule to fire")
        assert worker.poll() is None
