"""Alert rules: the metric catalogue they speak about (config/metrics.yaml), the rules file
(config/alert_rules.yaml) and the typed syntax tree a parsed rule becomes.

A rule names metrics and regions by any alias of the catalogue, in English or Chinese; the
tree holds canonical names only, so `sales in North` and `华北 销量` are the same comparison.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from dataclasses import dataclass
from typing import Annotated, Literal, TypeAlias, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.events import Event, Source
from models.alerts import Severity

ANY_REGION = "any"  # a comparison / rule scope meaning "each region on its own"
SEVERITIES: tuple[Severity, ...] = ("red", "orange", "yellow", "blue")

# Metrics the pipeline computes itself; their meaning is fixed here, their aliases come from YAML.
BUILTIN_METRICS: dict[str, str] = {
    "sales": "sum of POS row amounts",
    "orders": "count of POS rows",
    "units": "sum of POS row quantities",
    "leads_created": "count of leads seen for the first time",
    "leads_routed": "count of leads routed to a rep",
    "sla_breaches": "count of SLA breaches (a rep did not accept in time)",
    "web_sessions": "count of distinct web visitors",
}
# Numeric fields of each source that a user-defined metric may sum.
NUMERIC_FIELDS: dict[str, tuple[str, ...]] = {
    "web": ("dwell_seconds",),
    "call": ("duration_seconds",),
    "pos": ("amount", "quantity"),
    "signal": ("value",),
}
WebKind: TypeAlias = Literal["page_view", "content_download", "form_submit"]

MetricName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# Words (any script), digits, spaces and - . & + inside: what the rule lexer can match safely.
Alias = Annotated[str, Field(pattern=r"^\w(?:[\w .&+\-]{0,62}\w)?$")]


def alias_key(alias: str) -> str:
    """How aliases compare: case and runs of spaces do not matter."""
    return " ".join(alias.casefold().split())


class _Named(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    aliases: tuple[Alias, ...] = ()
    description: str = ""

    def spellings(self) -> tuple[str, ...]:
        """The name itself, then its aliases (with `_` read as a space), without repeats."""
        names = (self.name, self.name.replace("_", " "), *self.aliases)
        return tuple(dict.fromkeys(names))


class Region(_Named):
    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]


class BuiltinMetric(_Named):
    """A metric the pipeline computes from its own streams (see BUILTIN_METRICS)."""

    type: Literal["builtin"]
    name: MetricName

    @model_validator(mode="after")
    def _known(self) -> BuiltinMetric:
        if self.name not in BUILTIN_METRICS:
            raise ValueError(f"unknown builtin metric {self.name!r}; expected one of {', '.join(BUILTIN_METRICS)}")
        return self


class SignalMetric(_Named):
    """Values of one kind of external signal (competitor activity, tenders, a commodity price)."""

    type: Literal["signal"]
    name: MetricName
    signal_kind: str = Field(min_length=1, max_length=64)
    aggregate: Literal["sum", "avg", "max", "min", "count"] = "sum"


class EventFilter(BaseModel):
    """Which events of a source count. Patterns are shell globs (`*/checkout*`, `SRV-*`);
    phrases match a transcript case-insensitively, any one of them is enough."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    web_kind: tuple[WebKind, ...] = ()  # web
    url: tuple[str, ...] = ()  # web: glob on the page URL
    content_id: tuple[str, ...] = ()  # web: glob on the content id
    sku: tuple[str, ...] = ()  # pos: globs naming a SKU family
    phrases: tuple[str, ...] = ()  # call: transcript contains one of these
    signal_kind: tuple[str, ...] = ()  # signal

    def used_fields(self) -> set[str]:
        return {name for name in type(self).model_fields if getattr(self, name)}


# The event field each filter field tests, by source: the filters a source allows, and the fields
# whose values alone decide whether one of its events matches an event metric.
_FILTER_FIELDS: dict[str, dict[str, str]] = {
    "web": {"web_kind": "kind", "url": "url", "content_id": "content_id"},
    "call": {"phrases": "text"},
    "pos": {"sku": "sku"},
    "signal": {"signal_kind": "kind"},
}


