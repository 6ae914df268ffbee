"""The fault suite: real servers behind fault-injecting proxies, or stopped and restarted.

Every test here is marked ``faults`` (run them alone with ``dev/test -m faults``) and
``stack``. Tests that draw their faults at random take a ``seed`` (in the test id), so
a failing run is reproduced with the same id.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from tests.conftest import ROOT, unique
from tests.faults.proxy import HttpProxy, TcpProxy
from tests.faults.support import restart

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.stack)


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the stack's PostgreSQL (no fault switched on)."""
    where = urlsplit(pg_url)
    assert where.hostname and where.port
    with TcpProxy(where.hostname, where.port) as proxy:
        yield proxy


@pytest.fixture
def meili_proxy(stack: dict[str, str]) -> Iterator[HttpProxy]:
    """An HTTP fault proxy in front of the stack's Meilisearch (no fault switched on)."""
    where = urlsplit(stack["MEILI_URL"])
    assert where.hostname and where.port
    with HttpProxy(where.hostname, where.port) as proxy:
        yield proxy
    assert not proxy.errors, proxy.errors


LISTENERS = (
    "KAFKA_PROXIED_LISTENER",
    "KAFKA_PROXIED_BOOTSTRAP_SERVERS",
    "KAFKA_SASL_BOOTSTRAP_SERVERS",
)


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def _listening(address: str) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(_host_port(address)) == 0


@pytest.fixture(scope="session")
def kafka_listeners(stack: dict[str, str]) -> dict[str, str]:
    """The broker's test listeners (dev/stack): proxied and SASL. A broker started before
    they existed is restarted once, so its configuration gains them."""
    found = {name: os.environ.get(name, "") for name in LISTENERS}
    if not all(found.values()):
        env = subprocess.run(
            [str(ROOT / "dev" / "stack"), "env"], capture_output=True, text=True, check=True
        ).stdout
        found.update(re.findall(r"^export (KAFKA_\w+)=(.*)$", env, re.M))
    if not _listening(found["KAFKA_PROXIED_LISTENER"]):
        restart("kafka")
    assert _listening(found["KAFKA_PROXIED_LISTENER"]), "the broker has no proxied listener"
    return {name: found[name] for name in LISTENERS}


@pytest.fixture
def kafka_proxy(kafka_listeners: dict[str, str]) -> Iterator[TcpProxy]:
    """A TCP fault proxy in front of the broker's proxied listener, on the port the broker
    advertises there: clients given its address talk to the broker only through it."""
    host, port = _host_port(kafka_listeners["KAFKA_PROXIED_LISTENER"])
    _, advertised = _host_port(kafka_listeners["KAFKA_PROXIED_BOOTSTRAP_SERVERS"])
    with TcpProxy(host, port, port=advertised) as proxy:
        yield proxy
    assert not proxy.errors, proxy.errors


@dataclass(frozen=True)
class ScramUser:
    name: str
    password: str
    mechanism: str = "SCRAM-SHA-256"


@pytest.fixture(scope="session")
def scram_user(kafka_listeners: dict[str, str], kafka_admin: AdminClient) -> ScramUser:
    """A SCRAM-SHA-256 user of the broker's SASL listener, with a fresh random password."""
    user = ScramUser(unique("user"), secrets.token_urlsafe(18))
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096)
    upsert = UserScramCredentialUpsertion(user.name, info, user.password.encode())
    for future in kafka_admin.alter_user_scram_credentials([upsert]).values():
        future.result(30)
    return user
