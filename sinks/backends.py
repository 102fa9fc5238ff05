"""The two ClickHouse backends behind one small interface, chosen by URL scheme.

clickhouse://user:pass@host:port/db  -> a server, over the native protocol (clickhouse-driver)
chdb:///path/to/folder[?database=db] -> the embedded engine (chdb), for demos and replays
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol, Sequence
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit


class Backend(Protocol):
    database: str

    def execute(self, sql: str) -> None: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...

    def server_version(self) -> tuple[int, ...]: ...

    def close(self) -> None: ...


class ServerBackend:
    """A ClickHouse server through clickhouse-driver (synchronous: keep it off the event loop)."""

    def __init__(self, host: str, port: int, user: str, password: str, database: str,
                 connect_timeout: float = 5.0, send_receive_timeout: float = 30.0) -> None:
        from clickhouse_driver import Client

        self.database = database
        self._client = Client(host=host, port=port, user=user, password=password, database="default",
                              connect_timeout=connect_timeout, send_receive_timeout=send_receive_timeout)

    def execute(self, sql: str) -> None:
        self._client.execute(sql)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self._client.execute(sql)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        # Rows go as the parameter of INSERT ... VALUES; inline data hangs old servers.
        names = ", ".join(f"`{c}`" for c in columns)
        self._client.execute(f"INSERT INTO {self.database}.{table} ({names}) VALUES", list(rows))

    def server_version(self) -> tuple[int, ...]:
        info = self._client.connection.server_info if self._client.connection.connected else None
        if info is None:
            self._client.execute("SELECT 1")
            info = self._client.connection.server_info
        return (info.version_major, info.version_minor, info.version_patch)

    def close(self) -> None:
        self._client.disconnect()


class ChdbBackend:
    """Embedded ClickHouse (chdb) on a local folder; one process owns a folder at a time."""

    def __init__(self, path: str, database: str) -> None:
        from chdb import session

        self.database = database
        self._session = session.Session(path)
        # Plain JSON numbers for 64-bit integers, as the server backend returns them.
        self._session.query("SET output_format_json_quote_64bit_integers = 0")

    def execute(self, sql: str) -> None:
        self._session.query(sql)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        result = self._session.query(sql, "JSONCompact")
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        return [tuple(row) for row in json.loads(text)["data"]] if text.strip() else []

    def text(self, sql: str, output_format: str = "PrettyCompact") -> str:
        """The result of `sql` in the session's database, rendered by ClickHouse (for people)."""
        self._session.query(f"USE {self.database}")
        result = self._session.query(sql, output_format)
        return (result.bytes() if hasattr(result, "bytes") else bytes(result)).decode("utf-8", "replace")

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        names = ", ".join(f"`{c}`" for c in columns)
        body = "\n".join(json.dumps(dict(zip(columns, row)), default=_json_value, ensure_ascii=False)
                         for row in rows)
        self._session.query(f"INSERT INTO {self.database}.{table} ({names}) FORMAT JSONEachRow\n{body}")

    def server_version(self) -> tuple[int, ...]:
        (version,), = self.query("SELECT version()")
        return tuple(int(part) for part in version.split(".")[:3])

    def close(self) -> None:
        self._session.close()


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return int(value.timestamp())  # DateTime accepts unix seconds, free of time-zone doubt
    raise TypeError(f"cannot store {type(value).__name__}")


def with_database(url: str, database: str) -> str:
    """The same server URL, naming another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def open_backend(url: str) -> Backend:
    parts = urlsplit(url)
    if parts.scheme == "clickhouse":
        database = parts.path.strip("/") or "default"
        return ServerBackend(parts.hostname or "127.0.0.1", parts.port or 9000, unquote(parts.username or "default"),
                             unquote(parts.password or ""), database)
    if parts.scheme == "chdb":
        database = parse_qs(parts.query).get("database", ["leadflow"])[0]
        return ChdbBackend(parts.path, database)
    raise ValueError(f"unsupported ClickHouse URL scheme {parts.scheme!r}: use clickhouse:// or chdb://")
