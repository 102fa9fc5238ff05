"""The war-room alert lifecycle, without Faust: rule evaluations in, alert and escalation records out.

Semantics follow Alertmanager, on a clock the caller passes in:

- One alert per (rule, region) at a time. A holding evaluation starts it `pending`; once the
  condition has held for `for_seconds` it is `firing`; when a firing alert stops holding it is
  `resolved`, and the next holding evaluation starts a new episode with a new id
  (stable_id("alert", rule, region, starts_at)).
- A pending alert whose condition stops early never fired and nobody is told. Because its
  pending record was published (and boards keep the latest record per id), it is closed with
  one `resolved` record that has `fired_at` None and `notify` False.
- Inhibition: a firing red alert mutes the orange/yellow/blue alerts of the same group in the
  same region (`inhibited_by` = its id; the earliest-fired red when several fire). A silenced
  red still inhibits: its condition is real.
- Silences mark matching alerts `silenced` (`silenced_by` = the lowest matching silence id);
  alerts still change state. Expired silences are dropped.
- `notify` marks the records to send to people: the first firing record that is neither
  silenced nor inhibited (the alert is then "announced" and `respond_by` = now + the policy's
  response SLA for its severity), and the resolution of an announced alert. A muted alert that
  becomes unmuted while firing is announced then.
- An announced firing alert that is unacknowledged, unmuted and past `respond_by` at a tick
  yields one Escalation (stable_id("escalation", alert_id)).

What each call returns is what to publish: the state change of the evaluated alert first, then
the alerts whose inhibited/silenced marks changed, each with `updated_at` set.

The worker keeps one book per region in a table keyed by region (inhibition and dedup never
cross regions); silences are sent to every region's book, acks to the book of `AlertAck.region`.
A book can also hold several regions (tests, replay): nothing in it assumes one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from config.policy_files import load_policy
from config.settings import POLICY_DIR
from models.alerts import SEVERITIES, Alert, AlertAck, AlertPolicy, Escalation, MetricMove, Severity, Silence
from models.base import stable_id

ALERT_POLICY_FILE = POLICY_DIR / "alert_policy.yaml"
STATE_VERSION = 1

Key = tuple[str, str]  # (rule, region)


def load_alert_policy(path: Path = ALERT_POLICY_FILE) -> AlertPolicy:
    """The response SLAs; an invalid file raises PolicyError with line and column."""
    return load_policy(path, AlertPolicy)


@dataclass(frozen=True)
class Evaluation:
    """One rule evaluated for one region at `at`. A rule scoped to any region yields one per region;
    `group` is the rule's group (its name by default)."""

    rule: str
    group: str
    severity: Severity
    region: str
    holds: bool
    for_seconds: float
    values: dict[str, float]
    baselines: dict[str, float | None]
    context: list[MetricMove]
    at: datetime
    comparison: str = ""  # what the baselines are, e.g. "week over week"; used in the message only

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}")
        if self.for_seconds < 0:
            raise ValueError("for_seconds must not be negative")
        if self.at.tzinfo is None:
            raise ValueError("at must carry a time zone")  # a naive time would compare wrongly
        object.__setattr__(self, "at", self.at.astimezone(timezone.utc))

    @property
    def key(self) -> Key:
        return self.rule, self.region


@dataclass(frozen=True)
class AckResult:
    """What an acknowledgement did: the alert record to publish, or why it was ignored."""

    alert: Alert | None
    ignored: str | None = None  # unknown_alert, resolved, already_acknowledged, note_required


@dataclass(frozen=True)
class TickResult:
    """Alerts whose silence marks changed (a silence began or expired), then escalations due."""

    alerts: list[Alert] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)


@dataclass(frozen=True)
class _Entry:
    """A live (pending or firing) alert and the bookkeeping its records do not show."""

    alert: Alert
    announced: bool = False  # a notify=True firing record went out
    escalated: bool = False
    for_seconds: float = 0.0


