"""The typed settings tree (SPEC §8) and how it is loaded.

Sources, lowest priority first: the TOML file, then environment variables
named ``CDC_SYNC__SECTION__KEY`` (``__`` separates sections). ``${VAR}`` and
``${VAR:-default}`` inside file values are expanded from the environment.
Every problem is reported as one line that names the key.
"""

from cdc_sync.config.loading import CONFIG_ENV, ENV_PREFIX, Settings, expand_env, load_settings
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
from cdc_sync.config.tables import (
    ChildSettings,
    FieldSpec,
    IndexSettings,
    LookupSettings,
    SoftDelete,
    TableSettings,
    TableVerify,
)
from cdc_sync.config.values import time_zone_of

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "BootstrapSettings",
    "ChildSettings",
    "ConsumerSettings",
    "FieldSpec",
    "HttpSettings",
    "IndexSettings",
    "KafkaSettings",
    "LoggingSettings",
    "LookupSettings",
    "MeilisearchSettings",
    "RelaySettings",
    "Settings",
    "SoftDelete",
    "SourceSettings",
    "StateSettings",
    "TableSettings",
    "TableVerify",
    "VerifySettings",
    "expand_env",
    "load_settings",
    "time_zone_of",
]
