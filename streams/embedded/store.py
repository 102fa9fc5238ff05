"""A replay's records into ClickHouse (chdb in the demo): the worker's tables and rows."""

from __future__ import annotations

from itertools import chain
from typing import Any, Iterable

from pydantic import BaseModel

from sinks.backends import Backend
from sinks.personal_data import PersonalData
from sinks.rows import Row, event_row, record_row
from sinks.tables import ALL_TABLES
from streams.embedded.replay import Results

_COLUMNS = {table.name: table.column_names for table in ALL_TABLES}
_BATCH_ROWS = 50_000


def result_rows(results: Results, personal: PersonalData, extra: Iterable[BaseModel] = ()) -> Iterable[Row]:
    """Every row of the results (raw events received at their event time), then `extra` records."""
    events = (event_row(event, lead, event.ts, personal) for event, lead in results.events)
    records = chain(results.scored, results.routed, results.breaches, results.outcomes, results.alerts,
                    results.escalations, results.metrics, extra)
    return chain(events, (record_row(record) for record in records))


def store(rows: Iterable[Row], backend: Backend) -> dict[str, int]:
    """Insert in batches per table; returns the rows written per table."""
    pending: dict[str, list[tuple[Any, ...]]] = {}
    written: dict[str, int] = {}

    def flush(table: str) -> None:
        backend.insert(table, _COLUMNS[table], pending[table])
        written[table] = written.get(table, 0) + len(pending.pop(table))

    for table, row in rows:
        batch = pending.setdefault(table, [])
        batch.append(row)
        if len(batch) >= _BATCH_ROWS:
            flush(table)
    for table in list(pending):
        flush(table)
    return written
