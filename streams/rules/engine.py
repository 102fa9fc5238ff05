"""Incremental evaluation of the alert rules over a MetricStore, producing the lifecycle's input
(streams.alert_lifecycle.Evaluation). Pure: no Faust, no I/O.

Every rule is compiled once into comparison instances: one per (metric, concrete region, test),
shared between rules that make the same comparison ("in any region" comparisons get one instance
per region). Instances are indexed by the (region, metric) increments that can change them (a
ratio by its numerator and denominator). Each instance caches its truth and its day- / week-ago
baseline for the current minute (a baseline window lies in the past: it cannot change within the
minute). So an update costs: one window read per (metric, region) it touches, one comparison per
instance reading it, and rule logic only for the (rule, region) pairs whose comparisons changed.

What is returned. The lifecycle (AlertBook) does nothing with a "does not hold" evaluation of an
alert that is not live, and nothing new with a "still holds" one until the `for` duration has
passed, so `on_update` returns only the evaluations that matter:
  - a (rule, region) evaluated for the first time (so a book restored after a restart learns
    the current truth),
  - a change of truth (starts a pending alert, or resolves one),
  - a holding (rule, region) whose `for` duration has just elapsed (the book fires it); these
    are also found without an update of the rule's metrics, by a deadline queue.
`on_tick` evaluates every rule and returns the above plus every holding evaluation (fresh values
for the live alerts). Each (rule, region) gets strictly increasing `at`s, as the book requires;
the engine's clock never goes back (an earlier `at` is read as the latest seen).

The values and baselines of an evaluation are the ones streams.rules.evaluate.evaluate_rule
reports for the same store and time (tests check they agree): the triggered comparisons' when the
rule holds, every comparison's otherwise, keyed "metric@region". Context is the region's other
metrics that moved most against the rule's baseline (week over week unless the rule's first change
is day over day); see `_movers_of` for how fresh it is.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Callable, Iterable, Iterator, Sequence

from models.alert_rules import ANY_REGION, And, Change, Comparison, Expr, MetricCatalog, RatioMetric, Rule, comparisons
from models.alerts import MetricMove
from streams.aggregates import MetricStore
from streams.alert_lifecycle import Evaluation

_AGO_MINUTES = {"day": 1440, "week": 7 * 1440}
_WORDS = {"day": "day over day", "week": "week over week"}
CONTEXT_SIZE = 3
# round(x, 9) moves x by at most 5e-10: farther than this from the limit it cannot change a test.
_NEAR = 1e-6


class _Instance:
    """One comparison in one concrete region, with its cached truth and baseline."""

    __slots__ = ("metric", "region", "ago", "above", "limit", "truth", "stamp", "base", "base_minute", "targets")

    def __init__(self, comparison: Comparison, region: str) -> None:
        test = comparison.test
        self.metric = comparison.metric
        self.region = region
        if isinstance(test, Change):
            self.ago = _AGO_MINUTES[test.baseline]
            self.above = test.direction == "up"
            self.limit = test.percent if self.above else -test.percent
        else:
            self.ago = 0
            self.above = test.op == "above"
            self.limit = test.value
        self.truth: bool | None = None  # unknown until first computed
        self.stamp = -1  # the minute `truth` was computed for
        self.base: float | None = None
        self.base_minute = -1
        self.targets: list[_Target] = []

    def compute(self, value: float | None, store: MetricStore, minute: int, width: int) -> bool:
        """The truth for the window ending in `minute` given its current value (as evaluate.compare)."""
        self.stamp = minute
        if not self.ago:
            if value is None:
                return False
            return value > self.limit if self.above else value < self.limit
        if self.base_minute != minute:
            self.base = store.value_at(self.metric, self.region, minute - self.ago, width)
            self.base_minute = minute
        base = self.base
        if value is None or not base:  # no value, no baseline, or a 0 baseline: never holds
            return False
        change = (value - base) * 100 / abs(base)
        if -_NEAR < change - self.limit < _NEAR:
            change = round(change, 9)  # evaluate.compare rounds: matters only this close to the limit
        return change > self.limit if self.above else change < self.limit


class _Target:
    """One rule evaluated for one alert region, with what was last told to the lifecycle."""

    __slots__ = ("rule", "region", "per_region", "instances", "keys", "read_here", "holds", "emitted", "since",
                 "fired", "last", "context_ago", "words")

    def __init__(self, rule: Rule, region: str, instances: tuple[_Instance, ...],
                 holds: Callable[[tuple[_Instance, ...]], bool]) -> None:
        self.rule = rule
        self.region = region
        self.per_region = rule.scope == ANY_REGION
        self.instances = instances
        self.keys = tuple(f"{i.metric}@{i.region}" for i in instances)  # how values and baselines name them
        self.read_here = frozenset(i.metric for i in instances if i.region == region)  # not context
        self.holds = holds
        self.emitted: bool | None = None  # the truth last returned; None: never returned
        self.since: datetime | None = None  # when the current holding episode was returned first
        self.fired = False  # `for` elapsed and an evaluation saying so was returned
        self.last: datetime | None = None  # `at` of the last evaluation returned
        kinds = [c.test.baseline for c in comparisons(rule.condition) if isinstance(c.test, Change)]
        self.context_ago = _AGO_MINUTES[kinds[0] if kinds else "week"]
        self.words = _WORDS[kinds[0]] if kinds and len(set(kinds)) == 1 else ""


class _Movers:
    """A region's movers snapshot (see RuleEngine._movers_of). Every tick takes one per region,
    but only an emitted evaluation or context() reads it: the MetricMove records are made on the
    first read, from the moves as computed at the snapshot's minute."""

    __slots__ = ("minute", "store", "_moves", "_records")

    def __init__(self, minute: int, store: MetricStore, moves: list[tuple[float, str, float, float, float]]) -> None:
        self.minute, self.store = minute, store
        self._moves = moves  # (-|change|, metric, value, baseline, change), most moved first
        self._records: tuple[MetricMove, ...] | None = None

    def records(self) -> tuple[MetricMove, ...]:
        if self._records is None:
            self._records = tuple(_new_move({"metric": metric, "value": value, "baseline": base,
                                             "change_pct": round(change, 2)})
                                  for _, metric, value, base, change in self._moves)
            self._moves = []
        return self._records


