"""Benchmark of the alert rule path per metric update: `MetricStore.add` + `RuleEngine.on_update`.

The catalogue is the shipped config/metrics.yaml. The store is warmed with 8 days of synthetic
per-minute data for every region and every non-ratio metric (daily seasonality, Poisson counts,
noisy amounts), so day- and week-over-week baselines exist. 200 rules are generated as rule text
and parsed by the real parser: change and threshold comparisons, one to three of them joined by
and / or, about a third "in any region", the rest on fixed (sometimes two) regions. Thresholds are
set from the warm values: most far from them, about one in ten close, so some rules flip.

Then `updates` single increments (one event's contribution each) arrive at the shipped rates,
about 7 a second of event time, 5% of them up to 90 s late, a few beyond the lateness bound;
each `add` + `on_update` is timed with perf_counter_ns. The engine is ticked every 5 s of event
time outside the timing, as the worker does. Run it with `python -m streams.bench_rules`.
"""

from __future__ import annotations

import gc
import json
import math
import random
import time
from datetime import datetime, timedelta, timezone

import numpy as np

from models.alert_rules import MetricCatalog, RatioMetric
from streams.aggregates import MetricStore
from streams.rules.engine import RuleEngine
from streams.rules.parser import load_metrics, parse_rule

_START = datetime(2026, 11, 2, tzinfo=timezone.utc)
_WARM_DAYS = 8
_TARGET_P99_US = 20.0
_TICK_SECONDS = 5.0
# metric -> (samples per minute and region, mean amount per sample)
_RATES: dict[str, tuple[float, float]] = {
    "sales": (4.0, 500.0), "orders": (4.0, 1.0), "units": (4.0, 3.0), "leads_created": (2.0, 1.0),
    "leads_routed": (1.5, 1.0), "sla_breaches": (0.05, 1.0), "web_sessions": (40.0, 1.0),
    "competitor_activity": (0.2, 2.0), "tenders": (0.02, 1.0), "copper_price": (1.0, 70_000.0),
    "cart_views": (6.0, 1.0), "checkouts": (2.0, 1.0), "whitepaper_downloads": (0.5, 1.0),
    "pricing_dwell": (3.0, 40.0), "servo_sales": (0.5, 800.0), "servo_units": (0.5, 2.0),
    "price_inquiries": (0.8, 1.0),
}
_SEVERITIES = ("red", "orange", "yellow", "blue")
_DURATIONS = ("", " for 5m", " for 10m", " for 30m", " for 1h")


def _season(minute_of_day: np.ndarray | float) -> np.ndarray | float:
    return 1.0 + 0.5 * np.sin(2 * math.pi * (np.asarray(minute_of_day) / 1440.0 - 0.25))


