"""Every secret set at once — source password, Meilisearch key, SASL password, schema-registry
password, state-store password — and looked for everywhere an operator or attacker reads."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import meilisearch
import pytest
from confluent_kafka import Producer
from sqlalchemy.engine import make_url

from cdc_sync.config import load_settings
from tests.conftest import unique
from tests.faults.conftest import ScramUser
from tests.faults.support import execute, make_table, wait_index_equals_source
from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import ConsumerProcess, wait_for
from tests.integration.live_pipeline import HTTP_PORT_ENV
from tests.integration.test_cli_dlq import read_all

ROWS = 30


def with_password(url: str, password: str) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


@pytest.fixture
def meili_key(meili: meilisearch.Client) -> Iterator[str]:
    """An API key of its own (Meilisearch makes up its value), deleted afterwards."""
    key = meili.create_key({"actions": ["*"], "indexes": ["*"], "expiresAt": None})
    yield key.key
    with contextlib.suppress(Exception):
        meili.delete_key(key.key)


def test_no_secret_is_ever_shown(
    make_config: Callable[..., Path],
    pg_url: str,
    meili: meilisearch.Client,
    meili_key: str,
    kafka_listeners: dict[str, str],
    kafka_bootstrap: str,
    scram_user: ScramUser,
    tmp_path: Path,
) -> None:
    """Invariant: no secret appears in any log (services at DEBUG), in `status`, `status
    --json`, `lag`, `check`, `dlq list`, `verify`, /status, /metrics, /healthz, /readyz, the
    dashboard, an error message, or a dead letter (key, value, headers) — after demo-like
    traffic (bootstrap, relay, consumer, a poison record) and commands failing on purpose."""
    source_password, state_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    registry_password = secrets.token_urlsafe(16)
    hidden = {
        "source password": source_password,
        "state-store password": state_password,
        "Meilisearch key": meili_key,
        "SASL password": scram_user.password,
        "registry password": registry_password,
    }
    name = unique("items")
    make_table(pg_url, name, ROWS)
    uid = unique("items")
    config = make_config(
        with_password(pg_url, source_password),
        tables=[{"name": name.upper(), "primary_key": ["ID"], "index": uid}],
        kafka={
            "bootstrap_servers": kafka_listeners["KAFKA_SASL_BOOTSTRAP_SERVERS"],
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": scram_user.mechanism,
            "sasl_username": scram_user.name,
            "sasl_password": scram_user.password,
            # nothing listens there: `check` fails on it, and says so without the password
            "schema_registry_url": "http://127.0.0.1:9/apis/ccompat/v7",
            "schema_registry_username": "registry",
            "schema_registry_password": registry_password,
        },
        meilisearch={"api_key": meili_key},
        state={"url": with_password(pg_url, state_password)},
        http={"enabled": True, "port": int(os.environ.get(HTTP_PORT_ENV, "0"))},
    )
    kafka = load_settings(config).kafka
    shown: dict[str, str] = {}

    def command(*args: str, expect: int | None = 0, **env: str) -> str:
        done = run_cli(config, *args, timeout_s=180, env=env)
        shown[" ".join(args) + (f" {sorted(env)}" if env else "")] = done.stdout + done.stderr
        if expect is not None:
            assert done.returncode == expect, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    checked = command("check", expect=None)  # the registry (nothing listens there) may fail
    for component in ("source", "kafka", "meilisearch"):
        assert re.search(rf"^{component} +ok ", checked, re.M), checked
    command("source", "install")
    command("bootstrap")
    debug = {"CDC_SYNC__LOGGING__LEVEL": "DEBUG"}
    relay = ConsumerProcess(
        config, tmp_path / "relay.log", command="relay", env={"CDC_SYNC__HTTP__ENABLED": "false"}
    )
    consumer = ConsumerProcess(config, tmp_path / "consumer.log", env=debug)
    try:
        execute(pg_url, f"UPDATE {name} SET title = 'changed', n = n + 1 WHERE id <= 10")
        execute(pg_url, f"DELETE FROM {name} WHERE id > 25")
        execute(pg_url, f"INSERT INTO {name} VALUES ({ROWS + 1}, 'new', 0)")
        poison = Producer({"bootstrap.servers": kafka_bootstrap})
        poison.produce(f"{kafka.topic_prefix}.{name.upper()}", key=b'{"ID":999}', value=b"{oops")
        assert poison.flush(30) == 0
        wait_index_equals_source(meili, uid, pg_url, name, timeout_s=120)
        letters = read_all(kafka_bootstrap, kafka.dead_letter_topic, 1, timeout_s=60)
        assert letters, "the poison record was not dead-lettered"
        for i, letter in enumerate(letters):
            headers = " ".join(f"{k}={v!r}" for k, v in letter.headers() or [])
            shown[f"dead letter {i}"] = f"{letter.key()!r} {letter.value()!r} {headers}"
        endpoint = endpoint_of(consumer)
        wait_for(lambda: "documents" in httpx.get(f"{endpoint}/status").text, 30, "/status")
        for path in ("/status", "/metrics", "/", "/healthz", "/readyz"):
            shown[f"GET {path}"] = httpx.get(f"{endpoint}{path}", timeout=30).text
        for args in (("status",), ("status", "--json"), ("lag",), ("lag", "--json")):
            command(*args)
        assert uid in shown["GET /status"] and uid in command("status", "--json")
        command("dlq", "list")
        command("verify")
        command(
            "check",
            expect=3,
            CDC_SYNC__SOURCE__URL=with_password(pg_url, source_password).replace(
                f":{make_url(pg_url).port}/", ":9/"
            ),
        )
        command("check", expect=3, CDC_SYNC__MEILISEARCH__URL="http://127.0.0.1:9")
    finally:
        for service in (relay, consumer):
            service.terminate()
            with contextlib.suppress(AssertionError):
                service.wait(30)
    shown["relay log"] = relay.log.read_text(errors="replace")
    shown["consumer log"] = consumer.log.read_text(errors="replace")
    assert "DEBUG" in shown["consumer log"].upper()
    leaks = [
        f"{what} in {where}"
        for where, text in shown.items()
        for what, value in hidden.items()
        if value in text
    ]
    assert not leaks, leaks


def endpoint_of(consumer: ConsumerProcess) -> str:
    found: list[str] = []

    def logged() -> bool:
        found[:] = re.findall(
            r"http endpoint on (http://[A-Za-z0-9.:\[\]-]+)", consumer.log.read_text()
        )
        return bool(found)

    wait_for(logged, 60, "the consumer's http endpoint")
    return found[-1]
