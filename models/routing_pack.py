"""Industry strategy packs (how to weigh a match, what a rep must hold) and content packs (what a
rep gets with the lead). Both are YAML templates under config/; these models validate them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.reps import Certification, Industry, StageName
from models.routing import ContentPack

# Soft score components, in the order of the matcher's component matrix rows.
COMPONENTS = ("win_rate", "close_rate", "stage_fit", "product_fit", "industry_fit", "load", "fairness")
DEFAULT_PACK = "default"


def _weight() -> Any:
    return Field(default=0.0, ge=0, le=10)


class Weights(BaseModel):
    """Weight of each soft component; components are each in 0..1, so the weights set their say."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    win_rate: float = _weight()  # measured win rate of the rep in the lead's industry (180 days)
    close_rate: float = _weight()  # measured close rate of the rep on the lead's product (90 days)
    stage_fit: float = _weight()  # declared skill for the lead's buying stage
    product_fit: float = _weight()  # declared skill on the lead's product
    industry_fit: float = _weight()  # declared skill in the lead's industry
    load: float = _weight()  # free capacity: 1 - open / capacity
    fairness: float = _weight()  # how far below a fair share of recent leads the rep is

    @model_validator(mode="after")
    def _some_weight(self) -> Weights:
        if not any(getattr(self, name) for name in COMPONENTS):
            raise ValueError("at least one weight must be above 0")
        return self


class SlaMinutes(BaseModel):
    """Minutes a rep has to accept a lead of each priority before it is re-routed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p1: float = Field(default=5, gt=0)
    p2: float = Field(default=30, gt=0)
    p3: float = Field(default=240, gt=0)


class IndustryPack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    industries: tuple[Industry, ...] = ()  # leads of these industries use this pack
    weights: Weights
    # Stage (or "all") -> certifications a rep must hold to take the lead.
    required_certifications: dict[Literal["all"] | StageName, tuple[Certification, ...]] = {}
    enforce_territory: bool = True
    overflow: str = Field(default="overflow", min_length=1)  # queue for leads no rep can take
    sla_minutes: SlaMinutes = SlaMinutes()

    def certifications_for(self, stage: str) -> tuple[str, ...]:
        required = self.required_certifications
        return tuple(dict.fromkeys((*required.get("all", ()), *required.get(stage, ()))))


class PackSet(BaseModel):
    """All industry packs; exactly one named "default" takes industries no other pack claims."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    packs: tuple[IndustryPack, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PackSet:
        names = [pack.name for pack in self.packs]
        if DEFAULT_PACK not in names:
            raise ValueError(f"a pack named {DEFAULT_PACK!r} is required")
        if len(set(names)) != len(names):
            raise ValueError("pack names must be unique")
        claimed = [industry for pack in self.packs for industry in pack.industries]
        if len(set(claimed)) != len(claimed):
            raise ValueError("an industry is claimed by more than one pack")
        return self

    def by_name(self) -> dict[str, IndustryPack]:
        return {pack.name: pack for pack in self.packs}

    def for_industry(self, industry: str | None) -> IndustryPack:
        claimed = (pack for pack in self.packs if industry in pack.industries)
        return next(claimed, None) or self.by_name()[DEFAULT_PACK]


class StagedContentPack(ContentPack):
    """A content pack as written in config/content_packs.yaml: for one industry (or default) and stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    industry: Literal["default"] | Industry
    stage: StageName

    def content(self) -> ContentPack:
        return ContentPack(id=self.id, talk_track=self.talk_track,
                           competitor_matrix=self.competitor_matrix, documents=self.documents)


class ContentLibrary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    packs: tuple[StagedContentPack, ...] = ()

    @model_validator(mode="after")
    def _one_per_slot(self) -> ContentLibrary:
        slots = [(pack.industry, pack.stage) for pack in self.packs]
        if len(set(slots)) != len(slots):
            raise ValueError("more than one content pack for the same industry and stage")
        return self

    def lookup(self) -> dict[tuple[str, str], ContentPack]:
        return {(pack.industry, pack.stage): pack.content() for pack in self.packs}