def _warm(store: MetricStore, catalog: MetricCatalog, seed: int) -> None:
    """8 days of per-minute data for every region and base metric, added minute by minute."""
    rng = np.random.default_rng(seed)
    minutes = _WARM_DAYS * 1440
    season = _season(np.arange(minutes) % 1440)
    base_minute = int(_START.timestamp() // 60)
    columns = []
    for region in catalog.region_names():
        for metric, (rate, mean) in _RATES.items():
            counts = rng.poisson(rate * season)
            if store.aggregate(metric) == "avg":
                counts = np.maximum(counts, 1)
                price = mean * np.exp(np.cumsum(rng.normal(0, 0.0005, minutes)))
                amounts = counts * price
            else:
                amounts = counts * mean * rng.lognormal(0, 0.2, minutes)
            columns.append((region, metric, counts.tolist(), amounts.tolist()))
    add = store.add
    for minute in range(minutes):
        ts = (base_minute + minute) * 60.0
        for region, metric, counts, amounts in columns:
            if counts[minute]:
                add(region, metric, ts, amounts[minute], counts[minute])


def _rules(catalog: MetricCatalog, store: MetricStore, at: datetime, count: int, seed: int) -> list:
    """`count` generated rules, parsed from text like an operator would write them."""
    rng = random.Random(seed)
    regions = list(catalog.region_names())
    metrics = [m.name for m in catalog.metrics]
    ratios = {m.name for m in catalog.metrics if isinstance(m, RatioMetric)}

    def comparison(region: str) -> str:
        metric = rng.choice(metrics)
        spelled = metric.replace("_", " ")
        where = "any region" if region == "any" else region
        if rng.random() < 0.55:
            direction = rng.choice(("drops", "rises"))
            percent = rng.choice((10, 15, 20, 25, 30, 40, 50, 60))
            baseline = rng.choice(("week over week", "day over day"))
            return f"{spelled} in {where} {direction} more than {percent}% {baseline}"
        probe = regions[0] if region == "any" else region
        value = store.value(metric, probe, at) or 0.0
        above = rng.random() < 0.5
        if rng.random() < 0.1:  # close to the current value: flips now and then
            limit = value * rng.uniform(0.95, 1.05)
        else:
            limit = value * (rng.uniform(1.3, 3.0) if above else rng.uniform(0.3, 0.75))
        if not limit and above:
            limit = 1.0
        number = f"{limit * 100:.2f}%" if metric in ratios else f"{limit:.2f}"
        return f"{spelled} in {where} {'above' if above else 'below'} {number}"

    rules = []
    for n in range(count):
        scope = "any" if rng.random() < 0.3 else rng.choice(regions)
        others = [scope if rng.random() < 0.7 else rng.choice(regions) for _ in range(2)]
        shape = rng.random()
        if shape < 0.4:
            condition = comparison(scope)
        elif shape < 0.85:
            condition = f"{comparison(scope)} {rng.choice(('and', 'or'))} {comparison(others[0])}"
        else:
            condition = f"{comparison(scope)} and ({comparison(others[0])} or {comparison(others[1])})"
        text = f"when {condition}{rng.choice(_DURATIONS)} then {rng.choice(_SEVERITIES)}"
        rules.append(parse_rule(text, catalog, f"bench-{n:03d}"))
    return rules


def _updates(catalog: MetricCatalog, count: int, seed: int, start: datetime,
             lateness: float) -> list[tuple[str, str, datetime, float, tuple[tuple[str, str], ...]]]:
    """Single increments at the shipped rates, with some disorder."""
    rng = random.Random(seed)
    regions = list(catalog.region_names())
    names = list(_RATES)
    weights = [_RATES[name][0] for name in names]
    per_second = sum(weights) * len(regions) / 60
    out = []
    clock = start.timestamp()
    for _ in range(count):
        clock += rng.expovariate(per_second)
        ts = clock
        roll = rng.random()
        if roll < 0.05:
            ts -= rng.uniform(0, 90)  # late, inside the lateness bound
        elif roll < 0.052:
            ts -= lateness + rng.uniform(1, 600)  # too late: dropped
        metric = rng.choices(names, weights)[0]
        region = rng.choice(regions)
        mean = _RATES[metric][1]
        amount = mean * rng.lognormvariate(0, 0.2)
        out.append((region, metric, datetime.fromtimestamp(ts, timezone.utc), amount, ((region, metric),)))
    return out


def _percentile(sorted_ns: list[int], fraction: float) -> float:
    if not sorted_ns:
        return 0.0
    return round(sorted_ns[min(len(sorted_ns) - 1, int(fraction * len(sorted_ns)))] / 1000, 2)


def run(rules: int = 200, updates: int = 50_000, seed: int = 7) -> dict[str, object]:
    """Time add + on_update per metric update; latencies in microseconds."""
    catalog = load_metrics()
    store = MetricStore(catalog)
    warm_started = time.perf_counter()
    _warm(store, catalog, seed)
    warm_s = time.perf_counter() - warm_started
    now = _START + timedelta(days=_WARM_DAYS)
    generated = _rules(catalog, store, now, rules, seed)
    engine = RuleEngine(generated, catalog)
    engine.on_tick(store, now)  # the worker ticks from the start: every (rule, region) is known
    stream = _updates(catalog, updates, seed, now, store.lateness_seconds)
    clock = time.perf_counter_ns
    add, on_update, on_tick = store.add, engine.on_update, engine.on_tick
    timings: list[int] = []
    tick_ns: list[int] = []
    from_updates = from_ticks = 0
    next_tick = now.timestamp() + _TICK_SECONDS
    gc.collect()
    gc.freeze()
    for region, metric, ts, amount, pairs in stream:
        started = clock()
        if add(region, metric, ts, amount):
            found = on_update(store, pairs, ts)
        else:
            found = ()
        timings.append(clock() - started)
        from_updates += len(found)
        watermark = store._wm
        if watermark >= next_tick:  # outside the timing, as the worker's timer does
            started = clock()
            from_ticks += len(on_tick(store, datetime.fromtimestamp(watermark, timezone.utc)))
            tick_ns.append(clock() - started)
            next_tick = watermark + _TICK_SECONDS
    gc.unfreeze()
    timings.sort()
    tick_ns.sort()
    p99 = _percentile(timings, 0.99)
    return {
        "measures": "MetricStore.add + RuleEngine.on_update per metric update",
        "rules": len(generated),
        "rule_regions": len(engine._targets),
        "updates": len(timings),
        "late_dropped": store.late_dropped,
        "p50_us": _percentile(timings, 0.50),
        "p99_us": p99,
        "p999_us": _percentile(timings, 0.999),
        "max_us": _percentile(timings, 1.0),
        "target_p99_us": _TARGET_P99_US,
        "meets_target": p99 <= _TARGET_P99_US,
        "evaluations_from_updates": from_updates,
        "ticks": len(tick_ns),
        "evaluations_from_ticks": from_ticks,
        "tick_p50_ms": round(_percentile(tick_ns, 0.5) / 1000, 2),
        "event_minutes": round((stream[-1][2] - stream[0][2]).total_seconds() / 60, 1) if stream else 0,
        "series": len(store.series()),
        "store_mb": round(store.memory_bytes() / 2**20, 1),
        "warm_s": round(warm_s, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
