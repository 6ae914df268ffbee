"""The services' HTTP endpoint, served for real on a free port."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import meilisearch
import pytest

from cdc_sync import metrics
from cdc_sync.cli.context import secrets_of
from cdc_sync.config import HttpSettings, load_settings
from cdc_sync.errors import ConfigError
from cdc_sync.ops.http import create_app, serve_in_background
from cdc_sync.ops.status import provider_for
from cdc_sync.state.store import StateStore


def test_endpoints(
    make_config: Callable[..., Path],
    sqlite_url: str,
    meili: meilisearch.Client,
    index_uid: str,
    stack: dict[str, str],
) -> None:
    config = make_config(
        sqlite_url,
        tables=[{"name": "CRASIVTTST", "schema": "APP", "primary_key": ["ID"], "index": index_uid}],
    )
    settings = load_settings(config)
    meili.wait_for_task(
        meili.index(index_uid).add_documents([{"id": 1}, {"id": 2}], "id").task_uid,
        timeout_in_ms=60_000,
    )
    store = StateStore(settings.state.url)
    store.record_error("consumer", f"meilisearch refused key {stack['MEILI_MASTER_KEY']}")
    store.close()
    ready = {"now": False}
    now_ms = time.time() * 1000
    metrics.events_applied("APP.CRASIVTTST", 10, [int(now_ms) - 40] * 10, now_ms)
    provider = provider_for(
        "consumer",
        settings,
        ready=lambda: ready["now"],
        throughput=metrics.APPLIED_RATE.rate,
        activity=metrics.APPLIED_ACTIVITY,
        ttl_s=0,
    )
    app = create_app(provider, secrets_of(settings), metrics.APPLIED_ACTIVITY)
    handle = serve_in_background(HttpSettings(port=0), app)
    try:
        assert handle.port > 0
        with httpx.Client(base_url=handle.url, timeout=10) as http:
            assert http.get("/healthz").status_code == 200
            assert http.get("/readyz").status_code == 503
            ready["now"] = True
            assert http.get("/readyz").status_code == 200

            scraped = http.get("/metrics")
            assert scraped.status_code == 200
            for name in (*metrics.METRIC_NAMES, *metrics.TABLE_METRIC_NAMES):
                assert name in scraped.text, name

            status = http.get("/status")
            assert status.status_code == 200
            data = status.json()
            assert data["component"] == "consumer" and data["ready"] is True
            (table,) = data["tables"]
            assert table["table"] == "APP.CRASIVTTST" and table["index"] == index_uid
            assert table["documents"] == 2 and table["capture"] == "trigger"
            assert 30 <= table["latency"]["p50_ms"] <= 50  # this process's own, live
            assert table["last_applied_at"] is not None
            assert data["lag"] == [] and data["throughput"] > 0
            assert data["unavailable"]["source"].endswith("source.db does not exist")
            documents = (
                f'cdc_sync_table_documents{{index="{index_uid}",table="APP.CRASIVTTST"}} 2.0'
            )
            assert documents in scraped.text
            assert (
                'cdc_sync_change_latency_seconds_bucket{le="0.05",table="APP.CRASIVTTST"}'
                in scraped.text
            )
            assert "meilisearch refused key ***" in data["errors"][0]["message"]
            assert stack["MEILI_MASTER_KEY"] not in status.text

            page = http.get("/")
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            assert "APP.CRASIVTTST" in page.text and index_uid in page.text
            assert "source unavailable" in page.text
            assert stack["MEILI_MASTER_KEY"] not in page.text
    finally:
        handle.stop()
    try:
        httpx.get(f"{handle.url}/healthz", timeout=2)
        raise AssertionError("server still answers after stop()")
    except httpx.TransportError:
        pass


def test_port_in_use_is_a_config_error() -> None:
    first = serve_in_background(HttpSettings(port=0), create_app(lambda: None))  # type: ignore[arg-type,return-value]
    try:
        with pytest.raises(ConfigError, match=r"http\.port"):
            serve_in_background(HttpSettings(port=first.port), create_app(lambda: None))  # type: ignore[arg-type,return-value]
    finally:
        first.stop()
