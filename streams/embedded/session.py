"""One replay of an events file, end to end: read and check the lines, run them through the
pipeline's processors, store every record in embedded ClickHouse (chdb)."""

from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import yaml

from models.records import DeadLetter
from models.routing import RepOutcome
from sinks.backends import Backend, open_backend
from sinks.migrations import migrate
from sinks.personal_data import PersonalData
from streams.dead_letters import dead_letter
from streams.embedded.events_file import BadLine, Line, in_event_time, read_lines
from streams.embedded.replay import Policies, Replay, Results
from streams.embedded.store import result_rows, store

DATABASE = "leadflow"


@dataclass(frozen=True)
class EventsFile:
    path: Path
    lines: list[Line]  # in event-time order
    bad: list[BadLine]

    @classmethod
    def read(cls, path: Path) -> EventsFile:
        lines: list[Line] = []
        bad: list[BadLine] = []
        with _without_collections():
            for line in read_lines(path):
                (lines if isinstance(line, Line) else bad).append(line)  # type: ignore[arg-type]
        return cls(path, in_event_time(lines), bad)

    def dead_letters(self, now: datetime) -> list[DeadLetter]:
        """The bad lines as the worker would dead-letter them: the file as topic, the line as offset."""
        return [dead_letter(f"file:{self.path.name}", 0, line.number, line.text.rstrip("\n").encode(),
                            line.reason, line.detail, now)  # type: ignore[arg-type]
                for line in self.bad]


def load_policies(policy_dir: Path, roster: Path, deals: Path | None = None,
                  responses: Path | None = None) -> Policies:
    """Policies from files: the deal history as JSON Lines of RepOutcome, responses as YAML
    (rep id -> minutes to accept a routed lead; null or absent: never)."""
    history = tuple(RepOutcome.model_validate_json(text) for text in _lines(deals)) if deals else ()
    return Policies(policy_dir, roster, history, read_responses(responses) if responses else {})


def read_responses(path: Path) -> dict[str, float | None]:
    """Rep id -> minutes to accept a routed lead (None: never)."""
    return {str(rep_id): None if minutes is None else float(minutes)
            for rep_id, minutes in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()}


def replay(events: EventsFile, policies: Policies, lateness_seconds: float = 120.0,
           progress: Callable[[int], None] = lambda _done: None) -> Results:
    return run(Replay(policies, lateness_seconds), events, progress)


def run(engine: Replay, events: EventsFile, progress: Callable[[int], None] = lambda _done: None) -> Results:
    """`replay` with its engine already made (the policy files read and compiled)."""
    with _without_collections():
        return engine.run(events.lines, progress)


@contextmanager
def _without_collections() -> Iterator[None]:
    """Reading a file or replaying it makes no reference cycles (a collection after a replay of
    40,000 events frees nothing) and keeps what it makes until the end: reference counting frees
    the rest. The collector's passes over the growing heap would free nothing and cost about a
    tenth of the time, so it is off meanwhile; its state is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was made meanwhile is all in the young generation: collecting it once enabled
        # again would pass over every object made (~80 ms for 40,000 events) and free nothing.
        # Freezing and unfreezing moves it all to the oldest generation without a pass.
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def open_store(folder: Path) -> Backend:
    """chdb in `folder`, with the worker's schema (the same migrations as on a server)."""
    folder.mkdir(parents=True, exist_ok=True)
    backend = open_backend(f"chdb://{folder.resolve()}?database={DATABASE}")
    migrate(backend)
    return backend


def save(results: Results, events: EventsFile, policies: Policies, backend: Backend,
         personal: PersonalData) -> dict[str, int]:
    """Every record of the replay, the deal history and the bad lines, into the store."""
    extra = [*policies.deals, *events.dead_letters(datetime.now(timezone.utc))]
    return store(result_rows(results, personal, extra), backend)


def _lines(path: Path) -> Iterable[str]:
    with path.open(encoding="utf-8") as file:
        yield from (text for text in file if text.strip())


def to_json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
