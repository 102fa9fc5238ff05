"""The provisioned Grafana boards (deploy/grafana): valid for Grafana's own dashboard model, wired
to the provisioned data sources, and every ClickHouse query runs on the real (18.16) server."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import prometheus
from grafana_foundation_sdk.models.dashboard import Dashboard

from sinks.backends import Backend
from sinks.migrations import migrate
from sinks.tables import (
    ALERTS, DEAD_LETTERS, LEAD_SCORES, LEADS_ROUTED, REGION_METRICS, REP_OUTCOMES, SLA_BREACHES, Table,
)

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
CLICKHOUSE = "grafana-clickhouse-datasource"

register_default_plugins()  # panel options / field configs and data queries decode into the SDK's models


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' collapsed children included."""
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _provisioned() -> dict[str, str]:
    """uid -> plugin type of the provisioned data sources."""
    config = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "datasources.yaml").read_text())
    return {source["uid"]: source["type"] for source in config["datasources"]}


def _lost(written: Any, decoded: Any, path: str) -> list[str]:
    """What of `written` the SDK round trip does not give back: missing keys, changed values."""
    if isinstance(written, dict):
        if not isinstance(decoded, dict):
            return [f"{path}: became {decoded!r}"]
        lost = [f"{path}.{key}: unknown to the model" for key in written if key not in decoded]
        return lost + [item for key, value in written.items() if key in decoded
                       for item in _lost(value, decoded[key], f"{path}.{key}")]
    if isinstance(written, list):
        if not isinstance(decoded, list) or len(decoded) != len(written):
            return [f"{path}: became {decoded!r}"]
        return [item for index, (w, d) in enumerate(zip(written, decoded)) for item in _lost(w, d, f"{path}[{index}]")]
    return [] if written == decoded else [f"{path}: {written!r} became {decoded!r}"]


