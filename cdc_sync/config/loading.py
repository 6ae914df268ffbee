"""The whole settings tree, read from the TOML file and the environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from cdc_sync.config.sections import (
    BootstrapSettings,
    ConsumerSettings,
    HttpSettings,
    KafkaSettings,
    LoggingSettings,
    MeilisearchSettings,
    RelaySettings,
    SourceSettings,
    StateSettings,
    VerifySettings,
)
from cdc_sync.config.tables import TableSettings
from cdc_sync.errors import ConfigError
from cdc_sync.names import table_topic

ENV_PREFIX = "CDC_SYNC__"
CONFIG_ENV = "CDC_SYNC_CONFIG"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Settings(BaseSettings):
    source: SourceSettings
    kafka: KafkaSettings
    meilisearch: MeilisearchSettings
    consumer: ConsumerSettings = Field(default_factory=ConsumerSettings)  # type: ignore[arg-type]
    relay: RelaySettings = Field(default_factory=RelaySettings)  # type: ignore[arg-type]
    verify: VerifySettings = Field(default_factory=VerifySettings)  # type: ignore[arg-type]
    state: StateSettings = Field(default_factory=StateSettings)  # type: ignore[arg-type]
    bootstrap: BootstrapSettings = Field(default_factory=BootstrapSettings)  # type: ignore[arg-type]
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

    @model_validator(mode="before")
    @classmethod
    def _tables_inherit_the_placeholder(cls, data: Any) -> Any:
        """A table without its own ``unavailable_value_placeholder`` takes ``[kafka]``'s."""
        kafka = data.get("kafka") if isinstance(data, dict) else None
        text = kafka.get("unavailable_value_placeholder") if isinstance(kafka, dict) else None
        if not isinstance(text, str) or not text or not isinstance(data.get("tables"), list):
            return data
        key = "unavailable_value_placeholder"
        tables = [
            {key: text, **table} if isinstance(table, dict) and key not in table else table
            for table in data["tables"]
        ]
        return {**data, "tables": tables}

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

    def topic_of(self, table: TableSettings) -> str:
        """Where the table's events are: its `topic`, else Debezium's ``<prefix>.<SCHEMA>.<TABLE>``
        with Oracle's names as Oracle stores them (`names.table_topic`)."""
        if table.topic:
            return table.topic
        prefix = self.kafka.topic_prefix
        return table_topic(prefix, table.schema_, table.name, oracle=self.source.is_oracle)

    def topics(self) -> list[str]:
        """Every configured table's topic, in table order."""
        return [self.topic_of(table) for table in self.tables]

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
