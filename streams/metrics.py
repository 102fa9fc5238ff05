"""Prometheus metrics of the worker (served on settings.metrics_port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("leadflow_events_in_total", "Inbound messages read, by source", ["source"])
DEAD_LETTERS = Counter("leadflow_dead_letters_total", "Messages sent to the dead-letter topic", ["source", "reason"])
LEADS_ROUTED = Counter("leadflow_leads_routed_total", "Routing decisions, by queue (rep or overflow)", ["queue"])
SLA_ACCEPTED = Counter("leadflow_sla_accepted_total", "Routed leads accepted by their rep in time")
SLA_BREACHES = Counter("leadflow_sla_breaches_total", "Routed leads not accepted in time, by priority", ["priority"])
DECISION_LATENCY = Histogram(
    "leadflow_decision_latency_seconds", "Time from reading an event to its routing decision",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1),
)
SINK_ROWS = Counter("leadflow_sink_rows_total", "Rows stored in ClickHouse", ["table"])
SINK_BATCH_ROWS = Histogram("leadflow_sink_batch_rows", "Rows per ClickHouse batch",
                            buckets=(1, 10, 100, 1000, 5000, 20000, 100000))
SINK_BATCH_SECONDS = Histogram("leadflow_sink_batch_seconds", "Time to store one batch, retries included")
SINK_ERRORS = Counter("leadflow_sink_errors_total", "Failed ClickHouse inserts (each is retried)")
SINK_UNREADABLE = Counter("leadflow_sink_unreadable_total", "Messages the sink could not decode, by topic", ["topic"])
SINK_BACKLOG = Gauge("leadflow_sink_backlog_messages", "Messages on the sink's topics not yet stored")
ROSTER_REPS = Gauge("leadflow_roster_active_reps", "Active reps the router matches against")
PROFILES_EXPIRED = Counter("leadflow_profiles_expired_total", "Lead profiles forgotten after the idle period")
ALERTS = Counter("leadflow_alerts_total", "Alert records published, by severity and state", ["severity", "state"])
ESCALATIONS = Counter("leadflow_alert_escalations_total", "Alerts that passed their response SLA unacknowledged")
LATE_EVENTS = Counter("leadflow_region_late_increments_total", "Metric increments older than the lateness bound")
RULES_ACTIVE = Gauge("leadflow_rules_active", "Alert rules the worker evaluates")
RULES_REJECTED = Counter("leadflow_rules_rejected_total", "Pushed rule sets refused (the running set stays)")
REGION_INCREMENTS = Counter("leadflow_region_increments_total", "Metric increments applied to the regional store")