def matched_fields(source: Source) -> tuple[str, ...]:
    """The event fields `EventMetric.matches` reads for an event of `source`."""
    return tuple(_FILTER_FIELDS[source].values())


@functools.lru_cache(maxsize=16_384)  # the same pages and SKUs recur on every event stream
def _any_glob(value: str | None, patterns: tuple[str, ...]) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


class EventMetric(_Named):
    """A user-defined metric: count of, or sum of a numeric field over, one source's events that
    pass `where`."""

    type: Literal["events"]
    name: MetricName
    source: Source
    aggregate: Literal["count", "sum"] = "count"
    field: str | None = None  # the summed field, for aggregate "sum"
    where: EventFilter = EventFilter()

    @model_validator(mode="after")
    def _fits_source(self) -> EventMetric:
        if self.aggregate == "sum":
            fields = NUMERIC_FIELDS[self.source]
            if self.field not in fields:
                raise ValueError(f"a sum over {self.source} events needs field: one of {', '.join(fields)}")
        elif self.field is not None:
            raise ValueError("field is only used with aggregate: sum")
        misplaced = self.where.used_fields() - _FILTER_FIELDS[self.source].keys()
        if misplaced:
            raise ValueError(f"{', '.join(sorted(misplaced))} cannot filter {self.source} events; "
                             f"use {', '.join(sorted(_FILTER_FIELDS[self.source]))}")
        return self

    def matches(self, event: Event) -> bool:
        """Whether `event` counts towards this metric."""
        if event.source != self.source:
            return False
        where = self.where
        if event.source == "web":
            return ((not where.web_kind or event.kind in where.web_kind)
                    and (not where.url or _any_glob(event.url, where.url))
                    and (not where.content_id or _any_glob(event.content_id, where.content_id)))
        if event.source == "pos":
            return not where.sku or _any_glob(event.sku, where.sku)
        if event.source == "call":
            text = event.text.casefold()
            return not where.phrases or any(phrase.casefold() in text for phrase in where.phrases)
        return not where.signal_kind or event.kind in where.signal_kind

    def amount(self, event: Event) -> float:
        """What `event` adds to the metric (1 for a count), 0 when it does not match."""
        if not self.matches(event):
            return 0.0
        return 1.0 if self.field is None else float(getattr(event, self.field))


class RatioMetric(_Named):
    """numerator / denominator of two other (non-ratio) metrics, e.g. checkout conversion."""

    type: Literal["ratio"]
    name: MetricName
    numerator: MetricName
    denominator: MetricName


Metric = Annotated[Union[BuiltinMetric, SignalMetric, EventMetric, RatioMetric], Field(discriminator="type")]


