"""Retry logic of the writer, against an in-memory stand-in for a flaky server."""

from typing import Any, Sequence

from sinks.writer import ClickHouseWriter, backoff_delays


class FlakyBackend:
    database = "db"

    def __init__(self, log: list[Any], fail_inserts: int) -> None:
        self.log, self.fail_inserts = log, fail_inserts

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Any]) -> None:
        if self.fail_inserts:
            self.fail_inserts -= 1
            raise ConnectionError("server down")
        self.log.append((table, list(rows)))

    def close(self) -> None:
        self.log.append("closed")


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = backoff_delays(0.2, 1.0)
    assert [next(delays) for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_a_failed_write_reconnects_and_retries_until_stored() -> None:
    log: list[Any] = []
    failures = iter([2, 0])  # the first connection fails twice, the second never
    backends: list[FlakyBackend] = []

    def connect() -> FlakyBackend:
        backends.append(FlakyBackend(log, next(failures, 0)))
        return backends[-1]

    waits: list[float] = []
    errors: list[Exception] = []
    writer = ClickHouseWriter(connect, max_delay=5, on_error=errors.append)
    stored = writer.write({"events_web": [(1,), (2,)]}, should_stop=lambda: False, wait=waits.append)
    assert stored
    assert log == ["closed", ("events_web", [(1,), (2,)])]
    assert len(backends) == 2 and waits == [0.2] and len(errors) == 1


def test_a_stop_during_an_outage_reports_the_batch_unstored() -> None:
    log: list[Any] = []
    writer = ClickHouseWriter(lambda: FlakyBackend(log, fail_inserts=10**6))
    stops = iter([False, False, True])
    stored = writer.write({"t": [(1,)]}, should_stop=lambda: next(stops), wait=lambda _delay: None)
    assert not stored
    assert all(entry == "closed" for entry in log)
