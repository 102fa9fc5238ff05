"""Evaluating a parsed alert rule at one moment: pure, no Faust, no I/O.

Metric values come from a `MetricView`: the value of a metric in a region for the window ending
at a time. The baseline of a change is the same metric's value one day or one week earlier.

Regions: a comparison's own region always wins. "in any region" comparisons take the region
being evaluated. A rule whose comparisons all name fixed regions is scoped to the first
comparison's region: `sales in North drop ... and competitor activity in East rises ...` raises
one alert for North. A rule with any "in any region" comparison is evaluated for each region on
its own and raises one alert per region where it holds.

The duration of a rule (`for 10m`) is not judged here: the caller keeps a pending alert and fires
it when evaluations have held for `rule.for_seconds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Protocol

from models.alert_rules import ANY_REGION, And, Change, Comparison, Expr, MetricCatalog, Or, RatioMetric, Rule

BASELINE_AGO = {"day": timedelta(days=1), "week": timedelta(days=7)}
_BASELINE_WORDS = {"day": ("day-ago", "day over day"), "week": ("week-ago", "week over week")}


class MetricView(Protocol):
    def value(self, metric: str, region: str, window_end: datetime) -> float | None:
        """The metric's value in the region for the window ending at `window_end`; None when
        there is none (no data, not computed yet)."""
        ...


@dataclass(frozen=True)
class ComparisonResult:
    comparison: Comparison
    region: str  # the region it was evaluated in
    holds: bool
    value: float | None  # the current value
    baseline: float | None  # the day- or week-ago value of a change; None for a threshold
    change_percent: float | None  # (value - baseline) / |baseline| * 100, when defined
    reason: str  # readable: what was compared and why it held or not


@dataclass(frozen=True)
class Evaluation:
    rule: str
    region: str  # the alert's region
    at: datetime
    holds: bool
    results: tuple[ComparisonResult, ...]  # one per comparison, in the order written

    @property
    def triggered(self) -> tuple[ComparisonResult, ...]:
        """The comparisons that held (the values that triggered the alert); empty when the rule
        does not hold."""
        return tuple(r for r in self.results if r.holds) if self.holds else ()

    @property
    def value(self) -> float | None:
        return self.triggered[0].value if self.triggered else None

    @property
    def baseline(self) -> float | None:
        return self.triggered[0].baseline if self.triggered else None


def evaluate_rule(rule: Rule, view: MetricView, at: datetime, region: str | None = None) -> Evaluation:
    """Whether `rule` holds at `at` for `region` (default and only choice for a fixed-scope rule:
    its scope; required for an "any region" rule), with every comparison's values."""
    if rule.scope == ANY_REGION:
        if region is None:
            raise ValueError(f"rule {rule.name} is evaluated per region: give the region")
    elif region is None:
        region = rule.scope
    elif region != rule.scope:
        raise ValueError(f"rule {rule.name} is scoped to {rule.scope}, not {region}")
    results: list[ComparisonResult] = []
    holds = _holds(rule.condition, view, at, region, results)
    return Evaluation(rule.name, region, at, holds, tuple(results))


def evaluate_regions(rule: Rule, view: MetricView, at: datetime, regions: Iterable[str],
                     only_holding: bool = True) -> list[Evaluation]:
    """One evaluation per region of the rule's scope (each of `regions` for an "any region" rule,
    the scope for a fixed one); by default only those where the rule holds."""
    targets = list(regions) if rule.scope == ANY_REGION else [rule.scope]
    evaluations = [evaluate_rule(rule, view, at, region) for region in targets]
    return [e for e in evaluations if e.holds or not only_holding]


def _holds(expr: Expr, view: MetricView, at: datetime, region: str, out: list[ComparisonResult]) -> bool:
    # Every comparison is evaluated (no short cut) so the alert can show all values.
    if isinstance(expr, And):
        return all([_holds(part, view, at, region, out) for part in expr.parts])
    if isinstance(expr, Or):
        return any([_holds(part, view, at, region, out) for part in expr.parts])
    result = compare(expr, view, at, region)
    out.append(result)
    return result.holds


def compare(comparison: Comparison, view: MetricView, at: datetime, region: str) -> ComparisonResult:
    """One comparison in `region` (its own region when it names one)."""
    where = comparison.region if comparison.region != ANY_REGION else region
    subject = f"{comparison.metric} in {where}"
    value = view.value(comparison.metric, where, at)
    test = comparison.test

    def result(holds: bool, reason: str, baseline: float | None = None,
               change: float | None = None) -> ComparisonResult:
        return ComparisonResult(comparison, where, holds, value, baseline, change, reason)

    if not isinstance(test, Change):
        if value is None:
            return result(False, f"{subject}: no value")
        holds = value > test.value if test.op == "above" else value < test.value
        return result(holds, f"{subject} is {value:g}, {'' if holds else 'not '}{test.op} {test.value:g}")
    ago, words = _BASELINE_WORDS[test.baseline]
    baseline = view.value(comparison.metric, where, at - BASELINE_AGO[test.baseline])
    if value is None:
        return result(False, f"{subject}: no value", baseline)
    if baseline is None:
        return result(False, f"{subject}: no {ago} value to compare with", baseline)
    if baseline == 0:
        return result(False, f"{subject}: the {ago} value is 0, a change in % is undefined", baseline)
    change = round((value - baseline) * 100 / abs(baseline), 9)
    holds = change < -test.percent if test.direction == "down" else change > test.percent
    moved = "fell" if change < 0 else "rose"
    return result(holds, f"{subject} {moved} {abs(change):g}% {words} ({value:g} vs {baseline:g}), "
                         f"{'' if holds else 'not '}more than {test.percent:g}% "
                         f"{'down' if test.direction == 'down' else 'up'}", baseline, change)


class RatioView:
    """A MetricView that computes the catalogue's ratio metrics from their parts (None when a
    part is missing or the denominator is 0) and passes every other metric through."""

    def __init__(self, view: MetricView, catalog: MetricCatalog) -> None:
        self.view = view
        self.ratios = {m.name: m for m in catalog.metrics if isinstance(m, RatioMetric)}

    def value(self, metric: str, region: str, window_end: datetime) -> float | None:
        ratio = self.ratios.get(metric)
        if ratio is None:
            return self.view.value(metric, region, window_end)
        numerator = self.view.value(ratio.numerator, region, window_end)
        denominator = self.view.value(ratio.denominator, region, window_end)
        if numerator is None or not denominator:
            return None
        return numerator / denominator