_new_move = MetricMove.__pydantic_validator__.validate_python  # a dict validates faster than keywords


def _compile(expr: Expr) -> Callable[[tuple[_Instance, ...]], bool]:
    """The rule's condition over its instances' cached truths (in the order comparisons() lists
    them), as nested closures built from the parsed tree: nothing is evaluated as code."""
    return _closure(expr, iter(range(len(comparisons(expr)))))


def _closure(expr: Expr, positions: Iterator[int]) -> Callable[[tuple[_Instance, ...]], bool]:
    if isinstance(expr, Comparison):
        position = next(positions)
        return lambda instances: bool(instances[position].truth)
    parts = tuple(_closure(part, positions) for part in expr.parts)
    if isinstance(expr, And):
        return lambda instances: all(part(instances) for part in parts)
    return lambda instances: any(part(instances) for part in parts)


class RuleEngine:
    """Rules indexed by the metrics they read; see the module doc for what is returned when."""

    def __init__(self, rules: Sequence[Rule], catalog: MetricCatalog, context_at_ticks: bool = True) -> None:
        """`context_at_ticks`: every tick takes each region's movers snapshot and the next minute's
        baselines, keeping that work off the update path (the worker); without, a snapshot is taken
        when an emitted evaluation needs one (a replay, which has no update latency to protect)."""
        self.rules = tuple(rules)
        self.context_at_ticks = context_at_ticks
        self.catalog = catalog
        self.regions = catalog.region_names()
        self._metric_names = tuple(metric.name for metric in catalog.metrics)
        parts = {m.name: (m.numerator, m.denominator) for m in catalog.metrics if isinstance(m, RatioMetric)}
        instances: dict[tuple[str, str, object], _Instance] = {}
        self._targets: list[_Target] = []
        for rule in self.rules:
            compiled = _compile(rule.condition)
            written = comparisons(rule.condition)
            for region in (self.regions if rule.scope == ANY_REGION else (rule.scope,)):
                own = []
                for comparison in written:
                    where = region if comparison.region == ANY_REGION else comparison.region
                    key = (comparison.metric, where, comparison.test)
                    instance = instances.get(key)
                    if instance is None:
                        instance = instances[key] = _Instance(comparison, where)
                    own.append(instance)
                target = _Target(rule, region, tuple(own), compiled)
                for instance in dict.fromkeys(own):
                    instance.targets.append(target)
                self._targets.append(target)
        windows: dict[tuple[str, str], list[_Instance]] = {}
        for instance in instances.values():
            windows.setdefault((instance.metric, instance.region), []).append(instance)
        # (metric, region, the instances comparing its window): what a tick reads, each window once
        self._windows = tuple((metric, region, tuple(found)) for (metric, region), found in windows.items())
        groups: dict[tuple[str, str], dict[str, list[_Instance]]] = {}
        for instance in instances.values():
            for base in parts.get(instance.metric, (instance.metric,)):
                groups.setdefault((instance.region, base), {}).setdefault(instance.metric, []).append(instance)
        # (region, updated metric) -> ((metric read, region, its thresholds, its changes), ...)
        self._index: dict[tuple[str, str], tuple[tuple[str, str, tuple[_Instance, ...], tuple[_Instance, ...]], ...]] = {
            pair: tuple((metric, pair[0], tuple(i for i in found if not i.ago), tuple(i for i in found if i.ago))
                        for metric, found in by_metric.items())
            for pair, by_metric in groups.items()}
        self._context_agos = tuple(sorted({target.context_ago for target in self._targets}))
        self._deadlines: list[tuple[float, int, _Target, datetime]] = []
        self._retry: dict[_Target, None] = {}  # changes not returned yet: their `at` was not new
        self._seq = 0
        self._bases: dict[tuple[str, int, int], dict[str, float]] = {}  # (region, ago, minute) -> non-zero baselines
        self._bases_store: MetricStore | None = None
        self._movers: dict[tuple[str, int], _Movers] = {}
        self._clock: datetime | None = None
        self._clock_s = float("-inf")

    def _advance(self, at: datetime) -> tuple[datetime, float]:
        """The engine's clock never goes back: an earlier `at` is read as the latest one seen."""
        t = at.timestamp()
        if t < self._clock_s:
            return self._clock, self._clock_s  # type: ignore[return-value]
        self._clock, self._clock_s = at, t
        return at, t

    # ---- inputs ----------------------------------------------------------------------------

    def on_update(self, store: MetricStore, metrics: Iterable[tuple[str, str]], at: datetime) -> list[Evaluation]:
        """Re-evaluate the rules reading the (region, metric) pairs just updated in `store`."""
        at, t = self._advance(at)
        minute = int(t // 60)
        width = store.window_minutes
        value_at = store.value_at
        changed: dict[_Target, None] = {}
        index = self._index
        for pair in metrics:
            groups = index.get(pair)
            if groups is None:
                continue
            for metric, region, thresholds, changes in groups:
                value = value_at(metric, region, minute, width)
                # Inlined _Instance.compute: this loop is the per-update cost.
                for instance in thresholds:
                    instance.stamp = minute
                    truth = value is not None and (value > instance.limit if instance.above else value < instance.limit)
                    if truth is not instance.truth:
                        instance.truth = truth
                        changed.update(dict.fromkeys(instance.targets))
                for instance in changes:
                    truth = instance.compute(value, store, minute, width)
                    if truth is not instance.truth:
                        instance.truth = truth
                        changed.update(dict.fromkeys(instance.targets))
        out: list[Evaluation] = []
        if self._retry:
            retry, self._retry = self._retry, {}
            changed = {**retry, **changed}
        if changed:
            self._settle(store, changed, minute, at, out)
        deadlines = self._deadlines
        if deadlines and deadlines[0][0] <= t:
            due: dict[_Target, None] = {}
            while deadlines and deadlines[0][0] <= t:
                _, _, target, since = heapq.heappop(deadlines)
                if target.emitted and target.since == since and not target.fired:
                    due[target] = None
            if due:
                self._settle(store, due, minute, at, out)
        return out

    def on_tick(self, store: MetricStore, at: datetime) -> list[Evaluation]:
        """Evaluate every rule in every region of its scope at `at` (the worker calls it every
        few seconds): `for` durations elapse and recoveries resolve without new events."""
        at, t = self._advance(at)
        minute = int(t // 60)
        width = store.window_minutes
        for metric, region, instances in self._windows:
            value = store.value_at(metric, region, minute, width)
            for instance in instances:
                instance.truth = instance.compute(value, store, minute, width)
        out: list[Evaluation] = []
        self._retry = {}
        if self.context_at_ticks:
            for region in self.regions:
                for ago in self._context_agos:
                    self._movers_of(store, region, minute, ago, fresh=True)
                    self._context_bases(store, region, minute + 1, ago)  # ahead of the next minute's updates
        for target in self._targets:
            self._decide(store, target, target.holds(target.instances), at, out, tick=True)
        self._deadlines = [d for d in self._deadlines if d[2].emitted and d[2].since == d[3] and not d[2].fired]
        heapq.heapify(self._deadlines)
        return out

    # ---- deciding --------------------------------------------------------------------------

    def _settle(self, store: MetricStore, targets: dict[_Target, None], minute: int, at: datetime,
                out: list[Evaluation]) -> None:
        """Bring the targets' stale comparisons to `minute`, then decide each; a comparison that
        flips on the way adds its other rules."""
        width = store.window_minutes
        queue = list(targets)
        seen = set(queue)
        n = 0
        while n < len(queue):
            target = queue[n]
            n += 1
            for instance in target.instances:
                if instance.stamp != minute:
                    truth = instance.compute(store.value_at(instance.metric, instance.region, minute, width),
                                             store, minute, width)
                    if truth is not instance.truth:
                        instance.truth = truth
                        for other in instance.targets:
                            if other not in seen:
                                seen.add(other)
                                queue.append(other)
            self._decide(store, target, target.holds(target.instances), at, out, tick=False)

    def _decide(self, store: MetricStore, target: _Target, holds: bool, at: datetime, out: list[Evaluation],
                tick: bool) -> None:
        emitted, for_seconds = target.emitted, target.rule.for_seconds
        if target.last is not None and at <= target.last:
            # The book ignores an `at` it has seen for this (rule, region): tell it next time.
            if emitted is None or holds != emitted:
                self._retry[target] = None
            return
        if emitted is None or holds != emitted:
            pass
        elif not holds:
            return
        elif not (tick or (not target.fired and (at - target.since).total_seconds() >= for_seconds)):  # type: ignore[operator]
            return
        evaluation = self._evaluation(store, target, at, int(at.timestamp() // 60))
        if evaluation.holds:
            if emitted is not True:
                target.since, target.fired = at, for_seconds == 0
                if not target.fired:
                    self._seq += 1
                    heapq.heappush(self._deadlines, (at.timestamp() + for_seconds, self._seq, target, at))
            elif (at - target.since).total_seconds() >= for_seconds:  # type: ignore[operator]
                target.fired = True
        target.emitted = evaluation.holds
        target.last = at
        out.append(evaluation)

    def _evaluation(self, store: MetricStore, target: _Target, at: datetime, minute: int) -> Evaluation:
        """The lifecycle's evaluation of `target` from its instances (fresh for `minute`): the
        values and baselines evaluate_rule reports, the triggered comparisons' when it holds."""
        rule = target.rule
        holds = target.holds(target.instances)
        width = store.window_minutes
        values: dict[str, float] = {}
        baselines: dict[str, float | None] = {}
        for instance, key in zip(target.instances, target.keys):
            if (holds and not instance.truth) or key in values:
                continue
            value = store.value_at(instance.metric, instance.region, minute, width)
            if value is None:
                continue
            values[key] = value
            if instance.ago:
                baselines[key] = instance.base
        context = self._context(store, target.region, minute, target.context_ago, target.read_here)
        return Evaluation(rule=rule.name, group=rule.name, severity=rule.severity, region=target.region,
                          holds=holds, for_seconds=rule.for_seconds, values=values, baselines=baselines,
                          context=context, at=at, comparison=target.words)

    def _context_bases(self, store: MetricStore, region: str, minute: int, ago_minutes: int) -> dict[str, float]:
        """The non-zero baselines of every metric of `region` for the window ending in `minute`.
        Baseline windows lie in the past, so they are computed once per minute (on_tick computes
        this minute's and the next one's ahead, keeping the work off the update path)."""
        if store is not self._bases_store:
            self._bases, self._bases_store = {}, store
        key = (region, ago_minutes, minute)
        bases = self._bases.get(key)
        if bases is None:
            if len(self._bases) > 8 * len(self.regions) * max(len(self._context_agos), 1):
                self._bases = {k: v for k, v in self._bases.items() if k[2] >= minute}
            names = self._metric_names
            values = store.values_at(region, names, minute - ago_minutes, store.window_minutes)
            bases = {metric: base for metric, base in zip(names, values) if base}
            self._bases[key] = bases
        return bases

    def context(self, store: MetricStore, region: str, at: datetime, ago_minutes: int = _AGO_MINUTES["week"],
                exclude: Iterable[str] = ()) -> list[MetricMove]:
        """The metrics of `region` (but `exclude`) that moved most against their value
        `ago_minutes` earlier, in the store's window ending at `at`: the top CONTEXT_SIZE by
        |change %|; metrics without a value, without a non-zero baseline or unchanged are left out."""
        skip = set(exclude)
        movers = self._movers_of(store, region, int(at.timestamp() // 60), ago_minutes, fresh=True).records()
        return [move for move in movers if move.metric not in skip][:CONTEXT_SIZE]

    def _context(self, store: MetricStore, region: str, minute: int, ago_minutes: int,
                 exclude: frozenset[str]) -> list[MetricMove]:
        """context() for an emitted evaluation, from the region's latest movers snapshot."""
        out = []
        for move in self._movers_of(store, region, minute, ago_minutes).records():
            if move.metric not in exclude:
                out.append(move)
                if len(out) == CONTEXT_SIZE:
                    break
        return out

    def _movers_of(self, store: MetricStore, region: str, minute: int, ago_minutes: int,
                   fresh: bool = False) -> _Movers:
        """Every metric of `region` with a value and a non-zero baseline that moved, most first.

        Reading all metrics of a region costs more than the rest of an update, so an update's
        evaluation uses the snapshot the latest tick took (at most one tick interval old, from this
        or the previous minute: context is for the reader, the rule's own values are always
        current); ticks and context() compute it fresh, and so does an update finding none."""
        key = (region, ago_minutes)
        snapshot = self._movers.get(key)
        if not fresh and snapshot is not None and snapshot.minute >= minute - 1 and snapshot.store is store:
            return snapshot
        width = store.window_minutes
        bases = self._context_bases(store, region, minute, ago_minutes)
        metrics = tuple(bases)
        moves = []
        for metric, value in zip(metrics, store.values_at(region, metrics, minute, width)):
            if value is None:
                continue
            base = bases[metric]
            change = (value - base) * 100 / abs(base)
            if change:
                moves.append((-abs(change), metric, value, base, change))
        moves.sort()
        snapshot = self._movers[key] = _Movers(minute, store, moves)
        return snapshot


__all__ = ["CONTEXT_SIZE", "RuleEngine"]
