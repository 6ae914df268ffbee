"""docker-compose.yml, validated by docker-compose itself (Debian's package needs no engine).

It has never been brought up here (no Docker engine): these checks hold the wiring
that `docker compose up` relies on.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from cdc_sync.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
CDC_SERVICES = ("setup", "relay", "consumer", "verifier", "bootstrap", "cdc")

pytestmark = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (dev/test installs Debian's package as root)",
)


def _config(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "docker-compose",
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            *args,
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    done = _config("--profile", "debezium", "--profile", "tools", "--profile", "grafana")
    assert done.returncode == 0, done.stderr
    return dict(yaml.safe_load(done.stdout))


def test_docker_compose_accepts_the_file() -> None:
    done = _config()
    assert done.returncode == 0, done.stderr
    services = set(yaml.safe_load(done.stdout)["services"])
    assert {"oracle", "kafka", "meilisearch", "statedb", "setup", "relay", "consumer"} <= services


def test_every_cdc_sync_service_shares_one_state_store(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invariant: runs, leases and bootstrap fences live in one database every service reaches,
    so a bootstrap run in one container fences the consumer in another."""
    services = compose["services"]
    configs = set()
    for name in CDC_SERVICES:
        service = services[name]
        assert service["build"]["context"] == str(ROOT), name
        assert f"{ROOT / 'examples'}:/config:ro" in service["volumes"], name
        assert "CDC_SYNC__STATE__URL" not in service["environment"], name
        configs.add(service["environment"]["CDC_SYNC_CONFIG"])
    assert configs == {"/config/cdc-sync.toml"}

    for env in ("MEILI_API_KEY", "STATE_DB_PASSWORD", "ORACLE_PASSWORD"):
        monkeypatch.setenv(env, services["consumer"]["environment"][env])
    for name in ("cdc-sync.toml", "cdc-sync-debezium.toml"):
        settings = load_settings(ROOT / "examples" / name)
        state = make_url(settings.state.url)
        assert state.get_backend_name() == "postgresql" and state.host == "statedb"
        assert state.password == services["statedb"]["environment"]["POSTGRES_PASSWORD"]
        assert make_url(settings.source.url.get_secret_value()).host == "oracle"
        assert settings.kafka.bootstrap_servers == "kafka:9092"
        assert settings.meilisearch.url == "http://meilisearch:7700"
        assert settings.meilisearch.api_key is not None
        key = settings.meilisearch.api_key.get_secret_value()
        assert key == services["meilisearch"]["environment"]["MEILI_MASTER_KEY"]


def test_services_start_in_order_with_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("oracle", "kafka", "meilisearch", "statedb", "connect", "relay", "consumer"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert services["relay"]["depends_on"]["setup"] == {
        "condition": "service_completed_successfully"
    }
    assert services["setup"]["command"] == ["source", "install"]
    assert services["setup"]["depends_on"]["oracle"] == {"condition": "service_healthy"}
    for infra in ("kafka", "meilisearch", "statedb"):
        assert services["consumer"]["depends_on"][infra] == {"condition": "service_healthy"}
    assert services["consumer"]["ports"][0].startswith("127.0.0.1:8787:8787")
    assert services["verifier"]["command"] == ["verify", "--continuous"]
    assert services["verifier"]["healthcheck"]["test"]
    assert services["verifier"]["ports"][0].startswith("127.0.0.1:8788:8787")
    assert services["bootstrap"]["entrypoint"] == ["cdc-sync", "bootstrap"]
    assert "tools" in services["bootstrap"]["profiles"]
    # the example table first, then the Debezium setup (which alters that table)
    init = "/container-entrypoint-initdb.d"
    assert services["oracle"]["volumes"] == [
        f"{ROOT / 'examples/oracle-init/01-crasivttst.sql'}:{init}/01-crasivttst.sql:ro",
        f"{ROOT / 'connectors/oracle-setup.sql'}:{init}/02-debezium-setup.sql:ro",
    ]
    assert (ROOT / "examples" / "oracle-init" / "01-crasivttst.sql").exists()
    assert "ALTER TABLE APP.CRASIVTTST" in (ROOT / "connectors" / "oracle-setup.sql").read_text()


def test_kafka_connect_runs_debezium_with_the_files_in_connectors(compose: dict[str, Any]) -> None:
    services = compose["services"]
    connect, register = services["connect"], services["connect-register"]
    assert "debezium" in connect["profiles"] and "debezium" in register["profiles"]
    assert f"{ROOT / 'connectors'}:/connectors:ro" in connect["volumes"]
    assert "/connectors/connect-worker.properties" in " ".join(connect["command"])
    assert "--data @/connectors/oracle-crasivttst.json" in " ".join(register["command"])
    assert register["depends_on"]["connect"] == {"condition": "service_healthy"}
    worker = (ROOT / "connectors" / "connect-worker.properties").read_text()
    assert "bootstrap.servers=kafka:9092" in worker
    connector = (ROOT / "connectors" / "oracle-crasivttst.json").read_text()
    assert '"database.hostname": "oracle"' in connector
    example = tomllib.loads((ROOT / "examples" / "cdc-sync-debezium.toml").read_text())
    assert example["tables"][0]["capture"] == "debezium"


def test_readme_says_how_to_run_it() -> None:
    readme = (ROOT / "README.md").read_text()
    for text in ("docker compose up -d", "docker compose run --rm bootstrap", "--profile debezium"):
        assert text in readme, text


def test_prometheus_scrapes_the_services_with_the_rules_and_grafana_has_the_dashboard(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert f"{ROOT / 'deploy/prometheus'}:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["cdc-sync.rules.yml"]  # beside it, so in /etc/prometheus
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "cdc-sync"  # the rules' `up{job="cdc-sync"}`
    targets = ["relay:8787", "consumer:8787", "verifier:8787"]
    assert job["static_configs"][0]["targets"] == targets
    for name in ("relay", "consumer", "verifier"):  # reachable from the prometheus container
        assert services[name]["environment"]["CDC_SYNC__HTTP__HOST"] == "0.0.0.0"
    assert "grafana" in grafana["profiles"] and "grafana" not in prometheus.get("profiles", [])
    assert (
        f"{ROOT / 'deploy/grafana/dashboards'}:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    )
    assert (
        f"{ROOT / 'deploy/grafana/provisioning'}:/etc/grafana/provisioning:ro" in grafana["volumes"]
    )
    provider = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/cdc-sync.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    source = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert source["datasources"][0]["url"] == "http://prometheus:9090"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_compose_prometheus_config() -> None:
    done = subprocess.run(
        ["promtool", "check", "config", str(ROOT / "deploy" / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
