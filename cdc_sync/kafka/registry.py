"""The schema registry (Confluent-compatible API) behind Avro records, through confluent-kafka.

`SchemaRegistry.schema_text(id)` is the `SchemaSource` of ``events/avro.py``.
Errors are classified where they enter: no answer (any failure without an HTTP
answer: the client's transport errors come from its own HTTP package), timeouts,
HTTP 5xx/429/408 are a `TransientError` (the consumer retries the record with backoff and holds
its offsets); an id the registry does not have, or a schema that is not Avro,
is `UnknownSchema` (the record is dead-lettered with that reason); refused
credentials stop the service (`DependencyUnavailable`).

The client's libraries (a sixth of a command's start-up) are imported when a registry is
first used, so a command without Avro topics never loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import DependencyUnavailable, TransientError
from cdc_sync.events.avro import AvroReader, UnknownSchema

if TYPE_CHECKING:
    from confluent_kafka.schema_registry.error import SchemaRegistryError

TIMEOUT_S = 10
_RETRIABLE_STATUS = frozenset({408, 429})


def display_url(url: str) -> str:
    """The URL without credentials, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class SchemaRegistry:
    def __init__(self, kafka: KafkaSettings) -> None:
        if not kafka.schema_registry_url:
            raise ValueError("kafka.schema_registry_url is not set")
        self.url = display_url(kafka.schema_registry_url)
        conf: dict[str, object] = {
            "url": kafka.schema_registry_url,
            "timeout": TIMEOUT_S,
            "max.retries": 0,  # the caller retries, polling Kafka meanwhile
        }
        if kafka.schema_registry_username is not None:
            password = kafka.schema_registry_password
            secret = password.get_secret_value() if password is not None else ""
            conf["basic.auth.user.info"] = f"{kafka.schema_registry_username}:{secret}"
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        self._client = SchemaRegistryClient(conf)
        self._refused: type[SchemaRegistryError] = SchemaRegistryError

    def subject_count(self) -> int:
        """How many subjects the registry holds (proves it answers and takes the credentials)."""
        try:
            return len(self._client.get_subjects())
        except self._refused as exc:
            raise DependencyUnavailable(
                f"schema registry at {self.url}: HTTP {exc.http_status_code} {exc.error_message}"
            ) from None
        except Exception as exc:
            raise DependencyUnavailable(
                f"schema registry at {self.url} does not answer: {type(exc).__name__}: {exc}"
            ) from None

    def schema_text(self, schema_id: int) -> str:
        try:
            schema = self._client.get_schema(schema_id)
        except self._refused as exc:
            status = exc.http_status_code
            if status == 404:
                raise UnknownSchema(
                    f"schema id {schema_id} is not in the schema registry at {self.url} "
                    f"({exc.error_message})"
                ) from None
            if status in (401, 403):
                raise DependencyUnavailable(
                    f"schema registry at {self.url} refused the credentials (HTTP {status}): "
                    "check kafka.schema_registry_username/password"
                ) from None
            if status >= 500 or status in _RETRIABLE_STATUS:
                raise TransientError(
                    f"schema registry at {self.url}: HTTP {status} {exc.error_message}"
                ) from None
            raise UnknownSchema(
                f"schema id {schema_id}: the schema registry at {self.url} answered "
                f"HTTP {status} ({exc.error_message})"
            ) from None
        except Exception as exc:  # no answer (the client's transport errors, timeouts)
            raise TransientError(
                f"schema registry at {self.url} does not answer: {type(exc).__name__}: {exc}"
            ) from None
        if (schema.schema_type or "AVRO").upper() != "AVRO":
            raise UnknownSchema(f"schema id {schema_id} is {schema.schema_type}, not Avro")
        if schema.schema_str is None:
            raise UnknownSchema(f"schema id {schema_id} has no schema text")
        return schema.schema_str


def avro_reader(kafka: KafkaSettings) -> AvroReader | None:
    """The Avro decoder for the configured registry; None when no registry is configured."""
    if not kafka.schema_registry_url:
        return None
    return AvroReader(SchemaRegistry(kafka).schema_text)
