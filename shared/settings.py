"""Settings from the environment; a missing or invalid one stops the process with one line naming it."""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.kafka_connection import KafkaConnection

S = TypeVar("S", bound=BaseSettings)


class ServiceSettings(BaseSettings):
    """What every numport service needs; services subclass it for their own settings."""

    model_config = SettingsConfigDict(env_prefix="NUMPORT_", extra="ignore")

    kafka_bootstrap: str = Field(description="Kafka bootstrap servers, host:port[,host:port].")
    kafka_security_protocol: str = Field(default="PLAINTEXT", pattern="^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$")
    kafka_sasl_mechanism: str = Field(default="PLAIN", pattern="^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$")
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = Field(default=None, description="Never logged.")
    kafka_ssl_cafile: str | None = Field(default=None, description="CA bundle of the Kafka cluster (PEM).")
    database_url: str = Field(description="PostgreSQL URL, postgresql://user@host:port/db.")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535, description="Port of /healthz, /readyz, /metrics; 0 = any.")
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    consumer_group_prefix: str = Field(default="numport", pattern=r"^[A-Za-z0-9._-]+$",
                                       description="Consumer groups are named <prefix>.<service>.")
    consumer_max_attempts: int = Field(default=5, ge=1, le=50)
    consumer_backoff_seconds: float = Field(default=0.2, gt=0, le=60)
    consumer_stuck_seconds: float = Field(default=60.0, gt=0, le=86400,
                                          description="A partition failing on one offset this long fails /readyz.")
    batch_max_records: int = Field(default=500, ge=1, le=10000)
    relay_batch_size: int = Field(default=500, ge=1, le=10000)
    relay_idle_seconds: float = Field(default=5.0, gt=0, le=60, description=(
        "Outbox relay's poll while it cannot listen, after a failed pass, or while another replica publishes."))
    relay_listening_seconds: float = Field(default=60.0, gt=0, le=3600, description=(
        "Outbox relay's look while it listens: commits that queue events, or a lost connection, wake it at once."))
    retention_hours: float = Field(default=192.0, gt=0, le=87600, description=(
        "Published outbox rows and inbox marks older than this are deleted (hourly, by the relay). A re-emitted "
        "event id or a record read again is recognised only within it: keep it above the topics' retention."))
    db_pool_max: int = Field(default=10, ge=1, le=100)
    traces_endpoint: str | None = Field(default=None, description=(
        "OTLP/HTTP traces URL (…/v1/traces); tracing is off unless this or OTEL_EXPORTER_OTLP_ENDPOINT is set."))
    traces_file: str | None = Field(default=None, description="Tests only: append every span as a JSON line here.")


class GraphSettings(BaseSettings):
    """Where Meta's Graph API (or the sandbox) is, and the token to call it with."""

    model_config = SettingsConfigDict(env_prefix="NUMPORT_", extra="ignore")

    graph_base_url: str = Field(description="https://graph.facebook.com, or the sandbox's URL.")
    graph_api_version: str = Field(default="v23.0", pattern=r"^v[0-9]+\.[0-9]+$")
    graph_token: SecretStr = Field(description="System-user access token; never logged.")
    graph_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    graph_max_attempts: int = Field(default=5, ge=1, le=20)
    graph_settle_margin_seconds: float = Field(default=5.0, ge=0, le=600, description=(
        "Added to a write's timeouts before an unanswered write is settled by reading Meta's state."))
    graph_max_connections: int = Field(default=16, ge=1, le=1000, description=(
        "Connections to Graph kept open per process; more calls at once wait for one. Each call's cost grows with "
        "this number (the HTTP client looks at every pooled connection), so raise it only for Meta's latency."))


def _describe(error: ValidationError, model: type[BaseSettings]) -> str:
    """Every problem on one line, each naming its environment variable."""
    prefix = model.model_config.get("env_prefix", "")
    problems = []
    for item in error.errors():
        name = f"{prefix}{item['loc'][0]}".upper() if item["loc"] else model.__name__
        problems.append(f"{name} is missing" if item["type"] == "missing" else f"{name} is invalid: {item['msg']}")
    return f"numport: setting {'; setting '.join(problems)}"


def load(model: type[S]) -> S:
    """Read `model` from the environment or exit(2) with one clear line."""
    try:
        return model()
    except ValidationError as error:
        print(_describe(error, model), file=sys.stderr)
        raise SystemExit(2) from None


def kafka_connection(settings: ServiceSettings) -> KafkaConnection:
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
    return KafkaConnection(settings.kafka_bootstrap, settings.kafka_security_protocol, settings.kafka_sasl_mechanism,
                           settings.kafka_sasl_username, password, settings.kafka_ssl_cafile)
