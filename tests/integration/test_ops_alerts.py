"""A real Prometheus (dev/stack up prometheus) scraping a live relay and consumer: the lag
alert goes pending → firing while the consumer is stopped under a backlog and resolves after
it caught up (through Prometheus's own API); `promtool check metrics` accepts the /metrics of
relay, consumer and continuous verifier; every dashboard panel's query returns series."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import meilisearch
import pytest
from confluent_kafka import Producer

from cdc_sync.config import load_settings
from tests.conftest import unique
from tests.integration.consumer_support import ConsumerProcess, wait_for
from tests.integration.live_pipeline import LivePipeline, live_pipeline
from tests.integration.prometheus_support import (
    Prometheus,
    endpoint,
    fast_variant,
    prometheus_of_the_stack,
    promtool_check_metrics,
)

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "cdc-sync.json"


@dataclass
class Scraped:
    live: LivePipeline
    prometheus: Prometheus
    run: str
    relay_url: str
    verifier_url: str
    tmp: Path

    def scrape(self) -> None:
        urls = [self.relay_url, self.live.url, self.verifier_url]
        self.prometheus.scrape(self.run, urls, run=self.run)


@pytest.fixture(scope="module")
def scraped(
    tmp_path_factory: pytest.TempPathFactory,
    stack: dict[str, str],
    pg_url: str,
    meili: meilisearch.Client,
) -> Iterator[Scraped]:
    tmp = tmp_path_factory.mktemp("alerts")
    with prometheus_of_the_stack() as prometheus, live_pipeline(tmp, stack, pg_url, meili) as live:
        live.relay = ConsumerProcess(
            live.config, tmp / "relay.log", command="relay", env={"CDC_SYNC__HTTP__PORT": "0"}
        )
        wait_for(lambda: live.documents("ITEMS") == 5 and live.documents("NOTES") == 3, 180, "sync")
        verifier = ConsumerProcess(
            live.config,
            tmp / "verifier.log",
            "--continuous",
            command="verify",
            env={"CDC_SYNC__HTTP__PORT": "0", "CDC_SYNC__VERIFY__EVERY": "2s"},
        )
        try:
            urls = endpoint(tmp / "relay.log"), endpoint(tmp / "verifier.log")
            found = Scraped(live, prometheus, unique("run"), *urls, tmp)
            found.scrape()
            wait_for(
                lambda: len(prometheus.query(f'up{{run="{found.run}"}} == 1')) == 3,
                60,
                "relay, consumer and verifier scraped",
            )
            yield found
        finally:
            verifier.terminate()
            verifier.wait(60)


def _metrics(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def test_promtool_accepts_the_metrics_of_relay_consumer_and_verifier(scraped: Scraped) -> None:
    services = ("relay", scraped.relay_url), ("consumer", scraped.live.url)
    for name, url in (*services, ("verifier", scraped.verifier_url)):
        done = promtool_check_metrics(_metrics(url))
        print(
            f"promtool check metrics ({name}): exit {done.returncode}\n{done.stdout}{done.stderr}"
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_lag_alert_pending_then_firing_while_the_consumer_is_stopped_then_resolved(
    scraped: Scraped,
) -> None:
    """CdcSyncLagHigh as shipped but for 8 s instead of 300 s and `for: 5s` instead of 2m."""
    live, prometheus, run = scraped.live, scraped.prometheus, scraped.run
    rule = fast_variant("CdcSyncLagHigh", "> 300", "> 8", "5s")
    prometheus.add_rules(run, [{"name": f"fast-{run}", "interval": "1s", "rules": [rule]}])
    live.consumer.terminate()
    assert live.consumer.wait(60) == 0
    stopped = time.monotonic()
    live.sql("INSERT INTO items SELECT g, 'while stopped ' || g FROM generate_series(10, 209) g")
    timeline: list[tuple[float, str]] = []

    def state() -> str:
        alerts = prometheus.alerts(alertname="CdcSyncLagHigh", run=run, table="ITEMS")
        lag = prometheus.query(f'max(cdc_sync_table_lag_seconds{{run="{run}",table="ITEMS"}})')
        now = "none" if not alerts else alerts[0]["state"]
        shown = f"{now} (lag {lag[0]['value'][1] if lag else '?'} s)"
        if not timeline or timeline[-1][1].split()[0] != now:
            timeline.append((round(time.monotonic() - stopped, 1), shown))
        return now

    wait_for(lambda: state() == "pending", 90, "the lag alert pending", every=0.5)
    wait_for(lambda: state() == "firing", 30, "the lag alert firing", every=0.5)
    live.consumer = ConsumerProcess(live.config, scraped.tmp / "consume-again.log")
    scraped.scrape()  # the restarted consumer serves on a new port
    wait_for(lambda: live.documents("ITEMS") == 205, 120, "the backlog applied")
    wait_for(lambda: state() == "none", 60, "the lag alert resolved", every=0.5)
    print("timeline (seconds after the consumer stopped):")
    for at, shown in timeline:
        print(f"  {at:6.1f}  {shown}")
    states = [s.split()[0] for _, s in timeline]
    assert states[states.index("pending") :] == ["pending", "firing", "none"]


def _queries() -> list[tuple[str, str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(p["title"], t["expr"]) for p in panels for t in p["targets"]]


def test_every_dashboard_panel_query_returns_series(scraped: Scraped) -> None:
    live, prometheus = scraped.live, scraped.prometheus
    settings = load_settings(live.config)
    items = settings.topic_of(settings.tables[0])
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    producer.produce(items, key=b'{"ID": 999}', value=b"not an event")  # a dead letter
    assert producer.flush(30) == 0
    verified = live.cli("verify")
    assert verified.returncode in (0, 1), verified.stderr

    def answered(expr: str) -> bool:
        concrete = (
            expr.replace("$job", "cdc-sync")
            .replace("$table", ".+")
            .replace("$__rate_interval", "1m")
        )
        return bool(prometheus.query(concrete))

    for title, expr in _queries():
        wait_for(lambda e=expr: answered(e), 90, f"series for panel {title!r}: {expr}", every=1)
