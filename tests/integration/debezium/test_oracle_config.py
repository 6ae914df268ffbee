"""The shipped Oracle connector config, validated by a real Kafka Connect worker with Debezium."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.integration.debezium.support import Connect

pytestmark = pytest.mark.debezium

ORACLE = "io.debezium.connector.oracle.OracleConnector"
SHIPPED = ROOT / "connectors" / "oracle-crasivttst.json"


def test_oracle_config_is_valid_but_for_the_unreachable_database(
    connect: Connect, debezium_stack: dict[str, str]
) -> None:
    """Invariant: Connect's validation of connectors/oracle-crasivttst.json finds no error except
    that no Oracle answers here; its password comes through the worker's file config provider."""
    shipped = json.loads(SHIPPED.read_text())
    config = {"name": shipped["name"], **shipped["config"]}
    assert not any(key.startswith("config.providers") for key in config), (
        "config providers are a worker setting (connectors/connect-worker.properties)"
    )
    secrets = Path(debezium_stack["CONNECT_SECRETS_DIR"])
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "oracle.properties").write_text("password=not-the-real-one\n")
    config["database.password"] = config["database.password"].replace(
        "/kafka/secrets", str(secrets)
    )

    answer = connect.validate(ORACLE, config)

    errors = {
        item["value"]["name"]: item["value"]["errors"]
        for item in answer["configs"]
        if item.get("value") and item["value"]["errors"]
    }
    print(json.dumps({"error_count": answer["error_count"], "errors": errors}, indent=2))
    assert answer["name"] == ORACLE
    assert list(errors) == ["database.hostname"], errors
    assert any("Unable to connect" in e for e in errors["database.hostname"]), errors
    assert answer["error_count"] == 1

    # The worker resolves ${file:…} itself: an absent secrets file fails the validation.
    absent = {**config, "database.password": f"${{file:{secrets}/absent.properties:password}}"}
    with pytest.raises(httpx.HTTPStatusError) as refused:
        connect.validate(ORACLE, absent)
    assert "Could not read properties from file" in refused.value.response.text
