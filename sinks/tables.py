"""The ClickHouse tables, described once as data; DDL and rows are derived from it.

The base schema runs on old servers (Debian's 18.16) and on current ClickHouse
(chdb): plain DateTime, ReplacingMergeTree, no TTL / CODEC / skip indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    id_column: str  # the deterministic record id the table is deduplicated on
    time_column: str

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self, database: str) -> str:
        columns = ",\n    ".join(f"`{name}` {type_}" for name, type_ in self.columns)
        # ReplacingMergeTree folds rows with an equal sorting key: a reprocessed
        # record (same id, same time) is stored once after merges; read with FINAL.
        return (
            f"CREATE TABLE IF NOT EXISTS {database}.{self.name} (\n    {columns}\n)\n"
            f"ENGINE = ReplacingMergeTree()\n"
            f"PARTITION BY toYYYYMM({self.time_column})\n"
            f"ORDER BY ({self.time_column}, {self.id_column})"
        )

    def row(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """One insert row from a record's fields; absent or None values become the type's zero."""
        return tuple(_coerce(type_, values.get(name)) for name, type_ in self.columns)


def _coerce(type_: str, value: Any) -> Any:
    if value is None:
        return _ZERO[type_]
    if type_ == "DateTime" and isinstance(value, datetime):
        return value.replace(microsecond=0)
    if isinstance(value, bool):
        return int(value)  # UInt8 flags; JSON true would not parse as a number
    return value


_ZERO: dict[str, Any] = {
    "String": "",
    "Float64": 0.0,
    "Int64": 0,
    "UInt8": 0,
    "UInt16": 0,
    "UInt32": 0,
    "UInt64": 0,
    "Array(String)": [],
    "DateTime": datetime(1970, 1, 1, tzinfo=timezone.utc),
}

_COMMON = (("schema_version", "UInt16"), ("ts", "DateTime"), ("received_at", "DateTime"))

EVENTS_WEB = Table(
    "events_web",
    (("event_id", "String"), *_COMMON, ("lead_id", "String"), ("kind", "String"),
     ("visitor_id", "String"), ("url", "String"), ("content_id", "String"),
     ("dwell_seconds", "Float64"), ("account", "String"), ("region", "String"),
     ("phone", "String"), ("email", "String")),  # keyed hashes unless clear text is allowed
    "event_id", "ts",
)
EVENTS_CALLS = Table(
    "events_calls",
    (("event_id", "String"), *_COMMON, ("lead_id", "String"), ("call_id", "String"),
     ("line", "String"), ("agent", "String"), ("language", "String"), ("text", "String"),
     ("duration_seconds", "Float64"), ("region", "String"),
     ("phone", "String"), ("email", "String"), ("messaging_id", "String")),  # keyed hashes, as above
    "event_id", "ts",
)
EVENTS_POS = Table(
    "events_pos",
    (("event_id", "String"), *_COMMON, ("store", "String"), ("region", "String"),
     ("sku", "String"), ("quantity", "Int64"), ("amount", "Float64"), ("customer_id", "String")),
    "event_id", "ts",
)
EVENTS_SIGNALS = Table(
    "events_signals",
    (("event_id", "String"), *_COMMON, ("kind", "String"), ("region", "String"),
     ("value", "Float64"), ("detail", "String")),
    "event_id", "ts",
)
LEADS_ROUTED = Table(
    "leads_routed",
    (("routing_id", "String"), ("schema_version", "UInt16"), ("lead_id", "String"),
     ("rep_id", "String"), ("rep_name", "String"), ("queue", "String"), ("policy", "String"),
     ("reasons", "Array(String)"), ("runners_up_json", "String"), ("score", "Float64"),
     ("stage", "String"), ("intensity", "String"), ("industry", "String"), ("product", "String"),
     ("priority", "String"), ("trigger", "String"), ("top_signals", "Array(String)"),
     ("match_score", "Float64"), ("content_pack_id", "String"), ("attempt", "UInt16"),
     ("sla_deadline", "DateTime"), ("trigger_event_id", "String"), ("trigger_source", "String"),
     ("event_ts", "DateTime"), ("routed_at", "DateTime"), ("decision_latency_ms", "Float64")),
    "routing_id", "routed_at",
)
LEAD_SCORES = Table(
    "lead_scores",
    (("score_id", "String"), ("schema_version", "UInt16"), ("lead_id", "String"), ("event_id", "String"),
     ("source", "String"), ("score", "Float64"), ("stage", "String"), ("intensity", "String"),
     ("industry", "String"), ("product", "String"), ("region", "String"), ("priority", "String"),
     ("trigger", "String"), ("top_signals", "Array(String)"), ("ts", "DateTime"), ("scored_at", "DateTime")),
    "score_id", "ts",
)
SLA_BREACHES = Table(
    "sla_breaches",
    (("sla_id", "String"), ("schema_version", "UInt16"), ("lead_id", "String"), ("routing_id", "String"),
     ("rep_id", "String"), ("priority", "String"), ("deadline", "DateTime"), ("detected_at", "DateTime"),
     ("attempt", "UInt16"), ("next_routing_id", "String"), ("next_rep_id", "String")),
    "sla_id", "deadline",
)
REP_OUTCOMES = Table(
    "rep_outcomes",
    (("outcome_id", "String"), ("schema_version", "UInt16"), ("routing_id", "String"), ("lead_id", "String"),
     ("rep_id", "String"), ("kind", "String"), ("industry", "String"), ("product", "String"),
     ("amount", "Float64"), ("ts", "DateTime")),
    "outcome_id", "ts",
)
DEAD_LETTERS = Table(
    "dead_letters",
    (("dead_letter_id", "String"), ("schema_version", "UInt16"), ("ts", "DateTime"),
     ("source_topic", "String"), ("partition", "UInt32"), ("offset", "UInt64"),
     ("reason", "String"), ("detail", "String"), ("raw_base64", "String")),
    "dead_letter_id", "ts",
)

ALERTS = Table(
    "alerts",
    (("record_id", "String"), ("schema_version", "UInt16"), ("alert_id", "String"), ("rule", "String"),
     ("group", "String"), ("region", "String"), ("severity", "String"), ("state", "String"),
     ("starts_at", "DateTime"), ("fired_at", "DateTime"), ("resolved_at", "DateTime"), ("updated_at", "DateTime"),
     ("values_json", "String"), ("baselines_json", "String"), ("context_json", "String"), ("message", "String"),
     ("acknowledged_by", "String"), ("acknowledged_at", "DateTime"), ("silenced", "UInt8"),
     ("inhibited_by", "String"), ("respond_by", "DateTime"), ("notify", "UInt8")),
    "record_id", "starts_at",  # one row per alert and state: the alert's timeline
)
ESCALATIONS = Table(
    "alert_escalations",
    (("escalation_id", "String"), ("schema_version", "UInt16"), ("alert_id", "String"), ("rule", "String"),
     ("group", "String"), ("region", "String"), ("severity", "String"), ("respond_by", "DateTime"),
     ("escalated_at", "DateTime"), ("message", "String")),
    "escalation_id", "escalated_at",
)
REGION_METRICS = Table(
    "region_metrics",
    (("metric_id", "String"), ("schema_version", "UInt16"), ("region", "String"), ("metric", "String"),
     ("window", "String"), ("window_start", "DateTime"), ("value", "Float64")),
    "metric_id", "window_start",
)

EVENT_TABLES: dict[str, Table] = {
    "web": EVENTS_WEB,
    "call": EVENTS_CALLS,
    "pos": EVENTS_POS,
    "signal": EVENTS_SIGNALS,
}
ALL_TABLES: tuple[Table, ...] = (
    *EVENT_TABLES.values(), LEAD_SCORES, LEADS_ROUTED, SLA_BREACHES, REP_OUTCOMES, ALERTS, ESCALATIONS,
    REGION_METRICS, DEAD_LETTERS,
)
