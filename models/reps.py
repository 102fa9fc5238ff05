"""Sales reps as the router sees them: declared skills, territory, capacity and working hours.

Skill names come from a fixed vocabulary so a typo in the roster is refused at load time
instead of silently never matching a lead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

INDUSTRIES = ("manufacturing", "medical", "education", "automotive", "retail", "energy", "finance", "logistics")
PRODUCTS = ("hv-connector", "plc-controller", "servo-drive", "patient-monitor", "lab-analyzer",
            "smart-classroom", "lms-platform", "pos-terminal", "energy-storage")
CERTIFICATIONS = ("iso13485", "iatf16949", "iso26262", "gmp", "pmp")
LANGUAGES = ("zh", "en", "ja", "de")
STAGES = ("awareness", "consideration", "technical_validation", "purchase")
REGIONS = ("North", "East", "South", "Southwest", "Central", "Northeast")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Kind of skill -> its names; the order fixes the columns of the matcher's proficiency matrix.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "industries": INDUSTRIES,
    "products": PRODUCTS,
    "certifications": CERTIFICATIONS,
    "languages": LANGUAGES,
    "stages": STAGES,
}
SKILL_DIMENSIONS: tuple[tuple[str, str], ...] = tuple(
    (kind, name) for kind, names in VOCABULARY.items() for name in names)


def _member_of(kind: str, names: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in names:
            raise ValueError(f"unknown {kind} {value!r}; expected one of {', '.join(names)}")
        return value
    return check


Industry = Annotated[str, AfterValidator(_member_of("industry", INDUSTRIES))]
Product = Annotated[str, AfterValidator(_member_of("product", PRODUCTS))]
Certification = Annotated[str, AfterValidator(_member_of("certification", CERTIFICATIONS))]
Language = Annotated[str, AfterValidator(_member_of("language", LANGUAGES))]
StageName = Annotated[str, AfterValidator(_member_of("stage", STAGES))]
Region = Annotated[str, AfterValidator(_member_of("region", REGIONS))]
Weekday = Annotated[str, AfterValidator(_member_of("weekday", WEEKDAYS))]
Proficiency = Annotated[float, Field(ge=0, le=1)]


def _list_as_full_proficiency(value: Any) -> Any:
    # A plain YAML list means "fully proficient in each"; a map gives the level per name.
    return {name: 1.0 for name in value} if isinstance(value, (list, tuple)) else value


def _skills(name: Any) -> Any:
    """Skill levels by name; YAML may give a list (all 1.0) or a name -> level map."""
    return Annotated[dict[name, Proficiency], BeforeValidator(_list_as_full_proficiency)]


class WorkingHours(BaseModel):
    """Local working time of a rep, e.g. 09:00-18:00 Mon-Fri in Asia/Shanghai.

    An end before the start is a night shift; its hours after midnight belong to the day it started.
    Times are on the quarter hour so the matcher's quarter-hour week bitmap is exact.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: str = Field(default="09:00-18:00", pattern=r"^([01]\d|2[0-3]):(00|15|30|45)-([01]\d|2[0-4]):(00|15|30|45)$")
    days: tuple[Weekday, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    tz: str = "Asia/Shanghai"

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    def span(self) -> tuple[int, int]:
        """(start, end) in minutes after local midnight."""
        start, end = (int(t[:2]) * 60 + int(t[3:]) for t in self.hours.split("-"))
        return start, end

    def covers(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.tz))
        minute = local.hour * 60 + local.minute
        start, end = self.span()
        if start < end:
            return start <= minute < end and WEEKDAYS[local.weekday()] in self.days
        if minute >= start:
            return WEEKDAYS[local.weekday()] in self.days
        return minute < end and WEEKDAYS[(local - timedelta(days=1)).weekday()] in self.days


class Rep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    active: bool = True  # on the team; round robin and matching only see active reps
    available: bool = True  # temporarily off (leave, training) without leaving the roster
    regions: tuple[Region, ...] = ()  # territories; empty = takes leads from any region
    capacity: int = Field(default=10, ge=1)  # open leads at most
    hours: WorkingHours | None = None  # None = reachable around the clock
    industries: _skills(Industry) = {}
    products: _skills(Product) = {}
    certifications: _skills(Certification) = {}
    languages: _skills(Language) = {}
    stages: _skills(StageName) = {}

    def skill(self, kind: str, name: str) -> float:
        return getattr(self, kind).get(name, 0.0)


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reps: list[Rep] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Roster:
        seen: set[str] = set()
        for rep in self.reps:
            if rep.id in seen:
                raise ValueError(f"rep id {rep.id!r} appears twice")
            seen.add(rep.id)
        return self

    def active(self) -> list[Rep]:
        return [rep for rep in self.reps if rep.active]
