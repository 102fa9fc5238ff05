"""Regional metric aggregation: what events contribute, and the event-time minute store."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from models.alert_rules import EventMetric
from models.base import stable_id
from models.events import CallTranscript, ExternalSignal, PosRow, WebEvent
from streams.aggregates import MetricStore, contributions, lead_contributions
from streams.rules.evaluate import RatioView
from streams.rules.parser import load_metrics

CATALOG = load_metrics()
NOW = datetime(2026, 11, 23, 10, 0, 30, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def pos(**fields: object) -> PosRow:
    row = dict(ts=NOW, store="BJ-001", region="华北", sku="HV-200", quantity=3, amount=120.5)
    row.update(fields)
    return PosRow(**row)  # type: ignore[arg-type]


def web(**fields: object) -> WebEvent:
    event = dict(ts=NOW, kind="page_view", visitor_id="v1", url="https://shop.test/cart/1", region="East")
    event.update(fields)
    return WebEvent(**event)  # type: ignore[arg-type]


# ---- contributions ------------------------------------------------------------------------

def test_a_pos_row_adds_sales_orders_and_units_in_its_region_by_alias() -> None:
    assert contributions(pos(), CATALOG) == [("North", "sales", 120.5), ("North", "orders", 1.0),
                                             ("North", "units", 3.0)]


def test_a_pos_row_of_unknown_region_lands_in_its_stores_region_else_the_default() -> None:
    assert {r for r, _, _ in contributions(pos(region="nowhere", store="SH-001"), CATALOG)} == {"East"}
    assert {r for r, _, _ in contributions(pos(region="nowhere", store="XX-999"), CATALOG)} == {"unknown"}
    # The region field wins over the store.
    assert {r for r, _, _ in contributions(pos(region="south china", store="SH-001"), CATALOG)} == {"South"}


def test_a_sku_family_feeds_the_servo_metrics() -> None:
    found = contributions(pos(sku="SRV-100", quantity=2, amount=900.0), CATALOG)
    assert ("North", "servo_sales", 900.0) in found and ("North", "servo_units", 2.0) in found
    assert not any(m.startswith("servo") for _, m, _ in contributions(pos(sku="HV-200"), CATALOG))


def test_web_events_count_sessions_and_match_url_globs() -> None:
    assert contributions(web(), CATALOG) == [("East", "web_sessions", 1.0), ("East", "cart_views", 1.0)]
    checkout = contributions(web(kind="form_submit", url="https://shop.test/checkout?x=1"), CATALOG)
    assert checkout == [("East", "checkouts", 1.0)]  # a form is not a session
    download = contributions(web(kind="content_download", url="https://x.test/d", content_id="wp-servo"), CATALOG)
    assert download == [("East", "whitepaper_downloads", 1.0)]
    dwell = contributions(web(url="https://x.test/pricing", dwell_seconds=42.5, region=None), CATALOG)
    assert dwell == [("unknown", "web_sessions", 1.0), ("unknown", "pricing_dwell", 42.5)]


def test_memoised_matches_agree_with_each_metrics_own_test() -> None:
    rng = random.Random(3)
    event_metrics = {m.name: m for m in CATALOG.metrics if isinstance(m, EventMetric)}
    for n in range(400):  # few distinct values, so most events hit the memo of an earlier one
        if n % 2:
            event: PosRow | WebEvent = pos(sku=rng.choice(["SRV-1", "SD-2", "HV-200"]), amount=float(n))
        else:
            event = web(kind=rng.choice(["page_view", "content_download", "form_submit"]),
                        url=rng.choice(["https://x.test/cart", "https://x.test/checkout", "https://x.test/pricing"]),
                        content_id=rng.choice([None, "wp-1", "case-1"]), dwell_seconds=float(n))
        found = [(name, amount) for _region, name, amount in contributions(event, CATALOG) if name in event_metrics]
        assert found == [(m.name, m.amount(event)) for m in event_metrics.values() if m.matches(event)]


def test_calls_match_the_metric_phrases_in_the_transcript() -> None:
    call = CallTranscript(ts=NOW, call_id="c1", phone="+8613800000000", text="请问这个型号的报价是多少", region="华南")
    assert contributions(call, CATALOG, {"报价": 1}) == [("South", "price_inquiries", 1.0)]
    quiet = CallTranscript(ts=NOW, call_id="c2", phone="+8613800000000", text="Just checking delivery.", region="华南")
    assert contributions(quiet, CATALOG) == []


def test_signals_feed_the_signal_metrics_of_their_kind() -> None:
    def signal(kind: str, value: float) -> ExternalSignal:
        return ExternalSignal(ts=NOW, kind=kind, region="华东区", value=value)
    assert contributions(signal("competitor_activity", 3), CATALOG) == [("East", "competitor_activity", 3.0)]
    assert contributions(signal("tender", 250_000), CATALOG) == [("East", "tenders", 250_000.0)]
    assert contributions(signal("weather", 1), CATALOG) == []


def test_lead_contributions() -> None:
    assert lead_contributions(("leads_created", "leads_routed"), "华北", CATALOG) == [
        ("North", "leads_created", 1.0), ("North", "leads_routed", 1.0)]
    assert lead_contributions(("sla_breaches",), None, CATALOG)[0][0] == "unknown"
    assert lead_contributions(("leads_routed",), "East") == [("East", "leads_routed", 1.0)]
    with pytest.raises(ValueError):
        lead_contributions(("sales",), "East")  # type: ignore[arg-type]


# ---- the store ----------------------------------------------------------------------------

def store_since(start: datetime, **settings: object) -> MetricStore:
    """A store whose known history starts at `start` (an event of another region there)."""
    store = MetricStore(CATALOG, **settings)  # type: ignore[arg-type]
    store.add("Central", "orders", start, 1.0)
    return store


def test_windows_of_one_minute_one_hour_and_one_day() -> None:
    store = store_since(NOW - timedelta(days=2))
    store.add("North", "sales", NOW - timedelta(hours=24, minutes=1), 160.0)  # out of the day
    store.add("North", "sales", NOW - timedelta(hours=23, minutes=59), 80.0)
    store.add("North", "sales", NOW - timedelta(minutes=61), 40.0)  # out of the hour (08:59)
    store.add("North", "sales", NOW - timedelta(minutes=30), 20.0)
    store.add("North", "sales", NOW - timedelta(seconds=29), 5.0)  # same minute (10:00)
    store.add("North", "sales", NOW, 10.0)
    assert store.windows("sales", "North", NOW) == {"1m": 15.0, "1h": 35.0, "1d": 155.0}
    assert store.value("sales", "North", NOW) == 35.0  # window_seconds = 3600
    assert store.windows("orders", "North", NOW) == {"1m": 0.0, "1h": 0.0, "1d": 0.0}


def test_aggregates_sum_count_avg() -> None:
    store = store_since(NOW - timedelta(hours=2))
    for value in (10.0, 20.0, 60.0):
        store.add("East", "copper_price", NOW, value)  # avg
        store.add("East", "tenders", NOW, value)  # count
        store.add("East", "competitor_activity", NOW, value)  # sum
    assert store.value("copper_price", "East", NOW) == 30.0
    assert store.value("tenders", "East", NOW) == 3.0
    assert store.value("competitor_activity", "East", NOW) == 90.0
    assert store.value("copper_price", "North", NOW) is None  # no sample: no average
    assert store.value("tenders", "North", NOW) == 0.0  # known history, no events: 0


def test_max_and_min_aggregates() -> None:
    from models.alert_rules import MetricCatalog
    data = CATALOG.model_dump()
    data["metrics"] = [*data["metrics"],
                       {"type": "signal", "name": "peak_price", "signal_kind": "p", "aggregate": "max"},
                       {"type": "signal", "name": "low_price", "signal_kind": "p", "aggregate": "min"}]
    catalog = MetricCatalog.model_validate(data)
    store = MetricStore(catalog)
    store.add("East", "orders", NOW - timedelta(hours=2), 1)
    for offset, value in ((90, 100.0), (20, 1.0), (10, 9.0), (0, 5.0)):
        for metric in ("peak_price", "low_price"):
            store.add("East", metric, NOW - timedelta(minutes=offset), value)
    assert store.value("peak_price", "East", NOW) == 9.0 and store.value("low_price", "East", NOW) == 1.0
    assert store.windows("peak_price", "East", NOW)["1m"] == 5.0


def test_no_value_before_known_history() -> None:
    store = MetricStore(CATALOG)
    assert store.value("sales", "North", NOW) is None  # nothing ever seen
    store.add("North", "sales", NOW, 10.0)
    assert store.windows("sales", "North", NOW) == {"1m": 10.0, "1h": None, "1d": None}  # partly known
    assert store.value("sales", "North", NOW + timedelta(minutes=59)) == 10.0


def test_day_and_week_baselines() -> None:
    store = store_since(NOW - timedelta(days=8))
    for days, amount in ((7, 700.0), (1, 100.0), (0, 50.0)):
        store.add("North", "sales", NOW - timedelta(days=days, minutes=5), amount)
    assert store.value("sales", "North", NOW) == 50.0
    assert store.value("sales", "North", NOW - timedelta(days=1)) == 100.0
    assert store.value("sales", "North", NOW - timedelta(days=7)) == 700.0


def test_a_week_ago_baseline_needs_seven_days_of_history() -> None:
    store = store_since(NOW - timedelta(days=6, hours=23))
    store.add("North", "sales", NOW, 50.0)
    assert store.value("sales", "North", NOW) == 50.0
    assert store.value("sales", "North", NOW - timedelta(days=1)) == 0.0
    assert store.value("sales", "North", NOW - timedelta(days=7)) is None


def test_late_events_inside_the_bound_count_and_outside_are_dropped() -> None:
    store = store_since(NOW - timedelta(hours=2), lateness_seconds=120)
    assert store.add("North", "sales", NOW, 1.0)
    assert store.add("North", "sales", NOW - timedelta(seconds=119), 2.0)  # late, inside the bound
    assert not store.add("North", "sales", NOW - timedelta(seconds=121), 4.0)  # too late
    assert store.late_dropped == 1
    assert store.value("sales", "North", NOW) == 3.0
    assert store.watermark == NOW


def test_a_late_event_moves_the_running_totals_after_it() -> None:
    store = store_since(NOW - timedelta(hours=2))
    store.add("North", "sales", NOW, 1.0)
    store.add("North", "sales", NOW - timedelta(seconds=90), 2.0)  # the minute before
    assert store.windows("sales", "North", NOW)["1m"] == 1.0
    assert store.windows("sales", "North", NOW - MINUTE)["1m"] == 2.0
    assert store.value("sales", "North", NOW) == 3.0


def test_closed_minutes_emits_each_minute_once_with_deterministic_ids() -> None:
    start = NOW.replace(second=0)
    store = MetricStore(CATALOG, lateness_seconds=60)
    store.add("North", "sales", start, 10.0)
    store.add("North", "sales", start + timedelta(seconds=30), 5.0)
    store.add("East", "orders", start + timedelta(seconds=40), 1.0)
    store.add("North", "sales", start + timedelta(minutes=1, seconds=10), 7.0)
    assert store.closed_minutes() == []  # watermark 10:01:10 - 60 s: minute 10:00 not closed yet
    store.add("North", "orders", start + timedelta(minutes=2), 1.0)  # watermark 10:02:00
    records = store.closed_minutes()
    assert [(r.region, r.metric, r.window, r.window_start, r.value) for r in records] == [
        ("East", "orders", "1m", start, 1.0), ("North", "sales", "1m", start, 15.0)]
    assert records[1].metric_id == stable_id("metric", "North", "sales", "1m", start)
    assert store.closed_minutes() == []  # once only
    store.add("North", "orders", start + timedelta(minutes=3, seconds=5), 1.0)
    assert [(r.metric, r.window_start, r.value) for r in store.closed_minutes()] == [
        ("sales", start + MINUTE, 7.0)]


def test_closed_minutes_hands_out_what_a_full_tally_of_the_accepted_increments_gives() -> None:
    """closed_minutes() reads only the series updated since it last ran, scans short spans without
    numpy and long ones with it; a restored store reads all its series once. Whatever the path,
    every minute with data is handed out once, with the value and id of a brute-force tally."""
    rng = random.Random(5)
    store = MetricStore(CATALOG, lateness_seconds=120)
    clock = NOW.replace(second=0).timestamp()
    tally: dict[tuple[int, str, str], list[float]] = {}
    emitted = []
    for n in range(6000):
        clock += rng.expovariate(1 / 3.0) + (5 * 3600 if n == 3000 else 0)  # a 5-hour gap midway
        ts = clock - rng.uniform(0, 150) if rng.random() < 0.1 else clock  # some late, some too late
        region, metric = rng.choice(("North", "East", "South")), rng.choice(("sales", "orders", "copper_price"))
        amount = round(rng.uniform(1, 100), 2)
        if store.add(region, metric, datetime.fromtimestamp(ts, timezone.utc), amount):
            tally.setdefault((int(ts // 60), region, metric), []).append(amount)
        if n == 2000:
            store = MetricStore.from_json(store.to_json(), CATALOG)
        if n < 4500 and rng.random() < 0.3:  # often, then not until the end: a span of over an hour
            emitted += store.closed_minutes()
    emitted += store.closed_minutes()
    last = int((store.watermark.timestamp() - 120) // 60) - 1  # type: ignore[union-attr]
    expected = []
    for (minute, region, metric), amounts in sorted(tally.items()):
        if minute <= last:
            total = sum(amounts)
            value = {"sales": total, "orders": float(len(amounts)), "copper_price": total / len(amounts)}[metric]
            expected.append((datetime.fromtimestamp(minute * 60, timezone.utc), region, metric, value))
    assert [(r.window_start, r.region, r.metric, r.value) for r in emitted] == expected
    assert all(r.metric_id == stable_id("metric", r.region, r.metric, "1m", r.window_start) for r in emitted)


def test_the_watermark_is_the_latest_event_time_in_utc() -> None:
    """The store keeps a UTC event time as its watermark instead of rebuilding it from epoch
    seconds: both are the same datetime, to the microsecond."""
    rng = random.Random(3)
    store = MetricStore(CATALOG)
    ts = NOW
    for _ in range(2000):
        ts += timedelta(microseconds=rng.randrange(1, 10**8))
        store.add("North", "sales", ts, 1.0)
        rebuilt = datetime.fromtimestamp(ts.timestamp(), timezone.utc)
        assert store.watermark == rebuilt and store.watermark.tzinfo is timezone.utc  # type: ignore[union-attr]
    later = (ts + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=8)))
    store.add("North", "sales", later, 1.0)
    assert store.watermark == later and store.watermark.tzinfo is timezone.utc  # type: ignore[union-attr]
    store.add("North", "sales", later.timestamp() + 1.5, 1.0)  # epoch seconds
    assert store.watermark == later + timedelta(seconds=1.5)
    assert store.watermark.tzinfo is timezone.utc  # type: ignore[union-attr]


def test_values_at_reads_what_value_at_reads() -> None:
    store = store_since(NOW - timedelta(days=2))
    for minutes, amount in ((0, 10.0), (30, 20.0), (1440, 5.0), (1500, 7.0)):
        at = NOW - timedelta(minutes=minutes)
        for metric in ("sales", "orders", "cart_views", "copper_price"):
            store.add("North", metric, at, amount)
        store.add("North", "checkouts", at, 1.0)
    names = tuple(metric.name for metric in CATALOG.metrics)
    for end in (NOW, NOW - timedelta(days=1), NOW - timedelta(days=3), NOW + timedelta(hours=1)):
        minute = int(end.timestamp() // 60)
        for width in (1, 60, 1440):
            for region in ("North", "East"):
                assert store.values_at(region, names, minute, width) == [
                    store.value_at(metric, region, minute, width) for metric in names]


def test_serialisation_round_trip() -> None:
    store = store_since(NOW - timedelta(days=8))
    for minutes in range(8 * 1440 - 1, -1, -37):
        store.add("North", "sales", NOW - timedelta(minutes=minutes), float(minutes % 100))
        store.add("East", "copper_price", NOW - timedelta(minutes=minutes), 70_000.0 + minutes)
    store.add("North", "sales", NOW - timedelta(hours=1), 1.0)  # late: dropped
    store.closed_minutes()
    text = store.to_json()
    again = MetricStore.from_json(text, CATALOG)
    for metric, region in (("sales", "North"), ("copper_price", "East"), ("orders", "Central")):
        for ago in (0, 1, 7):
            end = NOW - timedelta(days=ago)
            assert again.windows(metric, region, end) == pytest.approx(store.windows(metric, region, end))
    assert (again.watermark, again.origin, again.late_dropped) == (store.watermark, store.origin, 1)
    assert again.closed_minutes() == []  # what was handed out stays handed out
    assert again.to_json() == text
    state = json.loads(text)
    assert sum(len(s["s"]) for s in state["series"]) < 1000  # only minutes with data


def test_memory_is_bounded_by_the_horizon() -> None:
    store = MetricStore(CATALOG)
    start = NOW - timedelta(days=20)
    store.add("North", "sales", start, 1.0)
    size = store.memory_bytes()
    for hours in range(0, 20 * 24, 5):
        store.add("North", "sales", start + timedelta(hours=hours), 1.0)
    assert store.memory_bytes() == size  # a ring: old minutes are overwritten
    end = start + timedelta(hours=20 * 24 - 5)
    assert store.value("sales", "North", end - timedelta(days=9)) is None  # beyond the horizon
    store.add("South", "sales", start + timedelta(days=30), 1.0)
    store.closed_minutes()
    assert ("North", "sales") not in store.series()  # every minute left the horizon: dropped


def test_ratio_metrics_divide_their_parts() -> None:
    store = store_since(NOW - timedelta(hours=2))
    for _ in range(4):
        store.add("East", "cart_views", NOW, 1.0)
    store.add("East", "checkouts", NOW, 1.0)
    assert store.value("checkout_conversion", "East", NOW) == 0.25
    assert RatioView(store, CATALOG).value("checkout_conversion", "East", NOW) == 0.25
    assert store.value("checkout_conversion", "North", NOW) is None  # 0 cart views
    with pytest.raises(KeyError):
        store.add("East", "checkout_conversion", NOW, 1.0)
    with pytest.raises(KeyError):
        store.add("East", "no_such_metric", NOW, 1.0)


def test_the_horizon_must_cover_week_over_week() -> None:
    with pytest.raises(ValueError):
        MetricStore(CATALOG, horizon_days=7)


def test_a_visitor_location_lands_in_its_region() -> None:
    catalog = load_metrics()
    assert catalog.resolve_region("Beijing") == "North"
    assert catalog.resolve_region("深圳") == "South"
    assert catalog.resolve_region("Atlantis") == catalog.default_region
