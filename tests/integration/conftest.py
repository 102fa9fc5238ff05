"""Fixtures for tests against the real Kafka broker and ClickHouse server.

`make test` starts both and exports LEADFLOW_KAFKA_BOOTSTRAP / LEADFLOW_CLICKHOUSE_URL.
A missing variable is an error, never a skip: these tests are the proof that
the pipeline works on real parts.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Callable, Iterator, TypeVar

import pytest
from kafka.admin import KafkaAdminClient

from sinks.backends import Backend, open_backend, with_database

T = TypeVar("T")


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests with `make test`, which starts Kafka and ClickHouse")
    return value


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return required_env("LEADFLOW_KAFKA_BOOTSTRAP")


@pytest.fixture(scope="session")
def clickhouse_server_url() -> str:
    return required_env("LEADFLOW_CLICKHOUSE_URL")


@pytest.fixture
def run_id(kafka_bootstrap: str) -> Iterator[str]:
    """A name unique to one test, for its topics, consumer groups and database. Its topics go
    with the test: a broker kept across test runs would pile them up until its heap runs out
    (13,000 partitions did, with the local broker's 512 MB)."""
    name = f"it{uuid.uuid4().hex[:10]}"
    yield name
    delete_topics(kafka_bootstrap, name)


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Every topic named `prefix`..., the worker's own changelogs and repartition topics too."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{prefix}-cleanup")
    try:
        mine = [topic for topic in admin.list_topics() if topic.startswith(prefix)]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()


@pytest.fixture
def server_backend(clickhouse_server_url: str, run_id: str) -> Iterator[Backend]:
    backend = open_backend(with_database(clickhouse_server_url, run_id))
    yield backend
    backend.execute(f"DROP DATABASE IF EXISTS {run_id}")
    backend.close()


def poll_until(probe: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str) -> T:
    """Call `probe` until `done(result)` or the deadline; the last result is in the failure."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {result!r}"[:4000])
        time.sleep(0.25)
