"""What a replay did, as plain data for the terminal board and `--json`; and what changes
between two replays of the same events under two policy sets (`replay --compare`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from streams.embedded.events_file import BadLine
from streams.embedded.replay import Results


@dataclass(frozen=True)
class Summary:
    events: dict[str, int]  # by source
    bad_lines: int
    leads: int
    routed: int  # routings, re-routings included
    to_reps: int
    to_queues: int
    latency_ms: dict[str, float]  # decision latency percentiles
    alerts_firing: dict[str, int]  # by severity
    alerts_by_region: dict[str, int]
    sla_breaches: int
    escalations: int
    examples: list[dict[str, Any]] = field(default_factory=list)  # a few routed leads with their reasons
    breaches: list[dict[str, Any]] = field(default_factory=list)  # the first SLA breaches

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(results: Results, bad: list[BadLine], examples: int = 5) -> Summary:
    latencies = np.array([r.decision_latency_ms for r in results.routed]) if results.routed else np.zeros(1)
    firing = [a for a in results.alerts if a.state == "firing"]
    hottest = sorted((r for r in results.routed if r.rep_id), key=lambda r: -r.score)[:examples]
    return Summary(
        events=dict(Counter(event.source for event, _lead in results.events)),
        bad_lines=len(bad),
        leads=len({lead for _event, lead in results.events if lead is not None}),
        routed=len(results.routed),
        to_reps=sum(1 for r in results.routed if r.rep_id),
        to_queues=sum(1 for r in results.routed if not r.rep_id),
        latency_ms={f"p{q}": round(float(np.percentile(latencies, q)), 4) for q in (50, 95, 99)},
        alerts_firing=dict(Counter(a.severity for a in firing)),
        alerts_by_region=dict(Counter(a.region for a in firing)),
        sla_breaches=len(results.breaches),
        escalations=len(results.escalations),
        examples=[{"lead": r.lead_id, "rep": r.rep_name, "score": round(r.score, 1), "trigger": r.trigger,
                   "reasons": r.reasons[:3]} for r in hottest],
        breaches=[{"lead": b.lead_id, "rep": b.rep_id, "priority": b.priority, "deadline": b.deadline.isoformat(),
                   "next_rep": b.next_rep_id} for b in results.breaches[:examples]],
    )


@dataclass(frozen=True)
class Comparison:
    """Differences of the second policy set (`other`) against the first (`base`)."""

    leads_to_other_reps: list[dict[str, Any]]  # first routing of a lead, by rep, where they differ
    routed_only_in_base: list[str]  # lead ids
    routed_only_in_other: list[str]
    alerts_gained: list[str]  # "rule@region" that fire only under the other policies
    alerts_lost: list[str]
    sla_breaches: dict[str, int]  # base / other

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(base: Results, other: Results) -> Comparison:
    first_base, first_other = _first_routings(base), _first_routings(other)
    moved = [{"lead": lead, "base": first_base[lead], "other": first_other[lead]}
             for lead in sorted(first_base.keys() & first_other.keys()) if first_base[lead] != first_other[lead]]
    fired_base, fired_other = _fired(base), _fired(other)
    return Comparison(
        leads_to_other_reps=moved,
        routed_only_in_base=sorted(first_base.keys() - first_other.keys()),
        routed_only_in_other=sorted(first_other.keys() - first_base.keys()),
        alerts_gained=sorted(fired_other - fired_base),
        alerts_lost=sorted(fired_base - fired_other),
        sla_breaches={"base": len(base.breaches), "other": len(other.breaches)},
    )


def _first_routings(results: Results) -> dict[str, str]:
    """Lead -> where its first routing went (a rep id, or the overflow queue)."""
    first: dict[str, str] = {}
    for routed in results.routed:
        first.setdefault(routed.lead_id, routed.rep_id or routed.queue)
    return first


def _fired(results: Results) -> set[str]:
    return {f"{a.rule}@{a.region}" for a in results.alerts if a.state == "firing"}
