"""What every command gets: settings loaded on first use, logging set up once."""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urlsplit

from cdc_sync.config import Settings, load_settings
from cdc_sync.logs import setup_logging


def secrets_of(settings: Settings) -> list[str]:
    from sqlalchemy.engine import make_url

    found = []
    kafka = settings.kafka
    for secret in (
        settings.meilisearch.api_key,
        kafka.sasl_password,
        kafka.schema_registry_password,
    ):
        if secret is not None:
            found.append(secret.get_secret_value())
    for url in (settings.source.url.get_secret_value(), settings.state.url):
        try:
            password = make_url(url).password
        except Exception:
            password = None
        if password:
            found.append(str(password))
    if kafka.schema_registry_url:  # credentials may also sit in the URL
        registry_password = urlsplit(kafka.schema_registry_url).password
        if registry_password:
            found.append(registry_password)
    return found


class AppContext:
    def __init__(self, config_path: str | None, log_level: str | None) -> None:
        self.config_path = config_path
        self.log_level = log_level

    @cached_property
    def settings(self) -> Settings:
        settings = load_settings(self.config_path)
        setup_logging(
            self.log_level or settings.logging.level, settings.logging.format, secrets_of(settings)
        )
        return settings
