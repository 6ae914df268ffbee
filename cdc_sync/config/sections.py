"""The service-wide sections: source, Kafka, Meilisearch, consumer, relay, verify, state,
bootstrap, HTTP, logging."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, model_validator
from sqlalchemy.engine import make_url

from cdc_sync.config.values import DEBEZIUM_PLACEHOLDER, Duration, Identifier, Section, TimeZone


class SourceSettings(Section):
    url: SecretStr
    changelog_table: Identifier = "CDC_CHANGE_LOG"
    changelog_schema: Identifier | None = None
    connect_timeout_s: float = Field(10.0, gt=0)
    time_zone: TimeZone | None = None
    """The zone of DATE / TIMESTAMP values without one (None: the database's, see source.zone)."""
    notify: bool = True
    """PostgreSQL: triggers NOTIFY at commit so the relay wakes at once (false: it polls)."""

    @property
    def is_oracle(self) -> bool:
        """Whether the source is an Oracle database (names are stored in upper case there)."""
        try:
            return make_url(self.url.get_secret_value()).get_backend_name() == "oracle"
        except Exception:  # an unparseable URL fails where it is used, with its message
            return False

    def display_url(self) -> str:
        """The URL with its password masked, for logs and messages."""
        try:
            return make_url(self.url.get_secret_value()).render_as_string(hide_password=True)
        except Exception:
            return "<unparseable url>"


class KafkaSettings(Section):
    bootstrap_servers: str
    topic_prefix: str = Field("cdc", pattern=r"^[A-Za-z0-9._-]+$")
    group_id: str = "cdc-sync"
    group_instance_id: str = Field("auto", pattern=r"^[A-Za-z0-9._-]*$")
    """Static membership: "auto" (host name and a free slot), an id of your own, or "" (off)."""
    dead_letter_topic: str = Field("cdc-sync.dlq", pattern=r"^[A-Za-z0-9._-]+$")
    partitions: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    schema_registry_url: str | None = Field(None, pattern=r"^https?://")
    schema_registry_username: str | None = None
    schema_registry_password: SecretStr | None = None
    unavailable_value_placeholder: str = Field(DEBEZIUM_PLACEHOLDER, min_length=1)
    """The Debezium connectors' ``unavailable.value.placeholder``; a table may set its own."""
    extra: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _registry_credentials_once(self) -> KafkaSettings:
        url = urlsplit(self.schema_registry_url or "")
        if self.schema_registry_username is not None and (url.username or url.password):
            # the registry client refuses both at once, at its first request
            raise ValueError(
                "credentials both in schema_registry_url and in schema_registry_username / "
                "schema_registry_password: give them one way"
            )
        return self


class MeilisearchSettings(Section):
    url: str
    api_key: SecretStr | None = None
    timeout_s: float = Field(30.0, gt=0)


class ConsumerSettings(Section):
    batch_size: int = Field(5000, ge=1, description="documents per Meilisearch task at most")
    batch_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    linger_ms: int = Field(100, ge=0)
    max_tasks_in_flight: int = Field(32, ge=1)
    max_buffered_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    """Memory of documents in flight (each counted with its bookkeeping), not only payload."""
    shutdown_timeout_s: float = Field(30.0, gt=0)
    dlq_max_ratio: float = Field(0.5, gt=0, le=1)
    dlq_window: int = Field(1000, ge=1)
    retry_max_s: float = Field(30.0, gt=0)


class RelaySettings(Section):
    batch_size: int = Field(1000, ge=1, le=100_000)
    poll_interval_ms: int = Field(50, ge=1, le=60_000)
    overlap_s: float = Field(5.0, ge=0)


STATE_STORES = ("postgresql", "postgres", "sqlite")
"""Databases the state store runs on: its tables are plain SQLAlchemy Core, tested on both."""


def _state_store_url(url: str) -> str:
    """Only PostgreSQL and SQLite: the store's tables (identity ids, JSON, a ``rows`` column,
    zoned times) have no tested Oracle spelling, so an Oracle URL is refused, not tried."""
    try:
        backend = make_url(url).get_backend_name()
    except Exception:
        raise ValueError("not a database URL (postgresql://... or sqlite:///...)") from None
    if backend not in STATE_STORES:
        raise ValueError(
            f"{backend} is not supported for the state store; use a PostgreSQL database "
            "(postgresql://user:password@host/db) that every host reaches, or a SQLite file "
            "(sqlite:///cdc-sync-state.db) on one host"
        )
    return url


class VerifySettings(Section):
    """Continuous verification (`cdc-sync verify --continuous`, docs/verify.md)."""

    every: Duration = 3600.0
    """A new pass of a table starts this long after its last pass started."""
    rows_per_s: float = Field(2000.0, gt=0)
    """Read budget of the whole service, on the source and on Meilisearch alike."""
    repair: bool = True
    """False: report drift only."""
    max_lag: int = Field(1000, ge=0)
    """A table's pass waits while the consumers' lag on its topic is above this (records)."""


class StateSettings(Section):
    url: Annotated[str, AfterValidator(_state_store_url)] = "sqlite:///cdc-sync-state.db"
    lease_ttl_s: float = Field(10.0, gt=0)


class BootstrapSettings(Section):
    fence_warn_s: float = Field(5.0, gt=0)
    """A run whose fence held the table's live changes longer than this logs a warning."""


class HttpSettings(Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8787, ge=0, le=65535)


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "text", "json"] = "auto"
