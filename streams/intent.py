"""Intent scoring: a compact, fading profile per lead and the model that updates and reads it.

Pure: no Kafka, no Faust, no I/O except `IntentModel.from_config`, which reads the policies.

Decay is lazy. Every decayed value in a profile is stored as of one moment, `last` (the newest
event seen); a newer event first scales them all by 2**(-dt/half_life). A late event never
decays anything backwards: its own points are discounted by its age instead.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, get_args

import config
from config.policy_files import PolicyError, load_policy
from models.events import CallTranscript, InboundEvent, PosRow, WebEvent
from models.intent_policy import (
    ContentCatalog, ContentEntry, Lexicon, ScoringPolicy, TriggerPattern,
)
from models.routing import Intensity, Intent, Priority, Stage
from streams.phrases import PhraseMatcher

STAGES: tuple[Stage, ...] = get_args(Stage)
_STAGE = {stage: index for index, stage in enumerate(STAGES)}
_NO_STAGE = -1  # a page missing from the catalogue
_MAX_COUNT = 9_999  # counters saturate: the profile's size must not grow with traffic
_EVIDENCE_KEPT = 3  # industries and products remembered per lead
_TOP_SIGNALS = 5
# Explanation parts other than contents and lexicon signals; "#" cannot start a signal name.
_FORMS, _CALLS, _PURCHASES, _SPILL = "#forms", "#calls", "#purchases", "#spill"


@dataclass(slots=True)
class ContentStats:
    """What a lead did with one content. `points` decays; the counters are lifetime totals."""

    key: str  # catalogue id, or "~" + a short hash for a page missing from the catalogue
    stage: int  # index into STAGES, or _NO_STAGE
    product: str | None
    views: int = 0
    dwell: float = 0.0
    downloaded: bool = False
    points: float = 0.0
    last: float = 0.0  # newest activity, epoch seconds


@dataclass(slots=True)
class SignalStats:
    """One lexicon signal heard on the lead's calls."""

    count: int = 0
    points: float = 0.0
    last: float = 0.0


@dataclass(slots=True)
class LeadProfile:
    """Everything scoring keeps about one lead; `to_bytes()` stays within 2 KiB."""

    last: float  # newest event time, epoch seconds: the moment every decayed value is stored as of
    armed: bool = True  # may be routed; false from routing until the score falls below rearm_below
    routed_at: float | None = None
    armed_at: float | None = None  # last re-arming: trigger patterns only count activity since
    recent: float = 0.0  # raw points decayed with the short intensity half-life
    spill: float = 0.0  # points of forgotten contents and signals, so the score does not drop
    forms: int = 0
    form_points: float = 0.0
    form_last: float = 0.0
    call_seconds: float = 0.0
    call_points: float = 0.0
    purchases: int = 0
    purchase_points: float = 0.0
    contents: list[ContentStats] = field(default_factory=list)
    signals: dict[str, SignalStats] = field(default_factory=dict)
    stages: list[float] = field(default_factory=lambda: [0.0] * len(STAGES))
    industries: dict[str, float] = field(default_factory=dict)
    products: dict[str, float] = field(default_factory=dict)
    language: str | None = None
    region: str | None = None
    # Running sum of every decayed points field above, kept by update() and decay() so reads
    # need not add them up; not serialised, recomputed by from_bytes.
    total: float = field(default=0.0, repr=False, compare=False)

    def raw(self) -> float:
        """Raw points as of `last`."""
        return self.total

    def recount(self) -> float:
        """The sum `total` stands for, recomputed from the parts."""
        return (self.spill + self.form_points + self.call_points + self.purchase_points
                + sum(c.points for c in self.contents) + sum(s.points for s in self.signals.values()))

    def decay(self, factor: float, recent_factor: float) -> None:
        self.recent *= recent_factor
        self.total *= factor
        self.spill *= factor
        self.form_points *= factor
        self.call_points *= factor
        self.purchase_points *= factor
        for content in self.contents:
            content.points *= factor
        for signal in self.signals.values():
            signal.points *= factor
        stages = self.stages
        for index in range(len(stages)):
            stages[index] *= factor
        for evidence in (self.industries, self.products):
            for key in evidence:
                evidence[key] *= factor

    def to_bytes(self) -> bytes:
        data: dict[str, Any] = {
            "t": round(self.last, 3), "a": int(self.armed), "i": _r(self.recent), "s": _r(self.spill),
            "f": [self.forms, _r(self.form_points), round(self.form_last, 3)],
            "c": [round(self.call_seconds, 1), _r(self.call_points)],
            "p": [self.purchases, _r(self.purchase_points)],
            "C": [[c.key, c.stage, c.product, c.views, round(c.dwell, 1), int(c.downloaded), _r(c.points),
                   round(c.last, 3)] for c in self.contents],
            "S": {name: [s.count, _r(s.points), round(s.last, 3)] for name, s in self.signals.items()},
            "g": [_r(value) for value in self.stages],
            "I": {key: _r(value) for key, value in self.industries.items()},
            "P": {key: _r(value) for key, value in self.products.items()},
        }
        optional = {"r": self.routed_at, "A": self.armed_at, "l": self.language, "R": self.region}
        data.update((key, value) for key, value in optional.items() if value is not None)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> LeadProfile:
        data = json.loads(raw)
        forms, form_points, form_last = data["f"]
        call_seconds, call_points = data["c"]
        purchases, purchase_points = data["p"]
        profile = cls(
            last=data["t"], armed=bool(data["a"]), routed_at=data.get("r"), armed_at=data.get("A"),
            recent=data["i"], spill=data["s"],
            forms=forms, form_points=form_points, form_last=form_last,
            call_seconds=call_seconds, call_points=call_points,
            purchases=purchases, purchase_points=purchase_points,
            contents=[ContentStats(key, stage, product, views, dwell, bool(downloaded), points, last)
                      for key, stage, product, views, dwell, downloaded, points, last in data["C"]],
            signals={name: SignalStats(*values) for name, values in data["S"].items()},
            stages=data["g"], industries=data["I"], products=data["P"],
            language=data.get("l"), region=data.get("R"),
        )
        profile.total = profile.recount()
        return profile


