"""Reading history back from ClickHouse: the deal outcomes reps' capability is measured on."""

from __future__ import annotations

from models.routing import RepOutcome
from sinks.backends import Backend


def recent_outcomes(backend: Backend, days: int) -> list[RepOutcome]:
    """Won and lost outcomes of the last `days` days, oldest first, each counted once."""
    rows = backend.query(
        f"SELECT outcome_id, routing_id, lead_id, rep_id, kind, industry, product, amount, toUInt32(ts) "
        f"FROM {backend.database}.rep_outcomes FINAL "
        f"WHERE kind IN ('won', 'lost') AND ts >= now() - {int(days) * 86400} ORDER BY ts"
    )
    return [
        RepOutcome(outcome_id=outcome_id, routing_id=routing_id, lead_id=lead_id, rep_id=rep_id, kind=kind,
                   industry=industry or None, product=product or None, amount=amount, ts=int(ts))
        for outcome_id, routing_id, lead_id, rep_id, kind, industry, product, amount, ts in rows
    ]
