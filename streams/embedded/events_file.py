"""Events files: JSON Lines of inbound events, `{"source": "web" | "call" | "pos" | "signal", ...}`,
as `leadflow generate` writes them and `leadflow replay` / `leadflow produce` read them.

A line may also be a rep outcome (`{"source": "outcome", ...RepOutcome}`): accepted / won /
lost from the deal history, which stop SLA timers and feed reps' measured capability.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from pydantic import ValidationError

from models.events import EVENT_MODELS, InboundEvent
from models.routing import RepOutcome
from streams.ingest import Rejection, validate_event

SOURCES = (*EVENT_MODELS, "outcome")

# A line as `leadflow generate` writes it opens with its event source: pydantic parses and validates it in one
# call. The model's own `source` literal checks every "source" key of the line (the last one wins,
# as in json.loads), so a line it accepts is one the general path accepts the same way; anything
# else, valid or not, takes the general path, which also says why a line is bad.
_OPENING = '{"source": "'
_VALIDATE_JSON = {source: model.__pydantic_validator__.validate_json for source, model in EVENT_MODELS.items()}


class Line(NamedTuple):
    """A valid line; a named tuple as one is made per event, in about half the time of a frozen dataclass."""

    number: int  # 1-based line number in the file
    source: str
    record: InboundEvent | RepOutcome


@dataclass(frozen=True)
class BadLine:
    number: int
    text: str
    reason: str
    detail: str


def parse_line(number: int, text: str) -> Line | BadLine:
    """One line of an events file; a bad line says why, never raises."""
    return _parse_as_written(number, text) or _parse_any(number, text)


def _parse_as_written(number: int, text: str) -> Line | None:
    """The line validated in one call when it opens with an event source; None to take the general path."""
    if not text.startswith(_OPENING):
        return None
    end = text.find('"', len(_OPENING))
    source = text[len(_OPENING):end]
    validate = _VALIDATE_JSON.get(source)
    if validate is None:
        return None
    try:
        return Line(number, source, validate(text))
    except ValidationError:
        return None


def _parse_any(number: int, text: str) -> Line | BadLine:
    """Any line: parsed, its source looked up, then validated; a bad line says why."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadLine(number, text, "malformed_json", str(exc))
    if not isinstance(data, dict):
        return BadLine(number, text, "wrong_type", f"expected a JSON object, got {type(data).__name__}")
    source = data.pop("source", None)
    if source not in SOURCES:
        return BadLine(number, text, "invalid_value", f"source {source!r} is not one of {', '.join(SOURCES)}")
    if source == "outcome":
        try:
            return Line(number, source, RepOutcome.model_validate(data))
        except ValidationError as exc:
            return BadLine(number, text, "invalid_value", str(exc).splitlines()[0])
    result = validate_event(source, data)
    if isinstance(result, Rejection):
        return BadLine(number, text, result.reason, result.detail)
    return Line(number, source, result)


def read_lines(path: Path) -> Iterator[Line | BadLine]:
    """Every non-blank line of the file, in file order."""
    with path.open(encoding="utf-8") as file:
        for number, text in enumerate(file, 1):
            if not text.isspace():  # a line from a file is never empty: "\n" at least; no stripped copy
                yield parse_line(number, text)


def in_event_time(lines: Iterable[Line]) -> list[Line]:
    """Sorted by event time; lines of the same moment keep their file order."""
    return sorted(lines, key=lambda line: line.record.ts)

