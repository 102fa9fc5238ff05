"""The incremental rule engine: which rules an update evaluates, what it returns, and that its
answers are the rule language's (streams.rules.evaluate)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from streams.aggregates import MetricStore
from streams.alert_lifecycle import AlertBook, load_alert_policy
from streams.rules.engine import RuleEngine
from streams.rules.evaluate import evaluate_rule
from streams.rules.parser import load_metrics, parse_rule

CATALOG = load_metrics()
NOW = datetime(2026, 11, 23, 10, 0, 30, tzinfo=timezone.utc)
START = NOW.replace(second=0) - timedelta(days=8)
FIRST = ("when sales in North drop more than 20% week over week and competitor activity in East rises "
         "more than 30% week over week for 10m then orange")
ANY = "when orders in any region above 90 then yellow"  # history: one order a minute, 60 an hour


def rule(text: str, name: str = "test"):  # type: ignore[no-untyped-def]
    return parse_rule(text, CATALOG, name)


def history(series: dict[tuple[str, str], tuple[float, float]]) -> MetricStore:
    """8 days of one increment a minute per (region, metric): `before` per minute, `last_hour`
    per minute in the hour ending at NOW."""
    store = MetricStore(CATALOG)
    for minute in range(8 * 1440 + 1):
        ts = START + timedelta(minutes=minute)
        recent = ts > NOW - timedelta(hours=1)
        for (region, metric), (before, last_hour) in series.items():
            store.add(region, metric, ts, last_hour if recent else before)
    return store


def first_rule_store(north_sales_now: float, east_competitor_now: float) -> MetricStore:
    return history({("North", "sales"): (100.0, north_sales_now),
                    ("East", "competitor_activity"): (10.0, east_competitor_now),
                    ("North", "servo_sales"): (4.0, 2.0), ("North", "units"): (10.0, 9.0),
                    ("North", "web_sessions"): (50.0, 50.0)})


def test_the_first_example_holds_only_when_both_comparisons_hold() -> None:
    cases = {(70.0, 14.0): True, (70.0, 12.0): False, (90.0, 14.0): False, (100.0, 10.0): False}
    for (sales, competitor), holds in cases.items():
        engine = RuleEngine([rule(FIRST, "north-east")], CATALOG)
        (evaluation,) = engine.on_tick(first_rule_store(sales, competitor), NOW)
        assert evaluation.holds is holds, (sales, competitor)
        assert (evaluation.rule, evaluation.group, evaluation.region) == ("north-east", "north-east", "North")
        assert (evaluation.severity, evaluation.for_seconds, evaluation.comparison) == ("orange", 600, "week over week")
    engine = RuleEngine([rule(FIRST)], CATALOG)
    (evaluation,) = engine.on_tick(first_rule_store(70.0, 14.0), NOW)
    assert evaluation.values == {"sales@North": 4200.0, "competitor_activity@East": 840.0}
    assert evaluation.baselines == {"sales@North": 6000.0, "competitor_activity@East": 600.0}


def test_context_lists_the_regions_other_moving_metrics() -> None:
    for context_at_ticks in (True, False):  # taken ahead at every tick (the worker), or when needed (a replay)
        engine = RuleEngine([rule(FIRST)], CATALOG, context_at_ticks)
        (evaluation,) = engine.on_tick(first_rule_store(70.0, 14.0), NOW)
        moves = [(m.metric, m.change_pct) for m in evaluation.context]
        # sales is the rule's own; web_sessions did not move (a count: one a minute, before and now)
        assert moves == [("servo_sales", -50.0), ("units", -10.0)], context_at_ticks
        assert evaluation.context[0].value == 120.0 and evaluation.context[0].baseline == 240.0


def test_an_update_evaluates_only_the_rules_that_read_it() -> None:
    store = history({(region, "orders"): (2.0, 2.0) for region in CATALOG.region_names()})
    engine = RuleEngine([rule(ANY, "any"), rule(FIRST, "first")], CATALOG)
    assert engine.on_update(store, [("North", "web_sessions")], NOW) == []  # nobody reads it
    found = engine.on_update(store, [("South", "orders")], NOW)
    assert [(e.rule, e.region, e.holds) for e in found] == [("any", "South", False)]  # first time
    later = NOW + timedelta(seconds=1)
    assert engine.on_update(store, [("South", "orders")], later) == []  # nothing changed
    ticked = engine.on_tick(store, later + timedelta(seconds=1))
    assert sorted((e.rule, e.region) for e in ticked) == sorted(
        [("any", r) for r in CATALOG.region_names() if r != "South"] + [("first", "North")])
    assert engine.on_tick(store, later + timedelta(seconds=2)) == []  # none holds, none changed


def test_a_change_of_truth_is_returned_and_for_elapses_without_updates() -> None:
    text = "when orders in any region above 90 for 2m then yellow"
    store = history({(region, "orders"): (2.0, 2.0) for region in CATALOG.region_names()})
    engine = RuleEngine([rule(text, "busy")], CATALOG)
    book = AlertBook(load_alert_policy())
    for evaluation in engine.on_tick(store, NOW):
        book.observe(evaluation)
    at = NOW + timedelta(seconds=1)
    store.add("East", "orders", at, 1.0, count=40)  # 60 + 40 orders in the hour
    (started,) = engine.on_update(store, [("East", "orders")], at)
    assert started.holds and started.region == "East" and started.values == {"orders@East": 100.0}
    assert [a.state for a in book.observe(started)] == ["pending"]
    assert engine.on_update(store, [("East", "orders")], at + timedelta(seconds=30)) == []
    # Two minutes later an update of another metric finds the due alert.
    due = engine.on_update(store, [("North", "orders")], at + timedelta(minutes=2))
    assert [(e.region, e.holds) for e in due] == [("East", True)]
    assert [a.state for a in book.observe(due[0])] == ["firing"]
    # An hour on, the burst has left the window: the tick resolves it.
    resolved = [e for e in engine.on_tick(store, at + timedelta(hours=1)) if e.region == "East"]
    assert [(e.holds) for e in resolved] == [False]
    assert [a.state for a in book.observe(resolved[0])] == ["resolved"]


def test_a_fixed_comparison_of_an_any_region_rule_reevaluates_every_region() -> None:
    text = "when orders in any region above 50 and competitor activity in East above 5 then red"
    store = history({**{(region, "orders"): (2.0, 2.0) for region in CATALOG.region_names()},
                     ("East", "competitor_activity"): (0.05, 0.05)})
    engine = RuleEngine([rule(text, "mixed")], CATALOG)
    assert not any(e.holds for e in engine.on_tick(store, NOW))
    at = NOW + timedelta(seconds=1)
    store.add("East", "competitor_activity", at, 10.0)
    found = engine.on_update(store, [("East", "competitor_activity")], at)
    assert sorted(e.region for e in found if e.holds) == sorted(CATALOG.region_names())


def test_the_engine_agrees_with_evaluate_rule() -> None:
    rng = random.Random(3)
    metrics = ["sales", "orders", "cart_views", "checkouts", "checkout_conversion", "copper_price", "tenders"]
    series = {}
    for region in CATALOG.region_names():
        for metric in metrics:
            if metric != "checkout_conversion" and rng.random() < 0.8:
                series[(region, metric)] = (rng.uniform(1, 10), rng.uniform(0.5, 15))
    store = history(series)
    texts = []
    for n in range(40):
        parts = []
        for _ in range(rng.choice((1, 2, 3))):
            metric = rng.choice(metrics).replace("_", " ")
            where = rng.choice(["any region", *CATALOG.region_names()])
            if rng.random() < 0.5:
                change = f"{rng.choice(('drops', 'rises'))} more than {rng.choice((10, 30, 50))}% " \
                         f"{rng.choice(('week over week', 'day over day'))}"
                parts.append(f"{metric} in {where} {change}")
            else:
                limit = "40%" if metric == "checkout conversion" else str(rng.choice((50, 300, 600)))
                parts.append(f"{metric} in {where} {rng.choice(('above', 'below'))} {limit}")
        texts.append(f"when {rng.choice((' and ', ' or ')).join(parts)} then red")
    rules = [rule(text, f"r{n}") for n, text in enumerate(texts)]
    engine = RuleEngine(rules, CATALOG)
    evaluations = {(e.rule, e.region): e for e in engine.on_tick(store, NOW)}
    assert len(evaluations) == len(engine._targets)
    for parsed in rules:
        regions = CATALOG.region_names() if parsed.scope == "any" else (parsed.scope,)
        for region in regions:
            expected = evaluate_rule(parsed, store, NOW, region)
            got = evaluations[(parsed.name, region)]
            assert got.holds is expected.holds, parsed.text
            shown = expected.triggered if expected.holds else expected.results
            assert got.values == {f"{r.comparison.metric}@{r.region}": r.value for r in shown if r.value is not None}
    # Updates keep the cached truths in step with the store.
    rng2 = random.Random(4)
    at = NOW
    for _ in range(300):
        at += timedelta(seconds=rng2.uniform(0, 20))
        region, metric = rng2.choice(sorted(series))
        store.add(region, metric, at, rng2.uniform(0, 200))
        engine.on_update(store, [(region, metric)], at)
    engine.on_tick(store, at)
    for target in engine._targets:
        expected = evaluate_rule(target.rule, store, at, target.region if target.per_region else None)
        assert target.emitted is expected.holds, target.rule.text