def _r(value: float) -> float:
    return round(value, 2)


def _add_evidence(evidence: dict[str, float], key: str, value: float) -> None:
    """Add to a bounded map; when full, a new key replaces the weakest only if it is stronger."""
    if key not in evidence and len(evidence) >= _EVIDENCE_KEPT:
        weakest = min(evidence, key=evidence.__getitem__)
        if evidence[weakest] >= value:
            return
        del evidence[weakest]
    evidence[key] = evidence.get(key, 0.0) + value


def _unknown_trigger_signals(scoring: ScoringPolicy, lexicon: Lexicon) -> list[str]:
    known = {signal.name for signal in lexicon.signals}
    return [name for trigger in scoring.triggers for name in trigger.when.signals if name not in known]


def _strongest(evidence: dict[str, float]) -> str | None:
    if not evidence:
        return None
    key = max(evidence, key=evidence.__getitem__)
    return key if evidence[key] > 0 else None


class _ContentIndex:
    """Finds the catalogue entry of a page: by content id, else by the first URL pattern matching."""

    _CACHE_SIZE = 4096

    def __init__(self, catalog: ContentCatalog) -> None:
        self.by_id = {entry.id: entry for entry in catalog.entries}
        self._patterns: list[tuple[Callable[[str], object], ContentEntry]] = []
        for entry in catalog.entries:
            if entry.url:
                self._patterns.append((re.compile(fnmatch.translate(entry.url)).match, entry))
            if entry.url_regex:
                self._patterns.append((re.compile(entry.url_regex).search, entry))
        self._cache: dict[tuple[str | None, str], tuple[str, ContentEntry | None]] = {}

    def resolve(self, content_id: str | None, url: str) -> tuple[str, ContentEntry | None]:
        """(key the lead profile files it under, catalogue entry or None)."""
        entry = self.by_id.get(content_id) if content_id else None
        if entry is not None:
            return entry.id, entry
        found = self._cache.get((content_id, url))
        if found is None:
            found = self._match_url(content_id, url)
            if len(self._cache) >= self._CACHE_SIZE:
                self._cache.clear()  # crude but bounded; the catalogue's own pages hit the id path
            self._cache[(content_id, url)] = found
        return found

    def _match_url(self, content_id: str | None, url: str) -> tuple[str, ContentEntry | None]:
        for matches, entry in self._patterns:
            if matches(url):
                return entry.id, entry
        # Unknown pages are told apart by a short hash: content ids and URLs can be long.
        name = content_id or url.split("?", 1)[0]
        return "~" + hashlib.blake2b(name.encode("utf-8"), digest_size=4).hexdigest(), None


