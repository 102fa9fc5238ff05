import json

import pytest
from pydantic import ValidationError

from config.settings import Settings, mask_url

SECRET = "s3cr3t-value"


def test_settings_come_from_leadflow_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_KAFKA_BOOTSTRAP", "k1:9092, k2:9092")
    monkeypatch.setenv("LEADFLOW_TOPIC_PREFIX", "staging.")
    settings = Settings()
    assert settings.kafka_servers == ["k1:9092", "k2:9092"]
    assert settings.topic("leads.routed") == "staging.leads.routed"


def test_secrets_never_show_in_repr_or_masked_view(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("LEADFLOW_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("LEADFLOW_KAFKA_SASL_USERNAME", "router")
    monkeypatch.setenv("LEADFLOW_KAFKA_SASL_PASSWORD", SECRET)
    monkeypatch.setenv("LEADFLOW_CLICKHOUSE_URL", f"clickhouse://writer:{SECRET}@ch:9000/sales")
    settings = Settings()
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    shown = settings.masked()
    assert SECRET not in json.dumps(shown)
    assert shown["clickhouse_url"] == "clickhouse://writer:***@ch:9000/sales"
    assert shown["kafka_sasl_username"] == "router"
    # ...while the clients still get the real values.
    options = settings.kafka_python_options()
    assert options["sasl_plain_password"] == SECRET
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert settings.clickhouse_url.get_secret_value().endswith("@ch:9000/sales")


def test_plaintext_kafka_options_carry_no_credentials() -> None:
    options = Settings(kafka_bootstrap="127.0.0.1:1").kafka_python_options()
    assert options == {"bootstrap_servers": ["127.0.0.1:1"], "security_protocol": "PLAINTEXT"}


def test_unknown_clickhouse_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_CLICKHOUSE_URL", "postgres://x@y/z")
    with pytest.raises(ValidationError, match="clickhouse:// or chdb://"):
        Settings()


def test_mask_url_leaves_password_free_urls_alone() -> None:
    assert mask_url("chdb:///var/lib/leadflow") == "chdb:///var/lib/leadflow"
