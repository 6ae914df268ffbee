"""Kafka refusing the configured SASL credentials: asking again cannot cure that."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import unique
from tests.faults.conftest import ScramUser
from tests.integration.cli_support import run_cli


@pytest.mark.parametrize("command", ["consume", "relay", "lag"])
def test_refused_credentials_end_the_service_with_a_clear_error(
    command: str,
    make_config: Callable[..., Path],
    sqlite_url: str,
    kafka_listeners: dict[str, str],
    scram_user: ScramUser,
) -> None:
    """Invariant: credentials the broker refuses end the service at once (exit 2, the keys to
    fix named, no traceback, the password never printed) instead of a retry loop that looks
    like an outage."""
    wrong = unique("not-the-password")
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)")
    config = make_config(
        sqlite_url,
        tables=[{"name": "ITEMS", "primary_key": ["ID"], "index": unique("items")}],
        kafka={
            "bootstrap_servers": kafka_listeners["KAFKA_SASL_BOOTSTRAP_SERVERS"],
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": scram_user.mechanism,
            "sasl_username": scram_user.name,
            "sasl_password": wrong,
        },
    )
    assert run_cli(config, "source", "install").returncode == 0
    started = time.monotonic()
    done = run_cli(config, command, timeout_s=60)
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "kafka.sasl_username / kafka.sasl_password: the broker refused them" in done.stderr
    assert "invalid credentials" in done.stderr
    assert "Traceback" not in output and wrong not in output
    assert took < 30, f"{command} took {took:.0f}s to give up"  # not the 30 s retry budget