@dataclass(frozen=True, slots=True)
class _Trigger:
    """A trigger pattern flattened for the hot path; see TriggerConditions for the meaning."""

    name: str
    priority: Priority | None
    stage: int | None
    min_views: int
    min_dwell: float
    downloaded: bool
    form_submitted: bool
    signals: tuple[str, ...]
    needs_content: bool

    @classmethod
    def of(cls, pattern: TriggerPattern) -> _Trigger:
        when = pattern.when
        return cls(pattern.name, pattern.priority, _STAGE[when.stage] if when.stage else None,
                   when.min_views_same_content, when.min_dwell_seconds_same_content, when.downloaded,
                   when.form_submitted, tuple(when.signals), when.needs_content())

    def holds(self, profile: LeadProfile, since: float) -> bool:
        if self.form_submitted and not (profile.forms and profile.form_last >= since):
            return False
        for name in self.signals:
            stats = profile.signals.get(name)
            if stats is None or stats.last < since:
                return False
        if not self.needs_content:
            return True
        for c in profile.contents:
            if (c.last >= since and (self.stage is None or c.stage == self.stage) and c.views >= self.min_views
                    and c.dwell >= self.min_dwell and (c.downloaded or not self.downloaded)):
                return True
        return False


class IntentModel:
    """Updates lead profiles from behaviour events and assesses their buying intent."""

    def __init__(self, scoring: ScoringPolicy, catalog: ContentCatalog, lexicon: Lexicon) -> None:
        self.scoring, self.catalog, self.lexicon = scoring, catalog, lexicon
        if unknown := _unknown_trigger_signals(scoring, lexicon):
            raise ValueError(f"trigger signal {unknown[0]!r} is not in the lexicon")
        self._signals = {signal.name: signal for signal in lexicon.signals}
        self._content = _ContentIndex(catalog)
        self._triggers = [_Trigger.of(pattern) for pattern in scoring.triggers]
        self._matcher = PhraseMatcher.from_lexicon(lexicon)
        self._half_life = scoring.half_life_hours * 3600
        self._recent_half_life = scoring.intensity.half_life_hours * 3600
        self._expiry = scoring.idle_expiry_days * 86400

    @classmethod
    def from_config(cls, directory: Path | None = None) -> IntentModel:
        """Load scoring.yaml, content_catalog.yaml and lexicon.yaml (default: the shipped ones)."""
        directory = directory or Path(config.__file__).parent
        scoring_path = directory / "scoring.yaml"
        scoring = load_policy(scoring_path, ScoringPolicy)
        catalog = load_policy(directory / "content_catalog.yaml", ContentCatalog)
        lexicon = load_policy(directory / "lexicon.yaml", Lexicon)
        if unknown := _unknown_trigger_signals(scoring, lexicon):
            # A cross-file error: point at the first mention of the name in scoring.yaml.
            text = scoring_path.read_text(encoding="utf-8")
            at = max(text.find(unknown[0]), 0)
            line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
            raise PolicyError(str(scoring_path), line, column, f"signal {unknown[0]!r} is not in lexicon.yaml")
        return cls(scoring, catalog, lexicon)

    # ---- updating ----------------------------------------------------------------------------

    def update(self, profile: LeadProfile | None, event: InboundEvent) -> LeadProfile:
        """Fold one event into the lead's profile (created when None). External signals are ignored."""
        t = event.ts.timestamp()
        if profile is None:
            profile = LeadProfile(last=t)
        if not isinstance(event, (WebEvent, CallTranscript, PosRow)):
            return profile
        age, recent_age = self._advance(profile, t)
        if self._faded(profile, self._score(profile.total), t):
            self._rearm(profile, t)  # before this event's points: interest had faded
        if isinstance(event, WebEvent):
            gained = self._web(profile, event, t, age)
        elif isinstance(event, CallTranscript):
            gained = self._call(profile, event, t, age)
        else:
            gained = self._pos(profile, event, t, age)
        profile.recent += gained * recent_age
        profile.total += gained  # every point gained went into exactly one decayed field
        if event.region:
            profile.region = event.region
        return profile

    def _advance(self, profile: LeadProfile, t: float) -> tuple[float, float]:
        """Bring the profile to time t; returns the discount of a late event's own points."""
        dt = t - profile.last
        if dt > 0:
            profile.decay(2.0 ** (-dt / self._half_life), 2.0 ** (-dt / self._recent_half_life))
            profile.last = t
            return 1.0, 1.0
        return 2.0 ** (dt / self._half_life), 2.0 ** (dt / self._recent_half_life)

    def _web(self, profile: LeadProfile, event: WebEvent, t: float, age: float) -> float:
        weights = self.scoring.weights
        key, entry = self._content.resolve(event.content_id, event.url)
        if event.kind == "form_submit":
            points = weights.form_submit * age
            profile.forms = min(profile.forms + 1, _MAX_COUNT)
            profile.form_points += points
            profile.form_last = max(profile.form_last, t)
        else:
            stats = self._content_stats(profile, key, entry)
            dwell = min(event.dwell_seconds, weights.dwell_cap_seconds)
            if event.kind == "page_view":
                base = weights.repeat_view if stats.views else weights.view
                stats.views = min(stats.views + 1, _MAX_COUNT)
            else:
                base = weights.download
                stats.downloaded = True
            weight = entry.weight if entry else weights.uncatalogued_content
            points = (base + dwell * weights.dwell_per_second) * weight * age
            stats.dwell = min(stats.dwell + dwell, _MAX_COUNT * weights.dwell_cap_seconds)
            stats.points += points
            stats.last = max(stats.last, t)
        if entry is not None:
            profile.stages[_STAGE[entry.stage]] += points
            for industry in entry.industries:
                _add_evidence(profile.industries, industry, points)
            _add_evidence(profile.products, entry.product, points)
            if profile.language is None:
                profile.language = entry.language
        return points

    def _content_stats(self, profile: LeadProfile, key: str, entry: ContentEntry | None) -> ContentStats:
        for stats in profile.contents:
            if stats.key == key:
                return stats
        if len(profile.contents) >= self.scoring.max_contents:
            weakest = min(profile.contents, key=lambda c: c.points)
            profile.contents.remove(weakest)
            profile.spill += weakest.points
        stats = (ContentStats(key, _STAGE[entry.stage], entry.product) if entry
                 else ContentStats(key, _NO_STAGE, None))
        profile.contents.append(stats)
        return stats

    def _call(self, profile: LeadProfile, event: CallTranscript, t: float, age: float) -> float:
        weights = self.scoring.weights
        seconds = min(event.duration_seconds, weights.call_cap_minutes * 60)
        gained = seconds / 60 * weights.call_per_minute * age
        profile.call_seconds = min(profile.call_seconds + seconds, 1e7)
        profile.call_points += gained
        for name, mentions in self._matcher.count(event.text).items():
            signal = self._signals[name]
            points = signal.weight * min(mentions, weights.signal_mentions_cap) * age
            stats = profile.signals.get(name) or self._new_signal(profile, name)
            stats.count = min(stats.count + mentions, _MAX_COUNT)
            stats.points += points
            stats.last = max(stats.last, t)
            if signal.stage:
                profile.stages[_STAGE[signal.stage]] += points
            if signal.industry:
                _add_evidence(profile.industries, signal.industry, points)
            gained += points
        if event.language != "und":
            profile.language = event.language  # what the lead speaks beats what it reads
        return gained

    def _new_signal(self, profile: LeadProfile, name: str) -> SignalStats:
        if len(profile.signals) >= self.scoring.max_signals:
            weakest = min(profile.signals, key=lambda n: profile.signals[n].points)
            profile.spill += profile.signals.pop(weakest).points
        stats = profile.signals[name] = SignalStats()
        return stats

    def _pos(self, profile: LeadProfile, event: PosRow, t: float, age: float) -> float:
        if event.customer_id is None:
            return 0.0  # an anonymous purchase says nothing about this lead
        points = self.scoring.weights.pos_purchase * age
        profile.purchases = min(profile.purchases + 1, _MAX_COUNT)
        profile.purchase_points += points
        profile.stages[_STAGE["purchase"]] += points
        return points

    # ---- reading -----------------------------------------------------------------------------

    def _score(self, raw: float) -> float:
        return 100.0 * (1.0 - math.exp(-raw / self.scoring.scale))

    def assess(self, profile: LeadProfile, now: datetime) -> Intent:
        """The lead's intent at `now`, and whether routing should fire."""
        policy = self.scoring
        t = now.timestamp()
        dt = t - profile.last
        raw = profile.total
        score = self._score(raw * 2.0 ** (-dt / self._half_life) if dt > 0 else raw)
        if self._faded(profile, score, t):
            self._rearm(profile, max(t, profile.last))
        fired = self._fired_trigger(profile) if profile.armed else None
        if fired is not None:
            trigger: str | None = fired.name
        else:
            trigger = "threshold" if profile.armed and score >= policy.threshold else None
        priority: Priority = "p1" if score >= policy.priority.p1 else "p2" if score >= policy.priority.p2 else "p3"
        if fired is not None and fired.priority is not None:
            priority = min(priority, fired.priority)  # "p1" < "p2" < "p3"
        stages = profile.stages
        best = stages.index(max(stages))
        return Intent(
            score=score,
            stage=STAGES[best] if stages[best] > 0 else "awareness",
            intensity=self._intensity(profile.recent * 2.0 ** (-dt / self._recent_half_life) if dt > 0
                                      else profile.recent),
            industry=_strongest(profile.industries),
            product=_strongest(profile.products),
            language=profile.language,
            region=profile.region,
            priority=priority,
            top_signals=self._explain(profile, score, raw),
            trigger=trigger,
        )

    def _intensity(self, recent: float) -> Intensity:
        bands = self.scoring.intensity
        return "high" if recent >= bands.high else "medium" if recent >= bands.medium else "low"

    def _faded(self, profile: LeadProfile, score: float, t: float) -> bool:
        """A routed lead's interest has faded: its score is under rearm_below and at least one
        half-life has passed since routing. The second condition matters for leads routed by a
        trigger pattern at a score already under rearm_below: they would re-arm at once."""
        if profile.armed or score >= self.scoring.rearm_below:
            return False
        return profile.routed_at is None or t - profile.routed_at >= self._half_life

    @staticmethod
    def _rearm(profile: LeadProfile, t: float) -> None:
        profile.armed = True
        profile.armed_at = t

    def _fired_trigger(self, profile: LeadProfile) -> _Trigger | None:
        # Only activity since re-arming counts, or a re-armed lead would fire on the very
        # behaviour it was already routed for, or on what it did while disarmed.
        since = profile.armed_at if profile.armed_at is not None else -math.inf
        for trigger in self._triggers:
            if trigger.holds(profile, since):
                return trigger
        return None

    def _explain(self, profile: LeadProfile, score: float, raw: float) -> list[str]:
        """The strongest contributions, in score points (all of them add up to the score)."""
        if raw <= 0:
            return []
        parts: list[tuple[float, ContentStats | str]] = [(c.points, c) for c in profile.contents]
        parts += [(s.points, name) for name, s in profile.signals.items()]
        for points, part in ((profile.form_points, _FORMS), (profile.call_points, _CALLS),
                             (profile.purchase_points, _PURCHASES), (profile.spill, _SPILL)):
            if points:  # mostly absent: keep them out of the sort
                parts.append((points, part))
        parts.sort(key=itemgetter(0), reverse=True)
        per_point = score / raw
        lines = []
        for points, part in parts[:_TOP_SIGNALS]:  # only these are formatted
            share = round(points * per_point)
            if share < 1:
                break
            lines.append("%s (+%d)" % (self._describe(profile, part), share))
        return lines

    def _describe(self, profile: LeadProfile, part: ContentStats | str) -> str:
        if isinstance(part, ContentStats):
            entry = self._content.by_id.get(part.key)
            title = entry.title if entry else "an uncatalogued page"
            if not part.views:
                return f"downloaded {title}"
            text = f"viewed {title} {part.views}x, {part.dwell:.0f} s"
            return f"{text}, downloaded" if part.downloaded else text
        if part == _FORMS:
            return "submitted a form" if profile.forms == 1 else f"submitted {profile.forms} forms"
        if part == _CALLS:
            return f"talked {profile.call_seconds / 60:.0f} min on calls"
        if part == _PURCHASES:
            return f"bought in store {profile.purchases}x"
        if part == _SPILL:
            return "earlier activity"
        signal = self._signals.get(part)
        return f"{signal.label if signal else part} {profile.signals[part].count}x on calls"

    # ---- lifecycle ---------------------------------------------------------------------------

    def mark_routed(self, profile: LeadProfile, now: datetime) -> None:
        """Disarm after routing; `now` is the time `assess` was asked about."""
        profile.armed = False
        profile.routed_at = now.timestamp()

    def is_expired(self, profile: LeadProfile, now: datetime) -> bool:
        return now.timestamp() - profile.last > self._expiry
