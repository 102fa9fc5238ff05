"""Versioned, idempotent schema migrations (`leadflow migrate`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from sinks.backends import Backend
from sinks.tables import ALL_TABLES, LEAD_SCORES


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[str, tuple[int, ...]], list[str]]  # (database, server version) -> SQL


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "raw events, routed leads, dead letters",
              lambda db, _version: [table.ddl(db) for table in ALL_TABLES]),
    Migration(2, "board roll-ups per minute, hour and day", lambda db, _version: rollups(db)),
    Migration(3, "lead scores, lead profiles and rep statistics", lambda db, _version: lead_and_rep_views(db)),
)


def rollups(db: str) -> list[str]:
    """Roll-ups the boards read, safe against reprocessed inserts: a materialized view sees every
    insert, duplicates included, so the minute views keep dedup-safe states (distinct routing ids,
    any one value per region, metric and minute); hours and days merge those states."""
    statements = [
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.routing_by_minute "
        f"ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(minute) ORDER BY (minute, queue, rep_id) AS "
        f"SELECT toStartOfMinute(routed_at) AS minute, queue, rep_id, uniqExactState(routing_id) AS leads, "
        f"maxState(decision_latency_ms) AS slowest_ms FROM {db}.leads_routed GROUP BY minute, queue, rep_id",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.region_metrics_by_minute "
        f"ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(minute) ORDER BY (region, metric, minute) AS "
        f"SELECT region, metric, window_start AS minute, anyState(value) AS value FROM {db}.region_metrics "
        f"WHERE `window` = '1m' GROUP BY region, metric, minute",
    ]
    for grain, bucket in (("hourly", "toStartOfHour"), ("daily", "toDate")):
        statements += [
            f"CREATE VIEW IF NOT EXISTS {db}.routing_{grain} AS "
            f"SELECT {bucket}(minute) AS period, queue, rep_id, uniqExactMerge(leads) AS leads, "
            f"maxMerge(slowest_ms) AS slowest_ms FROM {db}.routing_by_minute GROUP BY period, queue, rep_id",
            # Sums of additive metrics (sales, orders, counts); averages and ratios are not summed.
            f"CREATE VIEW IF NOT EXISTS {db}.region_metrics_{grain} AS "
            f"SELECT region, metric, {bucket}(minute) AS period, sum(value) AS value FROM "
            f"(SELECT region, metric, minute, anyMerge(value) AS value FROM {db}.region_metrics_by_minute "
            f"GROUP BY region, metric, minute) GROUP BY region, metric, period",
        ]
    return statements


def lead_and_rep_views(db: str) -> list[str]:
    """The score history table, each lead's latest assessment, and reps' measured results over
    the 180 days routing weighs. Both views read deduplicated rows, so replays change nothing."""
    latest = ", ".join(f"argMax({column}, ts) AS {column}"
                       for column in ("score", "stage", "intensity", "industry", "product", "region", "priority"))
    return [
        LEAD_SCORES.ddl(db),
        f"CREATE VIEW IF NOT EXISTS {db}.lead_profiles AS "
        f"SELECT lead_id, {latest}, max(ts) AS last_event, uniqExact(event_id) AS events, "
        f"countIf(trigger != '') AS routings FROM {db}.lead_scores FINAL GROUP BY lead_id",
        f"CREATE VIEW IF NOT EXISTS {db}.rep_stats AS "
        f"SELECT rep_id, industry, countIf(kind = 'accepted') AS accepted, countIf(kind = 'won') AS won, "
        f"countIf(kind = 'lost') AS lost, won / greatest(won + lost, 1) AS win_rate, "
        f"sumIf(amount, kind = 'won') AS won_amount FROM {db}.rep_outcomes FINAL "
        f"WHERE ts >= now() - INTERVAL 180 DAY GROUP BY rep_id, industry",
    ]


def _ledger_ddl(database: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(version UInt32, name String, applied_at DateTime) "
        "ENGINE = ReplacingMergeTree() ORDER BY version"
    )


def applied_versions(backend: Backend) -> set[int]:
    return {row[0] for row in backend.query(f"SELECT version FROM {backend.database}.schema_migrations")}


def migrate(backend: Backend, report: Callable[[str], None] = lambda _line: None) -> list[int]:
    """Apply every migration not yet recorded; returns the versions applied now.

    Each statement is itself idempotent (IF NOT EXISTS), so a run interrupted
    between a statement and its ledger row is simply completed by the next run.
    """
    backend.execute(f"CREATE DATABASE IF NOT EXISTS {backend.database}")
    backend.execute(_ledger_ddl(backend.database))
    done = applied_versions(backend)
    version = backend.server_version()
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        report(f"applying migration {migration.version}: {migration.name}")
        for statement in migration.statements(backend.database, version):
            backend.execute(statement)
        backend.insert("schema_migrations", ["version", "name", "applied_at"],
                       [(migration.version, migration.name, datetime.now(timezone.utc).replace(microsecond=0))])
        applied.append(migration.version)
    for statement in missing_columns(backend):
        report(f"adding column: {statement}")
        backend.execute(statement)
    return applied


def missing_columns(backend: Backend) -> list[str]:
    """ALTERs for columns a table description has and the table lacks: additive schema changes
    need no numbered migration (old servers have no ADD COLUMN IF NOT EXISTS, so we compare)."""
    rows = backend.query(f"SELECT table, name FROM system.columns WHERE database = '{backend.database}'")
    present: dict[str, set[str]] = {}
    for table, name in rows:
        present.setdefault(table, set()).add(name)
    return [
        f"ALTER TABLE {backend.database}.{table.name} ADD COLUMN `{name}` {type_}"
        for table in ALL_TABLES if table.name in present
        for name, type_ in table.columns if name not in present[table.name]
    ]
