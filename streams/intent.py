"""Intent scoring: a compact, fading profile per lead and the model that updates and reads it.

Pure: no Kafka, no Faust, no I/O except `IntentModel.from_config`, which reads the policies.

Decay is lazy. Every decayed value in a profile is stored in units of `unit`: its value as of
`last` (the newest event seen) is the stored number / `unit`. A newer event only multiplies `unit`
by 2**(dt/half_life) and adds its points times `unit`, so decay costs the same whatever the profile
holds; every ratio between decayed values (sort orders, shares of the score) is unaffected. A late
event never decays anything backwards: its own points are discounted by its age instead.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, get_args

import config
from config.policy_files import PolicyError, load_policy
from models.base import unchecked
from models.events import CallTranscript, InboundEvent, PosRow, WebEvent
from models.intent_policy import (
    ContentCatalog, ContentEntry, Lexicon, ScoringPolicy, TriggerPattern,
)
from models.routing import Intent, Priority, Stage
from streams.phrases import PhraseMatcher

STAGES: tuple[Stage, ...] = get_args(Stage)
_STAGE = {stage: index for index, stage in enumerate(STAGES)}
_NO_STAGE = -1  # a page missing from the catalogue
_MAX_COUNT = 9_999  # counters saturate: the profile's size must not grow with traffic
_EVIDENCE_KEPT = 3  # industries and products remembered per lead
_TOP_SIGNALS = 5
# Explanation parts other than contents and lexicon signals; "#" cannot start a signal name.
_FORMS, _CALLS, _PURCHASES, _SPILL = "#forms", "#calls", "#purchases", "#spill"
_PURCHASE = _STAGE["purchase"]
_POINTS = itemgetter(0)
# Intent's own pydantic validator, without BaseModel.__init__'s Python wrapper around it: the
# same checks and the same model, about 0.6 µs less per assessment.
_new_intent = unchecked(Intent)  # built from the model's own values
_REBASE = 2.0 ** 32  # `unit` past this (96 half-lives): stored values are rescaled to unit 1


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
    # Its explanation without the share ("viewed ... 2x, 95 s"), made when first needed and
    # cleared when views, dwell or downloaded change; `line` adds the share `shown`. Not serialised.
    text: str = field(default="", repr=False, compare=False)
    line: str = field(default="", repr=False, compare=False)
    shown: int = field(default=0, repr=False, compare=False)


@dataclass(slots=True)
class SignalStats:
    """One lexicon signal heard on the lead's calls."""

    count: int = 0
    points: float = 0.0
    last: float = 0.0
    text: str = field(default="", repr=False, compare=False)  # as in ContentStats; cleared with count
    line: str = field(default="", repr=False, compare=False)
    shown: int = field(default=0, repr=False, compare=False)


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
    # Running sum of every decayed points field above, kept by update() so reads need not add
    # them up; not serialised, recomputed by from_bytes.
    total: float = field(default=0.0, repr=False, compare=False)
    # Decayed fields (all points fields above, `stages`, `industries`, `products`; not `recent`)
    # are stored times `unit`: their value as of `last` is the stored number / unit. Not
    # serialised: to_bytes writes values as of `last`, from_bytes reads them with unit 1.
    unit: float = field(default=1.0, repr=False, compare=False)
    # The keys of `contents`, in the same order, for a lookup in C; kept by the model.
    content_keys: list[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.content_keys = [c.key for c in self.contents]

    def raw(self) -> float:
        """Raw points as of `last`."""
        return self.total / self.unit

    def recount(self) -> float:
        """The sum `total` stands for (as of `last`, like raw()), recomputed from the parts."""
        return (self.spill + self.form_points + self.call_points + self.purchase_points
                + sum(c.points for c in self.contents)
                + sum(s.points for s in self.signals.values())) / self.unit

    def decay(self, factor: float, recent_factor: float) -> None:
        """Decay every decayed value by `factor`, `recent` by `recent_factor`: O(1), via `unit`."""
        self.recent *= recent_factor
        self.unit /= factor
        if self.unit > _REBASE:
            self.rebase()

    def rebase(self) -> None:
        """Store every decayed value as of `last` (unit 1); values as of `last` do not change."""
        factor = 1.0 / self.unit
        self.unit = 1.0
        self.total *= factor
        self.spill *= factor
        self.form_points *= factor
        self.call_points *= factor
        self.purchase_points *= factor
        for content in self.contents:
            content.points *= factor
        for signal in self.signals.values():
            signal.points *= factor
        self.stages[:] = [value * factor for value in self.stages]
        industries = self.industries
        for key in industries:
            industries[key] *= factor
        products = self.products
        for key in products:
            products[key] *= factor

    def to_bytes(self) -> bytes:
        g = 1.0 / self.unit  # stored -> as of `last`
        data: dict[str, Any] = {
            "t": round(self.last, 3), "a": int(self.armed), "i": _r(self.recent), "s": _r(self.spill * g),
            "f": [self.forms, _r(self.form_points * g), round(self.form_last, 3)],
            "c": [round(self.call_seconds, 1), _r(self.call_points * g)],
            "p": [self.purchases, _r(self.purchase_points * g)],
            "C": [[c.key, c.stage, c.product, c.views, round(c.dwell, 1), int(c.downloaded), _r(c.points * g),
                   round(c.last, 3)] for c in self.contents],
            "S": {name: [s.count, _r(s.points * g), round(s.last, 3)] for name, s in self.signals.items()},
            "g": [_r(value * g) for value in self.stages],
            "I": {key: _r(value * g) for key, value in self.industries.items()},
            "P": {key: _r(value * g) for key, value in self.products.items()},
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


def _leader(evidence: dict[str, float]) -> str | None:
    """The key with the most points, the first of equals; None when no key has any points.
    A plain loop: max(evidence, key=evidence.__getitem__) costs three times as much on 1-3 keys."""
    best, most = None, 0.0
    for key, value in evidence.items():
        if value > most:
            best, most = key, value
    return best


def _unknown_trigger_signals(scoring: ScoringPolicy, lexicon: Lexicon) -> list[str]:
    known = {signal.name for signal in lexicon.signals}
    return [name for trigger in scoring.triggers for name in trigger.when.signals if name not in known]


@dataclass(frozen=True, slots=True)
class _Page:
    """A catalogue entry as the hot path reads it."""

    id: str
    title: str
    stage: int  # index into STAGES
    product: str
    industries: tuple[str, ...]
    language: str | None
    weight: float

    @classmethod
    def of(cls, entry: ContentEntry) -> _Page:
        return cls(entry.id, entry.title, _STAGE[entry.stage], entry.product, tuple(entry.industries),
                   entry.language, entry.weight)


class _ContentIndex:
    """Finds the catalogue entry of a page: by content id, else by the first URL pattern matching."""

    _CACHE_SIZE = 4096

    def __init__(self, catalog: ContentCatalog) -> None:
        self.by_id = {entry.id: _Page.of(entry) for entry in catalog.entries}
        self._patterns: list[tuple[Callable[[str], object], _Page]] = []
        for entry in catalog.entries:
            if entry.url:
                self._patterns.append((re.compile(fnmatch.translate(entry.url)).match, self.by_id[entry.id]))
            if entry.url_regex:
                self._patterns.append((re.compile(entry.url_regex).search, self.by_id[entry.id]))
        self._cache: dict[tuple[str | None, str], tuple[str, _Page | None]] = {}

    def resolve(self, content_id: str | None, url: str) -> tuple[str, _Page | None]:
        """(key the lead profile files it under, catalogue entry or None)."""
        page = self.by_id.get(content_id) if content_id else None
        if page is not None:
            return page.id, page
        found = self._cache.get((content_id, url))
        if found is None:
            found = self._match_url(content_id, url)
            if len(self._cache) >= self._CACHE_SIZE:
                self._cache.clear()  # crude but bounded; the catalogue's own pages hit the id path
            self._cache[(content_id, url)] = found
        return found

    def _match_url(self, content_id: str | None, url: str) -> tuple[str, _Page | None]:
        for matches, page in self._patterns:
            if matches(url):
                return page.id, page
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
        stage, min_views, min_dwell, downloaded = self.stage, self.min_views, self.min_dwell, self.downloaded
        for c in profile.contents:
            if ((stage is None or c.stage == stage) and c.views >= min_views and c.dwell >= min_dwell
                    and (c.downloaded or not downloaded) and c.last >= since):
                return True
        return False


class IntentModel:
    """Updates lead profiles from behaviour events and assesses their buying intent.

    Two stages per event: transcript analysis (`signals_of`, calls only; the worker runs it once
    per call at ingest and carries the counts with the event) and the profile update + assessment
    (`update`, `assess`), the per-event hot path, which reads only plain floats bound in __init__.
    """

    def __init__(self, scoring: ScoringPolicy, catalog: ContentCatalog, lexicon: Lexicon) -> None:
        self.scoring, self.catalog, self.lexicon = scoring, catalog, lexicon
        if unknown := _unknown_trigger_signals(scoring, lexicon):
            raise ValueError(f"trigger signal {unknown[0]!r} is not in the lexicon")
        self._signals = {signal.name: signal for signal in lexicon.signals}
        self._labels = {signal.name: signal.label for signal in lexicon.signals}
        # name -> (points per mention, stage index or None, industry or None)
        self._signal_points = {signal.name: (signal.weight, _STAGE[signal.stage] if signal.stage else None,
                                             signal.industry) for signal in lexicon.signals}
        self._content = _ContentIndex(catalog)
        self._triggers = [_Trigger.of(pattern) for pattern in scoring.triggers]
        self._matcher = PhraseMatcher.from_lexicon(lexicon)
        self._half_life = scoring.half_life_hours * 3600
        self._recent_half_life = scoring.intensity.half_life_hours * 3600
        self._expiry = scoring.idle_expiry_days * 86400
        weights = scoring.weights
        self._view, self._repeat_view, self._download = weights.view, weights.repeat_view, weights.download
        self._form_submit, self._pos_purchase = weights.form_submit, weights.pos_purchase
        self._dwell_cap, self._dwell_per_second = weights.dwell_cap_seconds, weights.dwell_per_second
        self._dwell_max = _MAX_COUNT * weights.dwell_cap_seconds
        self._uncatalogued = weights.uncatalogued_content
        self._call_cap = weights.call_cap_minutes * 60
        self._call_per_minute, self._mentions_cap = weights.call_per_minute, weights.signal_mentions_cap
        self._max_contents, self._max_signals = scoring.max_contents, scoring.max_signals
        self._scale, self._threshold, self._rearm_below = scoring.scale, scoring.threshold, scoring.rearm_below
        self._p1, self._p2 = scoring.priority.p1, scoring.priority.p2
        self._high, self._medium = scoring.intensity.high, scoring.intensity.medium

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

    # ---- transcript analysis -----------------------------------------------------------------

    def signals_of(self, event: CallTranscript) -> dict[str, int]:
        """Mentions per lexicon signal in the call's transcript (signals not mentioned are absent).

        A stage of its own: it costs time in proportion to the transcript (~60 µs for 8 KB),
        so the worker runs it once per call, at ingest, and passes the counts to `update`."""
        return self._matcher.count(event.text)

    # ---- updating ----------------------------------------------------------------------------

    def update(self, profile: LeadProfile | None, event: InboundEvent,
               signals: Mapping[str, int] | None = None) -> LeadProfile:
        """Fold one event into the lead's profile (created when None). External signals are ignored.

        `signals` are a call's phrase counts from `signals_of`; when None, a call's transcript is
        analysed here. Names the lexicon does not know (it may have been reloaded since the
        analysis) and counts below one are ignored; so is `signals` for events other than calls."""
        t = event.ts.timestamp()
        if profile is None:
            profile = LeadProfile(last=t)
        if not isinstance(event, (WebEvent, CallTranscript, PosRow)):
            return profile
        # Bring the profile to time t (O(1): see `unit`); a late event's own points are
        # discounted by its age instead. `age` below converts points at t to stored units.
        dt = t - profile.last
        if dt > 0:
            profile.recent *= 2.0 ** (-dt / self._recent_half_life)
            profile.last = t
            unit = profile.unit * 2.0 ** (dt / self._half_life)
            profile.unit = unit
            if unit > _REBASE:
                profile.rebase()
                unit = 1.0
            age, recent_age = unit, 1.0
        else:
            unit = profile.unit
            age, recent_age = unit * 2.0 ** (dt / self._half_life), 2.0 ** (dt / self._recent_half_life)
        if not profile.armed and self._faded(profile, self._score(profile.total / unit), t):
            self._rearm(profile, t)  # before this event's points: interest had faded
        if isinstance(event, WebEvent):
            gained = self._web(profile, event, t, age)
        elif isinstance(event, CallTranscript):
            gained = self._call(profile, event, t, age,
                                self._matcher.count(event.text) if signals is None else signals)
        else:
            gained = self._pos(profile, event, age)
        profile.recent += gained / unit * recent_age
        profile.total += gained  # every point gained went into exactly one decayed field
        if event.region:
            profile.region = event.region
        return profile

    def _web(self, profile: LeadProfile, event: WebEvent, t: float, age: float) -> float:
        key, page = self._content.resolve(event.content_id, event.url)
        kind = event.kind
        if kind == "form_submit":
            points = self._form_submit * age
            forms = profile.forms + 1
            profile.forms = forms if forms < _MAX_COUNT else _MAX_COUNT
            profile.form_points += points
            if t > profile.form_last:
                profile.form_last = t
        else:
            stats = self._content_stats(profile, key, page)
            dwell = event.dwell_seconds
            if dwell > self._dwell_cap:
                dwell = self._dwell_cap
            if kind == "page_view":
                views = stats.views
                base = self._repeat_view if views else self._view
                stats.views = views + 1 if views < _MAX_COUNT else _MAX_COUNT
            else:
                base = self._download
                stats.downloaded = True
            weight = page.weight if page is not None else self._uncatalogued
            points = (base + dwell * self._dwell_per_second) * weight * age
            total_dwell = stats.dwell + dwell
            stats.dwell = total_dwell if total_dwell < self._dwell_max else self._dwell_max
            stats.points += points
            if t > stats.last:
                stats.last = t
            stats.text = stats.line = ""
        if page is not None:
            profile.stages[page.stage] += points
            industries = profile.industries
            for industry in page.industries:
                _add_evidence(industries, industry, points)
            _add_evidence(profile.products, page.product, points)
            if profile.language is None:
                profile.language = page.language
        return points

    def _content_stats(self, profile: LeadProfile, key: str, page: _Page | None) -> ContentStats:
        contents, keys = profile.contents, profile.content_keys
        if key in keys:
            return contents[keys.index(key)]
        if len(contents) >= self._max_contents:
            weakest, least = 0, contents[0].points  # the first of the least points
            for index in range(1, len(contents)):
                if contents[index].points < least:
                    weakest, least = index, contents[index].points
            del keys[weakest]
            profile.spill += contents.pop(weakest).points
        stats = (ContentStats(key, page.stage, page.product) if page is not None
                 else ContentStats(key, _NO_STAGE, None))
        contents.append(stats)
        keys.append(key)
        return stats

    def _call(self, profile: LeadProfile, event: CallTranscript, t: float, age: float,
              signals: Mapping[str, int]) -> float:
        seconds = event.duration_seconds
        if seconds > self._call_cap:
            seconds = self._call_cap
        gained = seconds / 60 * self._call_per_minute * age
        profile.call_seconds = min(profile.call_seconds + seconds, 1e7)
        profile.call_points += gained
        known, cap, held, stages = self._signal_points, self._mentions_cap, profile.signals, profile.stages
        for name, mentions in signals.items():
            found = known.get(name)
            if found is None or mentions < 1:
                continue
            weight, stage, industry = found
            points = weight * (mentions if mentions < cap else cap) * age
            stats = held.get(name)
            if stats is None:
                if len(held) >= self._max_signals:
                    self._forget_weakest_signal(profile)
                held[name] = SignalStats(mentions if mentions < _MAX_COUNT else _MAX_COUNT, points,
                                         t if t > 0.0 else 0.0)
            else:
                count = stats.count + mentions
                stats.count = count if count < _MAX_COUNT else _MAX_COUNT
                stats.points += points
                if t > stats.last:
                    stats.last = t
                stats.text = stats.line = ""
            if stage is not None:
                stages[stage] += points
            if industry:
                _add_evidence(profile.industries, industry, points)
            gained += points
        if event.language != "und":
            profile.language = event.language  # what the lead speaks beats what it reads
        return gained

    @staticmethod
    def _forget_weakest_signal(profile: LeadProfile) -> None:
        """Drop the first of the signals with the least points; its points go to the spill."""
        held = profile.signals
        entries = iter(held.items())
        weakest, stats = next(entries)
        least = stats.points
        for name, stats in entries:
            if stats.points < least:
                weakest, least = name, stats.points
        profile.spill += held.pop(weakest).points

    def _pos(self, profile: LeadProfile, event: PosRow, age: float) -> float:
        if event.customer_id is None:
            return 0.0  # an anonymous purchase says nothing about this lead
        points = self._pos_purchase * age
        profile.purchases = min(profile.purchases + 1, _MAX_COUNT)
        profile.purchase_points += points
        profile.stages[_PURCHASE] += points
        return points

    # ---- reading -----------------------------------------------------------------------------

    def _score(self, raw: float) -> float:
        return 100.0 * (1.0 - math.exp(-raw / self._scale))

    def assess(self, profile: LeadProfile, now: datetime, explain: bool | None = None) -> Intent:
        """The lead's intent at `now`, and whether routing should fire.

        `top_signals` (the readable explanation) is built when asked (`explain=True`) or, by
        default, only when routing fires: the decision is what needs explaining, and most
        events decide nothing."""
        t = now.timestamp()
        dt = t - profile.last
        total = profile.total  # stored units
        raw = total / profile.unit
        if dt > 0:
            score = 100.0 * (1.0 - math.exp(-(raw * 2.0 ** (-dt / self._half_life)) / self._scale))
            recent = profile.recent * 2.0 ** (-dt / self._recent_half_life)
        else:
            score = 100.0 * (1.0 - math.exp(-raw / self._scale))
            recent = profile.recent
        if not profile.armed and self._faded(profile, score, t):
            self._rearm(profile, max(t, profile.last))
        trigger: str | None = None
        priority: Priority = "p1" if score >= self._p1 else "p2" if score >= self._p2 else "p3"
        if profile.armed:
            # Only activity since re-arming counts, or a re-armed lead would fire on the very
            # behaviour it was already routed for, or on what it did while disarmed.
            since = profile.armed_at if profile.armed_at is not None else -math.inf
            for pattern in self._triggers:
                if pattern.holds(profile, since):
                    trigger = pattern.name
                    if pattern.priority is not None:
                        priority = min(priority, pattern.priority)  # "p1" < "p2" < "p3"
                    break
            else:
                if score >= self._threshold:
                    trigger = "threshold"
        stages = profile.stages
        top = max(stages)
        return _new_intent({
            "score": score,
            "stage": STAGES[stages.index(top)] if top > 0 else "awareness",
            "intensity": "high" if recent >= self._high else "medium" if recent >= self._medium else "low",
            "industry": _leader(profile.industries),
            "product": _leader(profile.products),
            "language": profile.language,
            "region": profile.region,
            "priority": priority,
            "top_signals": self._explain(profile, score, total) if (explain or explain is None and trigger) else [],
            "trigger": trigger,
        })

    def _faded(self, profile: LeadProfile, score: float, t: float) -> bool:
        """A routed lead's interest has faded: its score is under rearm_below and at least one
        half-life has passed since routing. The second condition matters for leads routed by a
        trigger pattern at a score already under rearm_below: they would re-arm at once."""
        if profile.armed or score >= self._rearm_below:
            return False
        return profile.routed_at is None or t - profile.routed_at >= self._half_life

    @staticmethod
    def _rearm(profile: LeadProfile, t: float) -> None:
        profile.armed = True
        profile.armed_at = t

    def _explain(self, profile: LeadProfile, score: float, raw: float) -> list[str]:
        """The strongest contributions, in score points (all of them add up to the score).
        `raw` is the profile's `total`: stored units, like the parts (their ratio is what counts).

        Only parts worth at least one point after rounding are sorted, at most five are
        formatted, and their text without the share is cached on the part until it changes."""
        if raw <= 0:
            return []
        per_point = score / raw
        # round(x) >= 1 exactly when x > 0.5 (round half to even), and share grows with points:
        # the parts kept are the ones the full sorted list would show before its first "+0".
        # A part is (points, stats or None, signal name / fixed part name or None).
        parts: list[tuple[float, ContentStats | SignalStats | None, str | None]] = [
            (c.points, c, None) for c in profile.contents if c.points * per_point > 0.5]
        signals = profile.signals
        if signals:
            parts += [(s.points, s, name) for name, s in signals.items() if s.points * per_point > 0.5]
        if (points := profile.form_points) * per_point > 0.5:
            parts.append((points, None, _FORMS))
        if (points := profile.call_points) * per_point > 0.5:
            parts.append((points, None, _CALLS))
        if (points := profile.purchase_points) * per_point > 0.5:
            parts.append((points, None, _PURCHASES))
        if (points := profile.spill) * per_point > 0.5:
            parts.append((points, None, _SPILL))
        if len(parts) > 1:
            parts.sort(key=_POINTS, reverse=True)  # stable: ties keep the order above
        lines = []
        for points, part, name in parts[:_TOP_SIGNALS]:
            share = round(points * per_point)
            if part is None:
                lines.append("%s (+%d)" % (self._describe(profile, name), share))
            elif part.shown == share and part.line:
                lines.append(part.line)
            else:
                text = part.text or (self._signal_text(name, part) if name is not None
                                     else self._content_text(part))
                part.line = line = "%s (+%d)" % (text, share)
                part.shown = share
                lines.append(line)
        return lines

    def _content_text(self, part: ContentStats) -> str:
        page = self._content.by_id.get(part.key)
        title = page.title if page else "an uncatalogued page"
        if not part.views:
            text = f"downloaded {title}"
        else:
            text = f"viewed {title} {part.views}x, {part.dwell:.0f} s"
            if part.downloaded:
                text += ", downloaded"
        part.text = text
        return text

    def _signal_text(self, name: str, stats: SignalStats) -> str:
        stats.text = text = f"{self._labels.get(name, name)} {stats.count}x on calls"
        return text

    def _describe(self, profile: LeadProfile, part: str) -> str:
        if part == _FORMS:
            return "submitted a form" if profile.forms == 1 else f"submitted {profile.forms} forms"
        if part == _CALLS:
            return f"talked {profile.call_seconds / 60:.0f} min on calls"
        if part == _PURCHASES:
            return f"bought in store {profile.purchases}x"
        return "earlier activity"

    # ---- lifecycle ---------------------------------------------------------------------------

    def mark_routed(self, profile: LeadProfile, now: datetime) -> None:
        """Disarm after routing; `now` is the time `assess` was asked about."""
        profile.armed = False
        profile.routed_at = now.timestamp()

    def is_expired(self, profile: LeadProfile, now: datetime) -> bool:
        return now.timestamp() - profile.last > self._expiry
