"""Kafka Connect (with Debezium) and the schema registry, started only when a test here runs."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.integration.debezium.support import NAME_PREFIX, Connect, SlotJanitor

DEBEZIUM_VARS = ("CONNECT_URL", "SCHEMA_REGISTRY_URL", "CONNECT_SECRETS_DIR")
RESULTS: list[str] = []  # one line per setup for the closing summary


@pytest.fixture(scope="session")
def debezium_stack(stack: dict[str, str]) -> dict[str, str]:
    """Connect and registry addresses; `dev/stack up connect registry` once per session."""
    done = subprocess.run(
        [str(ROOT / "dev" / "stack"), "up", "connect", "registry"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        pytest.fail(f"dev/stack up connect registry failed:\n{done.stderr[-3000:]}")
    found = dict(re.findall(r"^export (\w+)=['\"]?(.*?)['\"]?$", done.stdout, re.M))
    missing = [v for v in DEBEZIUM_VARS if v not in found]
    if missing:
        pytest.fail(f"dev/stack up printed no value for {missing}")
    os.environ.update({v: found[v] for v in DEBEZIUM_VARS})
    return {**stack, **{v: found[v] for v in DEBEZIUM_VARS}}


@pytest.fixture(scope="session")
def connect(debezium_stack: dict[str, str]) -> Iterator[Connect]:
    """The worker, cleared of connectors and slots a killed earlier run left behind."""
    client = Connect(debezium_stack["CONNECT_URL"])
    janitor = SlotJanitor(debezium_stack["PG_URL"])
    for name in client.connectors():
        if name.startswith(NAME_PREFIX):
            client.delete(name)
    for slot in janitor.leftovers():
        janitor.drop(slot)
    yield client
    for name in client.connectors():
        if name.startswith(NAME_PREFIX):
            with contextlib.suppress(Exception):
                client.delete(name)
    left = janitor.leftovers()
    for slot in left:
        janitor.drop(slot)
    assert not left, f"replication slots left behind by a test: {left}"


@pytest.fixture(scope="session")
def slot_janitor(stack: dict[str, str]) -> SlotJanitor:
    return SlotJanitor(stack["PG_URL"])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RESULTS:
        terminalreporter.write_sep("-", "Debezium end to end")
        for line in RESULTS:
            terminalreporter.write_line(line)
