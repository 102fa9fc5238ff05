"""Everything that happens to the regional picture, without Faust: metric increments go into
the event-time store, the rules that read them are evaluated, the alert book turns evaluations
into alerts (pending, firing, resolved, inhibited, silenced) and escalations.

The worker's `regions` agent and the embedded replay drive it; both publish what it returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import Iterable

from models.alert_rules import MetricCatalog
from models.alerts import Alert, AlertAck, Escalation, Silence
from models.records import RegionMetric
from streams.aggregates import MetricStore
from streams.alert_lifecycle import AlertBook, Evaluation, load_alert_policy
from streams.rules import RuleSet, load_metrics, load_rules
from streams.rules.engine import RuleEngine


Increment = tuple[str, str, datetime, float]  # region, metric, event time, amount


@dataclass
class Outputs:
    alerts: list[Alert] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    metrics: list[RegionMetric] = field(default_factory=list)


class RegionDesk:
    def __init__(self, catalog: MetricCatalog, rules: RuleSet, book: AlertBook, lateness_seconds: float,
                 context_at_ticks: bool = True) -> None:
        self.catalog, self.book = catalog, book
        self.context_at_ticks = context_at_ticks  # see RuleEngine
        # Week-over-week baselines of a 1-hour window need 7 days + 1 hour of history kept past lateness.
        horizon_days = 8 + math.ceil(lateness_seconds / 86_400)
        self.store = MetricStore(catalog, lateness_seconds=lateness_seconds, horizon_days=horizon_days)
        self.lateness = timedelta(seconds=lateness_seconds)
        self.engine = RuleEngine(tuple(rules), catalog, context_at_ticks)
        self.late_dropped = 0

    @classmethod
    def from_policies(cls, policy_dir: Path, lateness_seconds: float, context_at_ticks: bool = True) -> RegionDesk:
        catalog = load_metrics(policy_dir / "metrics.yaml")
        rules = load_rules(policy_dir / "alert_rules.yaml", catalog)
        return cls(catalog, rules, AlertBook(load_alert_policy(policy_dir / "alert_policy.yaml")), lateness_seconds,
                   context_at_ticks)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.store.horizon_days)

    def restore(self, increments: Iterable[Increment], book: AlertBook | None) -> None:
        """After a restart: the store from replayed increments (no rule is evaluated on them:
        their alerts were published before), the book as it was last saved."""
        for region, metric, ts, amount in increments:
            self.store.add(region, metric, ts, amount)
        self.store.closed_minutes()  # already published before the restart
        if book is not None:
            self.book = book

    def swap_rules(self, rules: RuleSet) -> None:
        """A new, already validated rule set; alerts of rules that still exist carry on."""
        self.engine = RuleEngine(tuple(rules), self.catalog, self.context_at_ticks)

    def on_increments(self, increments: Iterable[Increment], counts: Iterable[int] | None = None) -> Outputs:
        """A batch of increments, in order: an ingest batch's (the worker), or a minute's summed per
        (region, metric), `counts` saying how many each sums (the replay; max / min metrics are
        never summed: their extremes would be lost). The rules reading them are evaluated once."""
        store = self.store
        add = store.add
        updated: dict[tuple[str, str], None] = {}
        for (region, metric, ts, amount), count in zip(increments, repeat(1) if counts is None else counts):
            if add(region, metric, ts, amount, count):
                updated[(region, metric)] = None
            else:
                self.late_dropped += 1
        out = Outputs(metrics=store.closed_minutes())
        if updated:  # an accepted increment: the store has a watermark
            evaluations = self.engine.on_update(store, updated, store.watermark)  # type: ignore[arg-type]
            if evaluations:
                out.alerts = self._observe(evaluations)
        return out

    def on_tick(self, now: datetime) -> Outputs:
        """Time passes without events: `for` durations elapse, recoveries resolve, SLAs escalate.

        Rules run in event time: at the watermark, or, when events stop coming, at the wall clock
        less the lateness bound (no event older than that can still arrive). Never at the bare
        wall clock: a backlog being caught up would be judged on windows it has not filled yet.
        """
        at = max(now - self.lateness, self.store.watermark or now - self.lateness)
        ticked = self.book.tick(now)
        out = Outputs(alerts=[*self._observe(self.engine.on_tick(self.store, at)), *ticked.alerts],
                      escalations=ticked.escalations, metrics=self.store.closed_minutes())
        return out

    def on_ack(self, ack: AlertAck) -> list[Alert]:
        result = self.book.acknowledge(ack)
        return [result.alert] if result.alert is not None and result.ignored is None else []

    def on_silence(self, silence: Silence, now: datetime) -> list[Alert]:
        return self.book.silence(silence, now)

    def _observe(self, evaluations: list[Evaluation]) -> list[Alert]:
        return [alert for evaluation in evaluations for alert in self.book.observe(evaluation)]