def test_provisioning_files_name_the_two_sources_and_the_dashboards_folder() -> None:
    assert _provisioned() == {"leadflow-clickhouse": CLICKHOUSE, "leadflow-prometheus": "prometheus"}
    sources = {s["uid"]: s for s in yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "datasources.yaml").read_text())["datasources"]}
    clickhouse = sources["leadflow-clickhouse"]["jsonData"]
    assert (clickhouse["host"], clickhouse["port"], clickhouse["protocol"], clickhouse["defaultDatabase"]) == (
        "127.0.0.1", 9000, "native", "leadflow")
    assert sources["leadflow-prometheus"]["url"] == "http://127.0.0.1:9090"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "dashboards.yaml").read_text())["providers"]
    assert [(p["type"], p["options"]["path"]) for p in providers] == [("file", "/var/lib/grafana/dashboards/leadflow")]
    assert {path.name for path in DASHBOARDS} == {"war-room.json", "pipeline-health.json"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_round_trips_through_grafanas_model(path: Path) -> None:
    """The SDK's from_json drops what it does not know: a misspelt key is lost in the round trip."""
    written = _load(path)
    decoded = json.loads(json.dumps(Dashboard.from_json(written), cls=JSONEncoder))
    assert _lost(written, decoded, path.stem) == []
    for panel in written["panels"]:
        if panel["type"] != "row":
            assert cogruntime.panelcfg_config(panel["type"]) is not None, f"unknown panel type {panel['type']!r}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_use_the_provisioned_sources_and_a_clean_grid(path: Path) -> None:
    board = _load(path)
    sources = _provisioned()
    assert board["refresh"] == "5s" and board["uid"] and board["title"]
    panels = list(_panels(board))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {ids}"
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= grid.keys() and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel.get("description"), panel
        assert panel["targets"], panel["title"]
        for ref in [panel["datasource"]] + [target["datasource"] for target in panel["targets"]]:
            assert ref["uid"] in sources and ref["type"] == sources[ref["uid"]], (panel["title"], ref)
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            if target["datasource"]["type"] == "prometheus":
                assert target["expr"].strip(), panel["title"]
            else:  # the ClickHouse plugin's SQL query model: the SDK has none for it
                assert target["editorType"] == "sql" and target["rawSql"].strip(), panel["title"]
                assert (target["queryType"], target["format"]) in {("table", 1), ("timeseries", 0)}, panel["title"]


def test_prometheus_targets_decode_as_prometheus_queries() -> None:
    board = Dashboard.from_json(_load(GRAFANA / "dashboards" / "pipeline-health.json"))
    targets = [target for panel in board.panels or [] if getattr(panel, "targets", None) for target in panel.targets]
    assert targets and all(isinstance(target, prometheus.Dataquery) for target in targets)
    metrics = {name for target in targets for name in re.findall(r"leadflow_[a-z_]+", target.expr)}
    assert {"leadflow_events_in_total", "leadflow_dead_letters_total", "leadflow_leads_routed_total",
            "leadflow_decision_latency_seconds_bucket", "leadflow_sink_rows_total",
            "leadflow_sink_batch_seconds_bucket",
            "leadflow_sink_errors_total", "leadflow_sink_backlog_messages", "leadflow_sla_breaches_total",
            "leadflow_alerts_total", "leadflow_region_late_increments_total", "leadflow_rules_active",
            "leadflow_rules_rejected_total"} <= metrics


# --- every ClickHouse query, on the real server -----------------------------------------------

def _clickhouse_queries() -> list[tuple[str, str]]:
    """(panel title / refId, SQL) of every ClickHouse target of every board."""
    return [(f"{panel['title']} / {target['refId']}", target["rawSql"])
            for path in DASHBOARDS for panel in _panels(_load(path)) for target in panel.get("targets", [])
            if target["datasource"]["type"] == CLICKHOUSE]


def concrete(sql: str, database: str, start: datetime, end: datetime) -> str:
    """The SQL the plugin sends: its macros expanded as the plugin does (pkg/macros), our database named."""
    frm, to = f"toDateTime({int(start.timestamp())})", f"toDateTime({int(end.timestamp())})"
    sql = re.sub(r"\$__timeFilter\(\s*([^)]+?)\s*\)", rf"\1 >= {frm} AND \1 <= {to}", sql)
    sql = sql.replace("$__fromTime", frm).replace("$__toTime", to)
    assert "$" not in sql, f"unexpanded macro or variable in {sql}"
    return re.sub(r"\bleadflow\.", f"{database}.", sql)


def _insert(backend: Backend, table: Table, records: list[dict[str, Any]]) -> None:
    backend.insert(table.name, table.column_names, [table.row(record) for record in records])


@pytest.fixture
def board_backend(server_backend: Backend) -> Backend:
    """The schema with a little of everything; each record written twice, as a replay would."""
    migrate(server_backend)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=2)
    routed = dict(routing_id="r-1", lead_id="lead-1", rep_id="rep-001", rep_name="Li Wei", queue="rep",
                  policy="match", reasons=["win rate automotive 42%", "报价 x3"], score=87.5, stage="purchase",
                  industry="automotive", priority="p1", trigger="deep-technical-read", attempt=1,
                  trigger_event_id="e-1", trigger_source="web", event_ts=now, routed_at=now,
                  sla_deadline=now + timedelta(minutes=15), decision_latency_ms=0.42)
    overflow = dict(routed, routing_id="r-2", lead_id="lead-2", rep_id=None, rep_name=None, queue="overflow-auto",
                    reasons=["no rep with certification iatf16949"], decision_latency_ms=1.5)
    backend = server_backend
    for _replay in range(2):
        _insert(backend, LEADS_ROUTED, [routed, overflow])
        _insert(backend, REP_OUTCOMES, [
            dict(outcome_id="o-1", routing_id="r-1", lead_id="lead-1", rep_id="rep-001", kind="accepted", ts=now),
            dict(outcome_id="o-2", routing_id="r-1", lead_id="lead-1", rep_id="rep-001", kind="won",
                 amount=125000.0, ts=now)])
        _insert(backend, SLA_BREACHES, [dict(sla_id="s-1", lead_id="lead-3", routing_id="r-0", rep_id="rep-001",
                                             priority="p1", deadline=now, detected_at=now, attempt=1,
                                             next_routing_id="r-9", next_rep_id="rep-002")])
        alert = dict(alert_id="a-1", rule="north-sales-drop", group="north-sales-drop", region="North",
                     severity="orange", starts_at=now - timedelta(minutes=10), message="sales in North -25% wow")
        _insert(backend, ALERTS, [
            dict(alert, record_id="a-1/pending", state="pending", updated_at=now - timedelta(minutes=10)),
            dict(alert, record_id="a-1/firing", state="firing", fired_at=now, updated_at=now, notify=True)])
        _insert(backend, REGION_METRICS, [
            dict(metric_id=f"m-{metric}", region="North", metric=metric, window="1m", window_start=now, value=value)
            for metric, value in (("sales", 950.0), ("orders", 3.0), ("leads_created", 4.0))])
        _insert(backend, DEAD_LETTERS, [dict(dead_letter_id="d-1", ts=now, source_topic="events.pos", partition=1,
                                             offset=99, reason="malformed_json", raw_base64="/3tvb3BzCg==")])
        score = dict(lead_id="lead-1", source="web", stage="purchase", intensity="high", industry="automotive",
                     region="North", scored_at=now)
        _insert(backend, LEAD_SCORES, [
            dict(score, score_id="sc-1", event_id="e-0", score=41.0, ts=now - timedelta(minutes=1)),
            dict(score, score_id="sc-2", event_id="e-1", score=87.5, trigger="deep-technical-read", ts=now)])
    return backend


def test_every_clickhouse_query_runs_on_the_server(board_backend: Backend) -> None:
    end = datetime.now(timezone.utc)
    start = end - timedelta(hours=1)
    queries = _clickhouse_queries()
    assert len(queries) >= 15
    failures, results = [], {}
    for name, sql in queries:
        try:
            results[name] = board_backend.query(concrete(sql, board_backend.database, start, end))
        except Exception as error:  # collect them all: one report names every broken panel
            failures.append(f"{name}: {str(error).splitlines()[0]}")
    assert failures == []

    live = results["Live routed leads / A"]
    assert [(row[1], row[2], row[3]) for row in live] == [("lead-1", "Li Wei", "rep"), ("lead-2", "-", "overflow-auto")]
    assert "报价 x3" in next(row for row in live if row[1] == "lead-1")[8]
    # replayed records count once
    assert results["Lead funnel / A"] == [(4.0, 2, 1, 1)]
    assert results["Leads routed / A"] == [(2,)]
    assert results["SLA breaches / A"] == [(1,)]
    assert results["Alerts firing / A"] == [(1,)]
    assert results["Dead letters / A"] == [(1,)]
    north = [row for row in results["Regions: sales, leads and firing alerts / A"] if row[0] == "North"]
    assert [row[:5] for row in north] == [("North", 950.0, 3.0, 4.0, 1)]
    alerts_now = results["Alerts now / A"]
    assert [(row[0], row[1], row[2]) for row in alerts_now] == [("firing", "orange", "North")]
    assert sorted(row[3] for row in results["Alert timeline / A"]) == ["firing", "pending"]
    # the lead's latest score, its two events counted once each, routed once
    assert [(row[0], row[1], row[7], row[8]) for row in results["Hottest leads / A"]] == [("lead-1", 87.5, 2, 1)]
