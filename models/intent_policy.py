"""The three policy files behind intent scoring: content catalogue, phrase lexicon, scoring.

Business users edit them as YAML (`config/*.yaml`); these models refuse anything the scorer
could misread. Name lengths are capped because names are stored in every lead profile,
whose serialized size must stay within 2 KiB.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from models.routing import Priority, Stage

Name = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Industry = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[a-z][a-z0-9_-]*$")]
Product = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Language = Annotated[str, Field(min_length=2, max_length=16)]
Weight = Annotated[float, Field(ge=0)]


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duplicates(names: list[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)


# ---- content catalogue ---------------------------------------------------------------------

class ContentEntry(Policy):
    """A page or document: matched by its content id, else by its URL (glob or regex)."""

    id: Name  # the tracker's content_id
    title: str = Field(min_length=1, max_length=80)  # readable, used in explanations
    url: str | None = Field(default=None, min_length=1)  # glob, e.g. "*/hv-connector*"
    url_regex: str | None = Field(default=None, min_length=1)
    product: Product
    stage: Stage
    industries: list[Industry] = []
    language: Language | None = None
    weight: Weight = 1.0

    @field_validator("url_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class ContentCatalog(Policy):
    entries: list[ContentEntry] = Field(min_length=1)

    @field_validator("entries")
    @classmethod
    def _unique_ids(cls, entries: list[ContentEntry]) -> list[ContentEntry]:
        if repeated := _duplicates([entry.id for entry in entries]):
            raise ValueError(f"content ids listed twice: {', '.join(repeated)}")
        return entries


# ---- phrase lexicon ------------------------------------------------------------------------

class PhraseSignal(Policy):
    """Phrases that, said on a call, mean the same thing (one signal)."""

    name: Name
    label: str = Field(min_length=1, max_length=60)  # readable, used in explanations
    phrases: list[str] = Field(min_length=1)
    weight: Weight  # score points per mention
    stage: Stage | None = None  # buying stage the phrase is evidence of
    industry: Industry | None = None  # industry the phrase hints at

    @field_validator("phrases")
    @classmethod
    def _no_blank_phrases(cls, phrases: list[str]) -> list[str]:
        if any(not phrase.strip() for phrase in phrases):
            raise ValueError("a phrase must not be blank")
        return phrases


class Lexicon(Policy):
    signals: list[PhraseSignal] = Field(min_length=1, max_length=64)

    @field_validator("signals")
    @classmethod
    def _unambiguous(cls, signals: list[PhraseSignal]) -> list[PhraseSignal]:
        if repeated := _duplicates([signal.name for signal in signals]):
            raise ValueError(f"signal names listed twice: {', '.join(repeated)}")
        # A phrase in two signals would be counted for whichever the matcher tries first.
        phrases = [" ".join(p.lower().split()) for signal in signals for p in set(signal.phrases)]
        if repeated := _duplicates(phrases):
            raise ValueError(f"phrases listed under two signals: {', '.join(repeated)}")
        return signals


# ---- scoring -------------------------------------------------------------------------------

class Weights(Policy):
    """Raw score points per unit of behaviour (before decay and the 0..100 scale)."""

    view: Weight  # first view of a content
    repeat_view: Weight  # each further view of the same content
    dwell_per_second: Weight
    dwell_cap_seconds: float = Field(gt=0)  # longer dwell on one view counts as this much
    download: Weight
    form_submit: Weight
    call_per_minute: Weight
    call_cap_minutes: float = Field(gt=0)  # per call
    signal_mentions_cap: int = Field(ge=1)  # mentions of one signal counted per call
    pos_purchase: Weight  # a store purchase by a known customer
    uncatalogued_content: Weight  # weight of a page that is not in the catalogue


class PriorityBands(Policy):
    p1: float = Field(ge=0, le=100)
    p2: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.p2 > self.p1:
            raise ValueError("p2 must not be above p1")
        return self


class IntensityBands(Policy):
    """Intensity is recent activity: raw points decayed with their own, short half-life."""

    half_life_hours: float = Field(gt=0)
    high: Weight
    medium: Weight

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.medium > self.high:
            raise ValueError("medium must not be above high")
        return self


class TriggerConditions(Policy):
    """All conditions must hold. The content conditions must hold for one and the same content."""

    stage: Stage | None = None
    min_views_same_content: int = Field(default=0, ge=0)
    min_dwell_seconds_same_content: float = Field(default=0, ge=0)
    downloaded: bool = False
    form_submitted: bool = False
    signals: list[Name] = []  # each must have been heard on a call

    def needs_content(self) -> bool:
        return bool(self.stage or self.min_views_same_content or self.min_dwell_seconds_same_content
                    or self.downloaded)


class TriggerPattern(Policy):
    name: Name
    description: str = ""
    when: TriggerConditions
    priority: Priority | None = None  # lifts the lead's priority to at least this when it fires

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.when == TriggerConditions():
            raise ValueError("a trigger needs at least one condition")
        return self


class ScoringPolicy(Policy):
    half_life_hours: float = Field(gt=0)
    scale: float = Field(gt=0)  # score = 100 * (1 - exp(-raw / scale))
    threshold: float = Field(gt=0, le=100)
    rearm_below: float = Field(ge=0, le=100)
    idle_expiry_days: float = Field(gt=0)
    max_contents: int = Field(ge=1, le=8)  # per lead; the weakest is forgotten beyond this
    max_signals: int = Field(ge=1, le=8)  # phrase signals kept per lead
    weights: Weights
    priority: PriorityBands
    intensity: IntensityBands
    triggers: list[TriggerPattern] = []

    @field_validator("rearm_below")
    @classmethod
    def _below_threshold(cls, value: float, info: ValidationInfo) -> float:
        if value >= info.data.get("threshold", 100):
            raise ValueError("must be below threshold, or a routed lead would re-arm at once")
        return value

    @field_validator("triggers")
    @classmethod
    def _unique_names(cls, triggers: list[TriggerPattern]) -> list[TriggerPattern]:
        if repeated := _duplicates([trigger.name for trigger in triggers]):
            raise ValueError(f"trigger names listed twice: {', '.join(repeated)}")
        return triggers