class AlertBook:
    def __init__(self, policy: AlertPolicy) -> None:
        self.policy = policy
        self._entries: dict[Key, _Entry] = {}
        self._silences: dict[str, Silence] = {}
        self._seen: dict[Key, datetime] = {}  # last evaluation time per key: replays are ignored
        self._closed: dict[Key, str] = {}  # last resolved alert id per key: its acks say "resolved"
        self._now: datetime | None = None  # latest time seen (evaluations, ticks)

    # ---- inputs ----------------------------------------------------------------------------

    def observe(self, evaluation: Evaluation) -> list[Alert]:
        """Apply one evaluation; returns the records to publish (often none)."""
        key, at = evaluation.key, evaluation.at
        last = self._seen.get(key)
        if last is not None and at <= last:
            return []  # redelivered or out of order: at-least-once input must not reopen episodes
        self._seen[key] = at
        now = self._advance(at)
        entry = self._entries.get(key)
        if evaluation.holds:
            entry, changed = self._hold(entry, evaluation)
            self._entries[key] = entry
            return self._publish(now, at, touched=key if changed else None)
        if entry is None:
            return self._publish(now, at)
        del self._entries[key]
        self._closed[key] = entry.alert.alert_id
        return [self._close(entry, evaluation), *self._publish(now, at)]

    def acknowledge(self, ack: AlertAck) -> AckResult:
        """Record who took a live alert in hand; stops its escalation. Duplicates are ignored."""
        key = next((k for k, e in self._entries.items() if e.alert.alert_id == ack.alert_id), None)
        if key is None:
            return AckResult(None, "resolved" if ack.alert_id in self._closed.values() else "unknown_alert")
        entry = self._entries[key]
        if entry.alert.acknowledged_by is not None:
            return AckResult(None, "already_acknowledged")
        if self.policy.sla(entry.alert.severity).requires_note and not ack.note.strip():
            return AckResult(None, "note_required")
        alert = entry.alert.model_copy(update=dict(
            acknowledged_by=ack.by, acknowledged_at=ack.at, ack_note=ack.note or None,
            updated_at=ack.at, notify=False))
        self._entries[key] = replace(entry, alert=alert)
        return AckResult(alert)

    def silence(self, silence: Silence, now: datetime | None = None) -> list[Alert]:
        """Add or replace a silence; returns the alerts it marks or unmarks now.

        `now` defaults to the book's clock (the latest evaluation or tick), else the silence's start.
        """
        self._silences[silence.silence_id] = silence
        now = self._advance(now or self._now or silence.starts_at)
        return self._publish(now, now)

    def tick(self, now: datetime) -> TickResult:
        """Expire and start silences, then escalate announced alerts past their response SLA."""
        now = self._advance(now)
        alerts = self._publish(now, now)
        escalations = []
        for key, entry in sorted(self._entries.items()):
            alert = entry.alert
            if (alert.state == "firing" and entry.announced and not entry.escalated
                    and alert.acknowledged_by is None and not alert.silenced and alert.inhibited_by is None
                    and alert.respond_by is not None and alert.respond_by <= now):
                self._entries[key] = replace(entry, escalated=True)
                escalations.append(self._escalation(alert, now))
        return TickResult(alerts, escalations)

    def active(self) -> list[Alert]:
        """The live (pending and firing) alerts, by region, rule."""
        return [self._entries[key].alert for key in sorted(self._entries, key=lambda k: (k[1], k[0]))]

    # ---- state -----------------------------------------------------------------------------

    def to_json(self) -> str:
        """Compact state for a table value: live alerts, silences, last evaluation times."""
        state = {
            "v": STATE_VERSION,
            "now": _iso(self._now),
            "alerts": [[e.alert.model_dump(mode="json", exclude_defaults=True), e.announced, e.escalated,
                        e.for_seconds] for e in self._entries.values()],
            "silences": [s.model_dump(mode="json", exclude_defaults=True) for s in self._silences.values()],
            "seen": [[rule, region, _iso(at)] for (rule, region), at in self._seen.items()],
            "closed": [[rule, region, alert_id] for (rule, region), alert_id in self._closed.items()],
        }
        return json.dumps(state, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, policy: AlertPolicy, text: str) -> AlertBook:
        state = json.loads(text)
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"unknown alert book state version {state.get('v')!r}")
        book = cls(policy)
        book._now = _parse(state["now"])
        for dumped, announced, escalated, for_seconds in state["alerts"]:
            alert = Alert.model_validate(dumped)
            book._entries[(alert.rule, alert.region)] = _Entry(alert, announced, escalated, for_seconds)
        for dumped in state["silences"]:
            silence = Silence.model_validate(dumped)
            book._silences[silence.silence_id] = silence
        book._seen = {(rule, region): _parse(at) for rule, region, at in state["seen"]}  # type: ignore[misc]
        book._closed = {(rule, region): alert_id for rule, region, alert_id in state["closed"]}
        return book

    # ---- lifecycle -------------------------------------------------------------------------

    def _advance(self, at: datetime) -> datetime:
        # The book's clock never goes back: a late evaluation must not revive an expired silence.
        if self._now is None or at > self._now:
            self._now = at
        return self._now

    def _hold(self, entry: _Entry | None, ev: Evaluation) -> tuple[_Entry, bool]:
        """The entry after a holding evaluation, and whether its state changed (start or fire)."""
        reading: dict[str, Any] = dict(values=dict(ev.values), baselines=dict(ev.baselines),
                                       context=list(ev.context), comparison=ev.comparison)
        if entry is None:
            firing = ev.for_seconds == 0  # no `for`: fires at once, without a pending record
            alert = Alert(
                alert_id=stable_id("alert", ev.rule, ev.region, ev.at), rule=ev.rule,
                group=ev.group, region=ev.region, severity=ev.severity,
                state="firing" if firing else "pending", starts_at=ev.at,
                fired_at=ev.at if firing else None, updated_at=ev.at, message="", **reading)
            return _Entry(alert, for_seconds=ev.for_seconds), True
        alert = entry.alert
        if alert.state == "pending" and (ev.at - alert.starts_at).total_seconds() >= ev.for_seconds:
            alert = alert.model_copy(update=dict(state="firing", fired_at=ev.at, updated_at=ev.at, **reading))
            return replace(entry, alert=alert, for_seconds=ev.for_seconds), True
        # Still holding: keep the latest reading for active(); nothing to publish.
        alert = alert.model_copy(update=reading)
        alert = alert.model_copy(update=dict(message=_message(alert, ev.for_seconds, ev.at)))
        return replace(entry, alert=alert, for_seconds=ev.for_seconds), False

    def _close(self, entry: _Entry, ev: Evaluation) -> Alert:
        """The last record of an episode: resolved (told to people only if they were told it fired)."""
        alert = entry.alert.model_copy(update=dict(
            state="resolved", resolved_at=ev.at, updated_at=ev.at, values=dict(ev.values),
            baselines=dict(ev.baselines), context=list(ev.context), comparison=ev.comparison,
            notify=entry.announced))
        return alert.model_copy(update=dict(message=_message(alert, entry.for_seconds, ev.at)))

    def _publish(self, now: datetime, at: datetime, touched: Key | None = None) -> list[Alert]:
        """Recompute every live alert's marks at `now`; the touched alert and changed marks come out."""
        for silence_id in [i for i, s in self._silences.items() if s.ends_at <= now]:
            del self._silences[silence_id]
        silences = sorted((s for s in self._silences.values() if s.active_at(now)), key=lambda s: s.silence_id)
        reds = sorted((e.alert for e in self._entries.values() if e.alert.state == "firing"
                       and e.alert.severity == "red"), key=lambda a: (a.fired_at, a.alert_id))
        first: list[Alert] = []
        marked: list[Alert] = []
        for key, entry in self._entries.items():
            alert = entry.alert
            inhibitor = None if alert.severity == "red" else next(
                (r.alert_id for r in reds if r.group == alert.group and r.region == alert.region), None)
            silence = next((s.silence_id for s in silences if s.matchers.match(alert)), None)
            if key != touched and (inhibitor, silence) == (alert.inhibited_by, alert.silenced_by):
                continue
            when = at if key == touched else now
            alert = alert.model_copy(update=dict(
                inhibited_by=inhibitor, silenced_by=silence, silenced=silence is not None,
                updated_at=when, notify=False))
            announced = entry.announced
            if alert.state == "firing" and not announced and inhibitor is None and silence is None:
                announced = True
                alert = alert.model_copy(update=dict(
                    notify=True, respond_by=self.policy.respond_by(alert.severity, when)))
            alert = alert.model_copy(update=dict(message=_message(alert, entry.for_seconds, when)))
            self._entries[key] = replace(entry, alert=alert, announced=announced)
            (first if key == touched else marked).append(alert)
        return first + sorted(marked, key=lambda a: a.alert_id)

    def _escalation(self, alert: Alert, now: datetime) -> Escalation:
        assert alert.respond_by is not None
        sla = self.policy.sla(alert.severity)
        return Escalation(
            escalation_id=stable_id("escalation", alert.alert_id), alert_id=alert.alert_id, rule=alert.rule,
            group=alert.group, region=alert.region, severity=alert.severity, respond_by=alert.respond_by,
            escalated_at=now,
            message=(f"not acknowledged by {alert.respond_by:%Y-%m-%d %H:%M} UTC "
                     f"({sla.description.en.rstrip('.')}): {alert.message}"))


