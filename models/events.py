"""Inbound behaviour events, one model per source topic."""

from __future__ import annotations

from typing import Literal, Self, TypeAlias

from pydantic import Field, model_validator

from models.base import Contract, UtcDatetime, stable_id

Source: TypeAlias = Literal["web", "call", "pos", "signal"]

ShortText = Field(min_length=1, max_length=256)


class InboundEvent(Contract):
    """Fields every inbound event has. `event_id` is derived from the content when absent."""

    event_id: str = Field(default="", max_length=64)
    ts: UtcDatetime

    source: Source  # set by each subclass; never trusted from the payload

    @model_validator(mode="after")
    def _derive_event_id(self) -> Self:
        if not self.event_id:
            # A producer retry of the same payload yields the same id: no double count.
            body = self.model_dump_json(exclude={"event_id", "schema_version"})
            object.__setattr__(self, "event_id", stable_id("event", body))
        return self

    def identities(self) -> dict[str, str]:
        """The identifiers of the person behind the event, by kind (none for region events)."""
        return {}


class WebEvent(InboundEvent):
    """Website tracking: a page view, a content download or a form submission."""

    source: Literal["web"] = "web"
    kind: Literal["page_view", "content_download", "form_submit"]
    visitor_id: str = ShortText
    url: str = Field(min_length=1, max_length=2048)
    content_id: str | None = Field(default=None, max_length=256)
    dwell_seconds: float = Field(default=0.0, ge=0)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=256)
    account: str | None = Field(default=None, max_length=256)
    region: str | None = Field(default=None, max_length=64)

    def identities(self) -> dict[str, str]:
        ids = {"cookie": self.visitor_id}  # never empty (min_length=1)
        if self.email:
            ids["email"] = self.email
        if self.phone:
            ids["phone"] = self.phone
        return ids


class CallTranscript(InboundEvent):
    """A call-centre call with its transcript; at least one caller identifier is required."""

    source: Literal["call"] = "call"
    call_id: str = ShortText
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=256)
    messaging_id: str | None = Field(default=None, max_length=256)
    line: str = Field(default="", max_length=128)
    agent: str = Field(default="", max_length=128)
    language: str = Field(default="und", max_length=16)
    text: str = Field(default="", max_length=200_000)
    duration_seconds: float = Field(default=0.0, ge=0)
    region: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _has_caller(self) -> Self:
        if not (self.phone or self.email or self.messaging_id):
            raise ValueError("a call needs at least one caller identifier: phone, email or messaging_id")
        return self

    def identities(self) -> dict[str, str]:
        ids = {"email": self.email, "phone": self.phone, "messaging": self.messaging_id}
        return {kind: value for kind, value in ids.items() if value}


class PosRow(InboundEvent):
    """A point-of-sale row."""

    source: Literal["pos"] = "pos"
    store: str = ShortText
    region: str = Field(min_length=1, max_length=64)
    sku: str = ShortText
    quantity: int
    amount: float
    customer_id: str | None = Field(default=None, max_length=256)


class ExternalSignal(InboundEvent):
    """An external signal: competitor activity, a tender, weather, a commodity price."""

    source: Literal["signal"] = "signal"
    kind: str = Field(min_length=1, max_length=64)
    region: str = Field(min_length=1, max_length=64)
    value: float
    detail: str | None = Field(default=None, max_length=4096)


Event: TypeAlias = WebEvent | CallTranscript | PosRow | ExternalSignal

EVENT_MODELS: dict[str, type[InboundEvent]] = {
    "web": WebEvent,
    "call": CallTranscript,
    "pos": PosRow,
    "signal": ExternalSignal,
}
