"""Every setting of leadflow in one place; each is read from a `LEADFLOW_` environment variable."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

POLICY_DIR = Path(__file__).parent
DEFAULT_ROSTER = POLICY_DIR / "roster.yaml"
MASK = "***"
DEV_PII_KEY = "leadflow-development-key"  # the worker warns while it is in use


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", frozen=True)

    app_id: str = Field("leadflow", description="Faust application id; also the consumer group prefix")

    # Kafka
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="comma-separated host:port list")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None

    consumer_fetch_max_wait_ms: int = Field(
        20, ge=0, description="longest the worker's consumer lets the broker hold a fetch for data (Faust: 1500)")
    producer_linger_ms: int = Field(10, ge=0, description="how long the worker's producer gathers messages per request")

    topic_prefix: str = Field("", description="prepended to every topic name (one cluster, many environments)")
    topic_partitions: int = Field(4, ge=1)
    topic_replication: int = Field(1, ge=1)

    # ClickHouse: clickhouse://user:pass@host:port/db or chdb:///path
    clickhouse_url: SecretStr = SecretStr("clickhouse://default:@127.0.0.1:9000/leadflow")
    sink_batch_rows: int = Field(5000, ge=1, description="rows per ClickHouse insert at most")
    sink_batch_seconds: float = Field(0.5, gt=0, description="longest wait before a partial batch is written")
    sink_fetch_min_bytes: int = Field(256 * 1024, ge=1, description="the sink's fetches wait for this much data ...")
    sink_fetch_max_wait_ms: int = Field(200, ge=0, description="... or this long, whichever comes first")
    sink_retry_max_seconds: float = Field(30.0, gt=0, description="cap of the backoff between failed inserts")

    # Personal data: phone numbers and e-mail addresses are stored as keyed hashes
    pii_key: SecretStr = Field(SecretStr(DEV_PII_KEY), description="HMAC key for phone numbers and e-mails")
    pii_clear_text: bool = Field(False, description="store phone numbers and e-mails in clear text")

    # Processing
    store: str = Field("memory://", description="Faust table store: memory:// or rocksdb://")
    max_event_bytes: int = Field(256 * 1024, ge=1024, description="larger inbound payloads are dead-lettered")
    roster_file: Path = DEFAULT_ROSTER
    policy_dir: Path = Field(POLICY_DIR, description="scoring, content catalogue, lexicon, routing packs")
    data_dir: Path = Field(Path(".leadflow"), description="worker state (Faust data, RocksDB tables)")

    sla_check_seconds: float = Field(1.0, gt=0, description="how often open SLAs are checked")
    alert_lateness_seconds: float = Field(120.0, ge=0, description="how late an event may be and still count")
    ingest_batch_events: int = Field(500, ge=1, description="events ingest handles as one batch at most")
    ingest_batch_seconds: float = Field(
        0.02, gt=0, description="longest wait to fill an ingest batch (their metric increments go as one message)")
    alert_tick_seconds: float = Field(2.0, gt=0, description="how often rules are evaluated without new events")
    profile_sweep_seconds: float = Field(600.0, gt=0, description="how often idle lead profiles are looked for")

    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(9464, ge=0, description="Prometheus endpoint of the worker; 0 disables it")

    @field_validator("clickhouse_url")
    @classmethod
    def _known_scheme(cls, url: SecretStr) -> SecretStr:
        scheme = urlsplit(url.get_secret_value()).scheme
        if scheme not in ("clickhouse", "chdb"):
            raise ValueError(f"clickhouse_url scheme must be clickhouse:// or chdb://, not {scheme or 'empty'}")
        return url

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @cached_property
    def kafka_servers(self) -> list[str]:
        return [server.strip() for server in self.kafka_bootstrap.split(",") if server.strip()]

    def kafka_python_options(self) -> dict[str, Any]:
        """Connection options for kafka-python clients (admin, producer, consumer)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.kafka_servers,
            "security_protocol": self.kafka_security_protocol,
        }
        if self.kafka_security_protocol.startswith("SASL"):
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            options["sasl_plain_password"] = _reveal(self.kafka_sasl_password)
        if self.kafka_security_protocol.endswith("SSL"):
            options["ssl_cafile"] = _str_or_none(self.kafka_ssl_cafile)
            options["ssl_certfile"] = _str_or_none(self.kafka_ssl_certfile)
            options["ssl_keyfile"] = _str_or_none(self.kafka_ssl_keyfile)
            options["ssl_password"] = _reveal(self.kafka_ssl_key_password)
        return options

    def pii_hash_key(self) -> bytes | None:
        """The key for personal data, or None when clear text is allowed."""
        return None if self.pii_clear_text else self.pii_key.get_secret_value().encode()

    def masked(self) -> dict[str, Any]:
        """The effective settings, safe to print or log: every secret is masked."""
        shown = self.model_dump(mode="json")
        for name, value in shown.items():
            if isinstance(getattr(self, name), SecretStr) and value is not None:
                shown[name] = MASK
        shown["clickhouse_url"] = mask_url(self.clickhouse_url.get_secret_value())
        return shown


def mask_url(url: str) -> str:
    """The URL with its password replaced, so the rest can be shown."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def _str_or_none(path: Path | None) -> str | None:
    return str(path) if path is not None else None
