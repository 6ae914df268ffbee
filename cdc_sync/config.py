"""The typed settings tree (SPEC §8) and how it is loaded.

Sources, lowest priority first: the TOML file, then environment variables
named ``CDC_SYNC__SECTION__KEY`` (``__`` separates sections). ``${VAR}`` and
``${VAR:-default}`` inside file values are expanded from the environment.
Every problem is reported as one line that names the key.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url

from cdc_sync.errors import ConfigError

ENV_PREFIX = "CDC_SYNC__"
CONFIG_ENV = "CDC_SYNC_CONFIG"

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_$#]{0,127}$")
_INDEX_UID = re.compile(r"^[A-Za-z0-9_-]{1,400}$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _sql_identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a plain SQL identifier "
            "(a letter, then letters, digits, _, $ or #; at most 128 characters)"
        )
    return value


def time_zone_of(name: str) -> dt.tzinfo:
    """An IANA zone (``Asia/Seoul``), ``UTC``, or a fixed offset (``+09:00``)."""
    match = _OFFSET.fullmatch(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3))
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone (an IANA name like 'Asia/Seoul', 'UTC', or '+09:00')"
        ) from None


def _time_zone(value: str) -> str:
    time_zone_of(value)
    return value


def _index_uid(value: str) -> str:
    if not _INDEX_UID.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid Meilisearch index uid ([A-Za-z0-9_-])")
    return value


Identifier = Annotated[str, AfterValidator(_sql_identifier)]
IndexUid = Annotated[str, AfterValidator(_index_uid)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(_Section):
    url: SecretStr
    changelog_table: Identifier = "CDC_CHANGE_LOG"
    changelog_schema: Identifier | None = None
    connect_timeout_s: float = Field(10.0, gt=0)
    time_zone: TimeZone | None = None
    """The zone of DATE / TIMESTAMP values without one (None: the database's, see source.zone)."""
    notify: bool = True
    """PostgreSQL: triggers NOTIFY at commit so the relay wakes at once (false: it polls)."""

    def display_url(self) -> str:
        """The URL with its password masked, for logs and messages."""
        try:
            return make_url(self.url.get_secret_value()).render_as_string(hide_password=True)
        except Exception:
            return "<unparseable url>"


class KafkaSettings(_Section):
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

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings shared by producer, consumer and admin client."""
        from cdc_sync.kafka.errors import on_client_error  # confluent_kafka only for clients

        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            # librdkafka logs every failed reconnect; our own code reports outages.
            "logger": logging.getLogger("librdkafka"),
            "error_cb": on_client_error,
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        conf.update(self.extra)
        return conf


class MeilisearchSettings(_Section):
    url: str
    api_key: SecretStr | None = None
    timeout_s: float = Field(30.0, gt=0)


class ConsumerSettings(_Section):
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


class RelaySettings(_Section):
    batch_size: int = Field(1000, ge=1, le=100_000)
    poll_interval_ms: int = Field(50, ge=1, le=60_000)
    overlap_s: float = Field(5.0, ge=0)


class StateSettings(_Section):
    url: str = "sqlite:///cdc-sync-state.db"
    lease_ttl_s: float = Field(10.0, gt=0)


class HttpSettings(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8787, ge=0, le=65535)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "text", "json"] = "auto"


FieldType = Literal[
    "auto",
    "string",
    "integer",
    "float",
    "decimal",
    "boolean",
    "datetime",
    "epoch",
    "epoch_ms",
    "base64",
]
EpochUnit = Literal["days", "seconds", "millis", "micros", "nanos"]
_TIME_TYPES = ("auto", "string", "datetime", "epoch", "epoch_ms")


class FieldSpec(_Section):
    """How one column becomes a field. `scale` and `unit` say what an envelope without
    schemas cannot: a decimal's scale (its value then comes as base64 unscaled bytes),
    and the unit of an epoch number (Debezium's Date, Timestamp, MicroTimestamp, …)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    type: FieldType = "auto"
    scale: int | None = Field(default=None, ge=-128, le=256)
    unit: EpochUnit | None = None

    @model_validator(mode="after")
    def _check_options(self) -> FieldSpec:
        if self.scale is not None and self.type != "decimal":
            raise ValueError('scale is for type = "decimal" (base64 unscaled bytes)')
        if self.unit is not None and self.type not in _TIME_TYPES:
            raise ValueError(f"unit is for type = {' | '.join(_TIME_TYPES)} (epoch numbers)")
        return self


def _spec_from_name(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


FieldMapping = Annotated[FieldSpec, BeforeValidator(_spec_from_name)]
"""A field: its name (``CASE_NO = "case_no"``) or ``{ name, type, scale, unit }``."""


class SoftDelete(_Section):
    column: Identifier
    value: str | int | bool

    def matches(self, found: Any) -> bool:
        """Whether a column value marks its row deleted; the one rule for relay and consumer.

        Compared as text with trailing blanks ignored, as the database compares a
        CHAR column with a literal (blank-padded): ``CHAR(3)`` holds ``'Y  '``.
        """
        return found is not None and str(found).rstrip(" ") == str(self.value).rstrip(" ")


class IndexSettings(_Section):
    searchable: list[str] | None = None
    filterable: list[str] | None = None
    sortable: list[str] | None = None
    displayed: list[str] | None = None
    ranking_rules: list[str] | None = None

    def as_meilisearch(self) -> dict[str, list[str]]:
        names = {
            "searchable": "searchableAttributes",
            "filterable": "filterableAttributes",
            "sortable": "sortableAttributes",
            "displayed": "displayedAttributes",
            "ranking_rules": "rankingRules",
        }
        return {
            api: value for key, api in names.items() if (value := getattr(self, key)) is not None
        }


def _duration_s(value: Any) -> Any:
    """Seconds from a number or a text such as ``"300"``, ``"90s"``, ``"5m"``, ``"1h"``."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", value)
        if not match:
            raise ValueError(f"{value!r} is not a duration (seconds, or a number with s, m or h)")
        return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(_duration_s), Field(gt=0)]
FieldMap = dict[Identifier, FieldMapping]


def _specs_of(fields: FieldMap | None) -> dict[str, FieldSpec] | None:
    return None if fields is None else dict(fields)


def _check_filter(predicate: str | None) -> None:
    if predicate is not None and ";" in predicate:
        raise ValueError("filter must be a single SQL predicate (no ';')")


class ChildSettings(_Section):
    """``[[tables.children]]``: rows of another table as an array field of the parent document."""

    name: Identifier
    schema_: Identifier | None = Field(None, alias="schema")
    primary_key: list[Identifier] = Field(min_length=1)
    parent_key: list[Identifier] = Field(min_length=1)
    """Child columns holding the parent's primary key, in the parent's key order."""
    field: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    fields: FieldMap | None = None
    order_by: list[Identifier] = Field(default_factory=list)
    filter: str | None = None
    modified_column: Identifier | None = None
    """Needed when the parent uses timestamp capture."""
    max_children: int = Field(1000, ge=1, le=1_000_000)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> ChildSettings:
        _check_filter(self.filter)
        return self

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_}.{self.name}" if self.schema_ else self.name

    def field_specs(self) -> dict[str, FieldSpec] | None:
        return _specs_of(self.fields)


class LookupSettings(_Section):
    """``[[tables.lookups]]``: columns of a code table flattened into the parent document."""

    name: Identifier
    schema_: Identifier | None = Field(None, alias="schema")
    key: list[Identifier] = Field(min_length=1)
    parent_columns: list[Identifier] = Field(min_length=1)
    """Parent columns referencing the lookup's key, in key order."""
    fields: FieldMap = Field(min_length=1)
    modified_column: Identifier | None = None
    """Needed when the parent uses timestamp capture."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> LookupSettings:
        if len(self.key) != len(self.parent_columns):
            raise ValueError(
                f"parent_columns has {len(self.parent_columns)} columns, key has {len(self.key)}"
            )
        return self

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_}.{self.name}" if self.schema_ else self.name

    @property
    def label(self) -> str:
        """How events and the change log name this lookup of its parent: ``STATUS_CODE.STATUS``."""
        return ".".join([self.qualified_name, *self.parent_columns])

    def field_specs(self) -> dict[str, FieldSpec]:
        specs = _specs_of(self.fields)
        assert specs is not None
        return specs


class TableSettings(_Section):
    name: Identifier
    schema_: Identifier | None = Field(None, alias="schema")
    primary_key: list[Identifier] = Field(min_length=1)
    index: IndexUid | None = None
    id_field: str = Field("id", pattern=r"^[A-Za-z0-9_-]+$")
    capture: Literal["trigger", "timestamp", "debezium"] = "trigger"
    topic: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]+$")
    modified_column: Identifier | None = None
    soft_delete: SoftDelete | None = None
    filter: str | None = None
    fields: FieldMap | None = None
    exclude: list[Identifier] = Field(default_factory=list)
    decimals: Literal["float", "string"] = "string"
    binary: Literal["drop", "base64"] = "drop"
    settings: IndexSettings = Field(default_factory=IndexSettings)
    children: list[ChildSettings] = Field(default_factory=list)
    lookups: list[LookupSettings] = Field(default_factory=list)
    delete_sweep_interval: Duration | None = None
    """Timestamp capture: seconds between hard-delete sweeps (None: no sweep)."""
    max_document_bytes: int = Field(900_000, ge=1024)
    """Largest document (and relay event) accepted; larger ones are dead-lettered."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check_mode(self) -> TableSettings:
        if self.capture == "timestamp" and not self.modified_column:
            raise ValueError("capture = 'timestamp' needs modified_column")
        _check_filter(self.filter)
        if self.delete_sweep_interval is not None and self.capture != "timestamp":
            raise ValueError(
                "delete_sweep_interval is for capture = 'timestamp' (trigger capture sees deletes)"
            )
        problems = self._composition_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _composition_problems(self) -> list[str]:
        if not self.composed:
            return []
        if self.capture == "debezium":
            return [
                "children and lookups need capture = 'trigger' or 'timestamp': Debezium "
                "publishes each table's rows on their own, so a parent's document cannot be "
                "rebuilt when a child or lookup row changes"
            ]
        problems = []
        fields = [c.field for c in self.children]
        for name in {f for f in fields if fields.count(f) > 1}:
            problems.append(f"children: field {name!r} is used by more than one child")
        labels = [lk.label for lk in self.lookups]
        for label in {x for x in labels if labels.count(x) > 1}:
            problems.append(f"lookups: {label} is configured more than once")
        for i, child in enumerate(self.children):
            if len(child.parent_key) != len(self.primary_key):
                problems.append(
                    f"children[{i}].parent_key has {len(child.parent_key)} columns, "
                    f"the primary key has {len(self.primary_key)}"
                )
            if self.capture == "timestamp" and not child.modified_column:
                problems.append(f"children[{i}].modified_column: needed by timestamp capture")
        names = [s.name for s in (self.field_specs() or {}).values()]
        names += fields + [s.name for lk in self.lookups for s in lk.field_specs().values()]
        for name in sorted({n for n in names if names.count(n) > 1 or n == self.id_field}):
            problems.append(
                f"document field {name!r} is produced twice (fields, children, lookups)"
            )
        for i, lookup in enumerate(self.lookups):
            if self.capture == "timestamp" and not lookup.modified_column:
                problems.append(f"lookups[{i}].modified_column: needed by timestamp capture")
        return problems

    @property
    def composed(self) -> bool:
        """Whether documents are built from several tables."""
        return bool(self.children or self.lookups)

    @property
    def index_uid(self) -> str:
        return self.index or self.name.lower()

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_}.{self.name}" if self.schema_ else self.name

    def topic_name(self, prefix: str) -> str:
        """Debezium's naming: ``<prefix>.<SCHEMA>.<TABLE>`` (no schema: ``<prefix>.<TABLE>``)."""
        return self.topic or f"{prefix}.{self.qualified_name}"

    def field_specs(self) -> dict[str, FieldSpec] | None:
        return _specs_of(self.fields)


class Settings(BaseSettings):
    source: SourceSettings
    kafka: KafkaSettings
    meilisearch: MeilisearchSettings
    consumer: ConsumerSettings = Field(default_factory=ConsumerSettings)  # type: ignore[arg-type]
    relay: RelaySettings = Field(default_factory=RelaySettings)  # type: ignore[arg-type]
    state: StateSettings = Field(default_factory=StateSettings)  # type: ignore[arg-type]
    http: HttpSettings = Field(default_factory=HttpSettings)  # type: ignore[arg-type]
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    tables: list[TableSettings] = Field(default_factory=list)

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as init kwargs; the environment overrides it.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _check_tables(self) -> Settings:
        seen: dict[str, TableSettings] = {}
        problems = []
        for table in self.tables:
            other = seen.setdefault(table.index_uid, table)
            if other is not table and (
                other.id_field != table.id_field or other.primary_key != table.primary_key
            ):
                problems.append(
                    f"tables: {other.qualified_name} and {table.qualified_name} both write "
                    f"index {table.index_uid!r} with different primary_key/id_field"
                )
        names = [t.qualified_name.upper() for t in self.tables]
        for name in {n for n in names if names.count(n) > 1}:
            problems.append(f"tables: {name} is configured more than once")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def table(self, name: str) -> TableSettings:
        for table in self.tables:
            if name.upper() in (table.name.upper(), table.qualified_name.upper()):
                return table
        known = ", ".join(t.qualified_name for t in self.tables) or "none"
        raise ConfigError([f"--table {name}: not a configured table (configured: {known})"])


def expand_env(value: Any, environ: Mapping[str, str], path: str = "") -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of a TOML tree."""
    if isinstance(value, dict):
        return {k: expand_env(v, environ, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, environ, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError([f"{path}: environment variable {name} is not set (used as ${{{name}}})"])

    return _ENV_REF.sub(replace, value)


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = "schema" if part == "schema_" else part
            out += f".{key}" if out else key
    return out


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
    key = _location(loc) or "config"
    kind = error["type"]
    if kind == "missing":
        section, _, leaf = key.rpartition(".")
        if "[" in key:
            entry = key.split("[")[0]
            return f"{key}: required key is missing (set {leaf} = ... in that [[{entry}]] entry)"
        env = ENV_PREFIX + key.replace(".", "__").upper()
        where = f"[{section}] {leaf} = ..." if section else key
        return f"{key}: required key is missing (set {where} in the config file or {env})"
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}"


def load_settings(path: str | Path | None = None) -> Settings:
    """Load, expand and validate; raise ConfigError with one line per problem."""
    path = path or os.environ.get(CONFIG_ENV)
    raw: dict[str, Any] = {}
    if path:
        file = Path(path)
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"--config: file {str(file)!r} does not exist"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"--config: {file} is not valid TOML: {exc}"]) from None
    raw = expand_env(raw, os.environ)
    try:
        return Settings(**raw)
    except ValidationError as exc:
        raise ConfigError([_describe(e) for e in exc.errors()]) from None
