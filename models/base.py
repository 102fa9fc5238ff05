"""Shared building blocks of every contract: schema version, deterministic ids, time."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from hashlib import sha256
from typing import Annotated, Any, Callable, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

SCHEMA_VERSION = 1
M = TypeVar("M", bound=BaseModel)


def stable_id(kind: str, *parts: object) -> str:
    """A deterministic 32-hex id: the same inputs give the same id in every process.

    Reprocessing an offset therefore reproduces the id, which is what lets the
    deduplicated ClickHouse tables keep analysts' counts exact.
    """
    text = "\x1f".join([kind, *map(str, parts)])  # map: no generator frame per part (hot path)
    return sha256(text.encode()).hexdigest()[:32]  # UTF-8, the default: no argument to parse


def stable_ids(kind: str, *parts: object) -> Callable[[object], str]:
    """stable_id with all but its last part fixed, for many ids that share them:
    stable_ids(kind, a, b)(c) == stable_id(kind, a, b, c). The shared text is hashed once."""
    shared = sha256("\x1f".join([kind, *map(str, parts), ""]).encode())

    def with_last(last: object) -> str:
        hasher = shared.copy()
        hasher.update(str(last).encode())
        return hasher.hexdigest()[:32]

    return with_last


_IMMUTABLE = (type(None), bool, int, float, str, bytes, tuple, frozenset)
_set_attribute = object.__setattr__


def unchecked(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """A maker of `model` instances from values our own code computed, each already of its field's
    type: what `model_construct` does without its per-call Python work. Validating a record costs
    1-2 µs, and the replay makes two or three per event. Unset fields get their defaults, but for
    a mutable default (one list shared by every instance could be changed through one of them):
    such a field must be given. Values for every field, in the model's order, are used as they
    are (the hot paths give them so). Nothing is checked, so tests compare what it makes with
    validated records."""
    # Every field in the model's order (dumps keep it); a required field or a mutable default stands
    # as None until given.
    template = {name: field.default if not field.is_required() and isinstance(field.default, _IMMUTABLE) else None
                for name, field in model.model_fields.items()}
    new, size = model.__new__, len(template)

    def make(values: dict[str, Any]) -> M:
        instance = new(model)
        if len(values) == size:
            fields = values
        else:
            fields = template.copy()
            fields.update(values)
        _set_attribute(instance, "__dict__", fields)
        _set_attribute(instance, "__pydantic_fields_set__", set(values))
        _set_attribute(instance, "__pydantic_extra__", None)
        _set_attribute(instance, "__pydantic_private__", None)
        return instance

    return make


def _as_utc(value: datetime) -> datetime:
    # Producers sometimes omit the offset; event time is defined as UTC then.
    tzinfo = value.tzinfo
    if tzinfo is timezone.utc:
        return value  # our own records' times: already as wanted
    if tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


# Lax on purpose: producers send ISO-8601 text or epoch seconds / milliseconds.
UtcDatetime = Annotated[datetime, Field(strict=False), AfterValidator(_as_utc)]


def _from_base64(value: object) -> object:
    return base64.b64decode(value, validate=True) if isinstance(value, str) else value


# Standard base64 in JSON (not pydantic's URL-safe default), so any consumer can decode it.
Base64Bytes = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(lambda raw: base64.b64encode(raw).decode("ascii"), return_type=str, when_used="json"),
]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Contract(BaseModel):
    """Base of all wire contracts: strict types, unknown fields ignored for forward compatibility."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    schema_version: int = SCHEMA_VERSION
