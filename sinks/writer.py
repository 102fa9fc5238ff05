"""Writing batches to ClickHouse, retrying with capped exponential backoff until stored."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

from sinks.backends import Backend
from sinks.tables import ALL_TABLES

log = logging.getLogger(__name__)
_COLUMNS = {table.name: table.column_names for table in ALL_TABLES}


def backoff_delays(first: float, cap: float) -> Iterator[float]:
    """first, 2x, 4x ... never above the cap."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


class ClickHouseWriter:
    """Owns one connection, opened lazily and reopened after any failure."""

    def __init__(self, connect: Callable[[], Backend], max_delay: float = 30.0,
                 on_error: Callable[[Exception], None] = lambda _exc: None) -> None:
        self._connect = connect
        self._backend: Backend | None = None
        self._max_delay = max_delay
        self._on_error = on_error

    def write(self, rows: dict[str, list[tuple[Any, ...]]], should_stop: Callable[[], bool],
              wait: Callable[[float], None]) -> bool:
        """Insert every table's rows, retrying until stored; False only if stopped first.

        On False the caller must not commit the batch's offsets. A retry may write a
        table twice: harmless, every table is deduplicated on its record id.
        """
        delays = backoff_delays(0.2, self._max_delay)
        while True:
            try:
                backend = self._backend = self._backend or self._connect()
                for table, table_rows in rows.items():
                    backend.insert(table, _COLUMNS[table], table_rows)
                return True
            except Exception as exc:  # server down, connection lost, timeout: all retried
                self._on_error(exc)
                log.warning("ClickHouse write failed (%s: %s); retrying", type(exc).__name__, exc)
                self.close()
                if should_stop():
                    return False
                wait(next(delays))

    def close(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            try:
                backend.close()
            except Exception:  # already broken; nothing left to release
                pass
