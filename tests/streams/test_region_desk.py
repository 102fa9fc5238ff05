"""The regional stage in process: increments -> store -> rules -> alert lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from config.settings import POLICY_DIR
from streams.alert_lifecycle import AlertBook, load_alert_policy
from streams.region_desk import Increment, RegionDesk
from streams.rules import load_metrics
from streams.rules.parser import parse_rules

RULE = """rules:
  - name: north-drop-east-push
    rule: "when sales in North drop more than 20% week over week and competitor activity in East rises more than 30% week over week for 10m then orange"
"""
T = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def desk() -> RegionDesk:
    catalog = load_metrics(POLICY_DIR / "metrics.yaml")
    return RegionDesk(catalog, parse_rules(RULE, catalog), AlertBook(load_alert_policy(POLICY_DIR / "alert_policy.yaml")),
                      lateness_seconds=120)


def minutes(first: int, last: int, drop_from: int | None = None) -> list[list[Increment]]:
    out = []
    for m in range(first, last):
        dropping = drop_from is not None and m >= drop_from
        ts = T + timedelta(minutes=m)
        out.append([("North", "sales", ts, 50.0 if dropping else 100.0),
                    ("East", "competitor_activity", ts, 20.0 if dropping else 10.0)])
    return out


WEEK_AGO = minutes(-7 * 1440 - 180, -7 * 1440 + 30)
TODAY = minutes(-180, 30, drop_from=-60)


def run(target: RegionDesk, batches: list[list[Increment]]) -> list[tuple[str, str, datetime]]:
    return [(a.state, a.region, a.updated_at) for batch in batches for a in target.on_increments(batch).alerts]


def test_a_drop_during_a_push_goes_pending_then_fires_after_the_for_duration() -> None:
    alerts = run(desk(), WEEK_AGO + TODAY)
    states = [(state, region) for state, region, _at in alerts]
    assert states[:2] == [("pending", "North"), ("firing", "North")]
    assert alerts[1][2] - alerts[0][2] == timedelta(minutes=10)


def test_a_restored_desk_decides_as_the_one_that_never_stopped() -> None:
    steady = desk()
    run(steady, WEEK_AGO)
    restarted = desk()
    restarted.restore((item for batch in WEEK_AGO for item in batch), book=None)
    assert run(restarted, TODAY) == run(steady, TODAY)


def test_ticks_resolve_in_event_time_less_the_lateness_when_events_stop() -> None:
    target = desk()
    run(target, WEEK_AGO + TODAY)
    assert [a.state for a in target.on_tick(T + timedelta(hours=3)).alerts] == ["resolved"]
