"""The alert lifecycle on fixed clocks: pending, firing, resolved, dedup, inhibition, silences,
acknowledgements, escalation, state round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from models.alerts import Alert, AlertAck, MetricMove, Silence
from models.base import stable_id
from streams.alert_lifecycle import AlertBook, Evaluation, load_alert_policy

POLICY = load_alert_policy()
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(minute: float, holds: bool = True, *, rule: str = "sales-dip", group: str = "sales", severity: str = "orange",
       region: str = "North", for_seconds: float = 600, sales: float = 90_000) -> Evaluation:
    return Evaluation(
        rule=rule, group=group, severity=severity, region=region,  # type: ignore[arg-type]
        holds=holds, for_seconds=for_seconds,
        values={"sales": sales}, baselines={"sales": 120_000.0},
        context=[MetricMove(metric="orders", value=310, baseline=400, change_pct=-22.5)],
        at=at(minute), comparison="week over week")


def firing(book: AlertBook, minute: float = 0, **kw: Any) -> Alert:
    """Start an alert at `minute` and fire it 10 minutes later (the default `for`)."""
    book.observe(ev(minute, **kw))
    records = book.observe(ev(minute + 10, **kw))
    assert records[0].state == "firing"
    return records[0]


def silence(silence_id: str = "s1", start: float = 0, end: float = 60, **matchers: str) -> Silence:
    return Silence(silence_id=silence_id, matchers=matchers, created_by="mei", comment="known outage",
                   starts_at=at(start), ends_at=at(end))


@pytest.fixture
def book() -> AlertBook:
    return AlertBook(POLICY)


# ---- lifecycle -----------------------------------------------------------------------------

def test_a_holding_condition_is_pending_until_for_has_elapsed_then_fires(book: AlertBook) -> None:
    [pending] = book.observe(ev(0))
    assert (pending.state, pending.notify, pending.fired_at, pending.respond_by) == ("pending", False, None, None)
    assert pending.message == ("orange (pending): sales in North -25% week over week (baseline 120,000), "
                               "holding 0s of 10m")
    assert book.observe(ev(5)) == []
    [fired] = book.observe(ev(10))
    assert (fired.alert_id, fired.state, fired.fired_at, fired.notify) == (pending.alert_id, "firing", at(10), True)
    assert fired.message == "orange: sales in North -25% week over week (baseline 120,000) for 10m"
    assert fired.respond_by == at(10 + 30)  # orange: 30 minutes from the announcement
    assert fired.context == [MetricMove(metric="orders", value=310, baseline=400, change_pct=-22.5)]
    assert book.active() == [fired]


def test_without_for_an_alert_fires_at_once(book: AlertBook) -> None:
    [alert] = book.observe(ev(0, for_seconds=0))
    assert (alert.state, alert.fired_at, alert.notify) == ("firing", at(0), True)


def test_a_pending_alert_that_stops_holding_early_never_fires_and_nobody_is_told(book: AlertBook) -> None:
    [pending] = book.observe(ev(0))
    [closed] = book.observe(ev(5, holds=False, sales=118_000))
    # One closing record so boards do not keep a pending row forever; not a notification.
    assert (closed.alert_id, closed.state, closed.fired_at, closed.notify) == (
        pending.alert_id, "resolved", None, False)
    assert "never fired" in closed.message
    assert book.active() == []
    assert book.observe(ev(6, holds=False)) == []
    [again] = book.observe(ev(7))
    assert again.alert_id != pending.alert_id and again.state == "pending"


def test_a_firing_alert_that_stops_holding_is_resolved_once(book: AlertBook) -> None:
    fired = firing(book)
    [resolved] = book.observe(ev(25, holds=False, sales=117_000))
    assert (resolved.alert_id, resolved.state, resolved.resolved_at, resolved.notify) == (
        fired.alert_id, "resolved", at(25), True)
    assert resolved.fired_at == at(10)
    assert resolved.message == "resolved orange: sales in North -2% week over week (baseline 120,000) after 25m"
    assert book.active() == []
    assert book.observe(ev(26, holds=False)) == []


def test_repeated_holding_evaluations_keep_one_deterministic_alert(book: AlertBook) -> None:
    records = [record for minute in range(0, 60) for record in book.observe(ev(minute, sales=90_000 - minute))]
    assert [r.state for r in records] == ["pending", "firing"]
    assert {r.alert_id for r in records} == {stable_id("alert", "sales-dip", "North", T0)}
    [live] = book.active()
    assert live.values == {"sales": 90_000 - 59}  # the latest reading, not republished
    assert live.updated_at == at(10)


def test_a_new_episode_after_resolution_gets_a_new_id(book: AlertBook) -> None:
    first = firing(book)
    book.observe(ev(30, holds=False))
    second = firing(book, 40)
    assert second.alert_id == stable_id("alert", "sales-dip", "North", at(40)) != first.alert_id
    assert second.notify


def test_redelivered_or_late_evaluations_are_ignored(book: AlertBook) -> None:
    fired = firing(book)
    book.observe(ev(20, holds=False))
    assert book.observe(ev(10)) == []  # a replay must not reopen the episode
    assert book.observe(ev(20, holds=False)) == []
    assert book.active() == []
    assert fired.state == "firing"


def test_evaluations_need_an_aware_time_and_a_known_severity() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Evaluation("r", "g", "red", "North", True, 0, {}, {}, [], datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="severity"):
        Evaluation("r", "g", "purple", "North", True, 0, {}, {}, [], T0)  # type: ignore[arg-type]


def test_messages_handle_missing_and_small_baselines(book: AlertBook) -> None:
    evaluation = Evaluation("conversion-drop", "funnel", "yellow", "East", True, 0,
                            {"conversion": 0.021, "visits": 5400}, {"conversion": 0.03, "visits": None}, [], T0)
    [alert] = book.observe(evaluation)
    assert alert.message == "yellow: conversion in East -30% (baseline 0.03), visits 5,400 (no baseline) for 0s"


# ---- inhibition ----------------------------------------------------------------------------

def test_a_firing_red_mutes_lower_severities_of_its_group_in_its_region_only(book: AlertBook) -> None:
    orange = firing(book)
    south = firing(book, region="South")
    other_group = firing(book, rule="stock-low", group="stock", severity="yellow")
    book.observe(ev(20, rule="sales-crash", severity="red", sales=60_000))
    red_fired, inhibited = book.observe(ev(30, rule="sales-crash", severity="red", sales=60_000))
    assert (red_fired.severity, red_fired.state, red_fired.notify, red_fired.inhibited_by) == (
        "red", "firing", True, None)
    assert (inhibited.alert_id, inhibited.inhibited_by, inhibited.notify) == (
        orange.alert_id, red_fired.alert_id, False)
    assert inhibited.updated_at == at(30) and inhibited.state == "firing"
    by_id = {a.alert_id: a for a in book.active()}
    assert by_id[south.alert_id].inhibited_by is None
    assert by_id[other_group.alert_id].inhibited_by is None

    # An orange episode starting under the red is muted from the start and not announced.
    book.observe(ev(31, rule="sales-slow", severity="orange"))
    [muted] = book.observe(ev(41, rule="sales-slow", severity="orange"))
    assert (muted.state, muted.inhibited_by, muted.notify, muted.respond_by) == (
        "firing", red_fired.alert_id, False, None)

    # The red resolves: the inhibition lifts; the never-announced orange is announced now.
    resolved, lifted_first, lifted_second = sorted(
        book.observe(ev(50, holds=False, rule="sales-crash", severity="red")), key=lambda a: a.state != "resolved")
    assert resolved.alert_id == red_fired.alert_id and resolved.state == "resolved"
    lifted = {a.alert_id: a for a in (lifted_first, lifted_second)}
    assert lifted[orange.alert_id].inhibited_by is None and not lifted[orange.alert_id].notify  # already announced
    assert lifted[muted.alert_id].notify and lifted[muted.alert_id].respond_by == at(50 + 30)


def test_pending_reds_and_other_reds_do_not_inhibit(book: AlertBook) -> None:
    orange = firing(book)
    assert book.observe(ev(11, rule="sales-crash", severity="red"))[0].state == "pending"
    assert {a.alert_id: a for a in book.active()}[orange.alert_id].inhibited_by is None
    book.observe(ev(21, rule="sales-crash", severity="red"))
    red = firing(book, 30, rule="sales-crash-2", severity="red")
    assert red.inhibited_by is None


def test_the_earliest_red_inhibits_and_the_next_takes_over(book: AlertBook) -> None:
    orange = firing(book)
    first_red = firing(book, 20, rule="sales-crash", severity="red")
    second_red = firing(book, 25, rule="sales-crash-2", severity="red")
    [_, moved] = book.observe(ev(40, holds=False, rule="sales-crash", severity="red"))
    assert (moved.alert_id, moved.inhibited_by) == (orange.alert_id, second_red.alert_id)
    assert first_red.alert_id != second_red.alert_id


# ---- silences ------------------------------------------------------------------------------

def test_a_silenced_alert_changes_state_but_is_not_notified_until_the_silence_expires(book: AlertBook) -> None:
    assert book.silence(silence(region="North", group="sales", end=60), now=T0) == []
    [pending] = book.observe(ev(0))
    assert (pending.silenced, pending.silenced_by) == (True, "s1")
    [fired] = book.observe(ev(10))
    assert (fired.state, fired.silenced, fired.notify, fired.respond_by) == ("firing", True, False, None)
    south = firing(book, region="South")
    assert not south.silenced and south.notify
    assert book.tick(at(59)).alerts == []
    tick = book.tick(at(60))
    [unsilenced] = tick.alerts
    assert (unsilenced.alert_id, unsilenced.silenced, unsilenced.notify) == (fired.alert_id, False, True)
    assert unsilenced.respond_by == at(90)
    assert '"silences":[]' in book.to_json()  # the expired silence is dropped


def test_silence_matchers_must_all_match(book: AlertBook) -> None:
    book.silence(silence(severity="red", region="North"), now=T0)
    orange = firing(book)
    red = firing(book, rule="sales-crash", severity="red")
    assert not orange.silenced and red.silenced


def test_a_silence_marks_live_alerts_when_it_arrives_and_can_be_lifted_early(book: AlertBook) -> None:
    fired = firing(book)
    [marked] = book.silence(silence(rule="sales-dip", start=12, end=120), now=at(12))
    assert (marked.alert_id, marked.silenced, marked.updated_at) == (fired.alert_id, True, at(12))
    [unmarked] = book.silence(silence(rule="sales-dip", start=12, end=30), now=at(30))
    assert not unmarked.silenced and not unmarked.notify  # announced before the silence


def test_a_future_silence_starts_on_a_tick(book: AlertBook) -> None:
    fired = firing(book)
    assert book.silence(silence(group="sales", start=60, end=120), now=at(15)) == []
    [marked] = book.tick(at(60)).alerts
    assert marked.alert_id == fired.alert_id and marked.silenced


def test_a_silence_needs_a_matcher_and_an_end_after_its_start() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        silence()
    with pytest.raises(ValidationError, match="ends_at"):
        silence(region="North", start=10, end=10)


# ---- acknowledgements and escalation -------------------------------------------------------

def test_an_escalation_is_published_exactly_once_after_the_response_sla(book: AlertBook) -> None:
    fired = firing(book, severity="red")
    assert fired.respond_by == at(25)
    assert book.tick(at(24)).escalations == []
    [escalation] = book.tick(at(25)).escalations
    assert escalation.escalation_id == stable_id("escalation", fired.alert_id)
    assert (escalation.alert_id, escalation.severity, escalation.respond_by, escalation.escalated_at) == (
        fired.alert_id, "red", at(25), at(25))
    assert escalation.message.startswith("not acknowledged by 2026-11-27 02:25 UTC (Act within 15 minutes")
    assert book.tick(at(26)).escalations == [] and book.tick(at(200)).escalations == []


def test_an_acknowledgement_stops_the_escalation(book: AlertBook) -> None:
    fired = firing(book)
    result = book.acknowledge(AlertAck(alert_id=fired.alert_id, by="li.wei", note="calling the branch", at=at(15)))
    assert result.ignored is None and result.alert is not None
    assert (result.alert.acknowledged_by, result.alert.acknowledged_at, result.alert.ack_note) == (
        "li.wei", at(15), "calling the branch")
    assert not result.alert.notify and result.alert.state == "firing"
    assert book.tick(at(120)).escalations == []


def test_muted_alerts_do_not_escalate(book: AlertBook) -> None:
    fired = firing(book)
    book.silence(silence(rule="sales-dip", start=11, end=300))
    assert book.tick(at(100)).escalations == []
    assert book.active()[0].alert_id == fired.alert_id


def test_acknowledgements_that_change_nothing_say_why(book: AlertBook) -> None:
    def ack(alert_id: str, note: str = "") -> str | None:
        return book.acknowledge(AlertAck(alert_id=alert_id, by="li.wei", note=note, at=at(30))).ignored

    assert ack("no-such-alert") == "unknown_alert"
    fired = firing(book)
    assert ack(fired.alert_id) is None
    assert ack(fired.alert_id) == "already_acknowledged"
    book.observe(ev(20, holds=False))
    assert ack(fired.alert_id) == "resolved"
    blue = firing(book, 30, rule="visits-drift", group="traffic", severity="blue")
    assert ack(blue.alert_id) == "note_required"  # blue asks for a root-cause note
    assert ack(blue.alert_id, "tracking tag removed in the release") is None


# ---- state ---------------------------------------------------------------------------------

def test_a_book_round_trips_mid_episode_and_carries_on_identically(book: AlertBook) -> None:
    book.silence(silence(region="North", rule="stock-low", end=500), now=T0)
    firing(book, severity="red", rule="sales-crash")
    firing(book, 1)
    book.observe(ev(3, rule="stock-low", group="stock"))
    book.tick(at(26))  # the red escalates
    text = book.to_json()
    copy = AlertBook.from_json(POLICY, text)
    assert copy.to_json() == text
    assert copy.active() == book.active()
    assert len(text) < 4096
    for step in (lambda b: b.observe(ev(13, rule="stock-low", group="stock")),
                 lambda b: b.tick(at(60)),
                 lambda b: b.observe(ev(61, holds=False, rule="sales-crash", severity="red")),
                 lambda b: b.observe(ev(62, holds=False)),
                 lambda b: b.observe(ev(62, holds=False)),
                 lambda b: b.tick(at(600))):
        assert step(copy) == step(book)
    assert copy.to_json() == book.to_json()


def test_an_unknown_state_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        AlertBook.from_json(POLICY, '{"v":99}')


# ---- properties ----------------------------------------------------------------------------

ORDER = {"pending": 0, "firing": 1, "resolved": 2}
steps = st.lists(st.tuples(
    st.sampled_from(["hold", "stop", "tick", "ack", "roundtrip"]),
    st.integers(0, 15),  # minutes since the previous step (0: a replayed time)
    st.sampled_from([0, 300, 600])), max_size=40)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_one_rule_in_one_region_has_at_most_one_live_alert_whose_state_only_moves_forward(
        sequence: list[tuple[str, int, int]]) -> None:
    book, minute = AlertBook(POLICY), 0.0
    latest: dict[str, str] = {}  # alert id -> latest state published
    closed: set[str] = set()
    for action, gap, for_seconds in sequence:
        minute += gap
        records: list[Alert] = []
        if action in ("hold", "stop"):
            records = book.observe(ev(minute, action == "hold", for_seconds=for_seconds))
        elif action == "tick":
            tick = book.tick(at(minute))
            records = tick.alerts
            assert all(e.escalation_id == stable_id("escalation", e.alert_id) for e in tick.escalations)
        elif action == "ack" and book.active():
            result = book.acknowledge(AlertAck(alert_id=book.active()[0].alert_id, by="x", at=at(minute)))
            records = [result.alert] if result.alert else []
        elif action == "roundtrip":
            book = AlertBook.from_json(POLICY, book.to_json())
        for record in records:
            assert record.alert_id not in closed, "a resolved alert never comes back"
            assert ORDER[record.state] >= ORDER.get(latest.get(record.alert_id, "pending"), 0)
            latest[record.alert_id] = record.state
            if record.state == "resolved":
                closed.add(record.alert_id)
        live = [alert_id for alert_id, state in latest.items() if state != "resolved"]
        assert len(live) <= 1
        assert [a.alert_id for a in book.active()] == live