class MetricCatalog(BaseModel):
    """Every metric and region a rule may name, with their aliases, and where events land."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: tuple[Region, ...] = Field(min_length=1)
    default_region: str = Field(default="unknown", min_length=1, max_length=64)  # events of no known region
    stores: dict[str, str] = {}  # store id -> region (name or alias)
    locations: dict[str, str] = {}  # visitor location (city, province) -> region (name or alias)
    metrics: tuple[Metric, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> MetricCatalog:
        for kind, items in (("region", self.regions), ("metric", self.metrics)):
            names = [item.name for item in items]
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise ValueError(f"{kind} names must be unique: {', '.join(twice)}")
        seen: dict[str, str] = {}
        for kind, items in (("region", self.regions), ("metric", self.metrics)):
            for item in items:
                for spelling in item.spellings():
                    key = alias_key(spelling)
                    owner = f"{kind} {item.name}"
                    if key in (alias_key(ANY_REGION), "any region"):
                        raise ValueError(f"{owner}: {spelling!r} is reserved for 'any region'")
                    if seen.setdefault(key, owner) != owner:
                        raise ValueError(f"{spelling!r} names both {seen[key]} and {owner}")
        metrics = {metric.name: metric for metric in self.metrics}
        for metric in self.metrics:
            if isinstance(metric, RatioMetric):
                for part in (metric.numerator, metric.denominator):
                    if part not in metrics:
                        raise ValueError(f"ratio metric {metric.name}: unknown metric {part!r}")
                    if isinstance(metrics[part], RatioMetric):
                        raise ValueError(f"ratio metric {metric.name}: {part!r} is a ratio itself")
        for kind, mapping in (("store", self.stores), ("location", self.locations)):
            for place, region in mapping.items():
                if self.region_named(region) is None and region != self.default_region:
                    raise ValueError(f"{kind} {place!r}: unknown region {region!r}")
        return self

    def metric(self, name: str) -> BuiltinMetric | SignalMetric | EventMetric | RatioMetric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def region_names(self) -> tuple[str, ...]:
        """The regions an "any region" rule is evaluated for (the default region is not one)."""
        return tuple(region.name for region in self.regions)

    def metric_aliases(self) -> dict[str, str]:
        """alias_key(spelling) -> canonical metric name, for every spelling."""
        return {alias_key(s): metric.name for metric in self.metrics for s in metric.spellings()}

    def region_aliases(self) -> dict[str, str]:
        return {alias_key(s): region.name for region in self.regions for s in region.spellings()}

    def _locations(self) -> dict[str, str]:
        return {alias_key(place): region for place, region in self.locations.items()}

    def region_named(self, text: str) -> str | None:
        return self.region_aliases().get(alias_key(text))

    def resolve_region(self, region: str | None = None, store: str | None = None) -> str:
        """Canonical region of an event: its region field (any alias, or a visitor location listed
        in `locations`), else its store's, else the default region."""
        if region and (name := self.region_named(region)):
            return name
        if region and (place := self._locations().get(alias_key(region))):
            return self.region_named(place) or self.default_region
        if store and store in self.stores:
            return self.region_named(self.stores[store]) or self.default_region
        return self.default_region


class RuleEntry(BaseModel):
    """One entry of config/alert_rules.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    rule: str = Field(min_length=1, max_length=2000)
    description: str = ""


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[RuleEntry, ...] = ()


# --- the syntax tree of a parsed rule -------------------------------------------------------

Direction: TypeAlias = Literal["up", "down"]
Baseline: TypeAlias = Literal["day", "week"]


@dataclass(frozen=True)
class Change:
    """The metric moved more than `percent` % in `direction` against its value a day / week ago."""

    direction: Direction
    percent: float
    baseline: Baseline


@dataclass(frozen=True)
class Threshold:
    """The metric is strictly above / below `value` (a `5%` threshold is stored as 0.05)."""

    op: Literal["above", "below"]
    value: float


@dataclass(frozen=True)
class Comparison:
    metric: str  # canonical metric name
    region: str  # canonical region name or ANY_REGION
    test: Change | Threshold


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]  # two or more; never an And itself (flattened)


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]  # two or more; never an Or itself (flattened)


Expr: TypeAlias = Union[Comparison, And, Or]


def comparisons(expr: Expr) -> tuple[Comparison, ...]:
    """The comparisons of `expr` in the order they are written."""
    if isinstance(expr, Comparison):
        return (expr,)
    return tuple(c for part in expr.parts for c in comparisons(part))


def scope_of(expr: Expr) -> str:
    """ANY_REGION when any comparison is "in any region"; else the first comparison's region,
    which is the region an alert of the rule is raised for."""
    regions = [c.region for c in comparisons(expr)]
    return ANY_REGION if ANY_REGION in regions else regions[0]


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Expr
    for_seconds: int  # how long the condition must hold before the alert fires (0: at once)
    severity: Severity
    scope: str  # a canonical region, or ANY_REGION: one alert per region where it holds
    text: str = dataclasses.field(default="", compare=False)  # the source; not part of its identity