# ---- messages ------------------------------------------------------------------------------

def _message(alert: Alert, for_seconds: float, at: datetime) -> str:
    """One readable line, e.g. 'orange: sales in North -25% week over week (baseline 120,000) for 10m'."""
    moves = _moves(alert)
    if alert.state == "pending":
        held = _duration((at - alert.starts_at).total_seconds())
        return f"{alert.severity} (pending): {moves}, holding {held} of {_duration(for_seconds)}"
    if alert.state == "firing":
        return f"{alert.severity}: {moves} for {_duration((at - alert.starts_at).total_seconds())}"
    if alert.fired_at is None:
        return f"{alert.severity} (never fired): {alert.rule} in {alert.region} stopped holding " \
               f"after {_duration((at - alert.starts_at).total_seconds())}: {_moves(alert, with_region=False)}"
    return f"resolved {alert.severity}: {moves} after {_duration((at - alert.starts_at).total_seconds())}"


def _moves(alert: Alert, with_region: bool = True) -> str:
    parts = [_move(_label(key), value, alert.baselines.get(key), alert.comparison)
             for key, value in alert.values.items()]
    if not parts:
        return f"{alert.rule} in {alert.region}" if with_region else alert.rule
    first = next(iter(alert.values))
    if with_region and "@" not in first:
        parts[0] = parts[0].replace(first, f"{first} in {alert.region}", 1)
    return ", ".join(parts)


def _label(key: str) -> str:
    """Values are keyed `metric@region` by the rule engine; a bare metric is the alert's region."""
    metric, _, region = key.partition("@")
    return f"{metric} in {region}" if region else metric


def _move(metric: str, value: float, baseline: float | None, comparison: str) -> str:
    if baseline is None:
        return f"{metric} {_number(value)} (no baseline)"
    if baseline == 0:
        return f"{metric} {_number(value)} (baseline 0)"
    change = (value - baseline) / abs(baseline) * 100
    over = f" {comparison}" if comparison else ""
    return f"{metric} {change:+.0f}%{over} (baseline {_number(baseline)})"


def _number(value: float) -> str:
    # Money and counts read best grouped and whole; rates and ratios need their decimals.
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 3600:
        return f"{minutes}m"
    if seconds < 86400:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    rest = hours % 24
    return f"{days}d{rest}h" if rest else f"{days}d"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None
