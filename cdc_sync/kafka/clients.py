"""The librdkafka settings every client starts from: producer, consumer and admin client."""

from __future__ import annotations

import logging
from typing import Any

from cdc_sync.config import KafkaSettings
from cdc_sync.kafka.errors import on_client_error


def client_config(kafka: KafkaSettings) -> dict[str, Any]:
    """librdkafka settings shared by producer, consumer and admin client."""
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        # librdkafka logs every failed reconnect; our own code reports outages.
        "logger": logging.getLogger("librdkafka"),
        "error_cb": on_client_error,
        "security.protocol": kafka.security_protocol,
    }
    if kafka.sasl_mechanism:
        conf["sasl.mechanism"] = kafka.sasl_mechanism
    if kafka.sasl_username:
        conf["sasl.username"] = kafka.sasl_username
    if kafka.sasl_password:
        conf["sasl.password"] = kafka.sasl_password.get_secret_value()
    conf.update(kafka.extra)
    return conf
